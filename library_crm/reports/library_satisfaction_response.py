# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from .library_satisfaction_view_mixin import SCORED_LINE_CONDITION

NPS_CLASSES = [
    ("promoter", "Promoter (9-10)"),
    ("passive", "Passive (7-8)"),
    ("detractor", "Detractor (0-6)"),
]


class LibrarySatisfactionResponse(models.Model):
    """One completed survey response with its library figures. NPS is the
    average of nps_value: +100 for a promoter, 0 for a passive, -100 for a
    detractor, which is the share of promoters minus the share of
    detractors. The satisfaction rate of a group of responses is the share
    of their scored answers at 4 or 5: each answer weighs the same, as in
    the answer analysis and the annual statistics."""

    _name = "library.satisfaction.response"
    _inherit = "library.satisfaction.view.mixin"
    _description = "Satisfaction Response"
    _auto = False

    nps_score = fields.Integer(string="Recommendation (0-10)", readonly=True, aggregator="avg")
    nps_class = fields.Selection(NPS_CLASSES, string="NPS Group", readonly=True)
    nps_value = fields.Float(string="NPS", readonly=True, aggregator="avg")
    overall_score = fields.Float(string="Overall (1-5)", readonly=True, aggregator="avg")
    dimension_score = fields.Float(string="Dimensions (1-5)", readonly=True, aggregator="avg")
    lowest_score = fields.Integer(string="Lowest Dimension Score", readonly=True, aggregator="min")
    scored_answers = fields.Integer(readonly=True)
    satisfied_answers = fields.Integer(readonly=True, help="Scored answers at 4 or 5 (of 5).")
    satisfaction_rate = fields.Float(
        string="Satisfaction Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the scored answers at 4 or 5 (of 5).",
    )
    comment = fields.Text(readonly=True)
    is_unhappy = fields.Boolean(
        string="Unhappy",
        readonly=True,
        help="Recommendation of 6 or less, or a score of 2 or less.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    WITH figures AS (
                        SELECT l.user_input_id,
                               max(l.value_scale) FILTER (WHERE q.library_role = 'nps') AS nps,
                               avg(l.value_scale) FILTER (WHERE q.library_role = 'overall')
                                   AS overall,
                               avg(l.value_scale) FILTER (WHERE q.library_role = 'dimension')
                                   AS dimensions,
                               min(l.value_scale) FILTER (WHERE q.library_role = 'dimension')
                                   AS lowest,
                               count(*) FILTER (WHERE %(scored)s) AS scored,
                               count(*) FILTER (WHERE %(scored)s AND l.value_scale >= 4)
                                   AS satisfied,
                               string_agg(COALESCE(l.value_text_box, l.value_char_box), E'\\n')
                                   FILTER (WHERE q.library_role = 'comment') AS comment
                          FROM survey_user_input_line l
                          JOIN survey_question q ON q.id = l.question_id
                         WHERE q.library_role IS NOT NULL AND NOT COALESCE(l.skipped, FALSE)
                         GROUP BY l.user_input_id
                    )
                    SELECT ui.id, ui.id AS user_input_id, ui.survey_id, ui.partner_id,
                           p.library_department_id AS department_id, p.reader_category,
                           rm.reader_segment, COALESCE(ui.end_datetime, ui.create_date) AS date,
                           f.nps AS nps_score,
                           CASE WHEN f.nps >= 9 THEN 'promoter' WHEN f.nps >= 7 THEN 'passive'
                                WHEN f.nps IS NOT NULL THEN 'detractor' END AS nps_class,
                           CASE WHEN f.nps >= 9 THEN 100.0 WHEN f.nps >= 7 THEN 0.0
                                WHEN f.nps IS NOT NULL THEN -100.0 END AS nps_value,
                           f.overall AS overall_score, f.dimensions AS dimension_score,
                           f.lowest AS lowest_score, f.comment,
                           f.scored AS scored_answers, f.satisfied AS satisfied_answers,
                           100.0 * f.satisfied / NULLIF(f.scored, 0) AS satisfaction_rate,
                           COALESCE(f.nps <= 6 OR f.lowest <= 2 OR f.overall <= 2, FALSE)
                               AS is_unhappy,
                           p.company_id
                      FROM survey_user_input ui
                      JOIN figures f ON f.user_input_id = ui.id
                      LEFT JOIN res_partner p ON p.id = ui.partner_id
                      LEFT JOIN library_reader_metrics rm ON rm.partner_id = p.id
                     WHERE ui.state = 'done' AND NOT COALESCE(ui.test_entry, FALSE)
                )
                """,
                table=SQL.identifier(self._table),
                scored=SCORED_LINE_CONDITION,
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """The rate of a group is its satisfied answers over its scored
        answers, not the average of the responses' rates."""
        if aggregate_spec != "satisfaction_rate:avg":
            return super()._read_group_select(aggregate_spec, query)
        return SQL(
            "100.0 * SUM(%(satisfied)s) / NULLIF(SUM(%(scored)s), 0)",
            satisfied=self._field_to_sql(self._table, "satisfied_answers", query),
            scored=self._field_to_sql(self._table, "scored_answers", query),
        )

    def action_open_response(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "survey.user_input",
            "res_id": self.user_input_id.id,
            "view_mode": "form",
        }
