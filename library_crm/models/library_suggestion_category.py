# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LibrarySuggestionCategory(models.Model):
    _name = "library.suggestion.category"
    _description = "Suggestion Category"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="Shown to readers on the submission form.")
    default_unit_id = fields.Many2one(
        "library.unit",
        ondelete="set null",
        help="Unit proposed when a suggestion of this category is accepted.",
    )
    reply_days = fields.Integer(
        string="Reply within (working days)",
        default=5,
        help="The reader gets a first reply within this many working days.",
    )
    resolution_days = fields.Integer(
        string="Resolve within (working days)",
        default=10,
        help="The suggestion is done within this many working days.",
    )

    @api.constrains("reply_days", "resolution_days")
    def _check_days(self):
        for category in self:
            if not 0 < category.reply_days <= category.resolution_days:
                raise ValidationError(
                    self.env._(
                        "The reply deadline must be at least one working day and no later "
                        "than the resolution deadline."
                    )
                )
