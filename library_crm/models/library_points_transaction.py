# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .res_config_settings import get_setting

_logger = logging.getLogger(__name__)

POINTS_REASONS = [
    ("suggestion_adopted", "Suggestion Adopted"),
    ("survey_answered", "Survey Answered"),
    ("award_reversed", "Award Reversed"),
    ("redemption", "Redemption"),
    ("adjustment", "Adjustment"),
]
AWARD_REVERSED = "award_reversed"
# What a line records; nobody changes them once written.
LEDGER_FIELDS = {
    "partner_id",
    "points",
    "reason",
    "date",
    "user_id",
    "res_model",
    "res_id",
    "company_id",
    "award_cycle",
}


class LibraryPointsTransaction(models.Model):
    """Reader points (积分): one signed line per award, reversal, redemption
    or adjustment. Lines are written only by the library's own steps (award
    rules, the redemption and adjustment wizards), as superuser after those
    steps checked the caller, and are never changed. Each line moves the
    reader's stored balance (library.points.balance), which never goes below
    zero."""

    _name = "library.points.transaction"
    _description = "Reader Points Transaction"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Reader",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
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
    award_cycle = fields.Integer(
        readonly=True,
        default=0,
        help="How many times the award of this origin was reversed before this line.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _points_not_zero = models.Constraint("CHECK (points <> 0)", "A transaction moves points.")
    # An origin earns a reader its points once per adoption, and each award
    # is reversed at most once, even under concurrency.
    _unique_award = models.UniqueIndex(
        "(partner_id, res_model, res_id, reason, award_cycle) WHERE res_id IS NOT NULL",
        "These points were already awarded.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Points are recorded only by the library's own steps: awards, "
                    "redemptions and managers' adjustments."
                )
            )
        now = fields.Datetime.now()
        for vals in vals_list:
            # Who and when are facts of the recording, not values to give.
            vals.update(date=now, user_id=self.env.uid)
            # A line belongs to its reader's library.
            if "company_id" not in vals and vals.get("partner_id"):
                reader_company = self.env["res.partner"].browse(vals["partner_id"]).company_id
                if reader_company:
                    vals["company_id"] = reader_company.id
        transactions = super().create(vals_list)
        amounts = defaultdict(int)
        for transaction in transactions:
            amounts[transaction.partner_id.id] += transaction.points
        self.env["library.points.balance"]._add(amounts)
        return transactions

    def write(self, vals):
        if not self.env.su:
            raise AccessError(self.env._("Points lines cannot be changed."))
        if LEDGER_FIELDS & set(vals):
            raise UserError(
                self.env._("A points line is never changed: record an adjustment instead.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_by_users_or_spent(self):
        if not self.env.su:
            raise AccessError(self.env._("Points lines cannot be deleted."))
        amounts = defaultdict(int)
        for transaction in self:
            amounts[transaction.partner_id.id] -= transaction.points
        # Deleting an award the reader already spent fails like a redemption.
        self.env["library.points.balance"]._add(amounts)

    def _origin_lines(self, partner, origin, reason):
        return self.sudo().search(
            [
                ("partner_id", "=", partner.id),
                ("res_model", "=", origin._name),
                ("res_id", "=", origin.id),
                ("reason", "in", [reason, AWARD_REVERSED]),
            ],
            order="id",
        )

    @api.model
    def _award_once(self, partner, reason, origin, description, setting):
        """Give a reader the points configured in `setting` (read through
        get_setting, where its default lives) for `origin`, once: an origin
        whose award was reversed gives back what was reversed, never a second
        award."""
        Transaction = self.sudo()
        lines = self._origin_lines(partner, origin, reason)
        awards = lines.filtered(lambda line: line.reason == reason)
        if awards:
            points = awards[0].points - sum(lines.mapped("points"))
        else:
            points = get_setting(self.env, setting)
        if points <= 0:
            return Transaction
        return Transaction.create(
            {
                "partner_id": partner.id,
                "points": points,
                "reason": reason,
                "description": description,
                "res_model": origin._name,
                "res_id": origin.id,
                "award_cycle": len(lines - awards),
            }
        )

    @api.model
    def _reverse_award(self, partner, reason, origin, description):
        """Take back what `origin` earned the reader, as far as the balance
        allows (points already spent stay spent). Returns the points taken
        back and the points the origin had earned."""
        lines = self._origin_lines(partner, origin, reason)
        earned = sum(lines.mapped("points"))
        if earned <= 0:
            return 0, 0
        balance = self.env["library.points.balance"]._get(partner).get(partner.id, 0)
        points = min(earned, balance)
        if points > 0:
            self.sudo().create(
                {
                    "partner_id": partner.id,
                    "points": -points,
                    "reason": AWARD_REVERSED,
                    "description": description,
                    "res_model": origin._name,
                    "res_id": origin.id,
                    "award_cycle": len(lines.filtered(lambda line: line.reason == AWARD_REVERSED)),
                }
            )
        return points, earned

    def _compute_display_name(self):
        for transaction in self:
            transaction.display_name = f"{transaction.partner_id.name} {transaction.points:+d}"
