# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import html2plaintext, is_html_empty

from .library_rights import MANAGER_GROUP

REVIEW_STATES = [
    ("draft", "Draft"),
    ("sent", "Sent to Department"),
    ("submitted", "Submitted by Department"),
    ("validated", "Validated"),
]
# state -> the subtype a change to it is tracked under.
STATE_SUBTYPES = {
    "submitted": "library_crm.mt_review_submitted",
    "validated": "library_crm.mt_review_validated",
}
SCORE_FIELDS = (
    "score_responsiveness",
    "score_expertise",
    "score_proactive",
    "score_deliverables",
)
# The workflow's own fields: written only by the action_* methods, after
# their checks, as superuser.
WORKFLOW_FIELDS = (
    "state",
    "submitted_by_id",
    "submitted_date",
    "validated_by_id",
    "validated_date",
)
# Fields writable only in these states (what the form shows as editable).
EDITABLE_IN = {
    "year": ("draft",),
    "department_id": ("draft",),
    "liaison_user_id": ("draft",),
    "contact_partner_id": ("draft", "sent"),
    "summary": ("draft", "sent"),
    "department_comment": ("draft", "sent"),
    **dict.fromkeys(SCORE_FIELDS, ("draft", "sent")),
    "manager_comment": ("draft", "sent", "submitted"),
}


