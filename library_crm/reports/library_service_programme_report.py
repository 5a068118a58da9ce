# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.library_segment_history import READER_SEGMENTS
from ..models.res_partner import READER_CATEGORIES


# Order of the lifecycle stages for "moved up": a reader moves up when the
# stage they reach ranks higher than the stage of their programme.
def _rank(column):
    return SQL(
        """CASE %s WHEN 'never_active' THEN 0 WHEN 'lapsed' THEN 1
                   WHEN 'short_term' THEN 2 WHEN 'new' THEN 3 WHEN 'growing' THEN 4
                   WHEN 'long_term' THEN 5 END""",
        SQL.identifier("h", column),
    )


class LibraryServiceProgrammeReport(models.Model):
    """Service programmes per segment, for managers: one row per reader's
    stay in a programme (dated by its start), per logged step (dated by its
    due date) and per change of stage of an enrolled reader (dated by the
    change, from the segment history). Filter on the date for a period."""

    _name = "library.service.programme.report"
    _description = "Service Programme Analysis"
    _auto = False
    _order = "date desc"
    _depends = {
        "library.service.programme.enrolment": [
            "partner_id",
            "programme_id",
            "date_start",
            "date_end",
            "active",
        ],
        "library.service.programme.log": ["partner_id", "programme_id", "due_date", "state"],
        "library.service.programme": ["stage", "value_tier"],
        "library.segment.history": ["partner_id", "date", "change", "from_segment", "to_segment"],
        "res.partner": ["library_department_id", "reader_category", "company_id"],
    }

    row_kind = fields.Selection(
        [("reader", "Reader in Programme"), ("step", "Programme Step"), ("outcome", "Outcome")],
        readonly=True,
    )
    date = fields.Date(readonly=True)
    programme_id = fields.Many2one("library.service.programme", readonly=True)
    stage = fields.Selection(READER_SEGMENTS, string="Lifecycle Stage", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Reader", readonly=True)
    department_id = fields.Many2one("library.department", readonly=True)
    reader_category = fields.Selection(READER_CATEGORIES, readonly=True)
    company_id = fields.Many2one("res.company", string="Reader's Company", readonly=True)
    reader_count = fields.Integer(string="Readers Entered", readonly=True)
    stayed_count = fields.Integer(string="Still in Programme", readonly=True)
    due_count = fields.Integer(string="Steps Due", readonly=True)
    done_count = fields.Integer(string="Steps Done", readonly=True)
    overdue_count = fields.Integer(string="Steps Overdue", readonly=True)
    skipped_count = fields.Integer(string="Steps Skipped", readonly=True)
    moved_up_count = fields.Integer(string="Moved Up", readonly=True)
    moved_down_count = fields.Integer(string="Moved Down", readonly=True)
    lapsed_count = fields.Integer(string="Lapsed", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(view)s AS (
                  SELECT row_number() OVER (ORDER BY r.row_kind, r.source_id, r.programme_id)
                             AS id,
                         r.row_kind, r.date, r.programme_id, r.stage, r.partner_id,
                         rp.library_department_id AS department_id, rp.reader_category,
                         rp.company_id, r.reader_count, r.stayed_count, r.due_count,
                         r.done_count, r.overdue_count, r.skipped_count, r.moved_up_count,
                         r.moved_down_count, r.lapsed_count
                    FROM (
                    SELECT e.id AS source_id, 'reader' AS row_kind, e.date_start AS date,
                           e.programme_id, p.stage, e.partner_id,
                           1 AS reader_count, CASE WHEN e.active THEN 1 ELSE 0 END AS stayed_count,
                           0 AS due_count, 0 AS done_count, 0 AS overdue_count,
                           0 AS skipped_count, 0 AS moved_up_count, 0 AS moved_down_count,
                           0 AS lapsed_count
                      FROM library_service_programme_enrolment e
                      JOIN library_service_programme p ON p.id = e.programme_id
                    UNION ALL
                    SELECT l.id, 'step', l.due_date, l.programme_id, p.stage,
                           l.partner_id, 0, 0,
                           CASE WHEN l.state IN ('open', 'overdue', 'done') THEN 1 ELSE 0 END,
                           CASE WHEN l.state = 'done' THEN 1 ELSE 0 END,
                           CASE WHEN l.state = 'overdue' THEN 1 ELSE 0 END,
                           CASE WHEN l.state = 'skipped' THEN 1 ELSE 0 END,
                           0, 0, 0
                      FROM library_service_programme_log l
                      JOIN library_service_programme p ON p.id = l.programme_id
                    UNION ALL
                    SELECT h.id, 'outcome', h.date, e.programme_id, p.stage,
                           h.partner_id, 0, 0, 0, 0, 0, 0,
                           CASE WHEN h.to_segment <> 'lapsed'
                                 AND %(to_rank)s > %(from_rank)s THEN 1 ELSE 0 END,
                           CASE WHEN h.to_segment <> 'lapsed'
                                 AND %(to_rank)s <= %(from_rank)s THEN 1 ELSE 0 END,
                           CASE WHEN h.to_segment = 'lapsed' THEN 1 ELSE 0 END
                      FROM library_segment_history h
                      JOIN library_service_programme_enrolment e
                        ON e.partner_id = h.partner_id AND e.date_start <= h.date
                       AND (e.date_end IS NULL OR e.date_end >= h.date)
                      JOIN library_service_programme p
                        ON p.id = e.programme_id AND p.stage = h.from_segment
                     WHERE h.change = 'segment'
                    ) r
                    JOIN res_partner rp ON rp.id = r.partner_id
                )
                """,
                view=SQL.identifier(self._table),
                to_rank=_rank("to_segment"),
                from_rank=_rank("from_segment"),
            )
        )
