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

    @api.constrains("library_max_departments_per_liaison")
    def _check_library_max_departments_per_liaison(self):
        for settings in self:
            if settings.library_max_departments_per_liaison < 1:
                raise ValidationError(
                    self.env._("A liaison librarian must be allowed at least one department.")
                )
