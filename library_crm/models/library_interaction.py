# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

INTERACTION_CHANNELS = [
    ("in_person", "In Person"),
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("wechat", "WeChat"),
    ("qq", "QQ"),
    ("video", "Video Call"),
    ("department_visit", "Department Visit"),
    ("lecture", "Lecture / Training"),
    ("reference_desk", "Reference Desk"),
]

INTERACTION_KINDS = [
    ("consultation", "Consultation"),
    ("training", "Training"),
    ("outreach", "Outreach"),
    ("complaint", "Complaint Handling"),
    ("retention", "Retention Effort"),
    ("impression", "Impression of the Library"),
    ("friction", "Friction"),
    ("information_need", "Special Information Need"),
]


class LibraryInteraction(models.Model):
    _name = "library.interaction"
    _description = "Reader Interaction"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _rec_name = "summary"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Reader",
        index="btree_not_null",
        ondelete="cascade",
        domain=[("is_reader", "=", True)],
        tracking=True,
        check_company=True,
    )
    department_id = fields.Many2one(
        "library.department",
        compute="_compute_department_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        ondelete="cascade",
        tracking=True,
        check_company=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Librarian",
        required=True,
        default=lambda self: self.env.user,
        index=True,
        tracking=True,
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    channel = fields.Selection(INTERACTION_CHANNELS, required=True, default="in_person")
    kind = fields.Selection(INTERACTION_KINDS, required=True, default="consultation")
    summary = fields.Char(required=True)
    outcome = fields.Text()
    duration = fields.Float(string="Duration (hours)")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    followup_date = fields.Date(
        string="Follow-up on",
        help="Schedule a follow-up activity on the reader for the librarian.",
    )
    followup_note = fields.Char(string="Follow-up")
    followup_activity_id = fields.Many2one("mail.activity", readonly=True, copy=False)

    @api.depends("partner_id")
    def _compute_department_id(self):
        for interaction in self:
            if interaction.partner_id.library_department_id and not interaction.department_id:
                interaction.department_id = interaction.partner_id.library_department_id

    @api.constrains("partner_id", "department_id")
    def _check_subject(self):
        for interaction in self:
            if not interaction.partner_id and not interaction.department_id:
                raise ValidationError(
                    self.env._("An interaction is with a reader, a department or both.")
                )

    @api.constrains("duration")
    def _check_duration(self):
        for interaction in self:
            if interaction.duration < 0:
                raise ValidationError(self.env._("A duration cannot be negative."))

    @api.model_create_multi
    def create(self, vals_list):
        interactions = super().create(vals_list)
        interactions.filtered("followup_date")._schedule_followup()
        return interactions

    def write(self, vals):
        res = super().write(vals)
        if vals.get("followup_date"):
            self.filtered(lambda i: not i.followup_activity_id)._schedule_followup()
        return res

    def _schedule_followup(self):
        activity_type = self.env.ref("library_crm.mail_activity_type_reader_followup")
        for interaction in self:
            target = interaction.partner_id or interaction.department_id
            if not interaction.partner_id:
                # Librarians only read departments: the department's liaison
                # schedules the follow-up the contact calls for on it.
                if not (
                    self.env.su
                    or self.env.user in target.liaison_user_ids
                    or self.env.user.has_group("library_crm.group_library_manager")
                ):
                    raise AccessError(
                        self.env._(
                            "Only the liaison librarians of %(department)s can schedule "
                            "a follow-up on it.",
                            department=target.display_name,
                        )
                    )
                target = target.sudo()
            activity = target.activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=interaction.followup_date,
                summary=interaction.followup_note or interaction.summary,
                note=interaction.outcome,
                user_id=interaction.user_id.id,
            )
            interaction.followup_activity_id = activity
