# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from ..models.library_segment_history import READER_SEGMENTS
from ..models.res_partner import READER_CATEGORIES

# A scored answer (1-5): a line ``l`` of a completed, real response ``ui`` to
# a dimension or overall question ``q``. The satisfaction views and the
# annual statistics count the same answers.
SCORED_ANSWER_CONDITION = SQL(
    """ui.state = 'done' AND NOT COALESCE(ui.test_entry, FALSE)
       AND l.answer_type = 'scale'
       AND NOT COALESCE(l.skipped, FALSE)
       AND q.library_role IN ('dimension', 'overall')"""
)
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
