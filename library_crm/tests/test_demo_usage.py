# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo usage generator: every lifecycle stage and value tier populated,
history and conversion after its two engine runs, the same rows for the same
seed, and nobody but the demo data (the superuser) may run it."""

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.library_crm.models.library_demo_usage import BASELINE_DAYS, ORDER

from .common import LibraryCrmCase

NOW = datetime(2026, 12, 1, 9, 0, 0)

# The stage each pattern gives now, worked out from its days in
# models/library_demo_usage.py and the engine's rules.
EXPECTED = {
    "new": "new",
    "growing": "growing",
    "slow_grower": "growing",
    "converted": "long_term",
    "long_term": "long_term",
    "consulting": "long_term",
    "burst": "lapsed",
    "slowed_down": "short_term",
    "occasional": "short_term",
    "lapsed": "lapsed",
    "never_active": "never_active",
}


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestDemoUsage(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Two readers a pattern, in a category of their own (no category):
        # ranked among themselves, whatever the demo readers.
        cls.readers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Demo pattern {index}",
                    "is_reader": True,
                    "reader_category": False,
                    "reader_card_number": f"DEMO-{index:03d}",
                }
                for index in range(2 * len(ORDER))
            ]
        )

    def _generate(self):
        return self.env["library.usage"]._library_demo_generate_usage(
            partner_ids=self.readers.ids, now=NOW
        )

    def test_every_stage_and_tier(self):
        assigned = self._generate()
        self.env.invalidate_all()
        self.assertEqual(set(assigned.values()), set(ORDER))
        for partner in self.readers:
            self.assertEqual(
                partner.reader_segment,
                EXPECTED[assigned[partner.id]],
                f"pattern {assigned[partner.id]}",
            )
        tiers = set(self.readers.mapped("value_tier"))
        self.assertEqual(tiers, {"core", "important", "ordinary"})
        core = self.readers.filtered(lambda p: p.value_tier == "core")
        self.assertTrue({assigned[p.id] for p in core} <= {"long_term", "consulting"})
        # The second run recorded what changed since the baseline.
        history = self.env["library.segment.history"].search(
            [("partner_id", "in", self.readers.ids), ("change", "=", "segment")]
        )
        converted = self.readers.filtered(lambda p: assigned[p.id] == "converted")
        for partner in converted:
            last = history.filtered(lambda h, p=partner: h.partner_id == p).sorted("id")[-1:]
            self.assertEqual(last.to_segment, "long_term")
        start = NOW.date() - timedelta(days=BASELINE_DAYS)
        rows = self.env["library.segmentation"]._conversion(
            start, NOW.date(), partner_ids=self.readers.ids
        )
        cohort, converted_count = rows[0][1], rows[0][2]
        self.assertGreaterEqual(converted_count, len(converted))
        self.assertGreaterEqual(cohort, converted_count)

    def test_deterministic_and_idempotent(self):
        self._generate()
        cr = self.env.cr
        query = (
            "SELECT count(*), md5(string_agg(external_ref || kind || occurred_at || quantity, ',' "
            "ORDER BY external_ref)) FROM library_usage WHERE source = 'demo' "
            "AND partner_id = ANY(%s)"
        )
        cr.execute(query, [self.readers.ids])
        first = cr.fetchone()
        self.assertGreater(first[0], 200)
        self._generate()  # a rerun adds nothing
        cr.execute(query, [self.readers.ids])
        self.assertEqual(cr.fetchone(), first)

    def test_only_the_demo_data_generates(self):
        for user in (self.user_portal, self.user_internal, self.user_librarian, self.user_manager):
            with self.assertRaises(AccessError):
                self.env["library.usage"].with_user(user)._library_demo_generate_usage(
                    partner_ids=self.readers.ids, now=NOW
                )