class LibraryLiaisonReview(models.Model):
    _name = "library.liaison.review"
    _description = "Liaison Librarian Annual Review"
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "library.workflow.mixin",
    ]
    _order = "year desc, department_id, liaison_user_id"

    year = fields.Integer(
        required=True, default=lambda self: fields.Date.context_today(self).year, aggregator=False
    )
    department_id = fields.Many2one(
        "library.department", required=True, index=True, ondelete="cascade"
    )
    liaison_user_id = fields.Many2one(
        "res.users", string="Liaison Librarian", required=True, index=True, ondelete="cascade"
    )
    contact_partner_id = fields.Many2one(
        "res.partner",
        string="Department Contact",
        index="btree_not_null",
        tracking=True,
        help="Who writes the department's summary and scores on the portal.",
    )
    state = fields.Selection(
        REVIEW_STATES, default="draft", required=True, readonly=True, copy=False, tracking=True
    )
    summary = fields.Html(
        string="Department's Summary",
        help="The department's written summary of the liaison's work this year.",
    )
    # Odoo does not track HTML fields: the summary's text is tracked instead,
    # so the chatter shows every change to the department's words.
    summary_text = fields.Text(
        string="Department's Summary Text",
        compute="_compute_summary_text",
        store=True,
        tracking=True,
    )
    score_responsiveness = fields.Integer(string="Responsiveness", aggregator="avg", tracking=True)
    score_expertise = fields.Integer(string="Subject Expertise", aggregator="avg", tracking=True)
    score_proactive = fields.Integer(string="Proactive Service", aggregator="avg", tracking=True)
    score_deliverables = fields.Integer(
        string="Quality of Deliverables", aggregator="avg", tracking=True
    )
    score_average = fields.Float(
        compute="_compute_score_average", store=True, digits=(3, 2), aggregator="avg"
    )
    department_comment = fields.Text(string="Department's Comments")
    manager_comment = fields.Text(string="Manager's Comments")
    submitted_by_id = fields.Many2one(
        "res.users",
        readonly=True,
        copy=False,
        help="Who submitted the department's summary and scores: the department contact "
        "on the portal, or a library manager on the department's behalf.",
    )
    submitted_date = fields.Datetime(readonly=True, copy=False)
    validated_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    validated_date = fields.Datetime(readonly=True, copy=False)
    company_id = fields.Many2one(related="department_id.company_id", store=True, index=True)

    # Facts of the year, computed from the records themselves.
    interaction_count = fields.Integer(compute="_compute_facts", string="Interactions")
    contacted_reader_count = fields.Integer(compute="_compute_facts", string="Readers Contacted")
    deliverable_count = fields.Integer(compute="_compute_facts", string="Deliverables")
    project_count = fields.Integer(compute="_compute_facts", string="Projects Supported")
    training_count = fields.Integer(compute="_compute_facts", string="Trainings")
    deliverable_rating = fields.Float(
        compute="_compute_facts", string="Deliverable Feedback", digits=(3, 2)
    )
    suggestion_count = fields.Integer(
        compute="_compute_facts",
        string="Readers' Suggestions",
        help="Suggestions the department's readers submitted this year.",
    )
    suggestion_rating = fields.Float(
        compute="_compute_facts",
        digits=(3, 2),
        help="Average rating (of 5) the department's readers gave to how their suggestions "
        "were handled.",
    )

    _unique_review = models.UniqueIndex(
        "(year, department_id, liaison_user_id)",
        "There is already a review of this liaison for this department and year.",
    )

    @api.depends(*SCORE_FIELDS)
    def _compute_score_average(self):
        for review in self:
            scores = [review[name] for name in SCORE_FIELDS if review[name]]
            review.score_average = sum(scores) / len(scores) if scores else 0.0

    @api.depends("summary")
    def _compute_summary_text(self):
        for review in self:
            review.summary_text = (
                html2plaintext(review.summary) if not is_html_empty(review.summary) else False
            )

    def _year_bounds(self):
        return date(self.year, 1, 1), date(self.year, 12, 31)

    def _compute_facts(self):
        Interaction = self.env["library.interaction"].sudo()
        Deliverable = self.env["library.liaison.deliverable"].sudo()
        for review in self:
            if not (review.year and review.department_id and review.liaison_user_id):
                review.update(dict.fromkeys(self._fact_fields(), 0))
                continue
            start, end = review._year_bounds()
            # The department and its sub-departments (a 学院 and its 系):
            # one search each, so a record is counted once.
            common = [
                ("department_id", "child_of", review.department_id.id),
            ]
            interactions = Interaction.search(
                [
                    *common,
                    ("user_id", "=", review.liaison_user_id.id),
                    ("date", ">=", fields.Datetime.to_datetime(start)),
                    ("date", "<", fields.Datetime.to_datetime(date(review.year + 1, 1, 1))),
                ]
            )
            deliverables = Deliverable.search(
                [
                    *common,
                    ("liaison_user_id", "=", review.liaison_user_id.id),
                    ("date", ">=", start),
                    ("date", "<=", end),
                ]
            )
            projects = (
                self.env["library.research.project"]
                .sudo()
                .search(
                    Domain(common)
                    & (
                        Domain("id", "in", deliverables.project_id.ids)
                        | (
                            Domain("liaison_user_id", "=", review.liaison_user_id.id)
                            & (Domain("date_start", "=", False) | Domain("date_start", "<=", end))
                            & (Domain("date_end", "=", False) | Domain("date_end", ">=", start))
                        )
                    )
                )
            )
            suggestions = (
                self.env["library.suggestion"]
                .sudo()
                .search(
                    [
                        *common,
                        ("submission_date", ">=", fields.Datetime.to_datetime(start)),
                        (
                            "submission_date",
                            "<",
                            fields.Datetime.to_datetime(date(review.year + 1, 1, 1)),
                        ),
                    ]
                )
            )
            ratings = [sug.rating_last_value for sug in suggestions if sug.rating_last_value]
            review.suggestion_count = len(suggestions)
            review.suggestion_rating = sum(ratings) / len(ratings) if ratings else 0.0
            rated = [int(d.feedback_rating) for d in deliverables if d.feedback_rating]
            review.interaction_count = len(interactions)
            review.contacted_reader_count = len(interactions.partner_id)
            review.deliverable_count = len(deliverables)
            review.project_count = len(projects)
            review.training_count = len(
                deliverables.filtered(lambda d: d.kind == "training")
            ) + len(interactions.filtered(lambda i: i.kind == "training"))
            review.deliverable_rating = sum(rated) / len(rated) if rated else 0.0

    @api.model
    def _fact_fields(self):
        return (
            "interaction_count",
            "contacted_reader_count",
            "deliverable_count",
            "project_count",
            "training_count",
            "deliverable_rating",
            "suggestion_count",
            "suggestion_rating",
        )

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for review in self:
            review.access_url = f"/my/liaison-reviews/{review.id}"
        return res

    @api.constrains(*SCORE_FIELDS)
    def _check_scores(self):
        for review in self:
            if any(not 0 <= review[name] <= 5 for name in SCORE_FIELDS):
                raise ValidationError(self.env._("Scores go from 1 to 5."))

    @api.depends("year", "department_id", "liaison_user_id")
    def _compute_display_name(self):
        for review in self:
            review.display_name = self.env._(
                "%(year)s %(department)s - %(liaison)s",
                year=review.year,
                department=review.department_id.name or "",
                liaison=review.liaison_user_id.name or "",
            )

    def write(self, vals):
        # readonly= only protects the form: over RPC every field is writable.
        if not self.env.su:
            # Who may not write at all hears so first (library managers only).
            self.check_access("write")
            if set(WORKFLOW_FIELDS) & vals.keys():
                raise UserError(
                    self.env._("A review moves from state to state only through its buttons.")
                )
            for review in self:
                frozen = [
                    review._fields[name].get_description(self.env)["string"]
                    for name, states in EDITABLE_IN.items()
                    if name in vals and review.state not in states
                ]
                if frozen:
                    states = dict(self._fields["state"]._description_selection(self.env))
                    raise UserError(
                        self.env._(
                            "The review %(review)s is %(state)s: %(fields)s can no longer "
                            "be changed.",
                            review=review.display_name,
                            state=states[review.state],
                            fields=", ".join(frozen),
                        )
                    )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Workflow
    # ------------------------------------------------------------------

    def _check_manager(self):
        """A library manager, who may write this review (record rules)."""
        self._check_role(MANAGER_GROUP)
        self.check_access("write")

    def _track_subtype(self, init_values):
        self.ensure_one()
        if "state" in init_values and self.state in STATE_SUBTYPES:
            return self.env.ref(STATE_SUBTYPES[self.state])
        return super()._track_subtype(init_values)

    def action_send(self):
        """E-mail the department contact a portal link to fill the review."""
        self._check_manager()
        self._check_state("draft", "sent")
        template = self.env.ref("library_crm.mail_template_liaison_review_request")
        for review in self:
            if not review.contact_partner_id.email:
                raise UserError(
                    self.env._(
                        "Set a department contact with an e-mail address on %(review)s first.",
                        review=review.display_name,
                    )
                )
            review.message_subscribe(partner_ids=review.contact_partner_id.ids)
            # The request carries the contact's link: it is not the appraised
            # liaison's to receive, even if they followed the review.
            if liaison := review.liaison_user_id.partner_id - review.contact_partner_id:
                review.message_unsubscribe(partner_ids=liaison.ids)
            review.message_post_with_source(
                template, subtype_xmlid="mail.mt_comment", email_layout_xmlid=False
            )
        self._write_step({"state": "sent"})
        return True

    def _submit(self, values, submitted_by=None):
        """Store the department's summary and scores and submit the review.
        Called by the portal controller for the contact, or by a manager;
        `submitted_by` (the caller by default) is recorded as who submitted
        it."""
        self.ensure_one()
        self._check_state("sent")
        missing = [name for name in SCORE_FIELDS if not values.get(name)]
        if missing or not values.get("summary"):
            raise ValidationError(
                self.env._("Write the summary and give every score from 1 to 5.")
            )
        submitter = self.env.user if submitted_by is None else submitted_by
        self._write_step(
            dict(
                values,
                state="submitted",
                submitted_by_id=submitter.id,
                submitted_date=fields.Datetime.now(),
            )
        )

    def action_submit(self):
        self._check_manager()
        for review in self:
            review._submit({name: review[name] for name in (*SCORE_FIELDS, "summary")})
        return True

    def action_validate(self):
        self._check_manager()
        self._check_state("submitted")
        self._write_step(
            {
                "state": "validated",
                "validated_by_id": self.env.user.id,
                "validated_date": fields.Datetime.now(),
            }
        )
        return True

    def action_reset_draft(self):
        self._check_manager()
        self._check_state("sent", "submitted")
        # A new link for the next round: the old one may have been read in the
        # chatter by the appraised liaison once the review was submitted.
        self._write_step({"state": "draft", "access_token": False})
        return True

    @api.model
    def _create_for_year(self, year):
        """Create the missing reviews of `year` for every department and
        liaison librarian; return the new reviews."""
        departments = self.env["library.department"].search([("liaison_user_ids", "!=", False)])
        existing = {
            (review.department_id.id, review.liaison_user_id.id)
            for review in self.search([("year", "=", year)])
        }
        vals_list = [
            {
                "year": year,
                "department_id": department.id,
                "liaison_user_id": user.id,
                "contact_partner_id": department.review_contact_id.id,
            }
            for department in departments
            for user in department.liaison_user_ids
            if (department.id, user.id) not in existing
        ]
        return self.create(vals_list)

    @api.model
    def _create_and_send(self):
        """This year's missing reviews, sent to every department contact
        that has an e-mail address."""
        year = fields.Date.context_today(self).year
        reviews = self._create_for_year(year)
        reviews.filtered("contact_partner_id.email").action_send()
        return year

    @api.model
    def action_create_reviews(self):
        self._check_manager()
        year = self._create_and_send()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_liaison_review"
        )
        action["domain"] = [("year", "=", year)]
        return action

    @api.model
    def _cron_create_reviews(self):
        # The cron runs as OdooBot, a library manager (security data).
        self._create_and_send()
