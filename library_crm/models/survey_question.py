# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

LIBRARY_ROLES = [
    ("dimension", "Dimension Score"),
    ("expectation", "Dimension Expectation"),
    ("overall", "Overall Satisfaction"),
    ("nps", "Recommendation (NPS)"),
    ("comment", "Open Comment"),
]


class SurveyQuestion(models.Model):
    """What a question measures for the library's satisfaction figures."""

    _inherit = "survey.question"

    library_role = fields.Selection(
        LIBRARY_ROLES,
        string="Library Satisfaction",
        help="Dimension and overall scores are 1-5 scales; the recommendation is a 0-10 "
        "scale (NPS); the open comment is a text box. A dimension expectation (1-5) is what "
        "the reader expects of a dimension: it is not a satisfaction score, the quality gap "
        "of the dimension is its score minus the expectation.",
    )
    library_dimension_id = fields.Many2one(
        "library.satisfaction.dimension", string="Dimension", index="btree_not_null"
    )

    @api.constrains(
        "library_role", "library_dimension_id", "question_type", "scale_min", "scale_max"
    )
    def _check_library_role(self):
        for question in self.filtered("library_role"):
            role = question.library_role
            if role in ("dimension", "expectation") and not question.library_dimension_id:
                raise ValidationError(self.env._("Choose the dimension the question measures."))
            if role in ("dimension", "expectation", "overall") and (
                question.question_type != "scale"
                or (question.scale_min, question.scale_max) != (1, 5)
            ):
                raise ValidationError(
                    self.env._(
                        "Dimension scores, expectations and overall scores are scales from 1 to 5."
                    )
                )
            if role == "nps" and (
                question.question_type != "scale"
                or (question.scale_min, question.scale_max) != (0, 10)
            ):
                raise ValidationError(self.env._("The recommendation question is a 0-10 scale."))
            if role == "comment" and question.question_type not in ("text_box", "char_box"):
                raise ValidationError(self.env._("The open comment is a text question."))
