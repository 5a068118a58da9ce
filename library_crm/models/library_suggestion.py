# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reader service tickets (读者意见/建议).

new -> assessed -> assigned -> proposed -> awaiting approval -> approved
-> done (reply e-mailed, rating requested) -> closed. Rejection (不予采纳)
at approval by the leader; a rejection decided by a librarian at
assessment waits for a leader's confirmation (reject_pending: the reader
is told nothing, the portal shows it as under review) and the leader
confirms it (the reader is told then) or overturns it (back to
assessment); duplicates and out-of-scope suggestions are
closed at assessment with the reason sent to the reader. Every step is an
action_* method that checks the state and the user's role itself, so a
call over RPC is held to the same rules as a button: wrong role ->
AccessError, wrong state -> UserError. No context key switches a check
off: a step checks, then writes with sudo() (the author of the step stays
the caller).

What the reader wrote and what the library decided freeze as the
suggestion goes on; write() enforces it, the form only mirrors it:

- subject, description, reader (partner_id), e-mail, channel and category:
  editable while the suggestion is received or assessed (new, assessed);
- submission date: set when the suggestion is created, never edited (the
  deadlines count from it);
- proposed solution: editable until it is proposed (new .. assigned), then
  frozen for the approval;
- reply to the reader: editable until it is sent (up to approved);
- the handler and the unit: not changed on a finished suggestion.

Past these points a library manager corrects a field only with
action_amend(), which logs the old and the new value in the chatter.

Approval (提交领导批示) belongs to the library leadership (馆领导), not to
the managers (configuration): a unit's solution goes to the unit's leader
in charge (分管馆领导), who alone approves, returns or rejects it. Fallback:
a unit without a leader in charge (or a suggestion without a unit) goes to
any member of the leadership, and so does a solution the unit's leader
proposed themselves. Whoever proposed or submitted the solution (or decided
the rejection) never approves it, be they leader or administrator.

