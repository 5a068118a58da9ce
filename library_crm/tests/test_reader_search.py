# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Finding a reader by name or number with indexes (#18 §3): what each kind
of term finds, and that PostgreSQL can answer it from an index rather than
by reading every contact."""

from odoo.tests import tagged
from odoo.tools import SQL

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestReaderSearch(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        values = {"is_reader": True, "reader_category": "undergraduate"}
        cls.meng = Partner.create(
            {
                **values,
                "name": "孟丽芳",
                "reader_card_number": "XS20260001",
                "reader_campus_card": "1000777001",
                "reader_student_number": "2026777001",
                "email": "mlf@campus.example",
            }
        )
        cls.zhang = Partner.create(
            {**values, "name": "张伟", "reader_card_number": "XS20260002", "email": "zw@x.example"}
        )
        cls.li = Partner.create(
            {
                **values,
                "name": "Li Na",
                "reader_card_number": "XS20260003",
                "email": "na@x.example",
            }
        )
        cls.zhao = Partner.create(
            {
                **values,
                "name": "赵敏",
                "reader_card_number": "XS20260004",
                "email": "a.zw@x.example",
            }
        )

    def _found(self, term):
        return {
            pid
            for pid, _name in self.env["res.partner"]
            .with_user(self.user_librarian)
            .name_search(term, limit=100)
        }

    def test_two_character_terms(self):
        # A name that contains the term, wherever it is in the name.
        self.assertIn(self.meng.id, self._found("丽芳"))
        self.assertIn(self.meng.id, self._found("孟丽"))
        self.assertIn(self.zhang.id, self._found("张伟"))
        self.assertNotIn(self.meng.id, self._found("张伟"))
        # Latin letters in any case.
        self.assertIn(self.li.id, self._found("LI"))
        self.assertIn(self.li.id, self._found("na"))
        self.assertIn(self.zhao.id, self._found("敏"))
        # The e-mail address and the card number by their start: zw@ is
        # found by "zw", a.zw@ only by a longer term.
        found = self._found("zw")
        self.assertIn(self.zhang.id, found)
        self.assertNotIn(self.zhao.id, found)
        self.assertIn(self.zhao.id, self._found(".zw"))
        self.assertIn(self.meng.id, self._found("xs"))

    def test_longer_terms_and_numbers_as_before(self):
        self.assertEqual(self._found("孟丽芳"), {self.meng.id})
        self.assertIn(self.meng.id, self._found("s2026000"))
        self.assertEqual(self._found("xs20260001"), {self.meng.id})
        self.assertEqual(self._found("1000777001"), {self.meng.id})
        self.assertEqual(self._found("2026777001"), {self.meng.id})
        self.assertIn(self.zhao.id, self._found("a.zw@x"))
        self.assertFalse(self._found("丽芳张"))
        # Wildcards in a short term are Odoo's as before.
        self.assertIn(self.meng.id, self._found("丽%"))
        self.assertIn(self.zhang.id, self._found("张_"))

    def _plan(self, term):
        Partner = self.env["res.partner"].with_user(self.user_librarian)
        query = Partner._search(
            Partner._search_display_name("ilike", term), limit=8, order=Partner._order
        )
        cr = self.env.cr
        # A test database is small enough for any plan: forbid reading the
        # whole table or walking a whole index, to see whether the indexes
        # match each arm of the search's SQL.
        cr.execute("SET LOCAL enable_seqscan = off")
        cr.execute("SET LOCAL enable_indexscan = off")
        try:
            cr.execute(SQL("EXPLAIN %s", query.select()))
            return "\n".join(row[0] for row in cr.fetchall())
        finally:
            cr.execute("SET LOCAL enable_seqscan = on")
            cr.execute("SET LOCAL enable_indexscan = on")

    def test_every_arm_of_a_search_is_indexed(self):
        # Each arm of the OR has an index the plan can combine (the card
        # number's may also be served by its btree of set numbers); the
        # name and the e-mail address have no other index than ours.
        for term, indexes in (
            ("XS20260001", ["res_partner_complete_name_library_trgm"]),
            (
                "孟丽芳",
                ["res_partner_complete_name_library_trgm", "res_partner_email_library_trgm"],
            ),
            ("丽芳", ["res_partner_complete_name_library_grams"]),
            ("zw", ["res_partner_complete_name_library_grams", "res_partner_email_library_trgm"]),
        ):
            plan = self._plan(term)
            self.assertIn("BitmapOr", plan, plan)
            self.assertNotIn("Seq Scan on res_partner", plan, plan)
            for index in indexes:
                self.assertIn(f"Bitmap Index Scan on {index}", plan, plan)
