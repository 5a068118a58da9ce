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
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty for every library; a library's own line wins over a shared one.",
    )

    _unique_default = models.UniqueIndex(
        "(reader_category, purpose, COALESCE(company_id, 0))",
        "This category already has a default for this purpose.",
    )

    @api.model
    def _defaults_for(self, category, company=None):
        """{purpose: consent} for a new reader of this category in this
        company (the current one when None); purposes without a line default
        to consent, a company's own line wins over a shared one."""
        company = self.env.company if company is None else company
        values = {code: True for code, _label in CONSENT_PURPOSES}
        lines = self.sudo().search(
            [("reader_category", "=", category), ("company_id", "in", [company.id, False])]
        )
        for line in lines.sorted(lambda line: bool(line.company_id)):
            values[line.purpose] = line.consent
        return values
