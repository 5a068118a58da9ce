# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The segmentation engine: per-reader metrics, loyalty, lifecycle stage,
value score and tier, and their history, computed set-based in PostgreSQL.

A "use" is any usage row but a click on a new-title alert: a click is
attention (it counts in the value score), not use.

Loyalty (0-100) is the sum of five components, each shown on the reader:
- frequency, 30 points: uses in the last 12 months, full at 24;
- regularity, 30 points: calendar months with use among the last 12
  (this month and the 11 before it);
- recency, 20 points: last use within 30 days 20, 90 days 15,
  180 days 10, 365 days 5, older 0;
- breadth, 10 points: distinct kinds of use in the last 12 months, full at 4;
- satisfaction, 10 points: satisfaction score (0-5) x 2; 5 when unknown.

Two axes classify a reader (thresholds and weights in Settings).

Lifecycle stage, from the regularity and trend of use, first match wins:
never active (no use) > lapsed (no use for N days, 180) > new (first use
less than N days ago, 90) > long-term (sustained regular use: active in at
least M of the last 12 months (6) and first use at least N days ago (365))
> growing (rising: the last 6 months at least P% (20) above the 6 before,
active in 2 months or more; or steady while still building tenure: active
in at least G of the last 12 months (3) with first use less than the
long-term period ago) > short-term (occasional use). Tenure alone never
demotes a steady reader: a long-term reader who slows down becomes
short-term, then lapsed.

Value score (0-100), what the reader draws from the library in the last 12
months, depth above breadth:
- depth, at most 50: points per loan, renewal, interlibrary loan,
  e-resource or workstation session, a reference consultation counting
  twice (2 points each by default);
- research support, at most 20: per deliverable received and per research
  project followed by the library (10 each);
- participation, at most 15: per training or event attended (5 each);
- gate entries, at most 10: a point per 4 entries;
- attention, at most 5: a point per alert click.
Value tier: core readers are pinned by a librarian, or in the top N% (10)
by value within their reader category among ACTIVE readers (neither never
active nor lapsed); important readers the next N% (20); the others are
ordinary. A full run ranks every reader and stores each category's cutoffs;
a single-reader event (an answer, a rating) compares that reader with the
stored cutoffs, so it costs the same at any number of readers.

The first run ever is the baseline: it classifies every reader and records
no change. A library installs this with years of usage behind it; its
readers did not all change segment that day, and a follow-up for each
reader already lapsed is not a service. A reader registered afterwards
starts as never active, so their first use is recorded (never active ->
new). An upgrade that changes the rules is a new baseline too.

