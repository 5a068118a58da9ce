# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .res_config_settings import get_setting

POINTS_REASONS = [
    ("suggestion_adopted", "Suggestion Adopted"),
    ("survey_answered", "Survey Answered"),
    ("redemption", "Redemption"),
    ("adjustment", "Adjustment"),
]


class LibraryPointsTransaction(models.Model):
    """Reader points (积分): one signed line per award or redemption; the
    balance is their sum and never goes below zero."""

    _name = "library.points.transaction"
    _description = "Reader Points Transaction"
    _order = "date desc, id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Reader", required=True, index=True, ondelete="cascade"
    )
    points = fields.Integer(required=True, help="Positive when earned, negative when redeemed.")
    reason = fields.Selection(POINTS_REASONS, required=True, default="adjustment")
    description = fields.Char()
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Recorded by", default=lambda self: self.env.user, readonly=True
    )
    res_model = fields.Char(string="Origin Model", readonly=True)
    res_id = fields.Many2oneReference(string="Origin", model_field="res_model", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _points_not_zero = models.Constraint("CHECK (points <> 0)", "A transaction moves points.")
    # The same origin earns a reader its points once, even under concurrency.
    _unique_award = models.UniqueIndex(
        "(partner_id, res_model, res_id, reason) WHERE res_id IS NOT NULL AND points > 0",
        "These points were already awarded.",
    )

    @api.constrains("points", "partner_id")
    def _check_balance(self):
        partners = self.partner_id
        # Serialise concurrent redemptions for the same readers.
        self.env.cr.execute(
            SQL("SELECT id FROM res_partner WHERE id = ANY(%s) FOR UPDATE", partners.ids)
        )
        self.flush_model(["points", "partner_id"])
        self.env.cr.execute(
            SQL(
                """SELECT partner_id FROM library_points_transaction
                    WHERE partner_id = ANY(%s) GROUP BY partner_id HAVING sum(points) < 0""",
                partners.ids,
            )
        )
        negative = self.env["res.partner"].browse(row[0] for row in self.env.cr.fetchall())
        if negative:
            raise ValidationError(
                self.env._(
                    "Not enough points: %(readers)s cannot go below zero.",
                    readers=", ".join(negative.mapped("display_name")),
                )
            )

    @api.model
    def _award_once(self, partner, reason, origin, description, setting, default):
        """Give a reader the points configured in `setting` for `origin`,
        unless this origin already earned them points."""
        points = get_setting(self.env, setting)
        Transaction = self.sudo()
        already = Transaction.search_count(
            [
                ("partner_id", "=", partner.id),
                ("res_model", "=", origin._name),
                ("res_id", "=", origin.id),
                ("reason", "=", reason),
            ]
        )
        if points <= 0 or already:
            return Transaction
        return Transaction.create(
            {
                "partner_id": partner.id,
                "points": points,
                "reason": reason,
                "description": description,
                "res_model": origin._name,
                "res_id": origin.id,
            }
        )

    def _compute_display_name(self):
        for transaction in self:
            transaction.display_name = f"{transaction.partner_id.name} {transaction.points:+d}"
