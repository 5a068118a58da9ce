# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LibraryMarcImportError(models.TransientModel):
    _name = "library.marc.import.error"
    _description = "Rejected Record of a MARC Import"
    _order = "record_number"

    import_id = fields.Many2one(
        "library.marc.import", required=True, ondelete="cascade", index=True
    )
    record_number = fields.Integer(string="Record", readonly=True)
    reason = fields.Char(readonly=True)
