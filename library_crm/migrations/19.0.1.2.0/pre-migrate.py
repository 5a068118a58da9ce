# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Crons and mail templates became noupdate: a library edits them (times,
wording) and an update must not overwrite that. Their data files say so from
now on; the records an earlier release created say so too."""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(
        SQL(
            """UPDATE ir_model_data SET noupdate = TRUE
                WHERE module = 'library_crm' AND model IN ('ir.cron', 'mail.template')
                  AND noupdate IS NOT TRUE"""
        )
    )
