# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Finding a reader by name or number with indexes (#18 §3): what each kind
of term finds, and that PostgreSQL can answer it from an index rather than
by reading every contact."""

from unittest.mock import patch

from odoo.orm.domains import DomainCustom
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL

from ..models import res_partner
from .common import LibraryCrmCase, LibraryCrmHttpCase


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
            Partner._library_search_domain("ilike", term), limit=8, order=Partner._order
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

    def _pinned(self, term, operator="ilike"):
        """The ids the search goes on with, None if it keeps its columns."""
        Partner = self.env["res.partner"].with_user(self.user_librarian)
        domain = Partner._search_display_name(operator, term)
        if not isinstance(domain, DomainCustom):
            return None
        sql = domain._to_sql(Partner, Partner._table, Partner._search([]))
        self.assertIn("ANY(ARRAY(SELECT unnest(", sql.code)
        return set(next(param for param in sql.params if isinstance(param, list)))

    def test_a_rare_term_goes_on_with_the_ids_it_matches(self):
        Partner = self.env["res.partner"].with_user(self.user_librarian)
        self.assertEqual(self._pinned("孟丽芳"), {self.meng.id})
        # In Python too (filtered_domain).
        everyone = self.meng | self.zhang | self.li
        domain = Partner._search_display_name("ilike", "孟丽芳")
        self.assertEqual(everyone.filtered_domain(domain), self.meng)
        # Nothing matches: nothing is searched further.
        self.assertTrue(Partner._search_display_name("ilike", "QX0000000Z").is_false())
        # The same records as the columns' own search, in the same order.
        for term in ("x.example", "XS2026", "孟丽芳", "1000777001", "Li Na"):
            self.assertEqual(
                Partner.search(Partner._search_display_name("ilike", term)),
                Partner.search(Partner._library_search_domain("ilike", term)),
                term,
            )
        # The look-up leaves the transaction's planner settings as they were.
        self.env.cr.execute("SHOW enable_seqscan")
        self.assertEqual(self.env.cr.fetchone()[0], "on")
        # A short term too, through its own index; "not ilike" is Odoo's.
        self.assertEqual(self._pinned("张伟"), {self.zhang.id})
        self.assertIsNone(self._pinned("孟丽芳", operator="not ilike"))

    def test_pending_writes_are_searched(self):
        Partner = self.env["res.partner"]
        created = Partner.create({"name": "诸葛", "is_reader": True})
        self.assertEqual(Partner.search(Partner._search_display_name("ilike", "诸葛")), created)
        self.env.flush_all()
        created.name = "Qv"
        self.assertEqual(Partner.search(Partner._search_display_name("ilike", "Qv")), created)
        self.assertFalse(Partner.search(Partner._search_display_name("ilike", "诸葛")))

    def test_a_nul_character_leaves_the_planner_as_it_was(self):
        Partner = self.env["res.partner"]
        for term in ("ab\x00cd", "\x00"):
            with self.assertRaises(ValueError):
                Partner.name_search(term)
            self.env.cr.execute("SHOW enable_seqscan")
            self.assertEqual(self.env.cr.fetchone()[0], "on")

    def test_ids_leave_archiving_and_access_to_the_caller(self):
        self.zhao.active = False
        Partner = self.env["res.partner"].with_user(self.user_librarian)
        self.assertFalse(self._found("赵敏"))
        found = Partner.with_context(active_test=False).name_search("赵敏", limit=10)
        self.assertEqual([pid for pid, _name in found], [self.zhao.id])
        # A reader of another company the librarian does not work for is
        # looked up, but the librarian's search does not return them.
        other = self.env["res.company"].create({"name": "分馆"})
        stranger = self.env["res.partner"].create(
            {"name": "孟丽芳", "is_reader": True, "company_id": other.id}
        )
        self.assertEqual(self._pinned("孟丽芳"), {self.meng.id, stranger.id})
        self.assertEqual(self._found("孟丽芳"), {self.meng.id})

    def test_a_common_term_keeps_its_columns(self):
        with patch.object(res_partner, "SEARCH_PIN_LIMIT", 2):
            self.assertIsNone(self._pinned("x.example"))
            self.assertEqual(self._found("x.example"), {self.zhang.id, self.li.id, self.zhao.id})


@tagged("post_install", "-at_install")
class TestReaderSearchOverJsonRpc(LibraryCrmHttpCase):
    """The look-up by ids (which ignores access rules) as the portal, an
    internal user and a librarian send it: hostile context, hostile terms."""

    rpc_context = {"active_test": False, "bypass": True, "library_suggestion_step": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.meng = Partner.create(
            {"name": "孟丽芳", "is_reader": True, "reader_card_number": "XS20269001"}
        )
        other = cls.env["res.company"].create({"name": "分馆"})
        cls.stranger = Partner.create(
            {
                "name": "孟丽芳",
                "is_reader": True,
                "reader_card_number": "XS20269002",
                "reader_campus_card": "1000999002",
                "company_id": other.id,
            }
        )

    def _name_search(self, user, term, **kwargs):
        return self._rpc(user, "res.partner", "name_search", [term], dict(kwargs, limit=100))

    def test_no_caller_finds_a_reader_they_may_not_read(self):
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            for term in ("孟丽芳", "XS2026900", "XS20269002", "1000999002"):
                with self.subTest(user=user.login, term=term):
                    found = {pid for pid, _name in self._name_search(user, term)}
                    self.assertNotIn(self.stranger.id, found)
        found = {pid for pid, _name in self._name_search(self.user_librarian, "孟丽芳")}
        self.assertIn(self.meng.id, found)

    def test_hostile_terms_are_refused_or_answered_never_broken(self):
        terms = [
            "%%%",
            "___",
            "\\\\\\",
            "x' OR 1=1 --",
            "孟" * 5000,
            ["孟丽芳"],
            {"a": 1},
            12345,
            None,
        ]
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            for term in terms:
                with self.subTest(user=user.login, term=repr(term)[:20]):
                    try:
                        found = self._name_search(user, term)
                    except JsonRpcException as error:
                        # Odoo's own refusal of a malformed argument, not a
                        # broken query.
                        self.assertNotIn("psycopg2", str(error))
                    else:
                        self.assertNotIn(self.stranger.id, {pid for pid, _name in found})
            # The server still answers this caller normally afterwards.
            self.assertIsInstance(self._name_search(user, "孟丽芳"), list)
