# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Points balances moved from a sum computed on every read to one stored row
per reader (library.points.balance): fill the rows from the lines. Lines that
summed below zero (deleted awards, races of the old check) get an adjustment
line back to zero, so a balance is always the sum of the reader's lines."""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    cr.execute(
        """INSERT INTO library_points_transaction
               (partner_id, points, reason, description, date, user_id, company_id,
                award_cycle, create_uid, create_date, write_uid, write_date)
           SELECT t.partner_id, -SUM(t.points), 'adjustment',
                  'Balance brought back to zero: the lines summed below zero',
                  now() AT TIME ZONE 'UTC', 1, MIN(t.company_id), 0,
                  1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
             FROM library_points_transaction t
         GROUP BY t.partner_id
           HAVING SUM(t.points) < 0
        RETURNING partner_id, points"""
    )
    for partner_id, points in cr.fetchall():
        _logger.warning(
            "Points of reader %s summed to %s: adjustment line added", partner_id, -points
        )
    cr.execute(
        """INSERT INTO library_points_balance (partner_id, balance)
           SELECT partner_id, SUM(points)
             FROM library_points_transaction
         GROUP BY partner_id
           ON CONFLICT (partner_id) DO UPDATE SET balance = EXCLUDED.balance"""
    )
