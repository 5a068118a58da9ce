# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from ..models.library_rights import check_librarian

DECISIONS = [
    ("duplicate", "Close as Duplicate"),
    ("out_of_scope", "Close as Out of Scope"),
    ("reject", "Not Adopted"),
    ("approve", "Approve"),
    ("return", "Return to Handler"),
    ("overturn", "Overturn Rejection"),
]


class LibrarySuggestionDecision(models.TransientModel):
    """The reason or comment a decision needs; the suggestion's action_*
    method does the checks and the move."""

    _name = "library.suggestion.decision"
    _description = "Suggestion Decision"

    suggestion_id = fields.Many2one("library.suggestion", required=True, ondelete="cascade")
    decision = fields.Selection(DECISIONS, required=True)
    comment = fields.Text(string="Reason or Comment")
    duplicate_of_id = fields.Many2one(
        "library.suggestion",
        string="Duplicate of",
        domain="[('id', '!=', suggestion_id)]",
    )
    adopted = fields.Boolean(
        default=True, help="The suggestion is adopted: the reader earns points."
    )

    def action_confirm(self):
        self.ensure_one()
        check_librarian(self.env)
        self.check_access("write")  # the caller's own wizard
        suggestion = self.suggestion_id
        suggestion.check_access("read")
        if self.decision in ("duplicate", "out_of_scope"):
            suggestion.action_close_as(self.decision, self.comment, self.duplicate_of_id.id)
        elif self.decision == "reject":
            suggestion.action_reject(self.comment)
        elif self.decision == "approve":
            suggestion.action_approve(self.comment, adopted=self.adopted)
        elif self.decision == "overturn":
            suggestion.action_overturn_rejection(self.comment)
        else:
            suggestion.action_return(self.comment)
        return {"type": "ir.actions.act_window_close"}
