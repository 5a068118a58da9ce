# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Before 19.0.1.2.0 "You said, we did" printed the reader's own subject and
reply. A suggestion published then has no public summary and reply written
for publication: it leaves the public page until a manager writes them."""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            """
            UPDATE library_suggestion SET is_published = FALSE
             WHERE is_published
               AND (COALESCE(TRIM(public_summary), '') = ''
                    OR COALESCE(TRIM(public_reply), '') = '')
            """
        )
    )
