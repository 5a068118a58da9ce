# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The lifecycle stage "occasional" is called "short-term" (短期读者), as the
library's papers name it: every stored key follows, before the new selection
is loaded. Saved searches and domains that name it follow too."""

from odoo.tools import SQL

RENAMED = {
    "library_reader_metrics": ("reader_segment",),
    "library_segment_history": ("from_segment", "to_segment"),
    "mailing_list": ("library_segment",),
    "library_segment_followup": ("to_segment",),
}


def rename_short_term(cr):
    for table, columns in RENAMED.items():
        cr.execute(SQL("SELECT to_regclass(%s)", table))
        if not cr.fetchone()[0]:
            continue
        for column in columns:
            cr.execute(
                SQL(
                    "SELECT 1 FROM information_schema.columns "
                    "WHERE table_name = %s AND column_name = %s",
                    table,
                    column,
                )
            )
            if cr.fetchone():
                cr.execute(
                    SQL(
                        "UPDATE %s SET %s = 'short_term' WHERE %s = 'occasional'",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        SQL.identifier(column),
                    )
                )
    # Saved filters, window actions and mailings whose domain names the stage.
    for table, column in (
        ("ir_filters", "domain"),
        ("ir_act_window", "domain"),
        ("mailing_mailing", "mailing_domain"),
    ):
        cr.execute(
            SQL(
                """UPDATE %(table)s SET %(column)s = replace(%(column)s, %(old)s, %(new)s)
                    WHERE %(column)s LIKE %(pattern)s""",
                table=SQL.identifier(table),
                column=SQL.identifier(column),
                old="'occasional'",
                new="'short_term'",
                pattern="%'occasional'%",
            )
        )


def migrate(cr, version):
    rename_short_term(cr)
