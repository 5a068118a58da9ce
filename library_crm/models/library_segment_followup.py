# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .library_segment_history import READER_SEGMENTS


class LibrarySegmentFollowup(models.Model):
    """Customised service per segment: what to do when a reader moves."""

    _name = "library.segment.followup"
    _description = "Segment Transition Follow-up"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    trigger = fields.Selection(
        [("segment", "Reader enters a segment"), ("core", "Reader becomes a core reader")],
        required=True,
        default="segment",
    )
    to_segment = fields.Selection(READER_SEGMENTS, string="Segment")
    assign_to = fields.Selection(
        [("responsible", "Responsible librarian"), ("liaison", "Department's liaison librarian")],
        required=True,
        default="responsible",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        required=True,
        default=lambda self: self.env.ref(
            "library_crm.mail_activity_type_reader_followup", raise_if_not_found=False
        ),
    )
    summary = fields.Char(translate=True)
    note = fields.Html(translate=True)
    deadline_days = fields.Integer(default=7)
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty to share it with every library of the database.",
    )

    @api.constrains("trigger", "to_segment")
    def _check_segment(self):
        for rule in self:
            if rule.trigger == "segment" and not rule.to_segment:
                raise ValidationError(self.env._("Choose the segment that triggers it."))

    def _change_key(self):
        """The (change, to) of the transitions this rule follows up."""
        self.ensure_one()
        if self.trigger == "core":
            return ("core", True)
        return ("segment", self.to_segment)

    def _partners_to_follow(self, partner_ids):
        """Those of these readers who have someone to assign the activity to,
        filtered in SQL: a night after new thresholds can bring tens of
        thousands."""
        self.ensure_one()
        assignee = (
            "library_department_id.liaison_user_ids"
            if self.assign_to == "liaison"
            else "responsible_librarian_id"
        )
        return (
            self.env["res.partner"]
            .sudo()
            .search([("id", "in", list(partner_ids)), (assignee, "!=", False)])
        )

    def _schedule(self, partner):
        self.ensure_one()
        if self.assign_to == "liaison":
            user = partner.library_department_id.liaison_user_ids[:1]
        else:
            user = partner.responsible_librarian_id
        if not user:
            return
        partner.activity_schedule(
            activity_type_id=self.activity_type_id.id,
            summary=self.summary or self.name,
            note=self.note,
            user_id=user.id,
            date_deadline=fields.Date.add(
                fields.Date.context_today(self), days=self.deadline_days
            ),
        )
