# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from .library_segment_history import READER_SEGMENTS
from .res_partner import READER_CATEGORIES
from .survey_question import LIBRARY_ROLES

# What the satisfaction views read: flushed before they are queried.
SATISFACTION_VIEW_DEPENDS = {
    "survey.user_input": ["state", "end_datetime", "partner_id", "survey_id"],
    "survey.user_input.line": [
        "user_input_id",
        "question_id",
        "answer_type",
        "skipped",
        "value_scale",
        "value_text_box",
        "value_char_box",
    ],
    "survey.question": ["library_role", "library_dimension_id"],
    "res.partner": ["library_department_id", "reader_category", "reader_segment"],
}


class LibrarySatisfactionAnswer(models.Model):
    """One scored answer (1-5) of a completed survey: satisfaction per
    dimension, department, reader category and segment. The department,
    category and segment are the reader's current ones."""

    _name = "library.satisfaction.answer"
    _description = "Satisfaction Answer"
    _auto = False
    _depends = SATISFACTION_VIEW_DEPENDS
    _order = "date desc"

    user_input_id = fields.Many2one("survey.user_input", string="Response", readonly=True)
    survey_id = fields.Many2one("survey.survey", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Reader", readonly=True)
    department_id = fields.Many2one("library.department", readonly=True)
    reader_category = fields.Selection(READER_CATEGORIES, readonly=True)
    reader_segment = fields.Selection(READER_SEGMENTS, readonly=True)
    date = fields.Datetime(readonly=True)
    role = fields.Selection(LIBRARY_ROLES, readonly=True)
    dimension_id = fields.Many2one("library.satisfaction.dimension", readonly=True)
    question_id = fields.Many2one("survey.question", readonly=True)
    score = fields.Float(string="Score (1-5)", readonly=True, aggregator="avg")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %s AS (
                    SELECT l.id, l.user_input_id, ui.survey_id, ui.partner_id,
                           p.library_department_id AS department_id, p.reader_category,
                           p.reader_segment, COALESCE(ui.end_datetime, ui.create_date) AS date,
                           q.library_role AS role, q.library_dimension_id AS dimension_id,
                           l.question_id, l.value_scale::float AS score
                      FROM survey_user_input_line l
                      JOIN survey_user_input ui ON ui.id = l.user_input_id
                      JOIN survey_question q ON q.id = l.question_id
                      LEFT JOIN res_partner p ON p.id = ui.partner_id
                     WHERE ui.state = 'done' AND l.answer_type = 'scale'
                       AND NOT COALESCE(l.skipped, FALSE)
                       AND q.library_role IN ('dimension', 'overall')
                )
                """,
                SQL.identifier(self._table),
            )
        )
