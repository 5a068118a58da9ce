# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

CONSENT_PURPOSES = [
    ("service", "Service Notices"),
    ("news", "Library News and Campaigns"),
    ("surveys", "Surveys"),
    ("new_titles", "New-Title Alerts"),
]
CONSENT_CHANNELS = [
    ("default", "Default of the Reader Category"),
    ("staff", "Library Staff"),
    ("portal", "Reader, on the Portal"),
    ("unsubscribe", "Reader, from a Message"),
    ("import", "Import"),
]


class LibraryConsentLog(models.Model):
    """Every change of a reader's consent: who, when, how (PIPL, GDPR)."""

    _name = "library.consent.log"
    _description = "Reader Consent Change"
    _order = "date desc, id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Reader", required=True, index=True, ondelete="cascade"
    )
    purpose = fields.Selection(CONSENT_PURPOSES, required=True)
    consent = fields.Boolean(string="Agrees")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Changed by", default=lambda self: self.env.user)
    channel = fields.Selection(CONSENT_CHANNELS, required=True, default="staff")
    company_id = fields.Many2one(related="partner_id.company_id", store=True, index=True)
