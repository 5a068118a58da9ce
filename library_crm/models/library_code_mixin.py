# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class LibraryCodeMixin(models.AbstractModel):
    """A reference code that imports match on: stored trimmed and upper-case."""

    _name = "library.code.mixin"
    _description = "Library Reference Code"

    code = fields.Char(required=True, index=True)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code"):
                vals["code"] = vals["code"].strip().upper()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("code"):
            vals["code"] = vals["code"].strip().upper()
        return super().write(vals)
