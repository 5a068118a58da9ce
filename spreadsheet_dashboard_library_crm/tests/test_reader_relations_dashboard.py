# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from odoo.addons.library_crm.tests.common import LibraryCrmHttpCase

SHARE = "spreadsheet.dashboard.share"
DASHBOARD = "spreadsheet_dashboard_library_crm.spreadsheet_dashboard_reader_relations"


@tagged("post_install", "-at_install")
class TestReaderRelationsDashboard(LibraryCrmHttpCase):
    rpc_context = {"active_test": False, "bypass": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref(DASHBOARD)
        cls.data = json.loads(cls.dashboard.spreadsheet_data)
        Department = cls.env["library.department"]
        cls.faculty = Department.create({"name": "Dashboard Faculty", "code": "DASH-FAC"})
        cls.unit = Department.create(
            {"name": "Dashboard Unit", "code": "DASH-UNIT", "parent_id": cls.faculty.id}
        )
        Partner = cls.env["res.partner"]
        cls.readers = Partner.create(
            [
                {
                    "name": f"Dashboard Reader {n}",
                    "is_reader": True,
                    "reader_card_number": f"DASH{n:03d}",
                    "reader_category": "postgraduate",
                    "library_department_id": (cls.faculty if n < 2 else cls.unit).id,
                }
                for n in range(3)
            ]
        )
        now = fields.Datetime.now()
        cls.env["library.usage"].create(
            [
                {
                    "partner_id": reader.id,
                    "kind": kind,
                    "occurred_at": now - timedelta(days=days),
                    "source": "test",
                }
                for reader in cls.readers[1:]
                for kind, days in (("loan", 3), ("visit", 40), ("alert_click", 2))
            ]
        )
        cls.env["library.segmentation"]._recompute(full=True, now=now)
        cls.env["library.interaction"].create(
            {
                "partner_id": cls.readers[2].id,
                "department_id": cls.unit.id,
                "user_id": cls.user_librarian.id,
                "summary": "Literature search consultation",
            }
        )
        cls.env["library.suggestion"].create(
            {
                "partner_id": cls.readers[0].id,
                "subject": "Longer opening hours in exam weeks",
                "category_id": cls.env["library.suggestion.category"]
                .create({"name": "Dashboard Opening Hours"})
                .id,
            }
        )

    def _pivots(self):
        return self.data["pivots"].values()

    def test_every_pivot_reads_real_fields_with_the_librarians_rights(self):
        """Each pivot, with every filter applied through its field chain, is
        read by a librarian: a renamed field or a missing access right would
        show as an error cell on the dashboard."""
        self.assertEqual(len(self.data["pivots"]), 12)
        filters = {f["id"]: f for f in self.data["globalFilters"]}
        self.assertEqual(
            {f["label"] for f in filters.values()}, {"Period", "Department", "Reader Category"}
        )
        for pivot in self._pivots():
            with self.subTest(pivot=pivot["name"]):
                Model = self.env[pivot["model"]].with_user(self.user_librarian)
                groupby = [
                    f"{g['fieldName']}:{g['granularity']}"
                    if "granularity" in g
                    else g["fieldName"]
                    for g in pivot["rows"] + pivot["columns"]
                ]
                aggregates = [
                    "__count"
                    if m["fieldName"] == "__count"
                    else f"{m['fieldName']}:{m['aggregator']}"
                    for m in pivot["measures"]
                ]
                domain = list(pivot["domain"])
                for filter_id, match in pivot["fieldMatching"].items():
                    self.assertIn(filter_id, filters)
                    value = {
                        "date": fields.Datetime.now() - timedelta(days=365),
                        "relation": [self.faculty.id],
                        "selection": ["postgraduate"],
                    }[filters[filter_id]["type"]]
                    operator = {"date": ">=", "relation": "child_of", "selection": "in"}[
                        filters[filter_id]["type"]
                    ]
                    domain.append((match["chain"], operator, value))
                Model.formatted_read_group(domain, groupby, aggregates)

    def test_figures_mean_what_their_labels_say(self):
        """The pivots' figures on the test's department equal counts made
        record by record."""
        librarian_env = self.env(user=self.user_librarian)
        pivots = {p["name"]: p for p in self._pivots()}

        def total(name, aggregate, extra=()):
            pivot = pivots[name]
            [[value]] = librarian_env[pivot["model"]]._read_group(
                pivot["domain"] + list(extra), [], [aggregate]
            )
            return value

        subtree = [("library_department_id", "child_of", self.faculty.id)]
        self.assertEqual(total("Readers by stage and tier", "__count", subtree), 3)
        active = total(
            "Active readers by month",
            "partner_id:count_distinct",
            [("partner_id.library_department_id", "child_of", self.faculty.id)],
        )
        self.assertEqual(active, 2, "readers 1 and 2 used the library; a click is not use")
        self.assertEqual(
            total(
                "Liaison coverage",
                "__count",
                [("department_id", "child_of", self.faculty.id)],
            ),
            1,
            "a contact logged against a sub-unit counts for its faculty",
        )
        self.assertEqual(
            total("Open suggestions", "__count", [("department_id", "child_of", self.faculty.id)]),
            1,
        )
        stages = dict(
            librarian_env["res.partner"]._read_group(
                pivots["Readers by stage and tier"]["domain"] + subtree,
                ["reader_segment"],
                ["__count"],
            )
        )
        by_hand = {}
        for reader in self.readers:
            by_hand[reader.reader_segment] = by_hand.get(reader.reader_segment, 0) + 1
        self.assertEqual(stages, by_hand)

    def test_only_library_staff_see_it(self):
        Dashboard = self.env["spreadsheet.dashboard"]
        self.assertEqual(
            Dashboard.with_user(self.user_librarian).search([("id", "=", self.dashboard.id)]),
            self.dashboard,
        )
        self.assertFalse(
            Dashboard.with_user(self.user_internal).search([("id", "=", self.dashboard.id)])
        )
        with self.assertRaises(AccessError):
            self.dashboard.with_user(self.user_internal).check_access("read")
        with self.assertRaises(AccessError):
            self.dashboard.with_user(self.user_portal).check_access("read")
        self.authenticate_as(self.user_internal)
        response = self.url_open(f"/spreadsheet/dashboard/data/{self.dashboard.id}")
        self.assertNotEqual(response.status_code, 200)
        # In Chinese, as the library works (the data carries the user's locale).
        self.env["res.lang"]._activate_lang("zh_CN")
        self.user_librarian.lang = "zh_CN"
        self.authenticate_as(self.user_librarian)
        response = self.url_open(f"/spreadsheet/dashboard/data/{self.dashboard.id}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["snapshot"]["pivots"]), 12)

    def test_only_a_manager_shares_it(self):
        """A share is a public copy anyone with the link reads without
        logging in: a librarian reads the dashboard but does not hand it
        outside; a manager does."""
        # Spreadsheets carry the user's locale: the library works in Chinese.
        self.env["res.lang"]._activate_lang("zh_CN")
        (self.user_librarian | self.user_internal | self.user_manager).lang = "zh_CN"
        vals = {"dashboard_id": self.dashboard.id, "spreadsheet_data": "{}"}
        other = self.env["spreadsheet.dashboard"].create(
            {
                "name": "Another dashboard",
                "dashboard_group_id": self.dashboard.dashboard_group_id.id,
                "group_ids": [(6, 0, self.env.ref("base.group_user").ids)],
            }
        )
        for user in (self.user_librarian, self.user_internal):
            with self.subTest(user=user.login):
                with self.assertRaises(JsonRpcException) as caught:
                    self._rpc(user, SHARE, "action_get_share_url", [vals])
                self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
                with self.assertRaises(JsonRpcException) as caught:
                    self._rpc(user, SHARE, "create", [[vals]])
                self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        # Sharing another dashboard, then pointing the share at this one.
        share_id = self._rpc(
            self.user_librarian, SHARE, "create", [[dict(vals, dashboard_id=other.id)]]
        )[0]
        with self.assertRaises(JsonRpcException) as caught:
            self._rpc(
                self.user_librarian,
                SHARE,
                "write",
                [[share_id], {"dashboard_id": self.dashboard.id}],
            )
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        Share = self.env["spreadsheet.dashboard.share"].sudo()
        self.assertFalse(Share.search([("dashboard_id", "=", self.dashboard.id)]))
        url = self._rpc(self.user_manager, SHARE, "action_get_share_url", [vals])
        share = Share.search([("dashboard_id", "=", self.dashboard.id)])
        self.assertEqual(share.create_uid, self.user_manager)
        self.assertTrue(url.endswith(f"/dashboard/share/{share.id}/{share.access_token}"))
        self.logout()
        response = self.url_open(f"/dashboard/data/{share.id}/{share.access_token}")
        self.assertEqual(response.status_code, 200)

    def test_dashboard_tour(self):
        """The dashboard as a librarian sees it: every figure, evaluated in
        the browser's spreadsheet, equals the ORM's, with and without the
        department filter. In Chinese, as the library works."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.user_librarian.lang = "zh_CN"
        self.start_tour(
            "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action",
            "library_crm_dashboard_tour",
            login=self.user_librarian.login,
        )
