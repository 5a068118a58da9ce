# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

APPROVAL_DECISIONS = [
    ("submitted", "Submitted for Approval"),
    ("approved", "Approved"),
    ("returned", "Returned to Handler"),
    ("rejected", "Not Adopted"),
    ("rejection_confirmed", "Rejection Confirmed"),
    ("rejection_overturned", "Rejection Overturned"),
]


class LibrarySuggestionApproval(models.Model):
    """One step of a suggestion's approval chain (提交领导批示), kept for
    the record and printed on the suggestion form."""

    _name = "library.suggestion.approval"
    _description = "Suggestion Approval Step"
    _order = "date, id"

    suggestion_id = fields.Many2one(
        "library.suggestion", required=True, index=True, ondelete="cascade"
    )
    user_id = fields.Many2one("res.users", string="Person", required=True, ondelete="restrict")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    decision = fields.Selection(APPROVAL_DECISIONS, required=True)
    comment = fields.Text()
    company_id = fields.Many2one(related="suggestion_id.company_id", store=True, index=True)