Conversion (growing -> long-term) is cohort based: of the readers growing
on the first day of a period, the share long-term on its last day,
whatever path they took. A reader's stage on a past day comes from the
history: the last change recorded on or before that day, else the stage the
first later change left, else today's stage.
"""

import json
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
    "growing_months",
    "growth_percent",
    "core_percent",
    "important_percent",
    "value_depth_points",
    "value_research_points",
    "value_participation_points",
    "value_visits_per_point",
    "value_attention_points",
    "retention_years",
)
# Caps of the value components (their sum is 100).
VALUE_CAPS = {"depth": 50, "research": 20, "participation": 15, "visits": 10, "attention": 5}
DEPTH_KINDS = ("loan", "renewal", "ill", "eresource", "workstation")
ATTENTION_KIND = "alert_click"
INACTIVE_STAGES = ("never_active", "lapsed")
CUTOFFS_PARAM = "library_crm.value_tier_cutoffs"
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
    def _recompute(self, full=True, partner_ids=None, now=None, commit=False, baseline=False):
        """Recompute metrics, segments and core readers.

        full: every reader. Otherwise the readers given, or else the readers
        with usage created since the last run plus those whose windows or
        thresholds were crossed by the passage of time since then; both
        modes give the same result. Until a run over all readers has ended,
        runs are the baseline: they record no history and schedule no
        follow-up; baseline=True makes this run one too (an upgrade that
        changes the rules). Readers given by partner_ids are placed in their
        tier against the cutoffs of the last full run; mailing lists follow
        the segments after runs over all readers only. Returns the number of
        readers processed, or None when another recompute holds the lock.
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
        record = bool(last_run) and not baseline
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
        # How tiers are set: ranked in the query over all readers, against
        # the stored cutoffs for readers given, or kept until the ranking
        # after a run by batches.
        tiers = "rank" if batches == [None] else "cutoffs" if partner_ids is not None else "keep"
        for batch in batches:
            changes = self._recompute_batch(batch, now, settings, record, tiers=tiers)
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
        if tiers == "keep":
            # Ranks need every reader: a run by batches ranks afterwards.
            self._apply_followups(self._recompute_tiers(now, settings, record))
        if partner_ids is None:
            self._store_cutoffs()
            self.env["mailing.list"]._library_sync_segment_lists()
            # A partial run leaves the others' time-driven changes pending.
            params.set_param("library_crm.segmentation_last_run", fields.Datetime.to_string(now))
            params.set_param(
                "library_crm.segmentation_usage_watermark", fields.Datetime.to_string(watermark)
            )
        self.env.invalidate_all()
        return len(ids)

    @api.model
    def _recompute_readers(self, partner_ids, now=None):
        """After an event of a few readers (a survey answer, a rating, a
        librarian's button): their metrics, loyalty, value, stage and tier,
        the tier against the cutoffs of the last full run. Touches no other
        reader, ranks nobody and leaves the mailing lists to the nightly
        run, so its cost does not grow with the number of readers."""
        if not partner_ids:
            return 0
        return self._recompute(full=False, partner_ids=list(partner_ids), now=now)

    @api.model
    def _cron_recompute(self):
        self._recompute(full=False, commit=True)

    @api.model
    def _store_cutoffs(self):
        """Per reader category, the lowest value score of a ranked (not
        pinned) core and important reader: what a single-reader event is
        compared with until the next full run."""
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(p.reader_category, ''),
                       min(m.value_score) FILTER (WHERE m.value_tier = 'core'),
                       min(m.value_score) FILTER (WHERE m.value_tier IN ('core', 'important'))
                  FROM res_partner p JOIN library_reader_metrics m ON m.partner_id = p.id
                 WHERE p.is_reader AND NOT COALESCE(p.core_reader_pinned, FALSE)
                   AND m.reader_segment NOT IN %s
                 GROUP BY 1
                """,
                INACTIVE_STAGES,
            )
        )
        cutoffs = {
            category: {"core": core, "important": important}
            for category, core, important in self.env.cr.fetchall()
        }
        self.env["ir.config_parameter"].sudo().set_param(
            CUTOFFS_PARAM, json.dumps(cutoffs, sort_keys=True)
        )

    @api.model
    def _cutoffs(self):
        raw = self.env["ir.config_parameter"].sudo().get_param(CUTOFFS_PARAM)
        try:
            cutoffs = json.loads(raw) if raw else {}
        except ValueError:
            cutoffs = {}
        return cutoffs if isinstance(cutoffs, dict) else {}

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
                   AND (m.reader_segment IS NULL OR m.value_tier IS NULL OR m.needs_recompute
                        OR %(last_crossed)s OR %(first_crossed)s
                        -- satisfaction changed since loyalty was computed
                        OR m.loyalty_satisfaction IS DISTINCT FROM
                           CASE WHEN p.satisfaction_score > 0
                                THEN round(least(p.satisfaction_score, 5) * 2)::int
                                ELSE 5 END)
                UNION
                -- research support given, changed or leaving the window
                SELECT r.partner_id FROM library_liaison_deliverable_recipient_rel r
                  JOIN library_liaison_deliverable d ON d.id = r.deliverable_id
                 WHERE d.write_date >= %(last_run)s
                    OR (d.date >= %(deliverable_before)s AND d.date < %(deliverable_after)s)
                UNION
                SELECT pr.principal_investigator_id FROM library_research_project pr
                 WHERE pr.write_date >= %(last_run)s
                UNION
                SELECT rel.partner_id FROM library_research_project_member_rel rel
                  JOIN library_research_project pr ON pr.id = rel.project_id
                 WHERE pr.write_date >= %(last_run)s
                ORDER BY 1
                """,
                last_run=last_run,
                deliverable_before=(last_run - timedelta(days=365)).date(),
                deliverable_after=(now - timedelta(days=365)).date(),
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
    def _metrics_query(self, partner_ids, now, settings, tiers="rank"):
        """Per-reader metrics, loyalty, value, stage and tier as one SQL
        query. tiers: "rank" ranks every reader (partner_ids None), "cutoffs"
        compares each reader with the stored cutoffs, "keep" leaves the tier
        (NULL) to a ranking afterwards."""
        start_12 = now - timedelta(days=365)
        start_6 = now - timedelta(days=182)
        start_months = months_start(now)
        today = now.date()
        use = SQL("u.kind <> %s", ATTENTION_KIND)
        return SQL(
            """
            WITH target AS (
                SELECT p.id, p.satisfaction_score, p.core_reader_pinned,
                       m.reader_segment AS old_segment,
                       COALESCE(m.is_core_reader, FALSE) AS old_core,
                       m.value_tier AS old_tier,
                       p.reader_category, p.library_department_id
                  FROM res_partner p JOIN library_reader_metrics m ON m.partner_id = p.id
                 WHERE %(partners)s
            ), agg AS (
                SELECT u.partner_id,
                       min(u.occurred_at) FILTER (WHERE %(use)s)::date AS first_date,
                       max(u.occurred_at) FILTER (WHERE %(use)s)::date AS last_date,
                       count(*) FILTER (WHERE %(use)s AND u.occurred_at >= %(start_12)s)
                           AS count_12,
                       coalesce(sum(u.quantity) FILTER (
                           WHERE u.kind = 'loan' AND u.occurred_at >= %(start_12)s), 0)
                           AS loans_12,
                       -- Distinct months and kinds as bit sets: no sort per reader.
                       bit_count(bit_or(1::bigint << (
                           (extract(year FROM u.occurred_at) * 12
                            + extract(month FROM u.occurred_at))::int - %(base_month)s
                       )) FILTER (WHERE %(use)s AND u.occurred_at >= %(start_months)s)::bit(64))
                           AS months_12,
                       bit_count(bit_or(1::bigint << array_position(%(kinds)s, u.kind::text))
                           FILTER (WHERE %(use)s AND u.occurred_at >= %(start_12)s)::bit(64))
                           AS breadth,
                       count(*) FILTER (WHERE %(use)s AND u.occurred_at >= %(start_6)s)
                           AS recent_6,
                       count(*) FILTER (
                           WHERE %(use)s AND u.occurred_at >= %(start_12)s
                             AND u.occurred_at < %(start_6)s
                       ) AS previous_6,
                       count(*) FILTER (WHERE u.kind IN ('training', 'event')
                                        AND u.occurred_at >= %(start_12)s) AS participation,
                       coalesce(sum(u.quantity) FILTER (
                           WHERE u.kind IN %(depth_kinds)s AND u.occurred_at >= %(start_12)s), 0)
                       + 2 * count(*) FILTER (
                           WHERE u.kind = 'consultation' AND u.occurred_at >= %(start_12)s)
                           AS depth_12,
                       coalesce(sum(u.quantity) FILTER (
                           WHERE u.kind = 'visit' AND u.occurred_at >= %(start_12)s), 0)
                           AS visits_12,
                       count(*) FILTER (WHERE u.kind = %(attention_kind)s
                                        AND u.occurred_at >= %(start_12)s) AS clicks_12
                  FROM library_usage u
                 WHERE %(usage_partners)s AND u.occurred_at <= %(now)s
                 GROUP BY u.partner_id
            ), research AS (
                -- Research support received: deliverables of the last 12
                -- months and research projects the library follows.
                SELECT support.partner_id, count(*) AS research_12 FROM (
                    SELECT r.partner_id
                      FROM library_liaison_deliverable_recipient_rel r
                      JOIN library_liaison_deliverable d ON d.id = r.deliverable_id
                     WHERE d.date >= %(start_12_date)s AND d.date <= %(today)s
                       AND %(research_partners)s
                    UNION ALL
                    SELECT people.partner_id FROM (
                        SELECT pr.id, pr.principal_investigator_id AS partner_id
                          FROM library_research_project pr
                         WHERE pr.stage IN ('approved', 'ongoing')
                        UNION
                        SELECT pr.id, rel.partner_id
                          FROM library_research_project pr
                          JOIN library_research_project_member_rel rel ON rel.project_id = pr.id
                         WHERE pr.stage IN ('approved', 'ongoing')
                    ) people
                     WHERE %(people_partners)s
                ) support
                 GROUP BY support.partner_id
            ), metrics AS (
                SELECT t.id, t.old_segment, t.old_core, t.old_tier, t.core_reader_pinned,
                       t.reader_category, t.library_department_id,
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
                            ELSE 5 END AS l_satisfaction,
                       least(coalesce(a.depth_12, 0) * %(w_depth)s, %(cap_depth)s)::int
                           AS v_depth,
                       least(coalesce(r.research_12, 0) * %(w_research)s, %(cap_research)s)::int
                           AS v_research,
                       least(coalesce(a.participation, 0) * %(w_participation)s,
                             %(cap_participation)s)::int AS v_participation,
                       least(coalesce(a.visits_12, 0) / %(visits_per_point)s,
                             %(cap_visits)s)::int AS v_visits,
                       least(coalesce(a.clicks_12, 0) * %(w_attention)s, %(cap_attention)s)::int
                           AS v_attention
                  FROM target t
                  LEFT JOIN agg a ON a.partner_id = t.id
                  LEFT JOIN research r ON r.partner_id = t.id
            ), scored AS (
            SELECT m.*,
                   m.l_frequency + m.l_regularity + m.l_recency + m.l_breadth
                       + m.l_satisfaction AS loyalty,
                   m.v_depth + m.v_research + m.v_participation + m.v_visits + m.v_attention
                       AS value,
                   CASE WHEN m.last_date IS NULL THEN 'never_active'
                        WHEN m.idle_days > %(lapsed_days)s THEN 'lapsed'
                        WHEN m.tenure_days < %(new_days)s THEN 'new'
                        WHEN m.tenure_days >= %(long_term_days)s
                             AND m.months_12 >= %(long_term_months)s THEN 'long_term'
                        WHEN (m.months_12 >= 2
                              AND m.recent_6 * 100 >= m.previous_6 * (100 + %(growth_percent)s)
                              AND m.recent_6 > m.previous_6)
                          OR (m.months_12 >= %(growing_months)s
                              AND m.tenure_days < %(long_term_days)s) THEN 'growing'
                        ELSE 'short_term' END AS segment
              FROM metrics m
            )
            SELECT s.*, %(tier)s AS tier FROM scored s
            """,
            tier=self._tier_expression(
                tiers,
                pinned="s.core_reader_pinned",
                segment="s.segment",
                value="s.value",
                category="s.reader_category",
                old_tier="s.old_tier",
                settings=settings,
            ),
            use=use,
            partners=self._partners_clause("p.id", partner_ids),
            usage_partners=self._partners_clause("u.partner_id", partner_ids),
            research_partners=self._partners_clause("r.partner_id", partner_ids),
            people_partners=self._partners_clause("people.partner_id", partner_ids),
            now=now,
            today=today,
            base_month=start_months.year * 12 + start_months.month,
            start_months=start_months,
            kinds=[code for code, _label in USAGE_KINDS],
            depth_kinds=DEPTH_KINDS,
            attention_kind=ATTENTION_KIND,
            start_12=start_12,
            start_12_date=start_12.date(),
            start_6=start_6,
            lapsed_days=settings["lapsed_days"],
            new_days=settings["new_days"],
            long_term_days=settings["long_term_days"],
            long_term_months=settings["long_term_months"],
            growing_months=settings["growing_months"],
            growth_percent=settings["growth_percent"],
            w_depth=settings["value_depth_points"],
            w_research=settings["value_research_points"],
            w_participation=settings["value_participation_points"],
            visits_per_point=settings["value_visits_per_point"],
            w_attention=settings["value_attention_points"],
            cap_depth=VALUE_CAPS["depth"],
            cap_research=VALUE_CAPS["research"],
            cap_participation=VALUE_CAPS["participation"],
            cap_visits=VALUE_CAPS["visits"],
            cap_attention=VALUE_CAPS["attention"],
        )

    @api.model
    def _tier_expression(self, tiers, pinned, segment, value, category, old_tier, settings):
        """The value tier. "rank": core when pinned, or among the top N% by
        value within the reader category among active readers (a window over
        all of them), important among the next M%; "cutoffs": the same
        against the cutoffs stored by the last full run (the old tier while
        the category has none); "keep": NULL (ranked afterwards)."""
        if tiers == "keep":
            return SQL("NULL::varchar")
        active = SQL("(%s NOT IN %s AND %s > 0)", SQL(segment), INACTIVE_STAGES, SQL(value))
        core_share = settings["core_percent"] / 100.0
        important_share = core_share + settings["important_percent"] / 100.0
        if tiers == "rank":
            rank = SQL(
                "percent_rank() OVER (PARTITION BY %s, %s ORDER BY %s DESC)",
                SQL(category),
                active,
                SQL(value),
            )
            return SQL(
                """CASE WHEN COALESCE(%(pinned)s, FALSE) THEN 'core'
                        WHEN NOT %(active)s THEN 'ordinary'
                        WHEN %(rank)s < %(core_share)s THEN 'core'
                        WHEN %(rank)s < %(important_share)s THEN 'important'
                        ELSE 'ordinary' END""",
                pinned=SQL(pinned),
                active=active,
                rank=rank,
                core_share=core_share,
                important_share=important_share,
            )
        cutoff = SQL("(%s::jsonb -> COALESCE(%s, ''))", json.dumps(self._cutoffs()), SQL(category))
        return SQL(
            """CASE WHEN COALESCE(%(pinned)s, FALSE) THEN 'core'
                    WHEN NOT %(active)s THEN 'ordinary'
                    WHEN %(cutoff)s IS NULL THEN COALESCE(%(old_tier)s, 'ordinary')
                    WHEN %(value)s >= (%(cutoff)s ->> 'core')::int THEN 'core'
                    WHEN %(value)s >= (%(cutoff)s ->> 'important')::int THEN 'important'
                    ELSE 'ordinary' END""",
            pinned=SQL(pinned),
            active=active,
            cutoff=cutoff,
            old_tier=SQL(old_tier),
            value=SQL(value),
        )

    @api.model
    def _tune_session(self):
        """Until the end of the transaction: no JIT compilation. For this
        aggregate, compiled once and run once, PostgreSQL's JIT spends more
        time compiling than it saves (about 1 s of 5 at 5M usage rows)."""
        self.env.cr.execute(SQL("SET LOCAL jit = off"))

    @api.model
    def _recompute_batch(self, partner_ids, now, settings, record=True, tiers=None):
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
                self._metrics_query(
                    partner_ids,
                    now,
                    settings,
                    tiers or ("rank" if partner_ids is None else "cutoffs"),
                ),
            )
        )
        cr.execute(SQL("UPDATE library_segment_calc SET tier = old_tier WHERE tier IS NULL"))
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
                           value_score = c.value,
                           value_depth = c.v_depth,
                           value_research = c.v_research,
                           value_participation = c.v_participation,
                           value_visits = c.v_visits,
                           value_attention = c.v_attention,
                           value_tier = c.tier,
                           is_core_reader = COALESCE(c.tier = 'core', m.is_core_reader),
                           needs_recompute = NULL
                      FROM library_segment_calc c
                     WHERE m.partner_id = c.id
                       AND (m.needs_recompute
                            OR (m.usage_first_date, m.last_activity_date, m.usage_count_12m,
                                m.loan_count_12m, m.active_months_12m, m.usage_breadth,
                                m.usage_recent_6m, m.usage_previous_6m, m.participation_count,
                                m.loyalty_score, m.loyalty_recency, m.loyalty_satisfaction,
                                m.reader_segment, m.value_score, m.value_depth, m.value_research,
                                m.value_participation, m.value_visits, m.value_attention,
                                m.value_tier)
                               IS DISTINCT FROM
                               (c.first_date, c.last_date, c.count_12, c.loans_12, c.months_12,
                                c.breadth, c.recent_6, c.previous_6, c.participation, c.loyalty,
                                c.l_recency, c.l_satisfaction, c.segment, c.value, c.v_depth,
                                c.v_research, c.v_participation, c.v_visits, c.v_attention,
                                c.tier))
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
                SELECT c.id, %(today)s, 'core', c.segment, c.segment, c.tier = 'core',
                       c.reader_category, c.library_department_id
                  FROM library_segment_calc c
                 WHERE %(record)s AND c.tier IS NOT NULL
                   AND (c.tier = 'core') IS DISTINCT FROM c.old_core
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
    def _recompute_tiers(self, now, settings, record=True):
        """Value tiers ranked over all readers, after a run by batches; one
        statement; records the core changes when record."""
        self.env.cr.execute(
            SQL(
                """
                WITH ranked AS (
                    SELECT p.id, p.reader_category, p.library_department_id, m.reader_segment,
                           COALESCE(m.is_core_reader, FALSE) AS old_core, %(tier)s AS tier
                      FROM res_partner p JOIN library_reader_metrics m ON m.partner_id = p.id
                     WHERE p.is_reader
                ), upd AS (
                    UPDATE library_reader_metrics m
                       SET value_tier = r.tier, is_core_reader = r.tier = 'core'
                      FROM ranked r
                     WHERE m.partner_id = r.id AND m.value_tier IS DISTINCT FROM r.tier
                    RETURNING r.id, r.tier = 'core' AS core, r.old_core,
                              r.reader_category, r.library_department_id, r.reader_segment
                )
                INSERT INTO library_segment_history
                       (partner_id, date, change, from_segment, to_segment, became_core,
                        reader_category, department_id)
                SELECT id, %(today)s, 'core', reader_segment, reader_segment, core,
                       reader_category, library_department_id
                  FROM upd
                 WHERE %(record)s AND core IS DISTINCT FROM old_core
                RETURNING partner_id, became_core
                """,
                tier=self._tier_expression(
                    "rank",
                    pinned="p.core_reader_pinned",
                    segment="m.reader_segment",
                    value="m.value_score",
                    category="p.reader_category",
                    old_tier="m.value_tier",
                    settings=settings,
                ),
                today=now.date(),
                record=record,
            )
        )
        return [("core", partner_id, None, core) for partner_id, core in self.env.cr.fetchall()]

    # ------------------------------------------------------------------
    # Explanation and conversion
    # ------------------------------------------------------------------

    @api.model
    def _explain(self, partners):
        """{partner id: (why this stage, why this tier)}, in plain words from
        the reader's own figures and the settings."""
        settings = self._settings()
        cutoffs = self._cutoffs()
        categories = dict(
            self.env["res.partner"]._fields["reader_category"]._description_selection(self.env)
        )
        today = fields.Date.context_today(self)
        result = {}
        for partner in partners.sudo():
            metrics = partner.library_metrics_id
            if not partner.is_reader or not metrics:
                result[partner.id] = (False, False)
                continue
            stage = metrics.reader_segment
            first, last = metrics.usage_first_date, metrics.last_activity_date
            months = metrics.active_months_12m
            tenure = (today - first).days if first else 0
            if stage == "never_active" or not last:
                why = self.env._(
                    "No use recorded yet (clicks on new-title alerts are attention, not use)."
                )
            elif stage == "lapsed":
                why = self.env._(
                    "Last use on %(date)s, %(days)s days ago: more than %(limit)s days "
                    "without use.",
                    date=last,
                    days=(today - last).days,
                    limit=settings["lapsed_days"],
                )
            elif stage == "new":
                why = self.env._(
                    "First use on %(date)s, %(days)s days ago: less than %(limit)s days.",
                    date=first,
                    days=tenure,
                    limit=settings["new_days"],
                )
            elif stage == "long_term":
                why = self.env._(
                    "Sustained regular use: active in %(months)s of the last 12 months (at least "
                    "%(min)s) since %(date)s, %(days)s days (at least %(limit)s).",
                    months=months,
                    min=settings["long_term_months"],
                    date=first,
                    days=tenure,
                    limit=settings["long_term_days"],
                )
            elif (
                stage == "growing"
                and metrics.usage_recent_6m > metrics.usage_previous_6m
                and (
                    metrics.usage_recent_6m * 100
                    >= metrics.usage_previous_6m * (100 + settings["growth_percent"])
                )
            ):
                why = self.env._(
                    "Rising use: %(recent)s uses in the last 6 months against %(previous)s in "
                    "the 6 before (at least %(growth)s%% more).",
                    recent=metrics.usage_recent_6m,
                    previous=metrics.usage_previous_6m,
                    growth=settings["growth_percent"],
                )
            elif stage == "growing":
                why = self.env._(
                    "Steady use while building tenure: active in %(months)s of the last 12 "
                    "months (at least %(min)s), first use %(days)s days ago (long-term from "
                    "%(limit)s days).",
                    months=months,
                    min=settings["growing_months"],
                    days=tenure,
                    limit=settings["long_term_days"],
                )
            else:
                why = self.env._(
                    "Occasional use: active in %(months)s of the last 12 months, neither rising "
                    "nor regular enough to be growing or long-term.",
                    months=months,
                )
            value = self.env._(
                "Value %(score)s of 100: depth of use %(depth)s/50, research support "
                "%(research)s/20, participation %(participation)s/15, gate entries %(visits)s/10, "
                "attention to alerts %(attention)s/5.",
                score=metrics.value_score,
                depth=metrics.value_depth,
                research=metrics.value_research,
                participation=metrics.value_participation,
                visits=metrics.value_visits,
                attention=metrics.value_attention,
            )
            cut = cutoffs.get(partner.reader_category or "") or {}
            category = categories.get(
                partner.reader_category, self.env._("readers without category")
            )
            if partner.core_reader_pinned:
                tier = self.env._("Pinned as a core reader by a librarian.")
            elif stage in INACTIVE_STAGES or not metrics.value_score:
                tier = self.env._("Only active readers with some value are ranked: ordinary.")
            else:
                tier = self.env._(
                    "Ranked among active readers of the category %(category)s: core from "
                    "%(core)s points (top %(core_share)s%%), important from %(important)s "
                    "points (next %(important_share)s%%).",
                    category=category,
                    core=cut.get("core") if cut.get("core") is not None else "-",
                    core_share=settings["core_percent"],
                    important=cut.get("important") if cut.get("important") is not None else "-",
                    important_share=settings["important_percent"],
                )
            result[partner.id] = (why, f"{value}\n{tier}")
        return result

    @api.model
    def _conversion(self, date_from, date_to, groupby=None, partner_ids=None):
        """Cohort conversion: of the readers growing on date_from, how many
        are long-term on date_to, whatever path they took. groupby: None,
        "department", "category" or "enrollment_year". Returns a list of
        (group value, cohort, converted, share in %), largest cohort first;
        readers of the caller's companies (of partner_ids when given)."""
        group = {
            None: SQL("NULL::int"),
            "department": SQL("p.library_department_id"),
            "category": SQL("p.reader_category"),
            "enrollment_year": SQL("p.enrollment_year"),
        }[groupby]
        self.env["library.segment.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH readers AS (
                    SELECT p.id, %(group)s AS grp, m.reader_segment AS current
                      FROM res_partner p JOIN library_reader_metrics m ON m.partner_id = p.id
                     WHERE p.is_reader
                       AND (p.company_id IS NULL OR p.company_id = ANY(%(companies)s))
                       AND %(partners)s
                ), stages AS (
                    SELECT r.grp,
                           %(at_start)s AS start_stage,
                           %(at_end)s AS end_stage
                      FROM readers r
                )
                SELECT grp, count(*) AS cohort,
                       count(*) FILTER (WHERE end_stage = 'long_term') AS converted
                  FROM stages
                 WHERE start_stage = 'growing'
                 GROUP BY grp
                 ORDER BY 2 DESC, 1
                """,
                group=group,
                companies=self.env.companies.ids,
                partners=self._partners_clause("p.id", partner_ids),
                at_start=self._stage_at(date_from),
                at_end=self._stage_at(date_to),
            )
        )
        return [
            (grp, cohort, converted, 100.0 * converted / cohort if cohort else 0.0)
            for grp, cohort, converted in self.env.cr.fetchall()
        ]

    @api.model
    def _stage_at(self, day):
        """SQL: the stage of reader r (r.id, r.current) at the end of day:
        the last change recorded on or before it, else where the first later
        change started from, else the current stage."""
        return SQL(
            """COALESCE(
                (SELECT h.to_segment FROM library_segment_history h
                  WHERE h.partner_id = r.id AND h.change = 'segment' AND h.date <= %(day)s
                  ORDER BY h.date DESC, h.id DESC LIMIT 1),
                (SELECT h.from_segment FROM library_segment_history h
                  WHERE h.partner_id = r.id AND h.change = 'segment' AND h.date > %(day)s
                  ORDER BY h.date, h.id LIMIT 1),
                r.current)""",
            day=day,
        )

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
