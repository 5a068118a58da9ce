# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The segmentation engine: per-reader metrics, loyalty, segments, core
readers and their history, computed set-based in PostgreSQL.

Loyalty (0-100) is the sum of five components, each shown on the reader:
- frequency, 30 points: activities in the last 12 months, full at 24;
- regularity, 30 points: calendar months with activity among the last 12
  (this month and the 11 before it);
- recency, 20 points: last activity within 30 days 20, 90 days 15,
  180 days 10, 365 days 5, older 0;
- breadth, 10 points: distinct kinds of use in the last 12 months, full at 4;
- satisfaction, 10 points: satisfaction score (0-5) x 2; 5 when unknown.

Segments, first match wins (thresholds in Settings):
never active (no usage) > lapsed (no activity for N days) > new (first
activity less than N days ago) > long-term (first activity at least N days
ago and active in at least M of the last 12 months) > growing (last 6
months at least P% above the 6 before, and active in 2 months or more) >
occasional. Core readers: the top N% by loyalty within each reader category
among active readers, plus readers pinned by a librarian.

The first run ever is the baseline: it classifies every reader and records
no change. A library installs this with years of usage behind it; its
readers did not all change segment that day, and a follow-up for each
reader already lapsed is not a service. A reader registered afterwards
starts as never active, so their first use is recorded (never active ->
new).
"""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .library_rights import check_manager
from .library_usage import USAGE_KINDS
from .res_config_settings import get_setting

_logger = logging.getLogger(__name__)

SETTING_KEYS = (
    "new_days",
    "lapsed_days",
    "long_term_days",
    "long_term_months",
    "growth_percent",
    "core_percent",
    "retention_years",
)
RECENCY_STEPS = (30, 90, 180, 365)
BATCH_SIZE = 20000
LOCK_KEY = 7_190_001  # pg advisory lock: one recompute at a time


def months_start(now):
    """Start of the window of active months: the first day of the month
    eleven months before now's, so that it holds exactly 12 calendar
    months (a 365-day window touches 13 of them)."""
    index = now.year * 12 + now.month - 1 - 11
    return now.replace(
        year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


class LibrarySegmentation(models.AbstractModel):
    _name = "library.segmentation"
    _description = "Reader Segmentation Engine"

    @api.model
    def _settings(self):
        return {key: get_setting(self.env, key) for key in SETTING_KEYS}

    @api.model
    def _try_lock(self):
        """Take the engine's lock until the end of the transaction: released
        by the commit or the rollback that ends it, it cannot outlive an
        error nor linger on a connection returned to the pool."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", LOCK_KEY))
        return self.env.cr.fetchone()[0]

    @api.model
    def _usage_watermark(self):
        """Where the next incremental run starts reading usage by recorded_at.

        recorded_at is the start of the transaction that wrote the row (SQL
        now(); see library.usage). Read before a run takes its snapshot, the
        start of the oldest transaction open (in a cursor of its own, whose
        own start counts too) bounds every row the run will not see: such a
        row comes from a transaction open then, or begun later. The next run
        may read a few rows again, never miss one; the clocks of application
        servers play no part, and selecting by recorded_at needs no scan.
        Transactions of other database roles show no start: usage is written
        by Odoo's role only."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT least(now(), min(xact_start)) AT TIME ZONE 'UTC'
                         FROM pg_stat_activity WHERE datname = current_database()"""
                )
            )
            return cr.fetchone()[0]

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def _recompute(self, full=True, partner_ids=None, now=None, commit=False):
        """Recompute metrics, segments and core readers.

        full: every reader. Otherwise the readers given, or else the readers
        with usage created since the last run plus those whose windows or
        thresholds were crossed by the passage of time since then; both
        modes give the same result. Until a run over all readers has ended,
        runs are the baseline: they record no history and schedule no
        follow-up. Returns the number of readers processed, or None when
        another recompute holds the lock.
        """
        # Only a run over all the readers moves the watermark.
        watermark = None
        if commit and partner_ids is None:
            # The cron's run: its transaction begins after the watermark is
            # read, so the watermark bounds exactly what the run cannot see.
            self.env["ir.cron"]._commit_progress()
            watermark = self._usage_watermark()
        if not self._try_lock():
            _logger.info("Reader segmentation already running elsewhere; skipped.")
            return None
        if watermark is None and partner_ids is None:
            # A run inside a request or a caller's transaction: its snapshot
            # was taken before; the watermark read now may be later than a
            # transaction that committed meanwhile. It never moves past the
            # previous one: the cron's runs move it.
            watermark = self._usage_watermark()
        now = now or fields.Datetime.now()
        settings = self._settings()
        params = self.env["ir.config_parameter"].sudo()
        last_run = fields.Datetime.to_datetime(
            params.get_param("library_crm.segmentation_last_run")
        )
        # Databases of the previous release have no watermark: their last run.
        usage_since = (
            fields.Datetime.to_datetime(
                params.get_param("library_crm.segmentation_usage_watermark")
            )
            or last_run
        )
        if not commit and usage_since and watermark:
            watermark = min(watermark, usage_since)
        record = bool(last_run)
        self.env.flush_all()
        self.env["library.reader.metrics"]._ensure_rows(partner_ids)
        whole = partner_ids is None and (full or not last_run)
        if partner_ids is not None:
            ids = sorted(partner_ids)
        elif whole:
            ids = self._all_reader_ids()
        else:
            ids = self._incremental_reader_ids(last_run, now, settings, usage_since)
        if whole and not commit:
            # One statement over all readers scans the usage table once.
            batches = [None]
        else:
            # The cron commits its progress batch by batch.
            batches = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
        remaining = len(ids)
        for batch in batches:
            changes = self._recompute_batch(batch, now, settings, record)
            self._apply_followups(changes)
            if commit:
                remaining -= len(batch)
                self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
                # The commit released the lock: take it again for the next
                # transaction, or leave the rest to the run that took it
                # (its readers are those of this run: last_run did not move).
                if not self._try_lock():
                    _logger.info("Reader segmentation taken over by another run; stopped.")
                    return len(ids) - remaining
        if batches != [None]:
            # Ranks need every reader: a run by batches ranks afterwards.
            self._apply_followups(self._recompute_core(now, settings, record))
        self.env["mailing.list"]._library_sync_segment_lists()
        if partner_ids is None:
            # A partial run leaves the others' time-driven changes pending.
            params.set_param("library_crm.segmentation_last_run", fields.Datetime.to_string(now))
            params.set_param(
                "library_crm.segmentation_usage_watermark", fields.Datetime.to_string(watermark)
            )
        self.env.invalidate_all()
        return len(ids)

    @api.model
    def _cron_recompute(self):
        self._recompute(full=False, commit=True)

    @api.model
    def _cron_detach_old_usage(self):
        """Privacy: usage older than the retention period keeps its figures
        for statistics but no longer points to the reader."""
        years = self._settings()["retention_years"]
        limit = fields.Datetime.now() - timedelta(days=365 * years)
        self.env["library.usage"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH detached AS (
                    UPDATE library_usage u SET partner_id = NULL
                      FROM library_usage old
                     WHERE old.id = u.id AND old.partner_id IS NOT NULL
                       AND old.occurred_at < %s
                    RETURNING old.partner_id
                )
                SELECT count(*), array_agg(DISTINCT partner_id) FROM detached
                """,
                limit,
            )
        )
        count, partner_ids = self.env.cr.fetchone()
        self.env["library.usage"].invalidate_model(["partner_id"])
        # Their first activity may move: the next run recomputes them.
        self.env["library.reader.metrics"]._mark_for_recompute(partner_ids or [])
        return count

    @api.model
    def action_recompute_all(self):
        check_manager(self.env)
        params = self.env["ir.config_parameter"].sudo()
        baseline = not params.get_param("library_crm.segmentation_last_run")
        count = self._recompute(full=True)
        if count is None:
            message = self.env._("Another recompute is running; try again in a few minutes.")
        elif baseline:
            message = self.env._(
                "Segments computed for %(count)s readers. This first run is the baseline: "
                "changes are recorded from the next run on.",
                count=count,
            )
        else:
            message = self.env._("Segments recomputed for %(count)s readers.", count=count)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": "success", "sticky": False},
        }

    # ------------------------------------------------------------------
    # Which readers
    # ------------------------------------------------------------------

    @api.model
    def _all_reader_ids(self):
        self.env.cr.execute(SQL("SELECT id FROM res_partner WHERE is_reader ORDER BY id"))
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _incremental_reader_ids(self, last_run, now, settings, usage_since=None):
        """Readers whose figures may differ from what was stored at last_run:
        usage recorded since usage_since (the last run's watermark, by
        default last_run), usage leaving a window, a date crossing a
        threshold."""
        if usage_since is None:
            usage_since = last_run
        window_starts = [
            (last_run - timedelta(days=days), now - timedelta(days=days)) for days in (365, 182)
        ]
        window_starts.append((months_start(last_run), months_start(now)))
        last_thresholds = [timedelta(days=d) for d in (*RECENCY_STEPS, settings["lapsed_days"])]
        first_thresholds = [
            timedelta(days=settings["new_days"]),
            timedelta(days=settings["long_term_days"]),
        ]
        usage_crossed = SQL(" OR ").join(
            SQL("(u.occurred_at >= %s AND u.occurred_at < %s)", before, after)
            for before, after in window_starts
        )
        last_crossed = SQL(" OR ").join(
            SQL(
                "(m.last_activity_date >= %s AND m.last_activity_date < %s)",
                (last_run - t).date(),
                (now - t).date(),
            )
            for t in last_thresholds
        )
        # Tenure tests are "first date <= today - N": the boundary is inclusive.
        first_crossed = SQL(" OR ").join(
            SQL(
                "(m.usage_first_date > %s AND m.usage_first_date <= %s)",
                (last_run - t).date(),
                (now - t).date(),
            )
            for t in first_thresholds
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT u.partner_id FROM library_usage u
                 WHERE u.partner_id IS NOT NULL
                   AND (u.recorded_at >= %(usage_since)s OR %(usage_crossed)s)
                UNION
                SELECT p.id FROM res_partner p
                  JOIN library_reader_metrics m ON m.partner_id = p.id
                 WHERE p.is_reader
                   AND (m.reader_segment IS NULL OR m.needs_recompute
                        OR %(last_crossed)s OR %(first_crossed)s
                        -- satisfaction changed since loyalty was computed
                        OR m.loyalty_satisfaction IS DISTINCT FROM
                           CASE WHEN p.satisfaction_score > 0
                                THEN round(least(p.satisfaction_score, 5) * 2)::int
                                ELSE 5 END)
                ORDER BY 1
                """,
                usage_since=usage_since,
                usage_crossed=usage_crossed,
                last_crossed=last_crossed,
                first_crossed=first_crossed,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # ------------------------------------------------------------------
    # The computation
    # ------------------------------------------------------------------

    @api.model
    def _partners_clause(self, column, partner_ids):
        """Restrict to these readers, or to all readers when None."""
        if partner_ids is None:
            if column.endswith("partner_id"):
                return SQL("%s IS NOT NULL", SQL(column))
            return SQL("p.is_reader")
        return SQL("%s = ANY(%s)", SQL(column), list(partner_ids))

    @api.model
    def _metrics_query(self, partner_ids, now, settings):
        """Per-reader metrics, loyalty and segment as one SQL query; over all
        readers (partner_ids None) it ranks the core readers too."""
        start_12 = now - timedelta(days=365)
        start_6 = now - timedelta(days=182)
        start_months = months_start(now)
        today = now.date()
        return SQL(
            """
            WITH target AS (
                SELECT p.id, p.satisfaction_score, p.core_reader_pinned,
                       m.reader_segment AS old_segment,
                       COALESCE(m.is_core_reader, FALSE) AS old_core,
                       p.reader_category, p.library_department_id
                  FROM res_partner p JOIN library_reader_metrics m ON m.partner_id = p.id
                 WHERE %(partners)s
            ), agg AS (
                SELECT u.partner_id,
                       min(u.occurred_at)::date AS first_date,
                       max(u.occurred_at)::date AS last_date,
                       count(*) FILTER (WHERE u.occurred_at >= %(start_12)s) AS count_12,
                       coalesce(sum(u.quantity) FILTER (
                           WHERE u.kind = 'loan' AND u.occurred_at >= %(start_12)s), 0)
                           AS loans_12,
                       -- Distinct months and kinds as bit sets: no sort per reader.
                       bit_count(bit_or(1::bigint << (
                           (extract(year FROM u.occurred_at) * 12
                            + extract(month FROM u.occurred_at))::int - %(base_month)s
                       )) FILTER (WHERE u.occurred_at >= %(start_months)s)::bit(64)) AS months_12,
                       bit_count(bit_or(1::bigint << array_position(%(kinds)s, u.kind::text))
                           FILTER (WHERE u.occurred_at >= %(start_12)s)::bit(64)) AS breadth,
                       count(*) FILTER (WHERE u.occurred_at >= %(start_6)s) AS recent_6,
                       count(*) FILTER (
                           WHERE u.occurred_at >= %(start_12)s AND u.occurred_at < %(start_6)s
                       ) AS previous_6,
                       count(*) FILTER (WHERE u.kind IN ('training', 'event')
                                        AND u.occurred_at >= %(start_12)s) AS participation
                  FROM library_usage u
                 WHERE %(usage_partners)s AND u.occurred_at <= %(now)s
                 GROUP BY u.partner_id
            ), metrics AS (
                SELECT t.id, t.old_segment, t.old_core, t.core_reader_pinned, t.reader_category,
                       t.library_department_id,
                       a.first_date, a.last_date,
                       coalesce(a.count_12, 0) AS count_12,
                       coalesce(a.loans_12, 0) AS loans_12,
                       coalesce(a.months_12, 0) AS months_12,
                       coalesce(a.breadth, 0) AS breadth,
                       coalesce(a.recent_6, 0) AS recent_6,
                       coalesce(a.previous_6, 0) AS previous_6,
                       coalesce(a.participation, 0) AS participation,
                       %(today)s - a.last_date AS idle_days,
                       %(today)s - a.first_date AS tenure_days,
                       round(least(coalesce(a.count_12, 0), 24) * 30 / 24.0)::int AS l_frequency,
                       round(least(coalesce(a.months_12, 0), 12) * 30 / 12.0)::int
                           AS l_regularity,
                       CASE WHEN a.last_date IS NULL THEN 0
                            WHEN %(today)s - a.last_date <= 30 THEN 20
                            WHEN %(today)s - a.last_date <= 90 THEN 15
                            WHEN %(today)s - a.last_date <= 180 THEN 10
                            WHEN %(today)s - a.last_date <= 365 THEN 5
                            ELSE 0 END AS l_recency,
                       round(least(coalesce(a.breadth, 0), 4) * 10 / 4.0)::int AS l_breadth,
                       CASE WHEN t.satisfaction_score > 0
                            THEN round(least(t.satisfaction_score, 5) * 2)::int
                            ELSE 5 END AS l_satisfaction
                  FROM target t LEFT JOIN agg a ON a.partner_id = t.id
            ), scored AS (
            SELECT m.*,
                   m.l_frequency + m.l_regularity + m.l_recency + m.l_breadth
                       + m.l_satisfaction AS loyalty,
                   CASE WHEN m.last_date IS NULL THEN 'never_active'
                        WHEN m.idle_days > %(lapsed_days)s THEN 'lapsed'
                        WHEN m.tenure_days < %(new_days)s THEN 'new'
                        WHEN m.tenure_days >= %(long_term_days)s
                             AND m.months_12 >= %(long_term_months)s THEN 'long_term'
                        WHEN m.months_12 >= 2
                             AND m.recent_6 * 100 >= m.previous_6 * (100 + %(growth_percent)s)
                             AND m.recent_6 > m.previous_6 THEN 'growing'
                        ELSE 'occasional' END AS segment
              FROM metrics m
            )
            SELECT s.*, %(core)s AS core FROM scored s
            """,
            core=(
                self._core_expression(
                    "s.core_reader_pinned", "s.segment", "s.loyalty", "s.reader_category", settings
                )
                if partner_ids is None
                else SQL("NULL::boolean")
            ),
            partners=self._partners_clause("p.id", partner_ids),
            usage_partners=self._partners_clause("u.partner_id", partner_ids),
            now=now,
            today=today,
            base_month=start_months.year * 12 + start_months.month,
            start_months=start_months,
            kinds=[code for code, _label in USAGE_KINDS],
            start_12=start_12,
            start_6=start_6,
            lapsed_days=settings["lapsed_days"],
            new_days=settings["new_days"],
            long_term_days=settings["long_term_days"],
            long_term_months=settings["long_term_months"],
            growth_percent=settings["growth_percent"],
        )

    @api.model
    def _core_expression(self, pinned, segment, loyalty, category, settings):
        """Core reader: pinned, or among the top N% by loyalty within the
        reader category, when active. A window over all the readers."""
        return SQL(
            """COALESCE(%(pinned)s, FALSE)
               OR (%(segment)s NOT IN ('never_active', 'lapsed') AND %(loyalty)s > 0
                   AND percent_rank() OVER (PARTITION BY %(category)s ORDER BY %(loyalty)s DESC)
                       < %(share)s)""",
            category=SQL(category),
            pinned=SQL(pinned),
            segment=SQL(segment),
            loyalty=SQL(loyalty),
            share=settings["core_percent"] / 100.0,
        )

    @api.model
    def _tune_session(self):
        """Until the end of the transaction: no JIT compilation. For this
        aggregate, compiled once and run once, PostgreSQL's JIT spends more
        time compiling than it saves (about 1 s of 5 at 5M usage rows)."""
        self.env.cr.execute(SQL("SET LOCAL jit = off"))

    @api.model
    def _recompute_batch(self, partner_ids, now, settings, record=True):
        """Write the metrics of these readers (all when None); when record,
        record segment changes (and core changes when all) and return them
        as (change, partner_id, from, to) rows, `to` being became_core for
        core."""
        cr = self.env.cr
        self._tune_session()
        # Materialised first: PostgreSQL runs this read in parallel, which it
        # never does inside a statement that writes.
        cr.execute(
            SQL(
                "CREATE TEMP TABLE library_segment_calc ON COMMIT DROP AS %s",
                self._metrics_query(partner_ids, now, settings),
            )
        )
        cr.execute(
            SQL(
                """
                WITH upd AS (
                    UPDATE library_reader_metrics m
                       SET usage_first_date = c.first_date,
                           last_activity_date = c.last_date,
                           usage_count_12m = c.count_12,
                           loan_count_12m = c.loans_12,
                           active_months_12m = c.months_12,
                           usage_breadth = c.breadth,
                           usage_recent_6m = c.recent_6,
                           usage_previous_6m = c.previous_6,
                           participation_count = c.participation,
                           loyalty_frequency = c.l_frequency,
                           loyalty_regularity = c.l_regularity,
                           loyalty_recency = c.l_recency,
                           loyalty_breadth = c.l_breadth,
                           loyalty_satisfaction = c.l_satisfaction,
                           loyalty_score = c.loyalty,
                           loyalty_band = CASE WHEN c.loyalty >= 80 THEN '80_100'
                                               WHEN c.loyalty >= 60 THEN '60_79'
                                               WHEN c.loyalty >= 40 THEN '40_59'
                                               WHEN c.loyalty >= 20 THEN '20_39'
                                               ELSE '0_19' END,
                           reader_segment = c.segment,
                           is_core_reader = COALESCE(c.core, m.is_core_reader),
                           needs_recompute = NULL
                      FROM library_segment_calc c
                     WHERE m.partner_id = c.id
                       AND (m.needs_recompute
                            OR (m.usage_first_date, m.last_activity_date, m.usage_count_12m,
                                m.loan_count_12m, m.active_months_12m, m.usage_breadth,
                                m.usage_recent_6m, m.usage_previous_6m, m.participation_count,
                                m.loyalty_score, m.loyalty_recency, m.loyalty_satisfaction,
                                m.reader_segment, m.is_core_reader)
                               IS DISTINCT FROM
                               (c.first_date, c.last_date, c.count_12, c.loans_12, c.months_12,
                                c.breadth, c.recent_6, c.previous_6, c.participation, c.loyalty,
                                c.l_recency, c.l_satisfaction, c.segment,
                                COALESCE(c.core, m.is_core_reader)))
                    RETURNING m.partner_id
                )
                INSERT INTO library_segment_history
                       (partner_id, date, change, from_segment, to_segment, became_core,
                        reader_category, department_id)
                SELECT c.id, %(today)s, 'segment', c.old_segment, c.segment, FALSE,
                       c.reader_category, c.library_department_id
                  FROM library_segment_calc c
                 WHERE %(record)s AND c.old_segment IS DISTINCT FROM c.segment
                 UNION ALL
                SELECT c.id, %(today)s, 'core', c.segment, c.segment, c.core,
                       c.reader_category, c.library_department_id
                  FROM library_segment_calc c
                 WHERE %(record)s AND c.core IS DISTINCT FROM c.old_core AND c.core IS NOT NULL
                RETURNING change, partner_id, from_segment, to_segment, became_core
                """,
                today=now.date(),
                record=record,
            )
        )
        changes = [
            (change, partner_id, from_, became_core if change == "core" else to)
            for change, partner_id, from_, to, became_core in cr.fetchall()
        ]
        cr.execute(SQL("DROP TABLE library_segment_calc"))
        return changes

    @api.model
    def _recompute_core(self, now, settings, record=True):
        """Core readers: top N% by loyalty within each category among active
        readers, or pinned. One statement over all readers; records the
        changes when record."""
        self.env.cr.execute(
            SQL(
                """
                WITH ranked AS (
                    SELECT p.id, p.reader_category, p.library_department_id, m.reader_segment,
                           %(core)s AS core
                      FROM res_partner p JOIN library_reader_metrics m ON m.partner_id = p.id
                     WHERE p.is_reader
                ), upd AS (
                    UPDATE library_reader_metrics m SET is_core_reader = r.core
                      FROM ranked r
                     WHERE m.partner_id = r.id
                       AND COALESCE(m.is_core_reader, FALSE) IS DISTINCT FROM r.core
                    RETURNING r.id, r.core, r.reader_category, r.library_department_id,
                              r.reader_segment
                )
                INSERT INTO library_segment_history
                       (partner_id, date, change, from_segment, to_segment, became_core,
                        reader_category, department_id)
                SELECT id, %(today)s, 'core', reader_segment, reader_segment, core,
                       reader_category, library_department_id
                  FROM upd
                 WHERE %(record)s
                RETURNING partner_id, became_core
                """,
                core=self._core_expression(
                    "p.core_reader_pinned",
                    "m.reader_segment",
                    "m.loyalty_score",
                    "p.reader_category",
                    settings,
                ),
                today=now.date(),
                record=record,
            )
        )
        return [("core", partner_id, None, core) for partner_id, core in self.env.cr.fetchall()]

    # ------------------------------------------------------------------
    # Customised service: follow-ups on transitions
    # ------------------------------------------------------------------

    @api.model
    def _apply_followups(self, changes):
        """Schedule the configured activity for each transition, once: the
        transition itself happens once, since history only records changes."""
        if not changes:
            return
        rules = self.env["library.segment.followup"].sudo().search([("active", "=", True)])
        by_key = defaultdict(set)
        for change, partner_id, _from, to in changes:
            by_key[(change, to)].add(partner_id)
        for rule in rules:
            partner_ids = by_key.get(rule._change_key())
            if partner_ids:
                for partner in rule._partners_to_follow(partner_ids):
                    rule._schedule(partner)
