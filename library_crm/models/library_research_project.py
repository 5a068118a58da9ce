# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

PROJECT_LEVELS = [
    ("national", "National"),
    ("provincial", "Provincial / Ministerial"),
    ("municipal", "Municipal"),
    ("university", "University"),
    ("industry", "Industry Partnership"),
    ("other", "Other"),
]

PROJECT_STAGES = [
    ("application", "Application"),
    ("approved", "Funded"),
    ("ongoing", "Ongoing"),
    ("completed", "Completed"),
]


class LibraryResearchProject(models.Model):
    _name = "library.research.project"
    _description = "Faculty Research Project"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _rec_name = "title"

    title = fields.Char(required=True, tracking=True)
    department_id = fields.Many2one(
        "library.department", required=True, index=True, ondelete="restrict", tracking=True
    )
    principal_investigator_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        domain=[("is_reader", "=", True), ("reader_category", "=", "faculty")],
        tracking=True,
    )
    member_ids = fields.Many2many(
        "res.partner",
        "library_research_project_member_rel",
        "project_id",
        "partner_id",
        string="Members",
        domain=[("is_reader", "=", True)],
    )
    level = fields.Selection(PROJECT_LEVELS, required=True, default="university", tracking=True)
    stage = fields.Selection(
        PROJECT_STAGES,
        required=True,
        default="application",
        tracking=True,
        group_expand=True,
    )
    date_start = fields.Date(string="Start")
    date_end = fields.Date(string="End")
    keywords = fields.Char()
    interest_ids = fields.Many2many(
        "library.interest",
        "library_interest_research_project_rel",
        "project_id",
        "interest_id",
        string="Interests",
    )
    liaison_user_id = fields.Many2one(
        "res.users",
        string="Liaison Librarian",
        default=lambda self: self.env.user,
        index=True,
        tracking=True,
    )
    support = fields.Html(
        string="Library Support",
        help="How the liaison librarian supports this project: searches, "
        "literature compilations, trainings, resources acquired.",
    )
    deliverable_ids = fields.One2many("library.liaison.deliverable", "project_id")
    deliverable_count = fields.Integer(compute="_compute_deliverable_count")
    company_id = fields.Many2one(related="department_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)

    def _compute_deliverable_count(self):
        counts = dict(
            self.env["library.liaison.deliverable"]._read_group(
                [("project_id", "in", self.ids)], ["project_id"], ["__count"]
            )
        )
        for project in self:
            project.deliverable_count = counts.get(project, 0)

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for project in self:
            if project.date_start and project.date_end and project.date_end < project.date_start:
                raise ValidationError(self.env._("A project cannot end before it starts."))

    @api.onchange("principal_investigator_id")
    def _onchange_principal_investigator_id(self):
        if self.principal_investigator_id.library_department_id and not self.department_id:
            self.department_id = self.principal_investigator_id.library_department_id

    def action_view_deliverables(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_liaison_deliverable"
        )
        action["domain"] = [("project_id", "=", self.id)]
        action["context"] = {
            "default_project_id": self.id,
            "default_department_id": self.department_id.id,
        }
        return action
