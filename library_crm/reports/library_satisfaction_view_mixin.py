# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from ..models.library_segment_history import READER_SEGMENTS
from ..models.res_partner import READER_CATEGORIES

# A scored line (1-5): an answered line ``l`` of a dimension or overall
# question ``q``. Expectation questions are not scored: they are what the
# experience is compared with, not a satisfaction.
SCORED_LINE_CONDITION = SQL(
    """l.answer_type = 'scale'
       AND NOT COALESCE(l.skipped, FALSE)
       AND q.library_role IN ('dimension', 'overall')"""
)
# An expectation (1-5, 期望): an answered line ``l`` of an expectation
# question ``q`` of a dimension. The quality gap of a dimension is the score
# (the experience, 感知) minus the same response's expectation.
EXPECTATION_LINE_CONDITION = SQL(
    """l.answer_type = 'scale'
       AND NOT COALESCE(l.skipped, FALSE)
       AND q.library_role = 'expectation'"""
)
# A scored answer (1-5): a scored line of a completed, real response ``ui``.
# The satisfaction views and the annual statistics count the same answers.
SCORED_ANSWER_CONDITION = SQL(
    "ui.state = 'done' AND NOT COALESCE(ui.test_entry, FALSE) AND %s", SCORED_LINE_CONDITION
)
# 满意率 (satisfaction rate): a scored answer of 4 or 5 (of 5) counts 100,
# any other 0, so that the average over any set of scored answers is the
# share of satisfied answers in %.
SATISFIED_VALUE = SQL("CASE WHEN l.value_scale >= 4 THEN 100.0 ELSE 0.0 END")
# The survey fields those answers are read from.
SURVEY_ANSWER_DEPENDS = {
    "survey.user_input": ["state", "end_datetime", "partner_id", "survey_id", "test_entry"],
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
}


class LibrarySatisfactionViewMixin(models.AbstractModel):
    """What the satisfaction SQL views share: the response, the reader with
    their current department, category and segment, the date; and the
    fields the views read, flushed before they are queried."""

    _name = "library.satisfaction.view.mixin"
    _description = "Satisfaction View Fields"
    _order = "date desc"
    _depends = {
        **SURVEY_ANSWER_DEPENDS,
        "res.partner": ["library_department_id", "reader_category", "company_id"],
        "library.reader.metrics": ["partner_id", "reader_segment"],
    }

    user_input_id = fields.Many2one("survey.user_input", string="Response", readonly=True)
    survey_id = fields.Many2one("survey.survey", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Reader", readonly=True)
    department_id = fields.Many2one("library.department", readonly=True)
    reader_category = fields.Selection(READER_CATEGORIES, readonly=True)
    reader_segment = fields.Selection(READER_SEGMENTS, readonly=True)
    date = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", string="Reader's Company", readonly=True)
