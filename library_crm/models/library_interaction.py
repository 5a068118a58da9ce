# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .library_rights import check_no_chatter_rating, check_rating_token_reader

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
    ("front_desk", "Front-Desk Service"),
    ("consultation", "Consultation"),
    ("training", "Training"),
    ("outreach", "Outreach"),
    ("complaint", "Complaint Handling"),
    ("retention", "Retention Effort"),
    ("impression", "Impression of the Library"),
    ("friction", "Friction"),
    ("information_need", "Special Information Need"),
]

# The ordinary services a reader is asked to rate (1-5) once logged.
RATED_KINDS = ("front_desk", "consultation", "training")
# At most one rating request a week per reader, and none for a service
# logged more than a week after it happened.
RATING_REQUEST_DAYS = 7
# A rating of 2 or less gives the reader's librarian a follow-up.
LOW_SERVICE_RATING = 2


class LibraryInteraction(models.Model):
    """A contact with a reader or a department. After an ordinary service
    (front desk, consultation, training) the reader receives a one-question
    rating request (1-5); the rating feeds their satisfaction."""

    _name = "library.interaction"
    _description = "Reader Interaction"
    _inherit = ["rating.mixin"]  # a mail.thread
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
    rating_requested_date = fields.Datetime(
        string="Rating Requested on",
        readonly=True,
        copy=False,
        help="When the reader was asked to rate this service (1-5) by e-mail.",
    )

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
        interactions._request_rating()
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

    # ------------------------------------------------------------------
    # Service rating
    # ------------------------------------------------------------------

    def _request_rating(self, now=None):
        """Ask the reader of each ordinary service just logged to rate it:
        a reader with an e-mail who accepts surveys, a service of the last
        week, one request a week per reader at most."""
        now = now or fields.Datetime.now()
        since = now - timedelta(days=RATING_REQUEST_DAYS)
        candidates = self.filtered(
            lambda i: (
                i.kind in RATED_KINDS
                and i.date >= since
                and not i.rating_requested_date
                and i.partner_id.is_reader
                and i.partner_id.email
                and i.partner_id.consent_surveys
            )
        )
        if not candidates:
            return
        asked = set(
            self.sudo()
            .search(
                [
                    ("partner_id", "in", candidates.partner_id.ids),
                    ("rating_requested_date", ">=", since),
                ]
            )
            .partner_id.ids
        )
        # Rendered by the server: the link is the reader's, never staff's.
        template = self.env.ref("library_crm.mail_template_interaction_rating").sudo()
        for interaction in candidates:
            if interaction.partner_id.id in asked:
                continue
            asked.add(interaction.partner_id.id)
            interaction.sudo().rating_requested_date = now
            # Mailed to the reader only, never posted on the service: the
            # link's token is the reader's, and staff read the chatter.
            template.with_context(lang=interaction.partner_id.lang).send_mail(
                interaction.id,
                email_values={
                    "model": False,
                    "res_id": False,
                    "author_id": interaction.company_id.partner_id.id
                    or self.env.company.partner_id.id,
                },
            )

    def _rating_get_access_token(self, partner=None):
        check_rating_token_reader(self)
        return super()._rating_get_access_token(partner=partner)

    def message_post(self, **kwargs):
        check_no_chatter_rating(self.env, kwargs)
        return super().message_post(**kwargs)

    def rating_apply(
        self,
        rate,
        token=None,
        rating=None,
        feedback=None,
        subtype_xmlid=None,
        notify_delay_send=False,
    ):
        """Only the rated reader rates, through their link: the rating route
        finds the rating by its token and applies it as superuser. No other
        caller, whatever their rights, rates a service."""
        if not self.env.su:
            raise AccessError(
                self.env._("A service is rated by its reader, through the link they received.")
            )
        self.ensure_one()
        if rate not in (1, 2, 3, 4, 5):
            raise UserError(self.env._("A service is rated from 1 to 5."))
        if not token:
            raise AccessError(self.env._("A service is rated through its rating link."))
        own = self.env["rating.rating"].search(
            [
                ("access_token", "=", token),
                ("res_model", "=", self._name),
                ("res_id", "=", self.id),
                ("partner_id", "=", self.partner_id.id),
            ],
            limit=1,
        )
        if not own:
            raise AccessError(self.env._("This rating link is not for this service."))
        rating = super().rating_apply(
            rate,
            token=token,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        # The reader's satisfaction and loyalty, nobody else's.
        self.env["library.satisfaction"]._update_readers(self.partner_id)
        if rate <= LOW_SERVICE_RATING:
            self.partner_id.activity_schedule(
                "library_crm.mail_activity_type_reader_followup",
                summary=self.env._(
                    "Low rating (%(rate)s/5) of %(service)s: contact the reader",
                    rate=rate,
                    service=self.summary,
                ),
                note=feedback or False,
                user_id=(self.partner_id.responsible_librarian_id or self.user_id).id,
            )
        return rating
