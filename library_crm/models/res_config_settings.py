# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The library's settings: one place for their defaults and bounds, one
reader (get_setting), and a settings screen that stores 0 as 0.

Odoo's res.config.settings stores an Integer `config_parameter` of 0 as
"unset", so a library that set a number of points or a cap to 0 got the
default back. These settings are stored by set_values below instead."""

import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

_logger = logging.getLogger(__name__)

# key: (default, minimum, maximum); stored as ir.config_parameter library_crm.<key>
SETTINGS = {
    "max_departments_per_liaison": (2, 1, 1000),
    "new_days": (90, 1, 3650),
    "lapsed_days": (180, 1, 3650),
    "long_term_days": (365, 1, 36500),
    "long_term_months": (6, 1, 12),
    "growing_months": (3, 1, 12),
    "growth_percent": (20, 0, 10000),
    "core_percent": (10, 0, 100),
    "important_percent": (20, 0, 100),
    "value_depth_points": (2, 0, 100),
    "value_research_points": (10, 0, 100),
    "value_participation_points": (5, 0, 100),
    "value_visits_per_point": (4, 1, 1000),
    "value_attention_points": (1, 0, 100),
    "retention_years": (3, 1, 100),
    "points_suggestion_adopted": (10, 0, 100000),
    "points_survey_answered": (5, 0, 100000),
    "satisfaction_survey_weight": (70, 0, 100),
    "journey_cap_days": (7, 0, 3650),
    "alumni_card_months": (12, 0, 120),
}


def get_setting(env, key):
    """The library's value of setting `key` (an int): its default when it
    was never set or cannot be read, kept within its bounds (a value set
    by hand in the system parameters may be anything)."""
    default, low, high = SETTINGS[key]
    raw = env["ir.config_parameter"].sudo().get_param(f"library_crm.{key}")
    if raw is False or raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        _logger.warning("Setting library_crm.%s = %r is not a whole number.", key, raw)
        return default
    if not low <= value <= high:
        _logger.warning("Setting library_crm.%s = %s is out of [%s, %s].", key, value, low, high)
        return min(max(value, low), high)
    return value


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    library_max_departments_per_liaison = fields.Integer(
        string="Departments per Liaison Librarian",
        default=SETTINGS["max_departments_per_liaison"][0],
        help="How many departments one librarian may be liaison for.",
    )

    library_new_days = fields.Integer(
        string="New Reader Period (days)", default=SETTINGS["new_days"][0]
    )
    library_lapsed_days = fields.Integer(
        string="Lapsed after (days)", default=SETTINGS["lapsed_days"][0]
    )
    library_long_term_days = fields.Integer(
        string="Long-term after (days)", default=SETTINGS["long_term_days"][0]
    )
    library_long_term_months = fields.Integer(
        string="Long-term: Active Months of 12", default=SETTINGS["long_term_months"][0]
    )
    library_growth_percent = fields.Integer(
        string="Growing: Growth (%)", default=SETTINGS["growth_percent"][0]
    )
    library_growing_months = fields.Integer(
        string="Growing: Active Months of 12",
        default=SETTINGS["growing_months"][0],
        help="A reader active in at least this many of the last 12 months, whose first use "
        "is more recent than the long-term period, is growing.",
    )
    library_core_percent = fields.Integer(
        string="Core Readers: Top (%)", default=SETTINGS["core_percent"][0]
    )
    library_important_percent = fields.Integer(
        string="Important Readers: Next (%)",
        default=SETTINGS["important_percent"][0],
        help="After the core readers, this share of each category's active readers, by value "
        "score, are important readers.",
    )
    library_value_depth_points = fields.Integer(
        string="Value: Points per Deep Use",
        default=SETTINGS["value_depth_points"][0],
        help="Per loan, renewal, interlibrary loan, e-resource or workstation session in the "
        "last 12 months (a consultation counts twice); at most 50 points.",
    )
    library_value_research_points = fields.Integer(
        string="Value: Points per Research Support",
        default=SETTINGS["value_research_points"][0],
        help="Per deliverable received in the last 12 months and per research project "
        "followed by the library; at most 20 points.",
    )
    library_value_participation_points = fields.Integer(
        string="Value: Points per Training or Event",
        default=SETTINGS["value_participation_points"][0],
        help="In the last 12 months; at most 15 points.",
    )
    library_value_visits_per_point = fields.Integer(
        string="Value: Gate Entries per Point",
        default=SETTINGS["value_visits_per_point"][0],
        help="Gate entries in the last 12 months; at most 10 points.",
    )
    library_value_attention_points = fields.Integer(
        string="Value: Points per Alert Click",
        default=SETTINGS["value_attention_points"][0],
        help="Clicks on new-title alerts in the last 12 months: attention, not use; at most 5 "
        "points.",
    )
    library_retention_years = fields.Integer(
        string="Usage Retention (years)", default=SETTINGS["retention_years"][0]
    )

    library_points_suggestion_adopted = fields.Integer(
        string="Points per Adopted Suggestion",
        default=SETTINGS["points_suggestion_adopted"][0],
    )

    library_points_survey_answered = fields.Integer(
        string="Points per Survey Answered",
        default=SETTINGS["points_survey_answered"][0],
    )
    library_satisfaction_survey_weight = fields.Integer(
        string="Weight of Surveys in Satisfaction (%)",
        default=SETTINGS["satisfaction_survey_weight"][0],
        help="The rest is the average rating readers give to the handling of their suggestions "
        "and to the services they were asked to rate.",
    )

    library_journey_cap_days = fields.Integer(
        string="Days Between Journey Messages",
        default=SETTINGS["journey_cap_days"][0],
        help="No reader gets more than one journey message in this many days.",
    )
    library_alumni_card_months = fields.Integer(
        string="Alumni Card Validity (months)",
        default=SETTINGS["alumni_card_months"][0],
        help="A reader the campus roster reports as graduated becomes an alumnus whose card "
        "expires this many months after the import (0: on the day of the import), unless the "
        "roster gives the card expiry.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        for key in SETTINGS:
            res[f"library_{key}"] = get_setting(self.env, key)
        return res

    def set_values(self):
        if not self.env.is_admin():
            raise AccessError(self.env._("Only administrators can change the settings."))
        res = super().set_values()
        self._check_library_settings()
        params = self.env["ir.config_parameter"].sudo()
        for key in SETTINGS:
            value = str(self[f"library_{key}"])
            if params.get_param(f"library_crm.{key}") != value:
                params.set_param(f"library_crm.{key}", value)
        return res

    @api.constrains(*(f"library_{key}" for key in SETTINGS))
    def _check_library_settings(self):
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
            if settings.library_max_departments_per_liaison < 1:
                raise ValidationError(
                    self.env._("A liaison librarian must be allowed at least one department.")
                )
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
            for key, (_default, low, high) in SETTINGS.items():
                value = settings[f"library_{key}"]
                if not low <= value <= high:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s must be between %(low)s and %(high)s (now %(value)s).",
                            setting=settings._fields[f"library_{key}"].get_description(self.env)[
                                "string"
                            ],
                            low=low,
                            high=high,
                            value=value,
                        )
                    )
