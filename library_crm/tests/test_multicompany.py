# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestMultiCompany(LibraryCrmCase):
    """Two libraries in one database: each sees its own readers' data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env["res.company"].create({"name": "Library A"})
        cls.company_b = cls.env["res.company"].create({"name": "Library B"})
        both = [Command.set([cls.company_a.id, cls.company_b.id])]
        cls.manager_ab = cls._new_user(
            "lib_manager_ab",
            "library_crm.group_library_manager",
            company_id=cls.company_a.id,
            company_ids=both,
        )
        cls.librarian_b = cls._new_user(
            "lib_librarian_b",
            "library_crm.group_library_librarian",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        Department = cls.env["library.department"]
        cls.dept_a = Department.create(
            {"name": "Physics A", "code": "PHYA", "company_id": cls.company_a.id}
        )
        cls.dept_b = Department.create(
            {"name": "Physics B", "code": "PHYB", "company_id": cls.company_b.id}
        )
        Major = cls.env["library.major"]
        cls.major_a = Major.create(
            {"name": "Optics A", "code": "OPA", "department_id": cls.dept_a.id}
        )
        cls.major_b = Major.create(
            {"name": "Optics B", "code": "OPB", "department_id": cls.dept_b.id}
        )
        Partner = cls.env["res.partner"]
        cls.reader_a = Partner.create(
            {
                "name": "Reader of A",
                "email": "a@example.edu",
                "is_reader": True,
                "reader_category": "undergraduate",
                "reader_card_number": "MCA1",
                "company_id": cls.company_a.id,
                "library_department_id": cls.dept_a.id,
                "library_major_id": cls.major_a.id,
            }
        )
        cls.reader_b = Partner.create(
            {
                "name": "Reader of B",
                "email": "b@example.edu",
                "is_reader": True,
                "reader_category": "undergraduate",
                "reader_card_number": "MCB1",
                "company_id": cls.company_b.id,
                "library_department_id": cls.dept_b.id,
                "library_major_id": cls.major_b.id,
            }
        )
        # A reader both libraries serve (a contact without a company).
        cls.reader_shared = Partner.create(
            {
                "name": "Shared Reader",
                "email": "s@example.edu",
                "is_reader": True,
                "reader_category": "undergraduate",
                "reader_card_number": "MCS1",
            }
        )

    def _records_of_a(self):
        env = self.env
        usage = env["library.usage"].create(
            {
                "partner_id": self.reader_a.id,
                "kind": "loan",
                "occurred_at": "2026-03-01 10:00:00",
                "company_id": self.company_a.id,
            }
        )
        history = env["library.segment.history"].create(
            {
                "partner_id": self.reader_a.id,
                "date": "2026-03-01",
                "change": "segment",
                "from_segment": "new",
                "to_segment": "growing",
            }
        )
        interaction = env["library.interaction"].create(
            {
                "partner_id": self.reader_a.id,
                "summary": "Reference question",
                "company_id": self.company_a.id,
            }
        )
        default = env["library.consent.default"].create(
            {
                "reader_category": "faculty",
                "purpose": "surveys",
                "consent": False,
                "company_id": self.company_a.id,
            }
        )
        title = env["library.new.title"].create(
            {"name": "Optics of A", "company_id": self.company_a.id}
        )
        env["library.points.transaction"].sudo().create(
            {"partner_id": self.reader_a.id, "points": 3, "reason": "adjustment"}
        )
        balance = env["library.points.balance"].search([("partner_id", "=", self.reader_a.id)])
        return {
            "library.points.balance": balance,
            "library.usage": usage,
            "library.reader.metrics": self.reader_a.library_metrics_id,
            "library.segment.history": history,
            "library.interaction": interaction,
            "library.consent.default": default,
            "library.consent.log": self.reader_a.consent_log_ids,
            "library.new.title": title,
            "library.contact.timeline": env["library.contact.timeline"].search(
                [("interaction_id", "=", interaction.id)]
            ),
        }

    def test_user_of_b_cannot_read_the_records_of_a(self):
        records = self._records_of_a()
        self.env.flush_all()
        for model, record in records.items():
            with self.subTest(model=model):
                self.assertTrue(record, "the record exists")
                as_b = self.env[model].with_user(self.librarian_b)
                self.assertFalse(as_b.search([("id", "in", record.ids)]))
                with self.assertRaises(AccessError):
                    record.with_user(self.librarian_b).read([])
        # The reader of B is theirs, the shared reader is everyone's.
        metrics = self.env["library.reader.metrics"].with_user(self.librarian_b)
        self.assertEqual(
            metrics.search([("partner_id", "in", (self.reader_b | self.reader_shared).ids)]),
            (self.reader_b | self.reader_shared).library_metrics_id,
        )

    def test_consent_defaults_of_a_library_apply_to_its_readers_only(self):
        self.env["library.consent.default"].create(
            {
                "reader_category": "faculty",
                "purpose": "surveys",
                "consent": False,
                "company_id": self.company_a.id,
            }
        )
        Partner = self.env["res.partner"]
        faculty_a = Partner.create(
            {
                "name": "Professor A",
                "is_reader": True,
                "reader_category": "faculty",
                "company_id": self.company_a.id,
            }
        )
        faculty_b = Partner.create(
            {
                "name": "Professor B",
                "is_reader": True,
                "reader_category": "faculty",
                "company_id": self.company_b.id,
            }
        )
        self.assertFalse(faculty_a.consent_surveys)
        self.assertTrue(faculty_b.consent_surveys)

    def test_check_company_refuses_a_reader_of_another_library(self):
        with self.assertRaises(UserError):
            self.env["library.interaction"].create(
                {
                    "partner_id": self.reader_b.id,
                    "summary": "Wrong library",
                    "company_id": self.company_a.id,
                }
            )
        with self.assertRaises(UserError):
            self.env["library.points.transaction"].create(
                {"partner_id": self.reader_b.id, "points": 5, "company_id": self.company_a.id}
            )

    def test_same_usage_row_imported_in_two_libraries_is_two_rows(self):
        content = "card,kind,date,external ref\nMCS1,loan,2026-03-01 10:00,SAME-1\n"

        def run_import(company):
            wizard = (
                self.env["library.usage.import"]
                .with_user(self.manager_ab)
                .with_company(company)
                .create(
                    {
                        "file": base64.b64encode(content.encode()),
                        "source": "ils",
                        "filename": "loans.csv",
                    }
                )
            )
            wizard.action_import()
            return wizard.imported_count, wizard.duplicate_count

        self.assertEqual(run_import(self.company_a), (1, 0))
        self.assertEqual(run_import(self.company_b), (1, 0))
        self.assertEqual(run_import(self.company_a), (0, 1), "idempotent within a library")
        usage = self.env["library.usage"].search([("partner_id", "=", self.reader_shared.id)])
        self.assertEqual(usage.company_id, self.company_a | self.company_b)
        self.assertEqual(len(usage), 2)

    def test_digest_of_a_library_has_only_its_titles_and_readers(self):
        Title = self.env["library.new.title"]
        title_a = Title.create(
            {"name": "Optics of A", "company_id": self.company_a.id, "major_ids": self.major_a.ids}
        )
        title_b = Title.create(
            {"name": "Optics of B", "company_id": self.company_b.id, "major_ids": self.major_b.ids}
        )
        Title._cron_send_digest()
        mailing_a, mailing_b = title_a.digest_mailing_id, title_b.digest_mailing_id
        self.assertTrue(mailing_a and mailing_b)
        self.assertNotEqual(mailing_a, mailing_b)
        for mailing, reader, own, other in (
            (mailing_a, self.reader_a, "Optics of A", "Optics of B"),
            (mailing_b, self.reader_b, "Optics of B", "Optics of A"),
        ):
            mails = self.env["mail.mail"].search([("mailing_id", "=", mailing.id)])
            self.assertEqual(mails.recipient_ids, reader)
            self.assertIn(own, mails.body_html)
            self.assertNotIn(other, mails.body_html)
