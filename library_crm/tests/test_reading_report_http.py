# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmHttpCase
from .test_reading_report import YEAR, ReadingReportCommon

# Context keys a caller may send to look privileged: none grants anything.
HOSTILE = {
    "active_test": False,
    "allowed_company_ids": [1],
    "bypass": True,
    "sudo": True,
    "su": True,
}


@tagged("post_install", "-at_install")
class TestReadingReportHttp(ReadingReportCommon, LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_reading_report()
        # Two readers with a portal account: the star of the department, and
        # a peer; a third portal user is no reader.
        cls.user_star = cls._new_user("rr_star", "base.group_portal", partner_id=cls.peers[5].id)
        cls.user_peer = cls._new_user("rr_peer", "base.group_portal", partner_id=cls.peers[2].id)
        cls.user_last = cls._new_user("rr_last", "base.group_portal", partner_id=cls.peers[0].id)
        cls._generate()
        cls.star_report = cls._report(cls.peers[5])
        cls.peer_report = cls._report(cls.peers[2])

    def _rpc(self, user, model, method, args, kwargs=None):
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": dict(kwargs or {}, context=HOSTILE),
            },
        )

    def _refused(self, user, model, method, args, kwargs=None):
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException) as caught:
            self._rpc(user, model, method, args, kwargs)
        return caught.exception

    def test_portal_reader_reads_only_their_own_report_over_rpc(self):
        Report = "library.reading.report"
        rows = self._rpc(self.user_peer, Report, "search_read", [[]], {"fields": ["loan_count"]})
        self.assertEqual([row["id"] for row in rows], self.peer_report.ids)
        self.assertEqual(rows[0]["loan_count"], 2)
        error = self._refused(
            self.user_peer, Report, "read", [self.star_report.ids, ["loan_count"]]
        )
        self.assertIn("AccessError", str(error))
        self.assertEqual(
            self._rpc(
                self.user_peer, Report, "search_count", [[("id", "=", self.star_report.id)]]
            ),
            0,
        )
        for method, args in (
            ("_generate", [YEAR]),
            ("action_create_mailing", [self.peer_report.ids]),
            ("_create_mailing", [YEAR, self.company.id]),
            ("write", [self.peer_report.ids, {"loan_count": 500}]),
            ("unlink", [self.peer_report.ids]),
        ):
            with self.subTest(method=method):
                self._refused(self.user_peer, Report, method, args)
        self.peer_report.invalidate_recordset()
        self.assertEqual(self.peer_report.loan_count, 2, "nothing changed")
        self.assertFalse(
            self.env["mailing.mailing"].search([("subject", "like", f"Your {YEAR} at")]),
            "no campaign created",
        )
        # Nor through the reader's partner (the one2many is staff only).
        self._refused(
            self.user_peer,
            "res.partner",
            "read",
            [self.peers[2].ids, ["library_reading_report_ids"]],
        )

    def test_plain_internal_user_reads_no_report(self):
        for method, args in (
            ("search_read", [[]]),
            ("read", [self.star_report.ids, ["loan_count"]]),
            ("action_create_mailing", [self.star_report.ids]),
        ):
            with self.subTest(method=method):
                self._refused(self.user_internal, "library.reading.report", method, args)
        self._refused(
            self.user_internal,
            "library.reading.report.generate",
            "create",
            [{"year": YEAR}],
        )

    def test_librarian_reads_but_does_not_campaign_or_generate(self):
        rows = self._rpc(
            self.user_librarian,
            "library.reading.report",
            "search_read",
            [[("partner_id", "in", self.peers.ids), ("year", "=", YEAR)]],
            {"fields": ["loan_percentile"]},
        )
        self.assertEqual(len(rows), 6)
        self._refused(
            self.user_librarian,
            "library.reading.report",
            "action_create_mailing",
            [self.star_report.ids],
        )
        self._refused(
            self.user_librarian, "library.reading.report.generate", "create", [{"year": YEAR}]
        )

    def test_portal_page_of_the_reader(self):
        self.authenticate_as(self.user_star)
        for url in ("/my/reading-report", f"/my/reading-report/{YEAR}"):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200)
                page = response.text
                self.assertIn(f"My {YEAR} at the library", page)
                self.assertIn("March", page)
                self.assertIn("Industrial Technology", page)
                self.assertIn("You borrowed more than 100% of readers of your department.", page)
                self.assertIn("Compared with your department: Physics", page)
        self.assertEqual(self.url_open(f"/my/reading-report/{YEAR - 1}").status_code, 404)

    def test_another_reader_sees_their_own_page_only(self):
        self.authenticate_as(self.user_peer)
        page = self.url_open(f"/my/reading-report/{YEAR}").text
        self.assertIn("You borrowed more than 40% of readers of your department.", page)
        self.assertNotIn("Industrial Technology", page, "not the star's subjects")
        # The reader who borrowed least is not told "more than 0%".
        self.authenticate_as(self.user_last)
        page = self.url_open(f"/my/reading-report/{YEAR}").text
        self.assertNotIn("You borrowed more than", page)
        self.assertIn("borrowed at least as much as you", page)
        # A portal user without a report: no page, no tile.
        self.authenticate_as(self.user_portal)
        self.assertEqual(self.url_open("/my/reading-report").status_code, 404)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["reading_report_count"]}
        )
        self.assertEqual(counters["reading_report_count"], 0)

    def test_portal_home_tile_counts_the_reader_reports(self):
        self.authenticate_as(self.user_star)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["reading_report_count"]}
        )
        self.assertEqual(counters["reading_report_count"], 1)
        home = self.url_open("/my/home").text
        self.assertIn("/my/reading-report", home)
        self.assertIn("portal-reading-report.svg", home)

    def test_reader_who_refused_news_still_sees_the_page(self):
        self.peers[5]._library_set_consent({"news": False}, "portal")
        self.authenticate_as(self.user_star)
        self.assertEqual(self.url_open(f"/my/reading-report/{YEAR}").status_code, 200)
