# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .library_consent_log import CONSENT_PURPOSES
from .res_partner import READER_CATEGORIES


class LibraryConsentDefault(models.Model):
    """A purpose a new reader of a category does not receive until they
    agree (for example campaigns for public readers)."""

    _name = "library.consent.default"
    _description = "Consent Default per Reader Category"
    _order = "reader_category, purpose"

    reader_category = fields.Selection(READER_CATEGORIES, required=True)
    purpose = fields.Selection(CONSENT_PURPOSES, required=True)
    consent = fields.Boolean(string="Agrees by Default")

    _unique_default = models.UniqueIndex(
        "(reader_category, purpose)", "This category already has a default for this purpose."
    )

    @api.model
    def _defaults_for(self, category):
        """{purpose: consent} for a new reader of this category; purposes
        without a line default to consent."""
        values = {code: True for code, _label in CONSENT_PURPOSES}
        for line in self.sudo().search([("reader_category", "=", category)]):
            values[line.purpose] = line.consent
        return values
