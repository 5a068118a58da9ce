# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import AccessError, UserError

LIBRARIAN_GROUP = "library_crm.group_library_librarian"
MANAGER_GROUP = "library_crm.group_library_manager"


class LibraryPointsRedemption(models.TransientModel):
    """A librarian records what a reader exchanged points for."""

    _name = "library.points.redemption"
    _description = "Redeem Reader Points"

    partner_id = fields.Many2one("res.partner", string="Reader", required=True)
    points_balance = fields.Integer(related="partner_id.points_balance")
    points = fields.Integer(string="Points to Redeem", required=True)
    description = fields.Char(string="Exchanged for", required=True)

    def action_confirm(self):
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(LIBRARIAN_GROUP):
            raise AccessError(self.env._("Only librarians can redeem points."))
        if self.points <= 0:
            raise UserError(self.env._("Redeem a positive number of points."))
        self.env["library.points.transaction"].sudo().create(
            {
                "partner_id": self.partner_id.id,
                "points": -self.points,
                "reason": "redemption",
                "description": self.description,
            }
        )
        return {"type": "ir.actions.act_window_close"}


class LibraryPointsAdjustment(models.TransientModel):
    """A manager corrects a reader's points; the line records who did it."""

    _name = "library.points.adjustment"
    _description = "Adjust Reader Points"

    partner_id = fields.Many2one("res.partner", string="Reader", required=True)
    points_balance = fields.Integer(related="partner_id.points_balance")
    points = fields.Integer(
        string="Points to Add", required=True, help="Negative to take points away."
    )
    description = fields.Char(string="Reason", required=True)

    def action_confirm(self):
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only library managers can adjust points."))
        if not self.points:
            raise UserError(self.env._("An adjustment moves points."))
        self.env["library.points.transaction"].sudo().create(
            {
                "partner_id": self.partner_id.id,
                "points": self.points,
                "reason": "adjustment",
                "description": self.description,
            }
        )
        return {"type": "ir.actions.act_window_close"}
