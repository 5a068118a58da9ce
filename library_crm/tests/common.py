# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, TransactionCase, new_test_user


class LibraryCrmCommon:
    """One user per role and a small department tree, for TransactionCase and
    HttpCase alike. Its codes (X...) are not the demo data's, so the suite runs
    with demo data as well as without. Every user made here has the password
    ``password_of(user)``, so HTTP tests log in with ``authenticate_as(user)``."""

    # The model tests run without tracking; HTTP tests keep the server's
    # behaviour (chatter, followers) for the records they set up.
    _library_tracking_disable = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls._library_tracking_disable:
            cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._setup_library_crm()

    @staticmethod
    def password_of(user_or_login):
        login = getattr(user_or_login, "login", user_or_login)
        return f"{login}_pw1"

    @classmethod
    def _new_user(cls, login, groups, name=None, **values):
        """A test user with a known password, for roles the shared users do
        not cover (a second portal user, another company, Email Marketing).
        In English unless told otherwise: a database built with demo data
        and Chinese gives new users Chinese, and the tests that read texts
        read the English source (those about Chinese set it themselves)."""
        values.setdefault("lang", "en_US")
        return new_test_user(
            cls.env,
            login=login,
            password=cls.password_of(login),
            groups=groups,
            **({"name": name} if name else {}),
            **values,
        )

    @classmethod
    def _news_mailing(cls, reader):
        """A news mailing to one reader, for the unsubscribe routes."""
        return cls.env["mailing.mailing"].create(
            {
                "subject": "Exhibition",
                "body_html": "<p>Exhibition</p>",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "=", reader.id)]),
                "library_purpose": "news",
            }
        )

    def authenticate_as(self, user):
        """Log the HTTP session in as a user made by this base."""
        return self.authenticate(user.login, self.password_of(user))

    @classmethod
    def _setup_library_crm(cls):
        cls.company = cls.env.company
        cls.user_librarian = cls._new_user(
            "lib_librarian", "library_crm.group_library_librarian", name="Librarian Lin"
        )
        cls.user_librarian_2 = cls._new_user(
            "lib_librarian2", "library_crm.group_library_librarian", name="Librarian Zhou"
        )
        cls.user_manager = cls._new_user(
            "lib_manager", "library_crm.group_library_manager", name="Manager Ma"
        )
        cls.user_leader = cls._new_user(
            "lib_leader", "library_crm.group_library_leadership", name="Leader Liu"
        )
        cls.user_internal = cls._new_user(
            "lib_internal", "base.group_user", name="Accountant Qian"
        )
        cls.user_portal = cls._new_user("lib_portal", "base.group_portal", name="Reader Portal")
        cls.user_public = cls.env.ref("base.public_user")

        Department = cls.env["library.department"]
        cls.school = Department.create({"name": "School of Science", "code": "xsci"})
        cls.dept_cs = Department.create(
            {"name": "Computer Science", "code": "XCS", "parent_id": cls.school.id}
        )
        cls.dept_math = Department.create(
            {"name": "Mathematics", "code": "XMATH", "parent_id": cls.school.id}
        )
        cls.dept_hist = Department.create({"name": "History", "code": "XHIST"})
        Major = cls.env["library.major"]
        cls.major_se = Major.create(
            {"name": "Software Engineering", "code": "xcs01", "department_id": cls.dept_cs.id}
        )
        cls.major_stat = Major.create(
            {"name": "Statistics", "code": "XMA02", "department_id": cls.dept_math.id}
        )
        cls.interest_ai = cls.env["library.interest"].create({"name": "AI"})

        cls.reader = cls.env["res.partner"].create(
            {
                "name": "王晓明",
                "is_reader": True,
                "reader_card_number": "2024000001",
                "reader_category": "undergraduate",
                "library_department_id": cls.dept_cs.id,
                "library_major_id": cls.major_se.id,
                "email": "xiaoming.wang@example.edu",
                "birthdate": "2005-04-01",
                "wechat_id": "wx_wang",
            }
        )

    def _odoo_import(self, model, content, user):
        """Import CSV bytes with Odoo's generic import, as the Import button
        does; returns its messages."""
        importer = (
            self.env["base_import.import"]
            .with_user(user)
            .create({"res_model": model, "file": content, "file_type": "text/csv"})
        )
        fields = content.decode().splitlines()[0].split(",")
        result = importer.execute_import(
            fields,
            fields,
            {"quoting": '"', "separator": ",", "has_headers": True, "encoding": "utf-8"},
        )
        return result["messages"]


class LibraryCrmCase(LibraryCrmCommon, TransactionCase):
    _library_tracking_disable = True


class LibraryCrmHttpCase(LibraryCrmCommon, HttpCase):
    # The context every _rpc call sends: a test class sets the keys it
    # hopes grant a right (none may); ``context=`` adds keys for one call.
    rpc_context = {}

    def _rpc(self, user, model, method, args, kwargs=None, context=None):
        """Call model.method(*args, **kwargs) as `user` over JSON-RPC
        (/web/dataset/call_kw), as the web client and any script do."""
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": dict(kwargs or {}, context=dict(self.rpc_context, **(context or {}))),
            },
        )
