# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LibraryReaderImportError(models.TransientModel):
    _name = "library.reader.import.error"
    _description = "Rejected Row of a Reader Import"
    _order = "row_number"

    import_id = fields.Many2one(
        "library.reader.import", required=True, ondelete="cascade", index=True
    )
    row_number = fields.Integer(string="Row", readonly=True)
    card_number = fields.Char(readonly=True)
    reader_name = fields.Char(string="Name", readonly=True)
    reason = fields.Char(readonly=True)
