# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The two axes of the seeds: lifecycle stage from the regularity and trend
of use, value tier from a value score ranked among active readers; cohort
conversion growing -> long-term. Readers get hand-made usage histories and
every expectation is worked out by hand in the comments."""

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import LibraryCrmCase

NOW = datetime(2026, 6, 30, 12, 0, 0)
T0 = NOW - timedelta(days=400)


class LifecycleCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.engine = cls.env["library.segmentation"]

    @classmethod
    def _reader(cls, name, **values):
        # No category: ranked among themselves, whatever the demo readers.
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_reader": True,
                "reader_category": False,
                "reader_card_number": f"LC-{name.upper()}",
                "library_department_id": cls.dept_cs.id,
                **values,
            }
        )

    def _use(self, reader, when, kind="loan", quantity=1):
        return self.env["library.usage"].create(
            {
                "partner_id": reader.id,
                "kind": kind,
                "occurred_at": when,
                "quantity": quantity,
                "source": "test",
            }
        )

    def _run(self, when):
        self.engine._recompute(full=True, now=when)
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestLifecyclePaths(LifecycleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.steady = cls._reader("steady", enrollment_year=2025)
        cls.grower = cls._reader("grower", enrollment_year=2025)
        cls.burst = cls._reader("burst", enrollment_year=2024)
        cls.slower = cls._reader("slower", enrollment_year=2020)
        # The library's baseline, before these readers used anything.
        cls.engine._recompute(full=True, now=T0 - timedelta(days=1))

    def _histories(self):
        # Steady new reader: a use every 30 days from T0 on.
        for day in range(0, 401, 30):
            self._use(self.steady, T0 + timedelta(days=day))
        # Slow grower: a use a quarter for half a year, then two a month.
        for day in (0, 90, 180, *range(200, 401, 15)):
            self._use(self.grower, T0 + timedelta(days=day))
        # Burst then silence: ten uses in the week 150 days before NOW.
        for hour in range(10):
            self._use(self.burst, NOW - timedelta(days=150, hours=12 * hour))
        # Long-term reader who slows down: monthly from 700 to 300 days
        # before NOW, then two uses.
        for day in range(700, 299, -30):
            self._use(self.slower, NOW - timedelta(days=day))
        self._use(self.slower, NOW - timedelta(days=100))
        self._use(self.slower, NOW - timedelta(days=30))

    def test_paths(self):
        self._histories()
        readers = self.steady | self.grower | self.burst | self.slower
        stages = {}
        for day in (30, 100, 250, 390):
            self._run(T0 + timedelta(days=day))
            stages[day] = dict(zip(readers.ids, readers.mapped("reader_segment"), strict=True))
        # Steady: tenure 30 (< 90) new; 100: 4 months active, tenure < 365,
        # growing; 250 still growing (steady, not yet a year); 390: 12 months
        # active (>= 6) and tenure >= 365: long-term. Never short-term.
        self.assertEqual(
            [stages[day][self.steady.id] for day in (30, 100, 250, 390)],
            ["new", "growing", "growing", "long_term"],
        )
        # Slow grower at 100: first use 100 days ago, 2 months active, 2 uses
        # in the last 6 months and none before: rising, growing. At 250:
        # 0, 90, 180 and 200..250 (4 uses) = 6 months active, growing.
        self.assertEqual(stages[100][self.grower.id], "growing")
        self.assertEqual(stages[250][self.grower.id], "growing")
        # The slower at T0+100 (300 days before NOW): monthly use for 390
        # days, the last 10 days ago, long-term; at T0+390 (10 days before NOW): active months of
        # the last 12 are those of 340 and 310 days ago, 100 and 30: 4 < 6,
        # the 6 months before hold 2 uses as the last 6: short-term.
        self.assertEqual(stages[30][self.slower.id], "growing")  # tenure 330 < 365
        self.assertEqual(stages[100][self.slower.id], "long_term")
        self.assertEqual(stages[390][self.slower.id], "short_term")
        # Burst: at T0+250 (the burst is 0-5 days old, first use): new.
        self.assertEqual(stages[250][self.burst.id], "new")

        self._run(NOW)
        # 150 days after the burst: one month active, not rising over two
        # months, nor steady: short-term; 40 days later, lapsed (> 180).
        self.assertEqual(self.burst.reader_segment, "short_term")
        self._run(NOW + timedelta(days=40))
        self.assertEqual(self.burst.reader_segment, "lapsed")

        History = self.env["library.segment.history"]
        steps = History.search(
            [("partner_id", "=", self.steady.id), ("change", "=", "segment")], order="date, id"
        )
        self.assertEqual(
            [(h.from_segment, h.to_segment) for h in steps],
            [("never_active", "new"), ("new", "growing"), ("growing", "long_term")],
        )
        burst = History.search(
            [("partner_id", "=", self.burst.id), ("change", "=", "segment")], order="date, id"
        )
        self.assertEqual([h.to_segment for h in burst][-3:], ["new", "short_term", "lapsed"])

        # Cohort conversion from T0+100 to T0+390: growing at the start are
        # the steady reader and the grower; at the end the steady reader is
        # long-term; the grower: 0, 90, 180, 200..390 -> tenure 390, active
        # in the 12 months of T0+25..T0+390 in >= 6 months: long-term too.
        self.assertEqual(stages[390][self.grower.id], "long_term")
        start, end = (T0 + timedelta(days=100)).date(), (T0 + timedelta(days=390)).date()
        conversion = self.engine._conversion
        overall = conversion(start, end, partner_ids=readers.ids)
        self.assertEqual(overall, [(None, 2, 2, 100.0)])
        by_year = {
            year: (cohort, converted)
            for year, cohort, converted, _share in conversion(
                start, end, "enrollment_year", partner_ids=readers.ids
            )
        }
        self.assertEqual(by_year, {2025: (2, 2)})
        # At T0+30 the slower was growing (tenure 330), then long-term, and
        # short-term at the end: a cohort of one, not converted (the others
        # were new or never active).
        self.assertEqual(
            conversion((T0 + timedelta(days=30)).date(), end, partner_ids=readers.ids),
            [(None, 1, 0, 0.0)],
        )

    def test_explanation(self):
        self._histories()
        self._run(T0 + timedelta(days=390))
        with freeze_time(T0 + timedelta(days=390)):
            self.steady.invalidate_recordset()
            text = self.steady.with_user(self.user_librarian).segment_explanation
        self.assertIn("Sustained regular use", text)
        self.assertIn("12 of the last 12 months", text)
        self.assertIn("Value", self.steady.with_user(self.user_librarian).value_explanation)

    def test_alert_click_is_attention_not_use(self):
        clicker = self._reader("clicker")
        self._use(clicker, NOW - timedelta(days=3), kind="alert_click")
        self._use(clicker, NOW - timedelta(days=2), kind="alert_click")
        self._run(NOW)
        self.assertRecordValues(
            clicker,
            [
                {
                    "reader_segment": "never_active",
                    "value_attention": 2,
                    "value_score": 2,
                    "value_tier": "ordinary",
                    "usage_count_12m": 0,
                    "last_activity_date": False,
                }
            ],
        )


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestValueTier(LifecycleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.engine._recompute(full=True, now=NOW - timedelta(days=30))
        cls.active = [cls._reader(f"active{i}") for i in range(1, 11)]
        cls.lapsed = cls._reader("lapsed")
        cls.never = cls._reader("never")

    def _population(self):
        # Active reader i: i loans 10 days ago (value 2 x i).
        for i, reader in enumerate(self.active, start=1):
            self._use(reader, NOW - timedelta(days=10), quantity=i)
        # Lapsed: 50 loans 300 days ago, the highest value (capped 50), but
        # lapsed: not ranked.
        self._use(self.lapsed, NOW - timedelta(days=300), quantity=50)

    def test_value_components(self):
        reader = self._reader("components")
        when = NOW - timedelta(days=20)
        self._use(reader, when, "loan", 2)  # 2 x 2 = 4
        self._use(reader, when, "consultation")  # counts twice: 4
        self._use(reader, when, "eresource")  # 2: depth 10
        self._use(reader, when, "training")  # participation 5
        self._use(reader, when, "visit", 9)  # 9 // 4 = 2
        for minute in range(3):
            self._use(reader, when + timedelta(minutes=minute), "alert_click")  # attention 3
        self.env["library.liaison.deliverable"].create(
            {
                "title": "Literature review for the reader",
                "kind": "review",
                "department_id": self.dept_cs.id,
                "liaison_user_id": self.user_librarian.id,
                "date": when.date(),
                "recipient_ids": [(6, 0, reader.ids)],
            }
        )  # research 10
        self._run(NOW)
        self.assertRecordValues(
            reader,
            [
                {
                    "value_depth": 10,
                    "value_research": 10,
                    "value_participation": 5,
                    "value_visits": 2,
                    "value_attention": 3,
                    "value_score": 30,
                }
            ],
        )

    def test_tiers_ranked_among_active_readers(self):
        self._population()
        self._run(NOW)
        tiers = [reader.value_tier for reader in self.active]
        # 10 active readers: percent_rank 0 (top) < 10% core; 1/9 and 2/9
        # < 30% important; 3/9 and below ordinary.
        self.assertEqual(tiers, ["ordinary"] * 7 + ["important", "important", "core"])
        self.assertTrue(self.active[-1].is_core_reader)
        self.assertEqual(self.lapsed.value_score, 50)
        self.assertEqual(self.lapsed.value_tier, "ordinary")
        self.assertEqual(self.never.value_tier, "ordinary")
        # A pinned reader is core whatever the value.
        self.never.core_reader_pinned = True
        self._run(NOW)
        self.assertEqual(self.never.value_tier, "core")

    def test_single_reader_event_uses_the_cutoffs(self):
        self._population()
        self._run(NOW)
        others = self.env["library.reader.metrics"].search(
            [("partner_id", "in", [r.id for r in self.active[:2] + self.active[3:]])]
        )
        before = others.read(["value_score", "value_tier", "reader_segment", "loyalty_score"])
        reader = self.active[2]  # 3 loans: value 6, ordinary
        self._use(reader, NOW - timedelta(days=1), quantity=8)  # 11 loans: value 22
        self.assertEqual(self.engine._recompute_readers(reader.ids, now=NOW), 1)
        self.env.invalidate_all()
        # Core from 20 points (the cutoff of the last full run): core.
        self.assertEqual((reader.value_score, reader.value_tier), (22, "core"))
        self.assertEqual(
            others.read(["value_score", "value_tier", "reader_segment", "loyalty_score"]), before
        )
        # The nightly run ranks again: the same tier for this reader, and the
        # former top reader (20) is now second: important.
        self._run(NOW)
        self.assertEqual(reader.value_tier, "core")
        self.assertEqual(self.active[-1].value_tier, "important")

    def test_value_fields_are_for_library_staff(self):
        self._population()
        self._run(NOW)
        reader = self.active[-1]
        for user in (self.user_internal, self.user_portal):
            with self.assertRaises(AccessError):
                reader.with_user(user).read(["value_tier"])
            with self.assertRaises(AccessError):
                reader.with_user(user).read(["value_score"])
            with self.assertRaises(AccessError):
                reader.with_user(user).with_context(
                    library_crm_engine=True
                ).action_recompute_segment()
        self.assertEqual(reader.with_user(self.user_librarian).value_tier, "core")


@tagged("post_install", "-at_install")
class TestShortTermMigration(LifecycleCase):
    def test_occasional_becomes_short_term(self):
        path = Path(__file__).parent.parent / "migrations/19.0.1.3.0/pre-short_term.py"
        spec = importlib.util.spec_from_file_location("library_crm_pre_short_term", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        reader = self._reader("legacy")
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            "UPDATE library_reader_metrics SET reader_segment = 'occasional' "
            "WHERE partner_id = %s",
            [reader.id],
        )
        mailing_list = self.env["mailing.list"].create({"name": "Legacy occasional"})
        history = self.env["library.segment.history"].create(
            {"partner_id": reader.id, "date": "2026-01-01", "to_segment": "new"}
        )
        self.env.flush_all()
        cr.execute(
            "UPDATE mailing_list SET library_segment = 'occasional' WHERE id = %s",
            [mailing_list.id],
        )
        cr.execute(
            "UPDATE library_segment_history SET from_segment = 'new', "
            "to_segment = 'occasional' WHERE id = %s",
            [history.id],
        )
        saved = self.env["ir.filters"].create(
            {
                "name": "Occasional readers",
                "model_id": "res.partner",
                "domain": "[('reader_segment', '=', 'occasional')]",
            }
        )
        self.env.flush_all()
        migration.rename_short_term(cr)
        self.env.invalidate_all()
        self.assertEqual(reader.reader_segment, "short_term")
        self.assertEqual(mailing_list.library_segment, "short_term")
        self.assertEqual((history.from_segment, history.to_segment), ("new", "short_term"))
        self.assertEqual(saved.domain, "[('reader_segment', '=', 'short_term')]")
