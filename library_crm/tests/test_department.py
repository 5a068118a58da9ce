# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2.errors import UniqueViolation

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestDepartment(LibraryCrmCase):
    def test_liaison_limit_default_two(self):
        self.dept_cs.liaison_user_ids = self.user_librarian
        self.dept_math.liaison_user_ids = self.user_librarian
        with self.assertRaises(ValidationError) as error:
            self.dept_hist.liaison_user_ids = self.user_librarian
        self.assertIn("at most 2", str(error.exception))
        # The same librarian twice on one department is still one department.
        self.dept_cs.write({"liaison_user_ids": [(4, self.user_librarian.id)]})
        # Another librarian is not affected.
        self.dept_hist.liaison_user_ids = self.user_librarian_2

    def test_manager_can_be_liaison(self):
        # Managers get the librarian role by implication, not directly.
        self.dept_cs.liaison_user_ids = self.user_manager
        self.dept_cs.invalidate_recordset()
        self.assertEqual(self.dept_cs.liaison_user_ids, self.user_manager)

    def test_liaison_limit_is_a_setting(self):
        settings = self.env["res.config.settings"].create(
            {"library_max_departments_per_liaison": 3}
        )
        settings.execute()
        for department in self.dept_cs | self.dept_math | self.dept_hist:
            department.liaison_user_ids = self.user_librarian
        with self.assertRaises(ValidationError):
            self.school.liaison_user_ids = self.user_librarian
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"library_max_departments_per_liaison": 0})

    def test_liaison_limit_on_create_and_archived(self):
        Department = self.env["library.department"]
        Department.create(
            {"name": "A", "code": "A", "liaison_user_ids": [(6, 0, self.user_librarian.ids)]}
        )
        second = Department.create(
            {"name": "B", "code": "B", "liaison_user_ids": [(6, 0, self.user_librarian.ids)]}
        )
        with self.assertRaises(ValidationError):
            Department.create(
                {"name": "C", "code": "C", "liaison_user_ids": [(6, 0, self.user_librarian.ids)]}
            )
        # An archived department no longer counts.
        second.action_archive()
        Department.create(
            {"name": "D", "code": "D", "liaison_user_ids": [(6, 0, self.user_librarian.ids)]}
        )

    def test_liaison_limit_error_is_translated(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.dept_cs.liaison_user_ids = self.user_librarian
        self.dept_math.liaison_user_ids = self.user_librarian
        with self.assertRaises(ValidationError) as error:
            self.dept_hist.with_context(lang="zh_CN").liaison_user_ids = self.user_librarian
        self.assertIn("最多", str(error.exception))

    def test_code_normalised_and_unique_per_company(self):
        self.assertEqual(self.school.code, "XSCI")
        self.assertEqual(self.major_se.code, "XCS01")
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            with self.env.cr.savepoint():
                self.env["library.department"].create({"name": "Dup", "code": "xcs "})
        other_company = self.env["res.company"].create({"name": "Branch Library"})
        self.env["library.department"].create(
            {"name": "CS branch", "code": "XCS", "company_id": other_company.id}
        )

    def test_hierarchy(self):
        self.assertEqual(self.dept_cs.display_name, "School of Science / Computer Science")
        # Among the test's own departments: demo data has its own "Computer ..." units.
        own = self.school | self.dept_cs | self.dept_math | self.dept_hist
        found = self.env["library.department"].name_search("Computer", [("id", "in", own.ids)])
        self.assertEqual([department_id for department_id, _name in found], self.dept_cs.ids)
        with self.assertRaises(UserError):
            self.school.parent_id = self.dept_cs

    def test_counts_and_smart_buttons(self):
        self.env["res.partner"].create(
            {"name": "Reader M", "is_reader": True, "library_department_id": self.dept_math.id}
        )
        self.assertEqual(self.dept_cs.reader_count, 1)
        self.assertEqual(self.school.reader_count, 2)
        self.assertEqual(self.dept_cs.major_count, 1)
        self.assertEqual(self.major_se.reader_count, 1)
        action = self.school.action_view_readers()
        readers = self.env["res.partner"].search(action["domain"])
        self.assertEqual(len(readers), 2)
        action = self.dept_cs.action_view_majors()
        self.assertEqual(self.env["library.major"].search(action["domain"]), self.major_se)

    def test_liaison_logs_a_contact_with_a_follow_up(self):
        """My Departments > Log a Contact with a follow-up date: the liaison
        librarian, who may only read departments, gets the follow-up
        activity on their department; other users cannot schedule one."""
        self.dept_cs.liaison_user_ids = self.user_librarian
        action = self.dept_cs.with_user(self.user_librarian).action_log_interaction()
        Interaction = self.env["library.interaction"].with_context(**action["context"])
        values = {"summary": "Met the dean", "followup_date": "2026-12-01"}
        interaction = Interaction.with_user(self.user_librarian).create(values)
        activity = interaction.followup_activity_id
        self.assertEqual(
            (activity.res_model, activity.res_id), ("library.department", self.dept_cs.id)
        )
        self.assertEqual(activity.user_id, self.user_librarian)
        # A librarian who is not its liaison logs the contact, but cannot
        # schedule activities on the department.
        with self.assertRaises(AccessError):
            Interaction.with_user(self.user_librarian_2).create(values)
        for user in (self.user_internal, self.user_portal):
            with self.assertRaises(AccessError):
                Interaction.with_user(user).create(values)
        # Nor by setting a follow-up date afterwards.
        without = Interaction.with_user(self.user_librarian_2).create({"summary": "Call"})
        with self.assertRaises(AccessError):
            without.followup_date = "2026-12-01"
