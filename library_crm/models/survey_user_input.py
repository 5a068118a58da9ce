# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from .library_rights import check_librarian


class SurveyUserInput(models.Model):
    """A reader's survey answers: satisfaction, the detractor follow-up,
    participation points and the suggestion made from a comment."""

    _inherit = "survey.user_input"

    library_suggestion_ids = fields.One2many(
        "library.suggestion", "survey_user_input_id", string="Suggestions"
    )

    def _mark_done(self):
        result = super()._mark_done()
        responses = self.env["library.satisfaction.response"].sudo().browse(self.ids).exists()
        unhappy = responses.filtered("is_unhappy").user_input_id
        for user_input in unhappy.sudo():
            user_input._schedule_detractor_followup()
        readers = self.partner_id.filtered("is_reader")
        self.sudo()._award_participation_points()
        self.env["library.satisfaction"].sudo()._update_readers(readers)
        return result

    def _library_librarian(self):
        """Who follows up an unhappy reader: the responsible librarian, else
        the department's liaison, else the survey's responsible."""
        partner = self.partner_id
        return (
            partner.responsible_librarian_id
            or partner.library_department_id.liaison_user_ids[:1]
            or self.survey_id.user_id
        )

    def _schedule_detractor_followup(self):
        user = self._library_librarian()
        if not user:
            return
        response = self.env["library.satisfaction.response"].sudo().browse(self.id)
        self.activity_schedule(
            "library_crm.mail_activity_type_reader_followup",
            summary=self.env._(
                "Unhappy reader: %(reader)s (recommendation %(nps)s, lowest score %(lowest)s)",
                reader=self.partner_id.name or self.email or "",
                nps=response.nps_score if response.nps_score is not False else "-",
                lowest=response.lowest_score or "-",
            ),
            note=response.comment or False,
            user_id=user.id,
        )

    def _award_participation_points(self):
        """Answering a survey earns the configured points, once per survey."""
        Transaction = self.env["library.points.transaction"]
        for user_input in self.filtered(lambda ui: ui.partner_id.is_reader):
            Transaction._award_once(
                user_input.partner_id,
                "survey_answered",
                user_input.survey_id,
                user_input.survey_id.title,
                "points_survey_answered",
            )

    def action_library_create_suggestion(self):
        """The open comment becomes a suggestion ticket linked to the answers."""
        self.ensure_one()
        check_librarian(self.env)
        self.check_access("read")
        if self.state != "done":
            raise UserError(self.env._("Only a completed response becomes a suggestion."))
        existing = (
            self.env["library.suggestion"]
            .sudo()
            .search([("survey_user_input_id", "=", self.id)], limit=1)
        )
        if existing:
            raise UserError(
                self.env._(
                    "This response already became the suggestion %(ref)s.", ref=existing.name
                )
            )
        response = self.env["library.satisfaction.response"].browse(self.id).exists()
        if not response.comment:
            raise UserError(self.env._("This response has no comment to turn into a suggestion."))
        category = self.env["library.suggestion.category"].search([], limit=1)
        suggestion = self.env["library.suggestion"].create(
            {
                "partner_id": self.partner_id.id,
                "email_from": self.email,
                "channel": "survey",
                "category_id": category.id,
                "subject": self.env._("Survey comment: %(survey)s", survey=self.survey_id.title),
                "description": plaintext2html(response.comment),
                "survey_user_input_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "library.suggestion",
            "res_id": suggestion.id,
            "view_mode": "form",
        }
