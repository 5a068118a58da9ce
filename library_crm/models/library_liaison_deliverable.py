# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

DELIVERABLE_KINDS = [
    ("bibliography", "Bibliography (secondary literature)"),
    ("index", "Index (secondary literature)"),
    ("abstracts", "Abstracts (secondary literature)"),
    ("review", "Literature Review (tertiary literature)"),
    ("subject_guide", "Subject Guide (tertiary literature)"),
    ("trend_report", "Research Trend Report (tertiary literature)"),
    ("novelty_search", "Novelty Search"),
    ("citation_analysis", "Citation Analysis"),
    ("training", "Training Session"),
]

FEEDBACK_RATINGS = [
    ("1", "Poor"),
    ("2", "Fair"),
    ("3", "Good"),
    ("4", "Very Good"),
    ("5", "Excellent"),
]


class LibraryLiaisonDeliverable(models.Model):
    _name = "library.liaison.deliverable"
    _description = "Liaison Deliverable"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _rec_name = "title"
    _check_company_auto = True

    title = fields.Char(required=True, tracking=True)
    kind = fields.Selection(DELIVERABLE_KINDS, required=True, tracking=True)
    department_id = fields.Many2one(
        "library.department",
        compute="_compute_department_id",
        store=True,
        readonly=False,
        required=True,
        index=True,
        ondelete="restrict",
    )
    project_id = fields.Many2one(
        "library.research.project",
        string="Research Project",
        index="btree_not_null",
        ondelete="set null",
        domain="[('department_id', '=?', department_id)]",
        check_company=True,
    )
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    liaison_user_id = fields.Many2one(
        "res.users",
        string="Liaison Librarian",
        required=True,
        default=lambda self: self.env.user,
        index=True,
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "library_liaison_deliverable_recipient_rel",
        "deliverable_id",
        "partner_id",
        string="Recipients",
    )
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "library_liaison_deliverable_attachment_rel",
        "deliverable_id",
        "attachment_id",
        string="Files",
    )
    description = fields.Html()
    feedback = fields.Text(help="What the recipients said about it.")
    feedback_rating = fields.Selection(FEEDBACK_RATINGS)
    company_id = fields.Many2one(related="department_id.company_id", store=True, index=True)

    @api.depends("project_id")
    def _compute_department_id(self):
        for deliverable in self:
            if deliverable.project_id:
                deliverable.department_id = deliverable.project_id.department_id

    @api.constrains("project_id", "department_id")
    def _check_project_department(self):
        for deliverable in self:
            project = deliverable.project_id
            if project and project.department_id != deliverable.department_id:
                raise ValidationError(
                    self.env._(
                        "The project %(project)s belongs to another department.",
                        project=project.title,
                    )
                )
