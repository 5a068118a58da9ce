# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, new_test_user


class LibraryCrmCase(TransactionCase):
    """One user per role and a small department tree. Its codes (X...) are
    not the demo data's, so the suite runs with demo data as well as without."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.user_librarian = new_test_user(
            cls.env,
            login="lib_librarian",
            name="Librarian Lin",
            groups="library_crm.group_library_librarian",
        )
        cls.user_librarian_2 = new_test_user(
            cls.env,
            login="lib_librarian2",
            name="Librarian Zhou",
            groups="library_crm.group_library_librarian",
        )
        cls.user_manager = new_test_user(
            cls.env,
            login="lib_manager",
            name="Manager Ma",
            groups="library_crm.group_library_manager",
        )
        cls.user_internal = new_test_user(
            cls.env, login="lib_internal", name="Accountant Qian", groups="base.group_user"
        )
        cls.user_portal = new_test_user(
            cls.env, login="lib_portal", name="Reader Portal", groups="base.group_portal"
        )
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
