# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Readers whose consent was changed before 19.0.1.2.0 (by themselves or by
the staff for them) have chosen: the defaults of their category must not
overwrite their choice when their category changes."""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            """
            UPDATE res_partner p SET consent_chosen = TRUE
             WHERE p.consent_chosen IS NOT TRUE
               AND EXISTS (SELECT 1 FROM library_consent_log l
                            WHERE l.partner_id = p.id
                              AND l.channel IN ('staff', 'portal', 'unsubscribe'))
            """
        )
    )
