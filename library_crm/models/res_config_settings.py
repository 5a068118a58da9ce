# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .library_department import DEFAULT_MAX_DEPARTMENTS_PER_LIAISON


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    library_max_departments_per_liaison = fields.Integer(
        string="Departments per Liaison Librarian",
        config_parameter="library_crm.max_departments_per_liaison",
        default=DEFAULT_MAX_DEPARTMENTS_PER_LIAISON,
        help="How many departments one librarian may be liaison for.",
    )

    library_new_days = fields.Integer(
        string="New Reader Period (days)", config_parameter="library_crm.new_days", default=90
    )
    library_lapsed_days = fields.Integer(
        string="Lapsed after (days)", config_parameter="library_crm.lapsed_days", default=180
    )
    library_long_term_days = fields.Integer(
        string="Long-term after (days)", config_parameter="library_crm.long_term_days", default=730
    )
    library_long_term_months = fields.Integer(
        string="Long-term: Active Months of 12",
        config_parameter="library_crm.long_term_months",
        default=6,
    )
    library_growth_percent = fields.Integer(
        string="Growing: Growth (%)", config_parameter="library_crm.growth_percent", default=20
    )
    library_core_percent = fields.Integer(
        string="Core Readers: Top (%)", config_parameter="library_crm.core_percent", default=10
    )
    library_retention_years = fields.Integer(
        string="Usage Retention (years)", config_parameter="library_crm.retention_years", default=3
    )

    library_points_suggestion_adopted = fields.Integer(
        string="Points per Adopted Suggestion",
        config_parameter="library_crm.points_suggestion_adopted",
        default=10,
    )

    library_points_survey_answered = fields.Integer(
        string="Points per Survey Answered",
        config_parameter="library_crm.points_survey_answered",
        default=5,
    )
    library_satisfaction_survey_weight = fields.Integer(
        string="Weight of Surveys in Satisfaction (%)",
        config_parameter="library_crm.satisfaction_survey_weight",
        default=70,
        help="The rest is the average rating readers give to the handling of their suggestions.",
    )

    library_journey_cap_days = fields.Integer(
        string="Days Between Journey Messages",
        config_parameter="library_crm.journey_cap_days",
        default=7,
        help="No reader gets more than one journey message in this many days.",
    )

    @api.constrains(
        "library_points_suggestion_adopted",
        "library_points_survey_answered",
        "library_satisfaction_survey_weight",
    )
    def _check_library_points(self):
        for settings in self:
            if (
                min(
                    settings.library_points_suggestion_adopted,
                    settings.library_points_survey_answered,
                )
                < 0
            ):
                raise ValidationError(self.env._("Points cannot be negative."))
            if not 0 <= settings.library_satisfaction_survey_weight <= 100:
                raise ValidationError(self.env._("The weight of surveys is between 0 and 100%."))

    @api.constrains(
        "library_new_days",
        "library_lapsed_days",
        "library_long_term_days",
        "library_long_term_months",
        "library_core_percent",
        "library_retention_years",
    )
    def _check_segmentation_settings(self):
        for settings in self:
            if (
                min(
                    settings.library_new_days,
                    settings.library_lapsed_days,
                    settings.library_long_term_days,
                    settings.library_retention_years,
                )
                < 1
                or not 1 <= settings.library_long_term_months <= 12
                or not 0 <= settings.library_core_percent <= 100
                or settings.library_growth_percent < 0
            ):
                raise ValidationError(
                    self.env._(
                        "Segmentation settings: periods are at least one day or year, "
                        "active months between 1 and 12, percentages between 0 and 100."
                    )
                )

    @api.constrains("library_max_departments_per_liaison")
    def _check_library_max_departments_per_liaison(self):
        for settings in self:
            if settings.library_max_departments_per_liaison < 1:
                raise ValidationError(
                    self.env._("A liaison librarian must be allowed at least one department.")
                )
