# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class LibraryPointsBalance(models.Model):
    """A reader's points balance, kept in one row that every points line
    updates in its own transaction (never read-then-write). Two concurrent
    redemptions both UPDATE this row: under REPEATABLE READ the second one
    gets a serialization failure and is retried, and then sees the new
    balance; the CHECK keeps it from going below zero whatever happens."""

    _name = "library.points.balance"
    _description = "Reader Points Balance"
    _log_access = False

    partner_id = fields.Many2one("res.partner", string="Reader", required=True, ondelete="cascade")
    balance = fields.Integer(readonly=True)

    _partner_unique = models.UniqueIndex("(partner_id)", "A reader has one points balance.")
    _balance_not_negative = models.Constraint(
        "CHECK (balance >= 0)", "Not enough points: a balance cannot go below zero."
    )

    @api.model
    def _add(self, amounts):
        """Move each reader's balance by the given amount, {partner_id: points},
        in the database row itself; raise the translated "Not enough points"
        error for readers who would go below zero."""
        cr = self.env.cr
        short = []
        for partner_id, points in sorted(amounts.items()):
            if not points:
                continue
            cr.execute(
                SQL(
                    """UPDATE library_points_balance SET balance = balance + %(points)s
                        WHERE partner_id = %(partner)s AND balance + %(points)s >= 0""",
                    points=points,
                    partner=partner_id,
                )
            )
            if cr.rowcount:
                continue
            if points > 0:
                # The reader's first points. Had a concurrent transaction
                # just given them theirs, this one fails to serialize and is
                # retried.
                cr.execute(
                    SQL(
                        """INSERT INTO library_points_balance (partner_id, balance)
                           VALUES (%s, %s) ON CONFLICT (partner_id) DO NOTHING""",
                        partner_id,
                        points,
                    )
                )
                if cr.rowcount:
                    continue
            short.append(partner_id)
        if short:
            readers = self.env["res.partner"].sudo().browse(short)
            raise ValidationError(
                self.env._(
                    "Not enough points: %(readers)s cannot go below zero.",
                    readers=", ".join(readers.mapped("display_name")),
                )
            )
        self.invalidate_model(["balance"])
        self.env["res.partner"].browse(list(amounts)).invalidate_recordset(["points_balance"])

    @api.model
    def _reset(self, partners):
        """Set the readers' balances to the sum of their lines, after lines
        moved between readers in SQL (contact merge)."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO library_points_balance (partner_id, balance)
                   SELECT p.id, COALESCE(SUM(t.points), 0)
                     FROM res_partner p
                LEFT JOIN library_points_transaction t ON t.partner_id = p.id
                    WHERE p.id = ANY(%s)
                 GROUP BY p.id
                 ON CONFLICT (partner_id) DO UPDATE SET balance = EXCLUDED.balance""",
                partners.ids,
            )
        )
        self.invalidate_model(["balance"])
        partners.invalidate_recordset(["points_balance"])

    @api.model
    def _get(self, partners):
        """{partner_id: balance} as this transaction sees it."""
        self.env.cr.execute(
            SQL(
                """SELECT partner_id, balance FROM library_points_balance
                    WHERE partner_id = ANY(%s)""",
                list(partners.ids),
            )
        )
        return dict(self.env.cr.fetchall())
