# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError


class LibraryReadingReportGenerate(models.TransientModel):
    """Generate (or regenerate) the annual reading reports of a year, and
    create their news campaign."""

    _name = "library.reading.report.generate"
    _description = "Generate Reading Reports"

    year = fields.Integer(required=True, default=lambda self: self._default_year())
    company_id = fields.Many2one(
        "res.company",
        string="Library",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )

    @api.model
    def _default_year(self):
        return fields.Date.context_today(self).year - 1

    def _check_year(self):
        self.ensure_one()
        if not 2000 <= self.year <= fields.Date.context_today(self).year:
            raise UserError(self.env._("Give a year between 2000 and this year."))

    def action_generate(self):
        self.ensure_one()
        Report = self.env["library.reading.report"]
        Report._check_manager_of(self.company_id)
        self._check_year()
        Report.sudo()._generate(self.year, self.company_id)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_reading_report"
        )
        action["domain"] = [("year", "=", self.year), ("company_id", "=", self.company_id.id)]
        action["context"] = {}
        return action

    def action_create_mailing(self):
        self.ensure_one()
        self._check_year()
        return self.env["library.reading.report"]._create_mailing(self.year, self.company_id)
