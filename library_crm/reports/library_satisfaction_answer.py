# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.survey_question import LIBRARY_ROLES
from .library_satisfaction_view_mixin import (
    EXPECTATION_LINE_CONDITION,
    SATISFIED_VALUE,
    SCORED_ANSWER_CONDITION,
)


class LibrarySatisfactionAnswer(models.Model):
    """One scored answer (1-5) of a completed survey: satisfaction per
    dimension, department, reader category and segment. The department,
    category and segment are the reader's current ones. A dimension score
    carries the expectation the same response gave for its dimension, and
    the quality gap: the score (experience) minus the expectation, negative
    where the library falls short of what readers expect."""

    _name = "library.satisfaction.answer"
    _inherit = "library.satisfaction.view.mixin"
    _description = "Satisfaction Answer"
    _auto = False

    role = fields.Selection(LIBRARY_ROLES, readonly=True)
    dimension_id = fields.Many2one("library.satisfaction.dimension", readonly=True)
    question_id = fields.Many2one("survey.question", readonly=True)
    score = fields.Float(string="Score (1-5)", readonly=True, aggregator="avg")
    satisfied = fields.Float(
        string="Satisfaction Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the scored answers at 4 or 5 (of 5).",
    )
    expectation_score = fields.Float(
        string="Expectation (1-5)",
        readonly=True,
        aggregator="avg",
        help="What the reader expects of the dimension, in the same response.",
    )
    quality_gap = fields.Float(
        readonly=True,
        aggregator="avg",
        help="Score minus expectation: below 0, the dimension falls short of what readers expect.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    WITH expectations AS (
                        SELECT l.user_input_id, q.library_dimension_id AS dimension_id,
                               avg(l.value_scale) AS score
                          FROM survey_user_input_line l
                          JOIN survey_question q ON q.id = l.question_id
                         WHERE %(expectation)s
                         GROUP BY 1, 2
                    )
                    SELECT l.id, l.user_input_id, ui.survey_id, ui.partner_id,
                           p.library_department_id AS department_id, p.reader_category,
                           rm.reader_segment, COALESCE(ui.end_datetime, ui.create_date) AS date,
                           q.library_role AS role, q.library_dimension_id AS dimension_id,
                           l.question_id, l.value_scale::float AS score,
                           %(satisfied)s AS satisfied,
                           e.score::float AS expectation_score,
                           (l.value_scale - e.score)::float AS quality_gap,
                           p.company_id
                      FROM survey_user_input_line l
                      JOIN survey_user_input ui ON ui.id = l.user_input_id
                      JOIN survey_question q ON q.id = l.question_id
                      LEFT JOIN expectations e
                             ON e.user_input_id = l.user_input_id
                            AND e.dimension_id = q.library_dimension_id
                            AND q.library_role = 'dimension'
                      LEFT JOIN res_partner p ON p.id = ui.partner_id
                      LEFT JOIN library_reader_metrics rm ON rm.partner_id = p.id
                     WHERE %(scored)s
                )
                """,
                table=SQL.identifier(self._table),
                satisfied=SATISFIED_VALUE,
                scored=SCORED_ANSWER_CONDITION,
                expectation=EXPECTATION_LINE_CONDITION,
            )
        )
