# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import math
import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.library_rights import check_manager
from ..models.library_segment_history import READER_SEGMENTS
from ..models.res_partner import READER_CATEGORIES


class LibrarySurveyInvitation(models.TransientModel):
    """Invite a sample of readers to a survey, chosen by segment, department,
    category or a list selection, without over-surveying anyone. Sending goes
    through Odoo's own survey invitation."""

    _name = "library.survey.invitation"
    _description = "Invite Readers to a Survey"

    survey_id = fields.Many2one(
        "survey.survey",
        required=True,
        default=lambda self: self.env.ref(
            "library_crm.survey_reader_satisfaction", raise_if_not_found=False
        ),
    )
    reader_segment = fields.Selection(READER_SEGMENTS, string="Segment")
    department_ids = fields.Many2many("library.department", string="Departments")
    reader_category = fields.Selection(READER_CATEGORIES)
    partner_ids = fields.Many2many(
        "res.partner",
        string="Selected Readers",
        domain=[("is_reader", "=", True)],
        help="Only these readers (for example those selected in the Readers list).",
    )
    sample_percent = fields.Integer(
        string="Sample (%)",
        default=100,
        help="Share of the matching readers to invite, at random.",
    )
    cap_days = fields.Integer(
        string="Not Invited in the Last (days)",
        default=90,
        help="Readers invited to any survey in this period are left out.",
    )
    deadline = fields.Datetime(string="Answer Deadline")
    matching_count = fields.Integer(compute="_compute_counts")
    recently_invited_count = fields.Integer(compute="_compute_counts")
    invite_count = fields.Integer(string="Will Be Invited", compute="_compute_counts")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner":
            readers = self.env["res.partner"].browse(self.env.context.get("active_ids", []))
            values["partner_ids"] = [(6, 0, readers.filtered("is_reader").ids)]
        return values

    @api.constrains("sample_percent", "cap_days")
    def _check_sampling(self):
        for invitation in self:
            if not 0 < invitation.sample_percent <= 100 or invitation.cap_days < 0:
                raise UserError(
                    self.env._("The sample is 1-100% and the period is zero days or more.")
                )

    def _reader_domain(self):
        domain = [("is_reader", "=", True), ("email", "!=", False), ("consent_surveys", "=", True)]
        if self.partner_ids:
            domain.append(("id", "in", self.partner_ids.ids))
        if self.reader_segment:
            domain.append(("reader_segment", "=", self.reader_segment))
        if self.department_ids:
            domain.append(("library_department_id", "child_of", self.department_ids.ids))
        if self.reader_category:
            domain.append(("reader_category", "=", self.reader_category))
        return domain

    def _split_candidates(self):
        """Matching readers, and those of them invited too recently."""
        matching = self.env["res.partner"].search(self._reader_domain())
        since = fields.Datetime.now() - timedelta(days=self.cap_days)
        recent = (
            self.env["survey.user_input"]
            .sudo()
            ._read_group(
                [("partner_id", "in", matching.ids), ("create_date", ">=", since)],
                ["partner_id"],
            )
        )
        recently_invited = self.env["res.partner"].browse(partner.id for (partner,) in recent)
        return matching, recently_invited

    def _sample_size(self, count):
        return math.ceil(count * self.sample_percent / 100) if count else 0

    @api.depends(
        "reader_segment",
        "department_ids",
        "reader_category",
        "partner_ids",
        "sample_percent",
        "cap_days",
    )
    def _compute_counts(self):
        for invitation in self:
            matching, recent = invitation._split_candidates()
            invitation.matching_count = len(matching)
            invitation.recently_invited_count = len(recent)
            invitation.invite_count = invitation._sample_size(len(matching - recent))

    def action_invite(self):
        self.ensure_one()
        check_manager(self.env)
        self.check_access("write")  # the caller's own wizard
        # The audience may come from the context's active_ids: the caller
        # must be able to read every reader and department it names.
        self.partner_ids.check_access("read")
        self.department_ids.check_access("read")
        self.survey_id.check_access("read")
        matching, recent = self._split_candidates()
        eligible = matching - recent
        sample = eligible.browse(random.sample(eligible.ids, self._sample_size(len(eligible))))
        if not sample:
            raise UserError(
                self.env._(
                    "No reader to invite: widen the audience or shorten the period "
                    "without invitation."
                )
            )
        # Sudo: the invitation copies the template's dynamic content, which
        # Odoo reserves to template editors; the audience is ours to choose.
        invite = (
            self.env["survey.invite"]
            .sudo()
            .create(
                {
                    "survey_id": self.survey_id.id,
                    "partner_ids": [(6, 0, sample.ids)],
                    "existing_mode": "new",
                    "deadline": self.deadline,
                    "template_id": self.env.ref("survey.mail_template_user_input_invite").id,
                }
            )
        )
        invite.action_invite()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "%(count)s readers invited to %(survey)s.",
                    count=len(sample),
                    survey=self.survey_id.title,
                ),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
