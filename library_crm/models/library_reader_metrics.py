# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

from .library_segment_history import READER_SEGMENTS

LOYALTY_BANDS = [
    ("0_19", "0-19"),
    ("20_39", "20-39"),
    ("40_59", "40-59"),
    ("60_79", "60-79"),
    ("80_100", "80-100"),
]

# What the engine computes for a reader without usage or ratings: a new
# reader's row starts so, which makes its first recompute write nothing and
# its first history row a real change (never active -> new, say). Each row
# is also born at its full width, so that rewriting it stays heap-only.
NEVER_ACTIVE = {
    "reader_segment": "never_active",
    "is_core_reader": False,
    "loyalty_score": 5,
    "loyalty_band": "0_19",
    "loyalty_frequency": 0,
    "loyalty_regularity": 0,
    "loyalty_recency": 0,
    "loyalty_breadth": 0,
    "loyalty_satisfaction": 5,
    "usage_count_12m": 0,
    "loan_count_12m": 0,
    "active_months_12m": 0,
    "usage_breadth": 0,
    "usage_recent_6m": 0,
    "usage_previous_6m": 0,
    "participation_count": 0,
}


class LibraryReaderMetrics(models.Model):
    """What the segmentation engine computes for one reader, in a narrow
    table of its own: a nightly run rewrites every reader's figures, which
    costs little here and a lot on res_partner and its many indexes. The
    reader shows them through related fields (searchable and groupable).

    The row is created with the reader. Only the unique reader index exists,
    and the table leaves room on its pages, so that the engine's updates are
    heap-only (no index entries written)."""

    _name = "library.reader.metrics"
    _description = "Reader Metrics"
    _rec_name = "partner_id"
    _log_access = False

    partner_id = fields.Many2one("res.partner", string="Reader", required=True, ondelete="cascade")
    # The reader's company, not stored: the engine writes rows in SQL, and a
    # reader moved to another library takes their figures along.
    company_id = fields.Many2one(related="partner_id.company_id")
    reader_segment = fields.Selection(READER_SEGMENTS, readonly=True)
    is_core_reader = fields.Boolean(string="Core Reader", readonly=True)
    value_tier = fields.Selection(
        [("core", "Core"), ("important", "Important"), ("ordinary", "Ordinary")], readonly=True
    )
    loyalty_score = fields.Integer(readonly=True, aggregator="avg")
    loyalty_band = fields.Selection(LOYALTY_BANDS, readonly=True)
    loyalty_frequency = fields.Integer(string="Frequency (of 30)", readonly=True)
    loyalty_regularity = fields.Integer(string="Regularity (of 30)", readonly=True)
    loyalty_recency = fields.Integer(string="Recency (of 20)", readonly=True)
    loyalty_breadth = fields.Integer(string="Breadth (of 10)", readonly=True)
    loyalty_satisfaction = fields.Integer(string="Satisfaction (of 10)", readonly=True)
    usage_first_date = fields.Date(string="First Activity", readonly=True)
    last_activity_date = fields.Date(string="Last Activity", readonly=True)
    usage_count_12m = fields.Integer(string="Activities (12 months)", readonly=True)
    loan_count_12m = fields.Integer(string="Loans (12 months)", readonly=True)
    active_months_12m = fields.Integer(
        string="Active Months (of 12)", readonly=True, aggregator="avg"
    )
    usage_breadth = fields.Integer(string="Kinds of Use (12 months)", readonly=True)
    usage_recent_6m = fields.Integer(string="Activities (last 6 months)", readonly=True)
    usage_previous_6m = fields.Integer(string="Activities (6 months before)", readonly=True)
    participation_count = fields.Integer(
        string="Participation (12 months)", readonly=True, help="Trainings and events attended."
    )
    needs_recompute = fields.Boolean(
        readonly=True,
        help="Usage of this reader was deleted, moved to another reader or detached since "
        "the last recompute: the next incremental recompute includes the reader.",
    )

    _partner_unique = models.UniqueIndex("(partner_id)", "A reader has one row of metrics.")

    def init(self):
        # Free space on every page keeps updates heap-only (see the class doc).
        self.env.cr.execute(SQL("ALTER TABLE library_reader_metrics SET (fillfactor = 50)"))

    @api.model
    def _mark_for_recompute(self, partner_ids):
        """Readers who lost usage: no usage row is left to carry its
        recorded_at, so the incremental recompute learns of it here."""
        self.env.cr.execute(
            SQL(
                "UPDATE library_reader_metrics SET needs_recompute = TRUE "
                "WHERE partner_id = ANY(%s) AND needs_recompute IS NOT TRUE",
                list(partner_ids),
            )
        )
        self.invalidate_model(["needs_recompute"])

    @api.model
    def _ensure_rows(self, partner_ids=None):
        """Give these readers (all readers when None) their never-active row
        and link it, for readers created outside the ORM too; a no-op when
        all have one."""
        cr = self.env.cr
        self.env["res.partner"].flush_model(["is_reader", "library_metrics_id"])
        restrict = (
            SQL("AND p.id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        )
        cr.execute(
            SQL(
                """
                WITH missing AS (
                    INSERT INTO library_reader_metrics (partner_id, %(columns)s)
                    SELECT p.id, %(values)s FROM res_partner p
                     WHERE p.is_reader AND p.library_metrics_id IS NULL %(restrict)s
                    ON CONFLICT (partner_id) DO NOTHING
                    RETURNING id, partner_id
                )
                UPDATE res_partner p SET library_metrics_id = m.id
                  FROM (SELECT id, partner_id FROM missing
                        UNION ALL
                        -- a row created earlier whose link was lost
                        SELECT m.id, m.partner_id FROM library_reader_metrics m
                          JOIN res_partner p ON p.id = m.partner_id
                         WHERE p.is_reader AND p.library_metrics_id IS NULL %(restrict)s) m
                 WHERE p.id = m.partner_id
                """,
                restrict=restrict,
                columns=SQL(", ").join(SQL.identifier(name) for name in NEVER_ACTIVE),
                values=SQL(", ").join(SQL("%s", value) for value in NEVER_ACTIVE.values()),
            )
        )
        if cr.rowcount:
            self.env["res.partner"].invalidate_model(["library_metrics_id"])
