# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reader satisfaction (0-5), rolling over the last 12 months.

satisfaction = w x survey + (1 - w) x ratings, where
- survey is the reader's average dimension and overall score (1-5) in the
  surveys completed in the last 12 months;
- ratings is the average rating (1-5) the reader gave to the handling of
  their suggestions and to the ordinary services they were asked to rate
  (front desk, consultation, training) in the last 12 months;
- w is the survey weight (Settings, default 70%); with only one source, that
  source alone; with none, 0 (unknown).
It feeds the satisfaction component of loyalty.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .res_config_settings import get_setting


class LibrarySatisfaction(models.AbstractModel):
    _name = "library.satisfaction"
    _description = "Reader Satisfaction Engine"

    @api.model
    def _survey_weight(self):
        return get_setting(self.env, "satisfaction_survey_weight") / 100.0

    @api.model
    def _recompute_scores(self, partner_ids=None, now=None):
        """Write satisfaction_score on these readers (all readers when None),
        set-based; returns the ids of the readers whose score changed."""
        now = now or fields.Datetime.now()
        since = now - timedelta(days=365)
        self.env.flush_all()
        readers = (
            SQL("p.is_reader") if partner_ids is None else SQL("p.id = ANY(%s)", list(partner_ids))
        )
        self.env.cr.execute(
            SQL(
                """
                WITH survey AS (
                    SELECT ui.partner_id, avg(l.value_scale) AS score
                      FROM survey_user_input ui
                      JOIN survey_user_input_line l ON l.user_input_id = ui.id
                      JOIN survey_question q ON q.id = l.question_id
                     WHERE ui.state = 'done' AND ui.partner_id IS NOT NULL
                       AND NOT COALESCE(ui.test_entry, FALSE)
                       AND COALESCE(ui.end_datetime, ui.create_date) >= %(since)s
                       AND q.library_role IN ('dimension', 'overall')
                       AND NOT COALESCE(l.skipped, FALSE)
                     GROUP BY ui.partner_id
                ), ratings AS (
                    SELECT r.partner_id, avg(r.rating) AS score
                      FROM rating_rating r
                     WHERE r.res_model IN ('library.suggestion', 'library.interaction')
                       AND r.consumed
                       AND r.rating > 0 AND r.partner_id IS NOT NULL
                       AND r.write_date >= %(since)s
                     GROUP BY r.partner_id
                ), target AS (
                    SELECT p.id,
                           round((CASE
                               WHEN s.score IS NOT NULL AND r.score IS NOT NULL
                                   THEN s.score * %(weight)s + r.score * (1 - %(weight)s)
                               ELSE COALESCE(s.score, r.score, 0) END)::numeric, 2) AS score
                      FROM res_partner p
                      LEFT JOIN survey s ON s.partner_id = p.id
                      LEFT JOIN ratings r ON r.partner_id = p.id
                     WHERE %(readers)s
                )
                UPDATE res_partner p SET satisfaction_score = t.score
                  FROM target t
                 WHERE p.id = t.id
                   AND round(COALESCE(p.satisfaction_score, 0)::numeric, 2) <> t.score
                RETURNING p.id
                """,
                since=since,
                weight=self._survey_weight(),
                readers=readers,
            )
        )
        changed = [row[0] for row in self.env.cr.fetchall()]
        self.env["res.partner"].invalidate_model(["satisfaction_score"])
        return changed

    @api.model
    def _update_readers(self, partners):
        """After an answer or a rating: new satisfaction, then loyalty."""
        readers = partners.filtered("is_reader")
        if readers:
            changed = self._recompute_scores(readers.ids)
            if changed:
                self.env["library.segmentation"]._recompute_readers(changed)

    @api.model
    def _cron_recompute(self):
        # The 12-month window moves every day.
        self._recompute_scores()
