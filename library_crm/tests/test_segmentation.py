# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime, timedelta
from unittest.mock import patch

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.library_crm.models.library_reader_metrics import NEVER_ACTIVE
from odoo.addons.library_crm.models.library_segmentation import LOCK_KEY

from .common import LibraryCrmCase

NOW = datetime(2026, 6, 30, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestSegmentation(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.readers = {
            name: Partner.create(
                {
                    "name": name,
                    "is_reader": True,
                    # No category: ranked among themselves, whatever the
                    # readers of the demo data.
                    "reader_category": False,
                    "reader_card_number": f"SEG-{name.upper()}",
                    "library_department_id": cls.dept_cs.id,
                    "responsible_librarian_id": cls.user_librarian.id,
                }
            )
            for name in ("never", "lapsed", "new", "long", "growing", "short_term")
        }
        cls.engine = cls.env["library.segmentation"]
        # The library has run the engine before (the baseline, when its readers
        # had no usage yet): the tests' runs record what changes.
        cls.engine._recompute(full=True, now=NOW - timedelta(days=1))

    def _ids(self):
        """The tests' own readers (the demo database has readers of its own,
        ranked in their categories)."""
        return [reader.id for reader in self.readers.values()]

    def _use(self, reader, days_ago, kind="loan", quantity=1):
        return self.env["library.usage"].create(
            {
                "partner_id": reader.id,
                "kind": kind,
                "occurred_at": NOW - timedelta(days=days_ago),
                "quantity": quantity,
                "source": "test",
            }
        )

    def _monthly(self, reader, months, start=0, kind="loan"):
        for month in range(start, start + months):
            self._use(reader, 15 + 30 * month, kind)

    def _make_population(self):
        r = self.readers
        self._use(r["lapsed"], 400)
        self._use(r["lapsed"], 200)
        self._use(r["new"], 10)
        self._use(r["new"], 5, "visit")
        # Long-term: first use 3 years ago, active every month of the last 12.
        self._use(r["long"], 1100)
        self._monthly(r["long"], 12)
        self._use(r["long"], 20, "eresource")
        self._use(r["long"], 25, "training")
        # Growing: 1 use in the previous 6 months, 4 months active recently.
        self._use(r["growing"], 300)
        self._use(r["growing"], 700)
        self._monthly(r["growing"], 4)
        # Occasional: a use now and then, no growth.
        self._use(r["short_term"], 700)
        self._use(r["short_term"], 250)
        self._use(r["short_term"], 100)

    def _state(self):
        fields_ = [
            "reader_segment",
            "loyalty_score",
            "is_core_reader",
            "usage_count_12m",
            "active_months_12m",
            "last_activity_date",
            "usage_first_date",
            "loyalty_recency",
        ]
        readers = self.env["res.partner"].search([("is_reader", "=", True)], order="id")
        readers.invalidate_recordset()
        return readers.read(fields_)

    def test_segments_and_metrics(self):
        self._make_population()
        self.engine._recompute(full=True, now=NOW)
        r = self.readers
        segments = {name: reader.reader_segment for name, reader in r.items()}
        self.assertEqual(
            segments,
            {
                "never": "never_active",
                "lapsed": "lapsed",
                "new": "new",
                "long": "long_term",
                "growing": "growing",
                "short_term": "short_term",
            },
        )
        self.assertEqual(self.reader.reader_segment, "never_active")
        long = r["long"]
        self.assertRecordValues(
            long,
            [
                {
                    "usage_count_12m": 14,
                    "loan_count_12m": 12,
                    "active_months_12m": 12,
                    "usage_breadth": 3,
                    "participation_count": 1,
                    "usage_first_date": (NOW - timedelta(days=1100)).date(),
                    "last_activity_date": (NOW - timedelta(days=15)).date(),
                    # 14/24*30=17.5 -> 18, 12 months 30, within 30 days 20,
                    # 3 kinds 7.5 -> 8, satisfaction unknown 5.
                    "loyalty_frequency": 18,
                    "loyalty_regularity": 30,
                    "loyalty_recency": 20,
                    "loyalty_breadth": 8,
                    "loyalty_satisfaction": 5,
                    "loyalty_score": 81,
                    "loyalty_band": "80_100",
                }
            ],
        )
        self.assertEqual(r["growing"].usage_recent_6m, 4)
        self.assertEqual(r["growing"].usage_previous_6m, 1)
        self.assertEqual(r["never"].loyalty_score, 5)

    def test_segment_boundaries(self):
        reader = self.readers["new"]
        settings = self.engine._settings()

        def segment_after(days_ago_list):
            self.env["library.usage"].search([("partner_id", "=", reader.id)]).unlink()
            for days in days_ago_list:
                self._use(reader, days)
            self.engine._recompute(partner_ids=reader.ids, now=NOW)
            reader.invalidate_recordset()
            return reader.reader_segment

        lapsed, new = settings["lapsed_days"], settings["new_days"]
        self._use(self.readers["long"], 10)
        self.assertEqual(segment_after([lapsed]), "short_term")  # not lapsed yet
        # A recompute of given readers leaves the others untouched.
        self.assertEqual(self.readers["long"].reader_segment, "never_active")
        self.assertEqual(segment_after([lapsed + 1]), "lapsed")
        self.assertEqual(segment_after([new - 1]), "new")
        self.assertEqual(segment_after([new]), "short_term")
        long_term = settings["long_term_days"]
        months = [15 + 30 * m for m in range(settings["long_term_months"])]
        self.assertEqual(segment_after([long_term, *months]), "long_term")
        self.assertEqual(segment_after([long_term - 1, *months]), "growing")
        self.assertEqual(segment_after([long_term, *months[:-1]]), "growing")
        # Past the long-term period and not regular enough: growing only
        # when rising. 2 recent uses vs 3 before is not growing.
        self.assertEqual(segment_after([400, 15, 45, 200, 210, 220]), "short_term")
        self.assertEqual(segment_after([400, 15, 45, 75, 200]), "growing")

    def test_history_only_on_change_and_followups_once(self):
        self._make_population()
        self.engine._recompute(full=True, now=NOW)
        History = self.env["library.segment.history"]
        # Readers who did not become core have no core change to record.
        core_changes = History.search([("change", "=", "core"), ("partner_id", "in", self._ids())])
        self.assertEqual(core_changes.partner_id, self.readers["long"])
        self.assertTrue(core_changes.became_core)
        first = History.search_count([])
        self.assertEqual(
            History.search_count(
                [("partner_id", "=", self.readers["long"].id), ("change", "=", "segment")]
            ),
            1,
        )
        lapsed_activities = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.readers["lapsed"].id)]
        )
        self.assertEqual(len(lapsed_activities), 1)
        self.assertEqual(lapsed_activities.user_id, self.user_librarian)
        # Nothing changed: no history, no new activity.
        self.engine._recompute(full=True, now=NOW)
        self.assertEqual(History.search_count([]), first)
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), ("res_id", "=", self.readers["lapsed"].id)]
            ),
            1,
        )
        # The new reader's first use ages: one change, new -> short_term.
        later = NOW + timedelta(days=90)
        self.engine._recompute(full=False, now=later)
        change = History.search(
            [("partner_id", "=", self.readers["new"].id), ("date", "=", later.date())]
        )
        self.assertEqual((change.from_segment, change.to_segment), ("new", "short_term"))

    def test_first_run_is_the_baseline(self):
        """The first run ever classifies the readers and records nothing: no
        history, no follow-up. The runs after it record what changes."""
        self.env["ir.config_parameter"].sudo().set_param("library_crm.segmentation_last_run", "")
        self._make_population()
        self.engine._recompute(full=True, now=NOW)
        r = self.readers
        self.assertEqual(r["lapsed"].reader_segment, "lapsed")
        self.assertTrue(r["long"].is_core_reader)
        History = self.env["library.segment.history"]
        mine = [("partner_id", "in", [reader.id for reader in r.values()])]
        self.assertFalse(History.search(mine))
        self.assertFalse(
            self.env["mail.activity"].search(
                [("res_model", "=", "res.partner"), ("res_id", "=", r["lapsed"].id)]
            )
        )
        later = NOW + timedelta(days=90)
        self.engine._recompute(full=False, now=later)
        change = History.search([*mine, ("partner_id", "=", r["new"].id)])
        self.assertEqual((change.from_segment, change.to_segment), ("new", "short_term"))
        self.assertEqual(change.date, later.date())

    def test_new_reader_starts_as_the_engine_finds_it(self):
        """A reader's row is born with what the engine computes for a reader
        without usage: recomputing it changes nothing and records nothing."""
        reader = self.env["res.partner"].create(
            {"name": "Freshman", "is_reader": True, "reader_card_number": "SEG-FRESH"}
        )
        metrics = reader.library_metrics_id
        self.assertEqual({name: metrics[name] for name in NEVER_ACTIVE}, NEVER_ACTIVE)
        self.engine._recompute(full=True, now=NOW)
        metrics.invalidate_recordset()
        self.assertEqual({name: metrics[name] for name in NEVER_ACTIVE}, NEVER_ACTIVE)
        self.assertFalse(metrics.usage_first_date)
        self.assertFalse(
            self.env["library.segment.history"].search([("partner_id", "=", reader.id)])
        )
        # Their first use is a change: never active -> new.
        self._use(reader, 2)
        self.engine._recompute(full=False, now=NOW)
        change = self.env["library.segment.history"].search(
            [("partner_id", "=", reader.id), ("change", "=", "segment")]
        )
        self.assertEqual((change.from_segment, change.to_segment), ("never_active", "new"))

    def test_core_readers_top_share_and_pin(self):
        self._make_population()
        self.dept_cs.liaison_user_ids = self.user_librarian_2
        self.engine._recompute(full=True, now=NOW)
        core = self.env["res.partner"].search(
            [("is_core_reader", "=", True), ("id", "in", self._ids())]
        )
        # 10% of the 6 readers without a category: the single best one.
        self.assertEqual(core, self.readers["long"])
        activity = self.env["mail.activity"].search(
            [
                ("res_id", "=", self.readers["long"].id),
                ("res_model", "=", "res.partner"),
                ("user_id", "=", self.user_librarian_2.id),
            ]
        )
        self.assertEqual(len(activity), 1)
        self.readers["short_term"].core_reader_pinned = True
        self.engine._recompute(full=False, now=NOW)
        self.assertTrue(self.readers["short_term"].is_core_reader)
        self.assertEqual(
            self.env["library.segment.history"].search_count(
                [
                    ("partner_id", "=", self.readers["short_term"].id),
                    ("change", "=", "core"),
                    ("became_core", "=", True),
                ]
            ),
            1,
        )

    def test_incremental_equals_full(self):
        self._make_population()
        self.engine._recompute(full=True, now=NOW)
        # Time passes, new usage arrives, a reader lapses, windows slide.
        self._use(self.readers["short_term"], -20)
        self._use(self.readers["never"], -3, "visit")
        steps = [NOW + timedelta(days=d) for d in (1, 30, 95, 190)]
        for now in steps:
            self.engine._recompute(full=False, now=now)
        incremental = self._state()
        self.engine._recompute(full=True, now=steps[-1])
        self.assertEqual(self._state(), incremental)

    def test_lost_usage_is_recomputed_incrementally(self):
        """Usage deleted, moved to another reader or detached by the retention
        cron leaves no row to carry its recorded_at: the reader is marked,
        and the incremental run gives what a full run gives."""
        self._make_population()
        self.env.cr.execute("UPDATE library_usage SET recorded_at = %s", [NOW - timedelta(days=1)])
        Usage = self.env["library.usage"]
        Usage.invalidate_model(["recorded_at"])
        self.engine._recompute(full=True, now=NOW)
        r = self.readers
        Usage.search(
            [("partner_id", "=", r["growing"].id)], order="occurred_at desc", limit=1
        ).unlink()
        Usage.search([("partner_id", "=", r["lapsed"].id)], limit=1).partner_id = r["short_term"]
        with freeze_time(NOW):
            self.assertEqual(self.engine._cron_detach_old_usage(), 1)  # long's first use
        Metrics = self.env["library.reader.metrics"]
        self.assertEqual(
            Metrics.search([("needs_recompute", "=", True)]).partner_id,
            r["growing"] | r["lapsed"] | r["long"],
        )
        later = NOW + timedelta(days=1)
        self.engine._recompute(full=False, now=later)
        self.assertFalse(Metrics.search([("needs_recompute", "=", True)]))
        incremental = self._state()
        self.engine._recompute(full=True, now=later)
        self.assertEqual(self._state(), incremental)

    def test_recompute_button_says_when_it_is_the_baseline(self):
        self.env["ir.config_parameter"].sudo().set_param("library_crm.segmentation_last_run", "")
        with self.assertRaises(AccessError):
            self.engine.with_user(self.user_librarian).action_recompute_all()
        engine = self.engine.with_user(self.user_manager)
        self.assertIn("baseline", engine.action_recompute_all()["params"]["message"])
        self.assertNotIn("baseline", engine.action_recompute_all()["params"]["message"])

    def test_retention_detaches_old_usage(self):
        old = self._use(self.readers["lapsed"], 365 * 4)
        recent = self._use(self.readers["lapsed"], 30)
        with freeze_time(NOW):
            self.assertEqual(self.engine._cron_detach_old_usage(), 1)
        self.assertFalse(old.partner_id)
        self.assertEqual(recent.partner_id, self.readers["lapsed"])

    def test_metrics_rows_search_and_group(self):
        """Every reader has one row of metrics, however it became a reader;
        its figures search, sort and group from the reader."""
        Partner = self.env["res.partner"]
        later = Partner.create({"name": "Later reader"})
        self.assertFalse(later.library_metrics_id)
        later.write({"is_reader": True, "reader_card_number": "SEG-LATER"})
        self.assertEqual(later.library_metrics_id.partner_id, later)
        # Readers loaded in SQL, or a lost link: the next run repairs both.
        lost, missing = self.readers["lapsed"], self.readers["never"]
        self.env.cr.execute(
            "UPDATE res_partner SET library_metrics_id = NULL WHERE id = %s", [lost.id]
        )
        self.env.cr.execute(
            "DELETE FROM library_reader_metrics WHERE partner_id = %s", [missing.id]
        )
        self.env.invalidate_all()
        self._make_population()
        self.engine._recompute(full=True, now=NOW)
        self.assertEqual(lost.reader_segment, "lapsed")
        self.assertEqual(missing.reader_segment, "never_active")
        self.env.cr.execute(
            "SELECT count(*), count(DISTINCT partner_id) FROM library_reader_metrics"
        )
        self.assertEqual(*self.env.cr.fetchone())
        mine = [("reader_card_number", "=like", "SEG-%")]
        self.assertEqual(
            Partner.search([*mine, ("reader_segment", "=", "growing")]), self.readers["growing"]
        )
        self.assertEqual(
            Partner.search(mine, order="loyalty_score desc", limit=1), self.readers["long"]
        )
        groups = dict(Partner._read_group(mine, ["reader_segment"], ["__count"]))
        self.assertEqual(groups["never_active"], 2)  # "never" and the later reader
        self.assertEqual(groups["long_term"], 1)

    def test_changed_usage_is_recomputed_incrementally(self):
        """A usage row that a manager corrects is recorded again, so the
        incremental run picks its reader up."""
        self._make_population()
        self.engine._recompute(full=True, now=NOW)
        Usage = self.env["library.usage"]
        self.env.cr.execute("UPDATE library_usage SET recorded_at = %s", [NOW - timedelta(days=1)])
        Usage.invalidate_model(["recorded_at"])
        settings = self.engine._settings()
        long = self.readers["long"]
        self.assertNotIn(long.id, self.engine._incremental_reader_ids(NOW, NOW, settings))
        Usage.search([("partner_id", "=", long.id)], limit=1).quantity = 3
        self.env.flush_all()
        self.assertIn(long.id, self.engine._incremental_reader_ids(NOW, NOW, settings))

    def test_active_months_are_twelve_calendar_months(self):
        """A reader active in every calendar month a 365-day window touches
        (13 of them) has 12 active months of 12 and full regularity, never
        more; a loyalty score stays within 100."""
        reader = self.readers["long"]
        with freeze_time(NOW):
            # 2025-06-30 13:00: within 365 days of NOW, in the 13th month back.
            self._use(reader, 365 - 1 / 24)
            for month in range(12):  # the 15th of Jul 2025 .. Jun 2026
                self._use(reader, 15 + 30 * month, "visit")
            for days in range(1, 13):
                self._use(reader, days, ("loan", "eresource", "training")[days % 3])
            self.engine._recompute(partner_ids=reader.ids, now=NOW)
        reader.invalidate_recordset()
        self.assertEqual(reader.active_months_12m, 12)
        self.assertEqual(reader.library_metrics_id.loyalty_regularity, 30)
        self.assertEqual(reader.library_metrics_id.loyalty_frequency, 30)
        self.assertLessEqual(reader.loyalty_score, 100)

    def test_long_term_rule_at_the_margin(self):
        """Long-term with 12 active months of 12 asked: a use in the 13th
        calendar month back does not stand in for a month missed since."""
        self.env["ir.config_parameter"].sudo().set_param("library_crm.long_term_months", "12")
        reader = self.readers["long"]
        with freeze_time(NOW):
            self._use(reader, 1000)  # tenure
            self._use(reader, 365 - 1 / 24)  # 2025-06-30 13:00
            for month in range(11):  # every month since, but July 2025
                self._use(reader, 15 + 30 * month)
            self.engine._recompute(partner_ids=reader.ids, now=NOW)
            reader.invalidate_recordset()
            self.assertEqual(reader.active_months_12m, 11)
            self.assertNotEqual(reader.reader_segment, "long_term")
            self._use(reader, 15 + 30 * 11)  # 2025-07-20
            self.engine._recompute(partner_ids=reader.ids, now=NOW)
        reader.invalidate_recordset()
        self.assertEqual(reader.active_months_12m, 12)
        self.assertEqual(reader.reader_segment, "long_term")


