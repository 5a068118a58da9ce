# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestAccess(LibraryCrmCase):
    """The access matrix, including every forbidden path."""

    def _assert_allowed(self, user, model, operations):
        records = self.env[model].with_user(user)
        for operation in ("read", "write", "create", "unlink"):
            if operation in operations:
                records.check_access(operation)
            else:
                with self.assertRaises(AccessError, msg=f"{user.login} {operation} {model}"):
                    records.check_access(operation)

    def test_model_access_matrix(self):
        matrix = {
            "library.department": {
                self.user_manager: "read write create unlink",
                self.user_librarian: "read",
                self.user_internal: "read",
                self.user_portal: "",
                self.user_public: "",
            },
            "library.major": {
                self.user_manager: "read write create unlink",
                self.user_librarian: "read",
                self.user_internal: "read",
                self.user_portal: "",
                self.user_public: "",
            },
            "library.interest": {
                self.user_manager: "read write create unlink",
                self.user_librarian: "read write create",
                self.user_internal: "read",
                self.user_portal: "",
                self.user_public: "",
            },
            "library.reader.import": {
                self.user_manager: "read write create",
                self.user_librarian: "read write create",
                self.user_internal: "",
                self.user_portal: "",
                self.user_public: "",
            },
            "res.partner": {
                self.user_manager: "read write create unlink",
                self.user_librarian: "read write create unlink",
                self.user_internal: "read",
                self.user_portal: "read",
                self.user_public: "read",
            },
        }
        # Models of later features: library staff only, portal users see only
        # their own review, librarians only the reviews of their own work
        # (record rules, tested with the reviews).
        staff_models = {
            "library.interaction": ("read write create unlink", "read write create unlink"),
            "library.research.project": ("read write create unlink", "read write create unlink"),
            "library.liaison.deliverable": ("read write create unlink",) * 2,
            "library.contact.timeline": ("read", "read"),
            "library.liaison.review": ("read write create unlink", "read"),
            "library.handover": ("read write create", "read write create"),
            "library.usage": ("read write create unlink", "read"),
            "library.segment.history": ("read unlink", "read"),
            "library.segment.followup": ("read write create unlink", "read"),
            "library.usage.import": ("read write create", ""),
            "library.segment.summary": ("read write create", ""),
            "library.suggestion": ("read write create unlink", "read write create"),
            "library.suggestion.approval": ("read", "read"),
            "library.points.transaction": ("read", "read"),
            "library.suggestion.decision": ("read write create", "read write create"),
            "library.points.redemption": ("read write create", "read write create"),
            "library.suggestion.register": ("read write create", ""),
            "library.unit": ("read write create unlink", "read"),
            "library.suggestion.category": ("read write create unlink", "read"),
            "library.satisfaction.dimension": ("read write create unlink", "read"),
            "library.satisfaction.answer": ("read", "read"),
            "library.satisfaction.response": ("read", "read"),
            "library.survey.invitation": ("read write create", ""),
            "library.satisfaction.report": ("read write create", ""),
            "library.consent.log": ("read", "read"),
            "library.consent.default": ("read write create unlink", "read"),
            "library.title.mapping": ("read write create unlink", "read"),
            "library.new.title": ("read write create unlink", "read write create unlink"),
            "library.journey": ("read write create unlink", "read"),
            "library.journey.message": ("read", "read"),
            "library.mailing.result": ("read", "read"),
        }
        # Readers read their own suggestions and points (record rules, tested
        # over HTTP); other employees see units and categories only.
        portal_readable = {
            "library.liaison.review",
            "library.suggestion",
            "library.points.transaction",
        }
        employee_readable = {
            "library.unit",
            "library.suggestion.category",
            "library.satisfaction.dimension",
        }
        for model, (manager_rights, librarian_rights) in staff_models.items():
            matrix[model] = {
                self.user_manager: manager_rights,
                self.user_librarian: librarian_rights,
                self.user_internal: "read" if model in employee_readable else "",
                self.user_portal: "read" if model in portal_readable else "",
                self.user_public: "",
            }
        for model, rights in matrix.items():
            for user, operations in rights.items():
                with self.subTest(model=model, user=user.login):
                    self._assert_allowed(user, model, operations.split())

    def test_librarian_manages_readers_not_departments(self):
        reader = self.reader.with_user(self.user_librarian)
        reader.write({"reader_category": "postgraduate", "wechat_id": "wx_new"})
        self.assertEqual(reader.wechat_id, "wx_new")
        self.env["res.partner"].with_user(self.user_librarian).create(
            {"name": "Created by librarian", "is_reader": True, "reader_card_number": "L1"}
        )
        with self.assertRaises(AccessError):
            self.dept_cs.with_user(self.user_librarian).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["library.department"].with_user(self.user_librarian).create(
                {"name": "New", "code": "NEW"}
            )
        with self.assertRaises(AccessError):
            self.major_se.with_user(self.user_librarian).unlink()

    def test_manager_configures(self):
        department = (
            self.env["library.department"]
            .with_user(self.user_manager)
            .create(
                {"name": "Law", "code": "LAW", "liaison_user_ids": [(4, self.user_librarian.id)]}
            )
        )
        self.env["library.major"].with_user(self.user_manager).create(
            {"name": "Law", "code": "LA01", "department_id": department.id}
        )

    def test_personal_facts_only_for_library_groups(self):
        for user in (self.user_internal, self.user_portal):
            reader = self.reader.with_user(user)
            with self.subTest(user=user.login):
                # Public facts stay readable to other staff...
                if user == self.user_internal:
                    self.assertEqual(reader.reader_card_number, "2024000001")
                    self.assertEqual(reader.library_department_id, self.dept_cs)
                # ...personal ones are not.
                for field in ("birthdate", "age", "wechat_id", "qq_number", "reader_notes"):
                    with self.assertRaises(AccessError, msg=field):
                        reader.read([field])
        reader = self.reader.with_user(self.user_librarian)
        self.assertEqual(reader.wechat_id, "wx_wang")
        self.assertTrue(reader.age)

    def test_non_library_staff_cannot_edit_readers(self):
        for user in (self.user_internal, self.user_portal, self.user_public):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.reader.with_user(user).write({"reader_category": "alumni"})

    def test_departments_of_other_companies_are_hidden(self):
        other_company = self.env["res.company"].create({"name": "Branch Library"})
        branch_dept = self.env["library.department"].create(
            {"name": "Branch Law", "code": "BLAW", "company_id": other_company.id}
        )
        Department = self.env["library.department"].with_user(self.user_librarian)
        self.assertNotIn(branch_dept, Department.search([]))
        with self.assertRaises(AccessError):
            branch_dept.with_user(self.user_librarian).read(["name"])
        self.user_librarian.company_ids |= other_company
        visible = Department.with_context(allowed_company_ids=other_company.ids).search([])
        self.assertIn(branch_dept, visible)

    def test_import_wizards_are_private(self):
        wizard = self.env["library.reader.import"].with_user(self.user_librarian).create({})
        with self.assertRaises(AccessError):
            wizard.with_user(self.user_librarian_2).read(["state"])
