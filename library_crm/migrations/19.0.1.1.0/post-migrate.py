# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reader metrics moved from res_partner to library_reader_metrics, and
usage rows keep when they were recorded instead of a creator and a writer:
carry the figures over and drop the old columns."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists

METRIC_COLUMNS = (
    "reader_segment",
    "is_core_reader",
    "loyalty_score",
    "loyalty_band",
    "loyalty_frequency",
    "loyalty_regularity",
    "loyalty_recency",
    "loyalty_breadth",
    "loyalty_satisfaction",
    "usage_first_date",
    "last_activity_date",
    "usage_count_12m",
    "loan_count_12m",
    "active_months_12m",
    "usage_breadth",
    "usage_recent_6m",
    "usage_previous_6m",
    "participation_count",
)
LOG_ACCESS_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["library.reader.metrics"]._ensure_rows()
    present = [column for column in METRIC_COLUMNS if column_exists(cr, "res_partner", column)]
    if present:
        cr.execute(
            SQL(
                "UPDATE library_reader_metrics m SET %s"
                " FROM res_partner p WHERE p.id = m.partner_id",
                SQL(", ").join(
                    SQL("%s = p.%s", SQL.identifier(column), SQL.identifier(column))
                    for column in present
                ),
            )
        )
        cr.execute(
            "UPDATE library_reader_metrics SET is_core_reader = FALSE WHERE is_core_reader IS NULL"
        )
        cr.execute(
            SQL(
                "ALTER TABLE res_partner %s",
                SQL(", ").join(
                    SQL("DROP COLUMN %s", SQL.identifier(column)) for column in present
                ),
            )
        )
    if column_exists(cr, "library_usage", "create_date"):
        cr.execute(
            "UPDATE library_usage SET recorded_at = COALESCE(write_date, create_date)"
            " WHERE recorded_at IS NULL"
        )
        cr.execute(
            SQL(
                "ALTER TABLE library_usage %s",
                SQL(", ").join(
                    SQL("DROP COLUMN %s", SQL.identifier(column)) for column in LOG_ACCESS_COLUMNS
                ),
            )
        )
