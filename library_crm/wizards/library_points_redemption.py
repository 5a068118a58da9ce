# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError


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
        if self.points <= 0:
            raise UserError(self.env._("Redeem a positive number of points."))
        self.env["library.points.transaction"].create(
            {
                "partner_id": self.partner_id.id,
                "points": -self.points,
                "reason": "redemption",
                "description": self.description,
            }
        )
        return {"type": "ir.actions.act_window_close"}
