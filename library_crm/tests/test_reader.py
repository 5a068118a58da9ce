# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from ast import literal_eval

from freezegun import freeze_time
from lxml import etree
from psycopg2.errors import UniqueViolation

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestReader(LibraryCrmCase):
    def test_card_number_normalised_on_create_and_write(self):
        partner = self.env["res.partner"].create(
            {"name": "Li Hua", "is_reader": True, "reader_card_number": "  ab-123x \t"}
        )
        self.assertEqual(partner.reader_card_number, "AB-123X")
        partner.reader_card_number = " cd9 "
        self.assertEqual(partner.reader_card_number, "CD9")
        partner.reader_card_number = "   "
        self.assertFalse(partner.reader_card_number)

    def test_card_number_unique_among_readers_of_a_company(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            with self.env.cr.savepoint():
                self.env["res.partner"].create(
                    {"name": "Copy", "is_reader": True, "reader_card_number": "2024000001 "}
                )
        # A non-reader contact may carry the same number (e.g. an old card).
        self.env["res.partner"].create(
            {"name": "Not a reader", "reader_card_number": "2024000001"}
        )
        # Another company's readers have their own numbering.
        other_company = self.env["res.company"].create({"name": "Branch Library"})
        other = self.env["res.partner"].create(
            {
                "name": "Branch reader",
                "is_reader": True,
                "reader_card_number": "2024000001",
                "company_id": other_company.id,
            }
        )
        self.assertEqual(other.reader_card_number, "2024000001")

    def test_find_reader_by_card_number(self):
        Partner = self.env["res.partner"]
        found = Partner.name_search("2024000001")
        self.assertEqual([pid for pid, _name in found], [self.reader.id])
        # What a scanner or a librarian types, whatever the case.
        self.reader.reader_card_number = "abc777"
        self.assertEqual(Partner.search([("display_name", "ilike", "ABC777")]), self.reader)
        self.assertEqual(Partner.name_search("abc777")[0][0], self.reader.id)

    def test_major_must_belong_to_department(self):
        with self.assertRaises(ValidationError):
            self.reader.library_major_id = self.major_stat
        self.reader.write(
            {"library_department_id": self.dept_math.id, "library_major_id": self.major_stat.id}
        )
        self.assertEqual(self.reader.library_major_id, self.major_stat)

    def test_form_major_follows_department(self):
        with Form(self.env["res.partner"].with_context(default_is_reader=True)) as form:
            form.name = "Zhang San"
            form.reader_category = "postgraduate"
            form.library_major_id = self.major_se
            self.assertEqual(form.library_department_id, self.dept_cs)
            form.library_department_id = self.dept_math
            self.assertFalse(form.library_major_id)

    def test_company_cannot_be_reader(self):
        with self.assertRaises(ValidationError):
            self.env["res.partner"].create({"name": "ACME", "is_company": True, "is_reader": True})

    @freeze_time("2026-03-31")
    def test_age_reader_since_and_expiry(self):
        self.assertEqual(self.reader.age, 20)
        partner = self.env["res.partner"].create({"name": "New Reader"})
        self.assertFalse(partner.reader_since)
        partner.is_reader = True
        self.assertEqual(str(partner.reader_since), "2026-03-31")
        # Becoming a reader again keeps the first date.
        partner.is_reader = False
        with freeze_time("2026-05-01"):
            partner.is_reader = True
        self.assertEqual(str(partner.reader_since), "2026-03-31")

        partner.card_expiry_date = "2026-03-30"
        self.assertTrue(partner.is_card_expired)
        partner.card_expiry_date = "2026-03-31"
        self.assertFalse(partner.is_card_expired)

    def test_readers_action_opens_reader_form(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_reader")
        form_views = [view for view, mode in action["views"] if mode == "form"]
        self.assertEqual(form_views, [self.env.ref("library_crm.view_partner_reader_form").id])
        # Contacts keep the standard contact form.
        self.assertEqual(
            self.env["res.partner"].get_views([(False, "form")])["views"]["form"]["id"],
            self.env.ref("base.view_partner_form").id,
        )
        readers = self.env["res.partner"].search(literal_eval(action["domain"]))
        self.assertIn(self.reader, readers)

    def test_reader_form_fields_by_role(self):
        """The reader form has no contact-form company, tax or website
        fields; the librarian sees the standing and timeline, an internal
        user outside the library the card only."""
        form = self.env.ref("library_crm.view_partner_reader_form")

        def form_fields(user):
            arch = (
                self.env["res.partner"]
                .with_user(user)
                .get_views([(form.id, "form")])["views"]["form"]["arch"]
            )
            return set(etree.fromstring(arch).xpath("//field/@name"))

        librarian = form_fields(self.user_librarian)
        self.assertTrue(
            {
                "reader_card_number",
                "reader_segment",
                "segment_explanation",
                "value_tier",
                "loyalty_score",
                "satisfaction_score",
                "interaction_ids",
                "library_satisfaction_response_ids",
                "library_mailing_result_ids",
                "points_transaction_ids",
            }
            <= librarian,
            librarian,
        )
        self.assertFalse(
            {"vat", "website", "company_type", "property_payment_term_id"} & librarian
        )
        internal = form_fields(self.user_internal)
        self.assertIn("reader_card_number", internal)
        self.assertFalse(
            {"reader_segment", "wechat_id", "interaction_ids", "reader_notes"} & internal
        )
