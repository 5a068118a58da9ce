# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class LibraryMajor(models.Model):
    _name = "library.major"
    _description = "Major"
    _inherit = ["library.code.mixin"]
    _order = "department_id, code, name"
    _rec_names_search = ["name", "code"]

    name = fields.Char(required=True, translate=True)
    department_id = fields.Many2one(
        "library.department", required=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one(related="department_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)
    reader_count = fields.Integer(compute="_compute_reader_count")

    _code_company_unique = models.UniqueIndex(
        "(company_id, code)", "A major with this code already exists in this company."
    )

    def _compute_reader_count(self):
        counts = dict(
            self.env["res.partner"]._read_group(
                [("library_major_id", "in", self.ids)],
                ["library_major_id"],
                ["__count"],
            )
        )
        for major in self:
            major.reader_count = counts.get(major, 0)

    @api.depends("code")
    def _compute_display_name(self):
        for major in self:
            major.display_name = f"[{major.code}] {major.name}" if major.code else major.name

    def action_view_readers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_reader")
        action["domain"] = [("library_major_id", "=", self.id)]
        action["context"] = {
            "default_is_reader": True,
            "default_library_department_id": self.department_id.id,
            "default_library_major_id": self.id,
        }
        return action
