# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

READER_SEGMENTS = [
    ("never_active", "Never Active"),
    ("new", "New"),
    ("growing", "Growing"),
    ("long_term", "Long-term"),
    ("occasional", "Occasional"),
    ("short_term", "Short-term"),  # the engine renames occasional to short_term
    ("lapsed", "Lapsed"),
]


class LibrarySegmentHistory(models.Model):
    """One row per change of a reader's segment or core status, written by
    the segmentation engine; never a row when nothing changed, nor for the
    baseline (the first run ever)."""

    _name = "library.segment.history"
    _description = "Reader Segment Change"
    _order = "date desc, id desc"
    _log_access = False

    partner_id = fields.Many2one("res.partner", string="Reader", required=True, ondelete="cascade")
    # The reader's company (rows are written in SQL by the engine).
    company_id = fields.Many2one(related="partner_id.company_id")
    date = fields.Date(required=True, index=True)
    change = fields.Selection(
        [("segment", "Segment"), ("core", "Core Reader")], required=True, default="segment"
    )
    from_segment = fields.Selection(READER_SEGMENTS, string="From")
    to_segment = fields.Selection(READER_SEGMENTS, string="To")
    became_core = fields.Boolean(help="For core changes: became (set) or stopped being core.")
    reader_category = fields.Selection(related="partner_id.reader_category", store=True)
    department_id = fields.Many2one(
        related="partner_id.library_department_id", store=True, string="Department"
    )

    _partner_date_idx = models.Index("(partner_id, date)")
