# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..models.library_suggestion import AMENDABLE_FIELDS, CHANNELS


class LibrarySuggestionAmend(models.TransientModel):
    """A library manager corrects a suggestion whose content is frozen:
    the form starts from the current values, and only what changed goes to
    the suggestion's action_amend(), which checks the role and logs the
    old and the new values in the chatter."""

    _name = "library.suggestion.amend"
    _description = "Amend a Suggestion"

    suggestion_id = fields.Many2one("library.suggestion", required=True, ondelete="cascade")
    reason = fields.Text(required=True, help="Logged in the chatter with the changes.")
    subject = fields.Char(required=True)
    description = fields.Html(sanitize_style=True)
    partner_id = fields.Many2one("res.partner", string="Reader")
    email_from = fields.Char(string="E-mail")
    channel = fields.Selection(CHANNELS, required=True)
    category_id = fields.Many2one(
        "library.suggestion.category", string="Suggestion Category", required=True
    )
    submission_date = fields.Datetime(required=True)
    solution = fields.Html(string="Proposed Solution")
    reply = fields.Html(string="Reply to the Reader")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        suggestion = self.env["library.suggestion"].browse(values.get("suggestion_id"))
        if suggestion:
            current = suggestion.read(sorted(AMENDABLE_FIELDS), load=None)[0]
            values.update(
                {name: current[name] for name in AMENDABLE_FIELDS if name in fields_list}
            )
        return values

    def action_confirm(self):
        self.ensure_one()
        suggestion = self.suggestion_id
        changed = {}
        for name in AMENDABLE_FIELDS:
            new_value = self[name]
            if new_value != suggestion[name]:
                changed[name] = self._fields[name].convert_to_write(new_value, self)
        suggestion.action_amend(changed, self.reason)
        return {"type": "ir.actions.act_window_close"}