@tagged("post_install", "-at_install")
class TestSegmentationEngineRuns(LibraryCrmCase):
    """The engine's lock and watermark, with real concurrent transactions.
    No run in setUpClass: the lock of a run lasts as long as its transaction,
    and a test class's transaction lasts as long as the class."""

    def setUp(self):
        super().setUp()
        self.engine = self.env["library.segmentation"]

    def test_one_recompute_at_a_time(self):
        """Two workers: the second one skips while the first holds the lock."""
        other = self.registry.cursor()
        try:
            other.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            self.assertIsNone(self.engine._recompute(full=True, now=NOW))
            other.rollback()  # the first run ends: its lock goes with it
            self.assertTrue(self.engine._recompute(full=True, now=NOW))
        finally:
            other.close()

    def test_error_in_a_run_is_reported_as_itself(self):
        """An error inside a run propagates with its own message, and leaves
        no lock behind: the next run, on this connection or another, runs."""
        Engine = type(self.engine)

        def failing_batch(engine, *args, **kwargs):
            engine.env.cr.execute("SELECT 1 / 0")

        with (
            patch.object(Engine, "_recompute_batch", failing_batch),
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(psycopg2.errors.DivisionByZero, "division by zero"),
            self.env.cr.savepoint(),
        ):
            self.engine._recompute(full=True, now=NOW)
        other = self.registry.cursor()
        try:
            other.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            self.assertTrue(other.fetchone()[0])
        finally:
            other.close()
        self.assertEqual(self.engine._recompute(partner_ids=self.reader.ids, now=NOW), 1)

    def test_usage_committed_during_a_run_is_not_missed(self):
        """An import that began before a run and commits during it stamps
        rows the run cannot see with a recorded_at before the run's start:
        the next incremental run still picks them up."""
        registry = self.registry
        keys = ("library_crm.segmentation_last_run", "library_crm.segmentation_usage_watermark")
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            saved = {key: env["ir.config_parameter"].get_param(key) for key in keys}
            reader_id = (
                env["res.partner"]
                .create({"name": "Concurrent", "is_reader": True, "reader_card_number": "SEG-CC"})
                .id
            )
            # A baseline: the committed run below records no history.
            env["ir.config_parameter"].set_param(keys[0], False)
        run, importer = registry.cursor(), registry.cursor()
        try:
            importer.execute("SELECT 1")  # the import's transaction begins
            started = importer.now()
            run_env = api.Environment(run, SUPERUSER_ID, {})
            Engine = type(run_env["library.segmentation"])
            batch = Engine._recompute_batch

            def batch_while_importing(engine, *args, **kwargs):
                result = batch(engine, *args, **kwargs)
                # The import writes as library.usage.import does, and commits.
                importer.execute(
                    """INSERT INTO library_usage (partner_id, kind, occurred_at, quantity,
                                                  duration, source, external_ref, company_id,
                                                  recorded_at)
                       VALUES (%s, 'loan', %s, 1, 0, 'test-concurrent', 'cc-1', %s,
                               now() AT TIME ZONE 'UTC')""",
                    [reader_id, started - timedelta(days=10), self.company.id],
                )
                importer.commit()
                return result

            # The cron's run (committing batch by batch) starts after the
            # import stamped its rows.
            with patch.object(Engine, "_recompute_batch", batch_while_importing):
                run_env["library.segmentation"]._recompute(
                    full=True, now=started + timedelta(seconds=1), commit=True
                )
            run.commit()
            run_env["library.segmentation"]._recompute(full=False, now=started + timedelta(days=1))
            reader = run_env["res.partner"].browse(reader_id)
            self.assertEqual(reader.usage_count_12m, 1)
            self.assertEqual(reader.reader_segment, "new")
            run.rollback()
        finally:
            run.close()
            importer.close()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cr.execute("DELETE FROM library_usage WHERE source = 'test-concurrent'")
                env["res.partner"].browse(reader_id).unlink()
                for key, value in saved.items():
                    env["ir.config_parameter"].set_param(key, value)