Publication ("You said, we did") shows only public_summary and
public_reply, written by a manager; both are required to publish.
"""

from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import html2plaintext, is_html_empty

from .library_rights import (
    LEADER_GROUP,
    LIBRARIAN_GROUP,
    MANAGER_GROUP,
    check_no_chatter_rating,
    check_rating_token_reader,
)

SUGGESTION_STATES = [
    ("new", "Received"),
    ("assessed", "Assessed"),
    ("assigned", "Assigned"),
    ("proposed", "Solution Proposed"),
    ("approval", "Awaiting Approval"),
    ("approved", "Approved"),
    ("reject_pending", "Rejection Pending Confirmation"),
    ("done", "Replied"),
    ("closed", "Closed"),
    ("rejected", "Not Adopted"),
]
# What the reader sees: every state but the pending rejection, which shows
# as the state it was decided from.
READER_STATES = [item for item in SUGGESTION_STATES if item[0] != "reject_pending"]
# The states in the order a suggestion goes through them.
PROGRESS_ORDER = [
    "new",
    "assessed",
    "assigned",
    "proposed",
    "approval",
    "approved",
    "done",
    "closed",
]
OPEN_STATES = (
    "new",
    "assessed",
    "assigned",
    "proposed",
    "approval",
    "approved",
    "reject_pending",
)
# The states a leader decides (approves, returns, rejects, confirms).
LEADER_STATES = ("approval", "reject_pending")
CHANNELS = [
    ("portal", "Portal"),
    ("email", "E-mail"),
    ("front_desk", "Front Desk"),
    ("phone", "Phone"),
    ("wechat", "WeChat"),
    ("box", "Suggestion Box"),
    ("survey", "Survey Comment"),
]
ASSESSMENT_RESULTS = [
    ("accepted", "Accepted"),
    ("duplicate", "Duplicate"),
    ("out_of_scope", "Out of Scope"),
    ("rejected", "Not Adopted"),
]
LOW_RATING = 2
# Written only by the workflow steps, never directly.
STEP_FIELDS = {
    "state",
    "assessment_result",
    "assessment_reason",
    "assessed_by_id",
    "assessed_date",
    "duplicate_of_id",
    "solution_by_id",
    "solution_date",
    "approved_by_id",
    "approval_date",
    "approval_comment",
    "rejection_reason",
    "first_reply_date",
    "done_date",
    "is_overdue",
}
# Writable only by library managers (and only while the state allows).
MANAGER_FIELDS = {"adopted", "is_published", "public_summary", "public_reply"}
# What the reader wrote: frozen once the suggestion is assigned.
READER_FIELDS = {"subject", "description", "partner_id", "email_from", "channel", "category_id"}
# field -> the states in which it may still be written (outside the steps).
EDITABLE_STATES = {
    **dict.fromkeys(READER_FIELDS, ("new", "assessed")),
    "submission_date": (),
    "solution": ("new", "assessed", "assigned"),
    "reply": OPEN_STATES,
    "user_id": OPEN_STATES,
    # The unit decides who approves: fixed while a leader decides.
    "unit_id": tuple(state for state in OPEN_STATES if state not in LEADER_STATES),
}
# state -> the subtype a change to it is tracked under.
STATE_SUBTYPES = {
    "approved": "library_crm.mt_suggestion_approved",
    "done": "library_crm.mt_suggestion_replied",
}
# What action_amend() may correct.
AMENDABLE_FIELDS = READER_FIELDS | {"submission_date", "solution", "reply"}


class LibrarySuggestion(models.Model):
    _name = "library.suggestion"
    _description = "Reader Suggestion"
    _inherit = [
        "portal.mixin",
        "rating.mixin",
        "mail.activity.mixin",
        "library.workflow.mixin",
    ]
    _order = "submission_date desc, id desc"
    _mail_post_access = "read"  # readers post on their own suggestion from the portal
    _primary_email = "email_from"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    subject = fields.Char(required=True, tracking=True)
    description = fields.Html(sanitize_style=True)
    partner_id = fields.Many2one(
        "res.partner", string="Reader", index=True, tracking=True, ondelete="restrict"
    )
    email_from = fields.Char(string="E-mail", help="Where replies go when there is no reader.")
    channel = fields.Selection(CHANNELS, required=True, default="front_desk")
    category_id = fields.Many2one(
        "library.suggestion.category",
        string="Suggestion Category",
        required=True,
        index=True,
        tracking=True,
    )
    department_id = fields.Many2one(
        related="partner_id.library_department_id",
        store=True,
        index="btree_not_null",
        string="Reader's Department",
    )
    reader_category = fields.Selection(related="partner_id.reader_category", store=True)
    # The working state is staff's: a rejection decided at assessment waits
    # for a leader (reject_pending) and the reader must not learn of it before
    # the leader confirms, not even over RPC. Readers read reader_state.
    state = fields.Selection(
        SUGGESTION_STATES,
        default="new",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        group_expand="_read_group_expand_states",
        groups=LIBRARIAN_GROUP,
    )
    reader_state = fields.Selection(
        READER_STATES,
        string="Status for the Reader",
        compute="_compute_reader_state",
        store=True,
        help="Where the suggestion stands as the reader sees it: a rejection waiting for "
        "a leader's confirmation still shows as received or assessed.",
    )
    is_open = fields.Boolean(compute="_compute_is_open", store=True)
    submission_date = fields.Datetime(
        required=True, default=fields.Datetime.now, readonly=True, copy=False
    )

    assessment_result = fields.Selection(
        ASSESSMENT_RESULTS, readonly=True, copy=False, tracking=True
    )
    assessment_reason = fields.Text(readonly=True, copy=False)
    # Internal facts (who handles, the solution before it is replied, the
    # approval, the SLA figures) are for library staff: a reader reads
    # their suggestion, its reply and its reply deadline, nothing more.
    assessed_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, groups=LIBRARIAN_GROUP
    )
    assessed_date = fields.Datetime(readonly=True, copy=False, groups=LIBRARIAN_GROUP)
    duplicate_of_id = fields.Many2one(
        "library.suggestion",
        string="Duplicate of",
        readonly=True,
        copy=False,
        groups=LIBRARIAN_GROUP,
    )

    unit_id = fields.Many2one(
        "library.unit",
        string="Responsible Unit",
        index=True,
        tracking=True,
        check_company=True,
        groups=LIBRARIAN_GROUP,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Handler",
        index="btree_not_null",
        tracking=True,
        domain="[('id', 'in', unit_staff_ids)]",
        groups=LIBRARIAN_GROUP,
    )
    unit_staff_ids = fields.Many2many(
        "res.users", compute="_compute_unit_staff_ids", groups=LIBRARIAN_GROUP
    )
    solution = fields.Html(string="Proposed Solution", groups=LIBRARIAN_GROUP)
    solution_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, groups=LIBRARIAN_GROUP
    )
    solution_date = fields.Datetime(readonly=True, copy=False, groups=LIBRARIAN_GROUP)
    approval_ids = fields.One2many(
        "library.suggestion.approval",
        "suggestion_id",
        string="Approval Chain",
        readonly=True,
        groups=LIBRARIAN_GROUP,
    )
    approved_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, groups=LIBRARIAN_GROUP
    )
    approval_date = fields.Datetime(readonly=True, copy=False, groups=LIBRARIAN_GROUP)
    approval_comment = fields.Text(readonly=True, copy=False, groups=LIBRARIAN_GROUP)
    rejection_reason = fields.Text(
        string="Proposed Rejection Reason",
        readonly=True,
        copy=False,
        help="The reason a librarian gave for not adopting the suggestion at assessment; "
        "sent to the reader once a leader confirms the rejection.",
        groups=LIBRARIAN_GROUP,
    )
    approver_ids = fields.Many2many(
        "res.users",
        string="Approvers",
        compute="_compute_approver_ids",
        help="Who decides this suggestion now: the leader in charge of its unit, or (no "
        "leader in charge, or the leader proposed the solution) the library leadership.",
        groups=LIBRARIAN_GROUP,
    )
    can_decide = fields.Boolean(compute="_compute_approver_ids", groups=LIBRARIAN_GROUP)
    reply = fields.Html(string="Reply to the Reader")
    first_reply_date = fields.Datetime(readonly=True, copy=False)
    done_date = fields.Datetime(string="Replied on", readonly=True, copy=False)
    adopted = fields.Boolean(
        tracking=True,
        copy=False,
        help="The library adopted the suggestion: the reader earns points.",
    )
    survey_user_input_id = fields.Many2one(
        "survey.user_input",
        string="Survey Response",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The survey answers whose comment became this suggestion.",
        groups=LIBRARIAN_GROUP,
    )
    is_published = fields.Boolean(
        string="Published",
        copy=False,
        tracking=True,
        help="Shown, anonymised, on the public page 'You said, we did': only the public "
        "summary and the public reply, never what the reader wrote.",
    )
    public_summary = fields.Text(
        copy=False,
        tracking=True,
        help="What the reader asked for, in the library's words, for the public page. "
        "Written by a library manager; needed to publish.",
    )
    public_reply = fields.Text(
        copy=False,
        tracking=True,
        help="What the library did, for the public page. Written by a library manager; "
        "needed to publish.",
    )

    reply_deadline = fields.Datetime(compute="_compute_deadlines", store=True)
    resolution_deadline = fields.Datetime(
        compute="_compute_deadlines", store=True, groups=LIBRARIAN_GROUP
    )
    is_overdue = fields.Boolean(
        string="Overdue",
        readonly=True,
        copy=False,
        index=True,
        help="A deadline was missed.",
        groups=LIBRARIAN_GROUP,
    )
    overdue_share = fields.Float(
        string="Overdue (%)",
        compute="_compute_durations",
        store=True,
        aggregator="avg",
        groups=LIBRARIAN_GROUP,
    )
    reply_days = fields.Float(
        string="Days to First Reply",
        compute="_compute_durations",
        store=True,
        aggregator="avg",
        groups=LIBRARIAN_GROUP,
    )
    done_days = fields.Float(
        string="Days to Reply",
        compute="_compute_durations",
        store=True,
        aggregator="avg",
        groups=LIBRARIAN_GROUP,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    color = fields.Integer(compute="_compute_color", groups=LIBRARIAN_GROUP)

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    def _read_group_expand_states(self, states, domain):
        """Kanban columns: every open state in workflow order, then the
        closed ones that hold records."""
        return [
            code for code, _label in SUGGESTION_STATES if code in OPEN_STATES or code in states
        ]

    @api.depends("state", "assessment_result")
    def _compute_reader_state(self):
        for suggestion in self:
            if suggestion.state == "reject_pending":
                suggestion.reader_state = "assessed" if suggestion.assessment_result else "new"
            else:
                suggestion.reader_state = suggestion.state

    @api.depends("state")
    def _compute_is_open(self):
        for suggestion in self:
            suggestion.is_open = suggestion.state in OPEN_STATES

    @api.depends("unit_id.member_ids", "unit_id.manager_id")
    def _compute_unit_staff_ids(self):
        for suggestion in self:
            suggestion.unit_staff_ids = suggestion.unit_id._staff()

    @api.depends(
        "state", "unit_id.leader_id", "category_id.default_unit_id.leader_id", "solution_by_id"
    )
    @api.depends_context("uid")
    def _compute_approver_ids(self):
        for suggestion in self:
            if suggestion.state in LEADER_STATES:
                suggestion.approver_ids = suggestion._approvers()
            else:
                suggestion.approver_ids = False
            suggestion.can_decide = self.env.user in suggestion.approver_ids

    @api.depends("submission_date", "category_id.reply_days", "category_id.resolution_days")
    def _compute_deadlines(self):
        for suggestion in self:
            category = suggestion.category_id
            if not (category and suggestion.submission_date):
                suggestion.reply_deadline = suggestion.resolution_deadline = False
                continue
            suggestion.reply_deadline = suggestion._working_deadline(category.reply_days)
            suggestion.resolution_deadline = suggestion._working_deadline(category.resolution_days)

    def _working_deadline(self, days):
        """End of the days-th working day after the submission day, in the
        company's working calendar: weekends and public holidays do not
        count."""
        calendar = self.company_id.resource_calendar_id or self.env.company.resource_calendar_id
        tz = pytz.timezone(calendar.tz or "UTC")
        submitted = pytz.utc.localize(self.submission_date).astimezone(tz)
        next_day = tz.localize(datetime.combine(submitted.date() + timedelta(days=1), time.min))
        last_day = calendar.plan_days(days, next_day, compute_leaves=True)
        if not last_day:
            return False
        end = tz.localize(datetime.combine(last_day.astimezone(tz).date(), time(23, 59, 59)))
        return end.astimezone(pytz.utc).replace(tzinfo=None)

    @api.depends("submission_date", "first_reply_date", "done_date", "is_overdue")
    def _compute_durations(self):
        day = 86400.0
        for suggestion in self:
            start = suggestion.submission_date
            reply, done = suggestion.first_reply_date, suggestion.done_date
            suggestion.reply_days = (reply - start).total_seconds() / day if reply else 0.0
            suggestion.done_days = (done - start).total_seconds() / day if done else 0.0
            suggestion.overdue_share = 100.0 if suggestion.is_overdue else 0.0

    @api.depends("is_overdue", "state")
    def _compute_color(self):
        for suggestion in self:
            suggestion.color = 1 if suggestion.is_overdue and suggestion.is_open else 0

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for suggestion in self:
            suggestion.access_url = f"/my/suggestions/{suggestion.id}"
        return res

    # ------------------------------------------------------------------
    # CRUD and mail gateway
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # A new suggestion starts empty: only its defaults may be given.
            self._check_step_fields(
                {k: v for k, v in vals.items() if v and (k, v) != ("state", "new")}
            )
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("library.suggestion") or "/"
        suggestions = super().create(vals_list)
        for suggestion in suggestions:
            if suggestion.partner_id:
                suggestion.message_subscribe(partner_ids=suggestion.partner_id.ids)
            suggestion._send_template("library_crm.mail_template_suggestion_acknowledgement")
        suggestions.filtered("adopted")._award_points()
        return suggestions

    def _check_step_fields(self, vals):
        """The workflow's fields move only through the action_* steps (which
        write as superuser after their own checks); adoption and publication
        are the managers' decisions. No context key bypasses this."""
        if self.env.su:
            return
        if STEP_FIELDS & set(vals):
            raise UserError(
                self.env._(
                    "The state and decisions of a suggestion change only through its steps."
                )
            )
        if MANAGER_FIELDS & set(vals):
            self._check_role(MANAGER_GROUP)

    def _check_frozen_fields(self, vals):
        """What was assessed, proposed, approved or replied does not change
        afterwards, except through action_amend()."""
        if self.env.su:
            return
        labels = dict(self._fields["state"]._description_selection(self.env))
        for suggestion in self:
            for name, states in EDITABLE_STATES.items():
                if name not in vals or suggestion.state in states:
                    continue
                field = self._fields[name]
                new_value = field.convert_to_record(
                    field.convert_to_cache(vals[name], suggestion), suggestion
                )
                if new_value == suggestion[name]:
                    continue  # an unchanged value is no change
                if name not in AMENDABLE_FIELDS:
                    raise UserError(
                        self.env._(
                            "%(ref)s is %(state)s: %(field)s can no longer be changed.",
                            ref=suggestion.name,
                            state=labels[suggestion.state],
                            field=field._description_string(self.env),
                        )
                    )
                raise UserError(
                    self.env._(
                        "%(ref)s is %(state)s: %(field)s can no longer be changed. "
                        "A library manager can correct it with Amend.",
                        ref=suggestion.name,
                        state=labels[suggestion.state],
                        field=field._description_string(self.env),
                    )
                )

    def _check_handler_change(self, vals):
        """Who may set the handler (user_id).

        Until the suggestion is assigned (received, assessed), any librarian
        chooses or changes the handler: that is part of the assessment.
        From the assignment on, the suggestion is its handler's work: a
        librarian may take one that has no handler, or pass on their own;
        moving a colleague's suggestion to someone else (a hand-over) is a
        library manager's decision.
        """
        if self.env.su or "user_id" not in vals or self.env.user.has_group(MANAGER_GROUP):
            return
        new_user = vals["user_id"] or False
        for suggestion in self:
            current = suggestion.user_id
            if suggestion.state in ("new", "assessed") or current.id == new_user:
                continue
            if current == self.env.user or (not current and new_user == self.env.uid):
                continue
            if not current:
                raise AccessError(
                    self.env._(
                        "%(ref)s has no handler: a librarian can take it; only a library "
                        "manager gives it to someone else.",
                        ref=suggestion.name,
                    )
                )
            raise AccessError(
                self.env._(
                    "%(ref)s is handled by %(user)s: only a library manager can hand it "
                    "over to someone else.",
                    ref=suggestion.name,
                    user=current.name,
                )
            )

    def write(self, vals):
        self._check_step_fields(vals)
        self._check_frozen_fields(vals)
        self._check_handler_change(vals)
        old_readers = {suggestion: suggestion.partner_id for suggestion in self}
        unadopted = self.filtered("adopted") if "adopted" in vals and not vals["adopted"] else None
        result = super().write(vals)
        if "partner_id" in vals:
            self._follow_reader_change(old_readers)
        if vals.get("adopted"):
            self._award_points()
        if unadopted:
            unadopted._reverse_points()
        return result

    def _follow_reader_change(self, old_readers):
        """The reader follows their suggestion; a former reader stops
        following it."""
        for suggestion, old in old_readers.items():
            if old == suggestion.partner_id:
                continue
            if old:
                suggestion.sudo().message_unsubscribe(partner_ids=old.ids)
            if suggestion.partner_id:
                suggestion.sudo().message_subscribe(partner_ids=suggestion.partner_id.ids)

    @api.constrains("is_published", "public_summary", "public_reply", "state")
    def _check_publication(self):
        for suggestion in self.filtered("is_published"):
            if suggestion.state not in ("done", "closed"):
                raise ValidationError(
                    self.env._(
                        "%(ref)s: only a suggestion that was replied to can be published.",
                        ref=suggestion.name,
                    )
                )
            if not (
                (suggestion.public_summary or "").strip()
                and (suggestion.public_reply or "").strip()
            ):
                raise ValidationError(
                    self.env._(
                        "%(ref)s: write the public summary and the public reply before "
                        "publishing it. The reader's own words are never published.",
                        ref=suggestion.name,
                    )
                )

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A message to the suggestions alias: linked to the reader with
        that e-mail address, tracked even when there is none."""
        values = dict(custom_values or {})
        author = self.env["res.partner"].browse(msg_dict.get("author_id"))
        if not author and msg_dict.get("email_from"):
            author = self._partner_find_from_emails_single(
                [msg_dict["email_from"]], no_create=True
            )
        values.setdefault("name", "/")
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("description", msg_dict.get("body"))
        values.setdefault("channel", "email")
        values.setdefault("partner_id", author.id or False)
        if not values.get("category_id"):
            values["category_id"] = self.env["library.suggestion.category"].search([], limit=1).id
        return super().message_new(msg_dict, custom_values=values)

    def _message_post_after_hook(self, message, msg_vals):
        # A public answer by library staff counts as the first reply. The
        # notices of _send_template are notifications, not comments.
        if (
            not self.first_reply_date
            and message.message_type == "comment"
            and message.subtype_id == self.env.ref("mail.mt_comment")
            and message.author_id.user_ids.filtered(lambda u: u._is_internal())
        ):
            self.sudo().first_reply_date = fields.Datetime.now()
        return super()._message_post_after_hook(message, msg_vals)

    def _track_subtype(self, init_values):
        """Approval and reply are tracked under their own subtypes, so staff
        followers choose what they hear of."""
        self.ensure_one()
        if "state" in init_values and self.state in STATE_SUBTYPES:
            return self.env.ref(STATE_SUBTYPES[self.state])
        return super()._track_subtype(init_values)

    def _send_template(self, xmlid):
        """Post a reader-facing message from a template, when the reader
        can be reached."""
        template = self.env.ref(xmlid, raise_if_not_found=False)
        if not template or not (self.partner_id.email or self.email_from):
            return
        # Rendered by the server (the author stays the current user), and
        # without the reader's rating link: the chatter is read by staff.
        self.sudo().with_context(library_no_rating_token=True).message_post_with_source(
            template,
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------

    def _check_unit_staff(self):
        """Unit members (or its manager, or a library manager) work on the
        unit's suggestions."""
        if self.env.user.has_group(MANAGER_GROUP):
            return
        for suggestion in self:
            if self.env.user not in suggestion.unit_id.sudo()._staff():
                raise AccessError(
                    self.env._(
                        "Only members of %(unit)s can work on %(ref)s.",
                        unit=suggestion.unit_id.display_name or self.env._("the responsible unit"),
                        ref=suggestion.name,
                    )
                )

    def _approval_unit(self):
        """The unit whose leader decides: the responsible unit, else (a
        suggestion rejected before it has one) its category's unit."""
        return (self.unit_id or self.category_id.default_unit_id).sudo()

    def _proposers(self):
        """Who proposed what the leader decides: the solution's author and
        whoever submitted it, or the librarian who decided the rejection.
        They never decide it themselves."""
        self.ensure_one()
        if self.state == "reject_pending":
            return self.sudo().assessed_by_id
        submitted = self.sudo().approval_ids.filtered(lambda a: a.decision == "submitted")
        return self.sudo().solution_by_id | submitted[-1:].user_id

    def _approvers(self):
        """The leader in charge of the unit; fallback (documented): any
        member of the library leadership when the unit has no leader in
        charge, or when the leader in charge is the proposer. Never a
        proposer."""
        self.ensure_one()
        unit = self._approval_unit()
        proposers = self._proposers()
        approvers = unit._approvers(self.company_id) - proposers
        if not approvers and unit.leader_id:
            approvers = unit.browse()._approvers(self.company_id) - proposers
        return approvers

    def _check_approver(self):
        """AccessError unless the caller is a leader, this suggestion's
        approver and not its proposer. Checked for the real user even under
        sudo(): only server code as OdooBot passes."""
        self._check_role(LEADER_GROUP)
        if self.env.uid == SUPERUSER_ID:
            return
        for suggestion in self:
            if self.env.user in suggestion._proposers():
                raise AccessError(
                    self.env._(
                        "%(ref)s: you proposed this, so you cannot decide it. "
                        "Another library leader approves it.",
                        ref=suggestion.name,
                    )
                )
            if self.env.user not in suggestion._approvers():
                unit = suggestion._approval_unit()
                raise AccessError(
                    self.env._(
                        "%(ref)s goes to %(leader)s, the leader in charge of %(unit)s: only "
                        "they can decide it.",
                        ref=suggestion.name,
                        leader=unit.leader_id.name,
                        unit=unit.display_name,
                    )
                )

    def _schedule_approval(self, summary):
        """The approval activity, for the unit's leader in charge (fallback:
        the first member of the leadership who may decide)."""
        for suggestion in self:
            approvers = suggestion._approvers()
            if not approvers:
                raise UserError(
                    self.env._(
                        "%(ref)s: no library leader can decide it. Ask a library manager to "
                        "give %(unit)s a leader in charge.",
                        ref=suggestion.name,
                        unit=suggestion._approval_unit().display_name
                        or self.env._("the responsible unit"),
                    )
                )
            suggestion.sudo().activity_schedule(
                "library_crm.mail_activity_suggestion_approval",
                summary=summary % {"ref": suggestion.name},
                user_id=approvers.sorted("id")[:1].id,
            )

    def _close_approval_activity(self):
        self.sudo().activity_unlink(["library_crm.mail_activity_suggestion_approval"])

    def _require(self, value, message):
        if not value or (isinstance(value, str) and is_html_empty(value)):
            raise UserError(message)

    # ------------------------------------------------------------------
    # Workflow
    # ------------------------------------------------------------------

    def action_accept(self):
        """判定: accepted. The category's unit is proposed."""
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("new")
        for suggestion in self:
            # Categories are shared; a unit belongs to one library.
            default_unit = suggestion.category_id.sudo().default_unit_id.filtered(
                lambda unit, s=suggestion: unit.company_id == s.company_id
            )
            suggestion._write_step(
                {
                    "state": "assessed",
                    "assessment_result": "accepted",
                    "assessed_by_id": self.env.uid,
                    "assessed_date": fields.Datetime.now(),
                    "unit_id": suggestion.unit_id.id or default_unit.id,
                }
            )
        return True

    def action_close_as(self, result, reason, duplicate_of_id=False):
        """判定: duplicate or out of scope; closed, the reason goes to the
        reader."""
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("new")
        if result not in ("duplicate", "out_of_scope"):
            raise UserError(
                self.env._("A suggestion is closed at assessment as a duplicate or out of scope.")
            )
        self._require(reason, self.env._("Give the reason, it is sent to the reader."))
        if result == "duplicate" and not duplicate_of_id:
            raise UserError(self.env._("Choose the suggestion this one duplicates."))
        now = fields.Datetime.now()
        self._write_step(
            {
                "state": "closed",
                "assessment_result": result,
                "assessment_reason": reason,
                "duplicate_of_id": duplicate_of_id,
                "assessed_by_id": self.env.uid,
                "assessed_date": now,
                "reply": Markup("<p>%s</p>") % reason,
                "done_date": now,
            }
        )
        self._stamp_first_reply()
        for suggestion in self:
            suggestion._send_template("library_crm.mail_template_suggestion_closed")
        return True

    def action_reject(self, reason):
        """不予采纳. At approval the leader decides it and the reader is told.
        At assessment a librarian decides it, but it waits for a leader's
        confirmation (reject_pending): the reader is told nothing yet."""
        self._check_role(LIBRARIAN_GROUP)
        self._require(reason, self.env._("Give the reason, it is sent to the reader."))
        for suggestion in self:
            if suggestion.state == "approval":
                suggestion._check_approver()
                suggestion._add_approval_step("rejected", reason)
                suggestion._close_approval_activity()
                suggestion._finish_rejection(reason)
                continue
            suggestion._check_state("new", "assessed")
            suggestion._write_step(
                {
                    "state": "reject_pending",
                    "rejection_reason": reason,
                    "assessed_by_id": self.env.uid,
                    "assessed_date": fields.Datetime.now(),
                }
            )
            suggestion._schedule_approval(self.env._("Confirm the rejection of %(ref)s"))
        return True

    def _finish_rejection(self, reason):
        """Not adopted: the reason goes to the reader."""
        self._write_step(
            {
                "state": "rejected",
                "reply": Markup("<p>%s</p>") % reason,
                "done_date": fields.Datetime.now(),
            }
        )
        self._stamp_first_reply()
        self._send_template("library_crm.mail_template_suggestion_closed")

    def action_confirm_rejection(self, comment=False):
        """The leader confirms a rejection decided at assessment: the reader
        is told now."""
        self._check_role(LEADER_GROUP)
        self._check_state("reject_pending")
        self._check_approver()
        for suggestion in self:
            reason = suggestion.sudo().rejection_reason
            suggestion._add_approval_step("rejection_confirmed", comment)
            suggestion._close_approval_activity()
            suggestion._write_step(
                {
                    "assessment_result": "rejected",
                    "assessment_reason": reason,
                    "approved_by_id": self.env.uid,
                    "approval_date": fields.Datetime.now(),
                    "approval_comment": comment or False,
                }
            )
            suggestion._finish_rejection(reason)
        return True

    def action_overturn_rejection(self, comment):
        """The leader overturns a rejection decided at assessment: back to
        assessment, the librarian who decided it hears why."""
        self._check_role(LEADER_GROUP)
        self._check_state("reject_pending")
        self._check_approver()
        self._require(comment, self.env._("Say why the rejection is overturned."))
        for suggestion in self:
            librarian = suggestion.sudo().assessed_by_id
            suggestion._add_approval_step("rejection_overturned", comment)
            suggestion._close_approval_activity()
            suggestion._write_step(
                {
                    "state": "assessed" if suggestion.assessment_result else "new",
                    "rejection_reason": False,
                }
            )
            suggestion.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "Rejection overturned by %(user)s: assess %(ref)s again",
                    user=self.env.user.name,
                    ref=suggestion.name,
                ),
                note=comment,
                user_id=librarian.id or self.env.uid,
            )
        return True

    def action_assign(self):
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("assessed", "assigned")
        for suggestion in self:
            suggestion._require(
                suggestion.unit_id, self.env._("Choose the responsible unit first.")
            )
            suggestion._require(suggestion.user_id, self.env._("Choose the handler first."))
            if suggestion.user_id not in suggestion.unit_id._staff():
                raise UserError(
                    self.env._(
                        "%(user)s is not a member of %(unit)s.",
                        user=suggestion.user_id.name,
                        unit=suggestion.unit_id.name,
                    )
                )
            suggestion._write_step({"state": "assigned"})
            suggestion.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.to_date(suggestion.resolution_deadline)
                or fields.Date.context_today(suggestion),
                summary=self.env._("Propose a solution for %(ref)s", ref=suggestion.name),
                user_id=suggestion.user_id.id,
            )
        return True

    def action_propose(self):
        """处理方案: the unit proposes a solution."""
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("assigned")
        self._check_unit_staff()
        for suggestion in self:
            suggestion._require(
                suggestion.solution, self.env._("Write the proposed solution first.")
            )
        self._write_step(
            {
                "state": "proposed",
                "solution_by_id": self.env.uid,
                "solution_date": fields.Datetime.now(),
            }
        )
        self.activity_feedback(["mail.mail_activity_data_todo"], user_id=self.env.uid)
        return True

    def action_submit_approval(self):
        """提交领导批示."""
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("proposed")
        self._check_unit_staff()
        for suggestion in self:
            suggestion._add_approval_step("submitted", False)
        self._write_step({"state": "approval"})
        self._schedule_approval(self.env._("Approve the solution of %(ref)s"))
        return True

    def action_approve(self, comment=False, adopted=True):
        """The unit's leader in charge approves (never the proposer)."""
        self._check_role(LEADER_GROUP)
        self._check_state("approval")
        self._check_approver()
        self._close_approval_activity()
        for suggestion in self:
            suggestion._add_approval_step("approved", comment)
        self._write_step(
            {
                "state": "approved",
                "approved_by_id": self.env.uid,
                "approval_date": fields.Datetime.now(),
                "approval_comment": comment,
                "adopted": adopted,
            }
        )
        return True

    def action_return(self, comment):
        """Back to the handler with the leader's comment."""
        self._check_role(LEADER_GROUP)
        self._check_state("approval")
        self._check_approver()
        self._require(comment, self.env._("Tell the handler what to change."))
        self._close_approval_activity()
        for suggestion in self:
            suggestion._add_approval_step("returned", comment)
            suggestion.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "Returned by %(user)s: revise the solution", user=self.env.user.name
                ),
                note=comment,
                user_id=suggestion.user_id.id or self.env.uid,
            )
        self._write_step({"state": "assigned"})
        return True

    def action_done(self):
        """The reply goes to the reader, with a rating request; any
        librarian sends it."""
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("approved")
        for suggestion in self:
            suggestion._require(
                suggestion.reply, self.env._("Write the reply to the reader first.")
            )
        self._write_step({"state": "done", "done_date": fields.Datetime.now()})
        self._stamp_first_reply()
        for suggestion in self:
            suggestion._send_template("library_crm.mail_template_suggestion_reply")
        return True

    def action_close(self):
        self._check_role(LIBRARIAN_GROUP)
        self._check_state("done")
        self._write_step({"state": "closed"})
        return True

    def action_amend(self, values, reason):
        """A library manager corrects what is frozen (what the reader wrote,
        the submission date, the solution, the reply): the old and the new
        values and the reason are logged in the chatter, under the
        manager's name."""
        self._check_role(MANAGER_GROUP)
        if not values:
            raise UserError(self.env._("Change at least one field to amend the suggestion."))
        unknown = set(values) - AMENDABLE_FIELDS
        if unknown:
            raise UserError(
                self.env._(
                    "Amend corrects only: %(fields)s.",
                    fields=", ".join(
                        self._fields[name]._description_string(self.env)
                        for name in sorted(AMENDABLE_FIELDS)
                    ),
                )
            )
        self._require(reason, self.env._("Say why the suggestion is amended."))
        if "solution" in values:
            # What the leader decides is what the unit proposed: an amended
            # solution would be approved as the amender's, by the amender
            # perhaps. The leader returns it to the handler instead.
            awaiting = self.filtered(lambda s: s.state == "approval")[:1]
            if awaiting:
                raise UserError(
                    self.env._(
                        "%(ref)s awaits the leader's decision: its solution is not amended "
                        "now. The leader returns it to the handler to change it.",
                        ref=awaiting.name,
                    )
                )
        for suggestion in self:
            lines = []
            for name in sorted(values):
                field = self._fields[name]
                before = suggestion._amend_display(name, suggestion[name])
                after = suggestion._amend_display(
                    name,
                    field.convert_to_record(
                        field.convert_to_cache(values[name], suggestion), suggestion
                    ),
                )
                if before != after:
                    lines.append(
                        Markup("<li>%s: %s &#8594; %s</li>")
                        % (field._description_string(self.env), before, after)
                    )
            if not lines:
                continue
            suggestion.sudo().write(values)
            suggestion.message_post(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (self.env._("Amended: %(reason)s", reason=reason), Markup().join(lines)),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def _amend_display(self, name, value):
        field = self._fields[name]
        if field.type == "many2one":
            return value.display_name or "-"
        if field.type == "html":
            return html2plaintext(value or "").strip() or "-"
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value) or "-"
        if field.type == "datetime":
            return fields.Datetime.to_string(value) if value else "-"
        return value or "-"

    def _add_approval_step(self, decision, comment):
        self.env["library.suggestion.approval"].sudo().create(
            {
                "suggestion_id": self.id,
                "user_id": self.env.uid,
                "decision": decision,
                "comment": comment or False,
            }
        )

    def _stamp_first_reply(self):
        self.filtered(lambda s: not s.first_reply_date)._write_step(
            {"first_reply_date": fields.Datetime.now()}
        )

    # ------------------------------------------------------------------
    # Points, rating, SLA
    # ------------------------------------------------------------------

    def _award_points(self):
        """Adopted suggestions earn the configured points, once."""
        Transaction = self.env["library.points.transaction"]
        for suggestion in self.filtered(lambda s: s.adopted and s.partner_id):
            Transaction._award_once(
                suggestion.partner_id,
                "suggestion_adopted",
                suggestion,
                suggestion.name,
                "points_suggestion_adopted",
            )

    def _reverse_points(self):
        """A suggestion no longer adopted takes back the points it earned,
        once; points the reader already spent stay spent, and the suggestion
        says so."""
        Transaction = self.env["library.points.transaction"]
        for suggestion in self.filtered("partner_id"):
            reversed_points, earned = Transaction._reverse_award(
                suggestion.partner_id, "suggestion_adopted", suggestion, suggestion.name
            )
            if reversed_points < earned:
                suggestion.sudo().message_post(
                    body=self.env._(
                        "No longer adopted: %(reversed)s of the %(earned)s points it earned "
                        "were taken back; %(reader)s already spent the rest.",
                        reversed=reversed_points,
                        earned=earned,
                        reader=suggestion.partner_id.display_name,
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    def _rating_get_access_token(self, partner=None):
        if self.env.context.get("library_no_rating_token"):
            # A message posted on the suggestion (staff read it) carries no
            # rating link, whatever its template says.
            return ""
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
        """The reader rates through the link they received: Odoo's rating
        route applies it as superuser. No caller rates a suggestion over RPC,
        whatever their rights."""
        if not self.env.su:
            raise AccessError(
                self.env._("A suggestion is rated by its reader, through the link they received.")
            )
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        self.env["library.satisfaction"].sudo()._update_readers(self.partner_id)
        if rating.rating <= LOW_RATING:
            manager = self._follow_up_manager()
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Low rating (%(rate)s/5): contact the reader", rate=int(rate)),
                note=feedback or False,
                user_id=manager.id,
            )
        return rating

    def _follow_up_manager(self):
        """Who answers for this suggestion: the unit's manager, else the
        manager who approved it, else any library manager."""
        return (
            self.unit_id.manager_id
            or self.approved_by_id
            or self.env.ref(MANAGER_GROUP)
            .sudo()
            .all_user_ids.filtered(lambda u: u._is_internal())[:1]
        )

    def action_view_ratings(self):
        self.ensure_one()
        self._check_role(LIBRARIAN_GROUP)
        action = self.env["ir.actions.act_window"]._for_xml_id("rating.rating_rating_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        return action

    def _rating_get_operator(self):
        return self.user_id.partner_id

    @api.model
    def _cron_check_overdue(self):
        """Mark suggestions whose deadline just passed; the unit manager
        gets one activity per newly overdue suggestion."""
        now = fields.Datetime.now()
        late = self.sudo().search(
            Domain("is_overdue", "=", False)
            & (
                (Domain("first_reply_date", "=", False) & Domain("reply_deadline", "<", now))
                | (Domain("is_open", "=", True) & Domain("resolution_deadline", "<", now))
            )
        )
        late.is_overdue = True
        for suggestion in late:
            manager = suggestion._follow_up_manager()
            if manager:
                suggestion.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Overdue: %(ref)s", ref=suggestion.name),
                    note=html2plaintext(suggestion.subject or ""),
                    user_id=manager.id,
                )
        return len(late)

    # ------------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------------

    def _get_report_base_filename(self):
        return self.env._("Suggestion %(ref)s", ref=self.name)

    def _portal_progress(self):
        """The reader's view of where the suggestion stands: (step, reached)."""
        # reader_state: nothing of a pending rejection shows.
        if self.reader_state in PROGRESS_ORDER and self.assessment_result in (False, "accepted"):
            position = PROGRESS_ORDER.index(self.reader_state)
            reached = set(PROGRESS_ORDER[: position + 1])
        else:
            # Closed at assessment or not adopted: assessed and answered.
            reached = {"new", "assessed", "done"}
        return [
            (self.env._("Received"), "new" in reached),
            (self.env._("Assessed"), "assessed" in reached),
            (self.env._("Being handled"), "assigned" in reached),
            (self.env._("Approved"), "approved" in reached),
            (self.env._("Replied"), "done" in reached),
        ]

    def _portal_state_label(self):
        """The state as the reader sees it: a rejection waiting for the
        leader's confirmation shows as the state it was decided from."""
        labels = dict(self._fields["reader_state"]._description_selection(self.env))
        return labels[self.reader_state]

    def _anonymised_reader(self):
        """How the public page names the reader."""
        labels = dict(self._fields["reader_category"]._description_selection(self.env))
        return labels.get(self.reader_category) or self.env._("A reader")
