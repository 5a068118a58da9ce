# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LibraryJourneyMessage(models.Model):
    """One journey message sent to a reader: sends each trigger once and
    keeps the per-reader cap."""

    _name = "library.journey.message"
    _description = "Journey Message Sent"
    _order = "date desc, id desc"

    journey_id = fields.Many2one("library.journey", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner", string="Reader", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="partner_id.company_id")
    trigger_key = fields.Char(required=True, help="What triggered it: sent once per trigger.")
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)

    _unique_trigger = models.UniqueIndex(
        "(journey_id, partner_id, trigger_key)", "This journey already sent this message."
    )
