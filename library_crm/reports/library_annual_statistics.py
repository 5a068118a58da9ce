# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.res_partner import READER_CATEGORIES
from .library_satisfaction_view_mixin import (
    SATISFIED_VALUE,
    SCORED_ANSWER_CONDITION,
    SURVEY_ANSWER_DEPENDS,
)

# The usage kinds a yearly statistics column sums (quantities), by column.
USAGE_COLUMNS = {
    "visits": ("visit",),
    "loans": ("loan",),
    "renewals": ("renewal",),
    "ill_requests": ("ill",),
    "eresource_sessions": ("eresource",),
    "workstation_sessions": ("workstation",),
    "consultations": ("consultation",),
    "training_attendances": ("training",),
    "event_attendances": ("event",),
}


class LibraryAnnualStatistics(models.Model):
    """Reader services in a year, per reader department and category: the
    table of the library's annual report and of the national academic
    library statistics (visits, loans, e-resource sessions, consultations,
    trainings, suggestions, satisfaction rate).

    One row per year, company, department and category holds the counts;
    every scored survey answer of the year is a row of its own that holds
    only ``satisfied`` (100 for a score of 4 or 5, else 0), so that the
    average of ``satisfied`` over any grouping is the satisfaction rate
    (满意率) and the sums of the counts are not touched by it. Readers and
    attendees are distinct readers, which add up over departments and
    categories because a reader has one of each. Years are calendar years
    of the recorded time (UTC); department and category are the reader's
    current ones."""

    _name = "library.annual.statistics"
    _description = "Annual Reader Services Statistics"
    _auto = False
    _order = "year desc, department_id, reader_category"
    _depends = {
        "library.usage": ["partner_id", "kind", "quantity", "occurred_at", "resource_ref"],
        "library.suggestion": [
            "partner_id",
            "department_id",
            "submission_date",
            "adopted",
            "company_id",
        ],
        "res.partner": ["library_department_id", "reader_category", "company_id", "is_reader"],
        **SURVEY_ANSWER_DEPENDS,
    }

    year = fields.Integer(readonly=True, aggregator=None)
    company_id = fields.Many2one("res.company", string="Reader's Company", readonly=True)
    department_id = fields.Many2one("library.department", readonly=True)
    reader_category = fields.Selection(READER_CATEGORIES, readonly=True)
    active_readers = fields.Integer(
        readonly=True, help="Readers who used the library in the year (alert clicks excluded)."
    )
    visits = fields.Integer(string="Visits (Gate Entries)", readonly=True)
    loans = fields.Integer(readonly=True)
    renewals = fields.Integer(readonly=True)
    ill_requests = fields.Integer(string="Interlibrary Loans", readonly=True)
    eresource_sessions = fields.Integer(string="E-resource Sessions", readonly=True)
    workstation_sessions = fields.Integer(string="Research Workstation Sessions", readonly=True)
    consultations = fields.Integer(string="Reference Consultations", readonly=True)
    training_attendances = fields.Integer(readonly=True)
    training_attendees = fields.Integer(
        readonly=True, help="Distinct readers who attended training."
    )
    event_attendances = fields.Integer(readonly=True)
    suggestions_received = fields.Integer(readonly=True)
    suggestions_adopted = fields.Integer(readonly=True)
    satisfaction_answers = fields.Integer(string="Scored Answers", readonly=True)
    satisfied = fields.Float(
        string="Satisfaction Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of scored survey answers at 4 or 5 (of 5).",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        columns = SQL(", ").join(
            SQL(
                "SUM(CASE WHEN u.kind IN %s THEN u.quantity ELSE 0 END)::int AS %s",
                kinds,
                SQL.identifier(column),
            )
            for column, kinds in USAGE_COLUMNS.items()
        )
        zeros = SQL(", ").join(SQL("0 AS %s", SQL.identifier(column)) for column in USAGE_COLUMNS)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT row_number() OVER (ORDER BY f.year, f.company_id, f.department_id,
                                                       f.reader_category, f.satisfied) AS id,
                           f.*
                      FROM (
                        SELECT year, company_id, department_id, reader_category,
                               SUM(active_readers)::int AS active_readers,
                               %(sums)s,
                               SUM(training_attendees)::int AS training_attendees,
                               SUM(suggestions_received)::int AS suggestions_received,
                               SUM(suggestions_adopted)::int AS suggestions_adopted,
                               0 AS satisfaction_answers,
                               NULL::float AS satisfied
                          FROM (
                            SELECT EXTRACT(YEAR FROM u.occurred_at)::int AS year,
                                   p.company_id, p.library_department_id AS department_id,
                                   p.reader_category,
                                   COUNT(DISTINCT u.partner_id)
                                       FILTER (WHERE u.kind != 'alert_click') AS active_readers,
                                   %(columns)s,
                                   COUNT(DISTINCT u.partner_id)
                                       FILTER (WHERE u.kind = 'training') AS training_attendees,
                                   0 AS suggestions_received, 0 AS suggestions_adopted
                              FROM library_usage u
                              JOIN res_partner p ON p.id = u.partner_id
                             WHERE p.is_reader
                             GROUP BY 1, 2, 3, 4
                            UNION ALL
                            SELECT EXTRACT(YEAR FROM s.submission_date)::int,
                                   s.company_id,
                                   COALESCE(s.department_id, p.library_department_id),
                                   p.reader_category,
                                   0, %(zeros)s, 0,
                                   COUNT(*), COUNT(*) FILTER (WHERE s.adopted)
                              FROM library_suggestion s
                              LEFT JOIN res_partner p ON p.id = s.partner_id
                             WHERE s.submission_date IS NOT NULL
                             GROUP BY 1, 2, 3, 4
                          ) facts
                         GROUP BY year, company_id, department_id, reader_category
                        UNION ALL
                        SELECT EXTRACT(YEAR FROM COALESCE(ui.end_datetime, ui.create_date))::int,
                               p.company_id, p.library_department_id, p.reader_category,
                               0, %(zeros)s, 0, 0, 0,
                               1,
                               %(satisfied)s
                          FROM survey_user_input_line l
                          JOIN survey_user_input ui ON ui.id = l.user_input_id
                          JOIN survey_question q ON q.id = l.question_id
                          JOIN res_partner p ON p.id = ui.partner_id
                         WHERE %(scored)s
                      ) f
                )
                """,
                table=SQL.identifier(self._table),
                sums=SQL(", ").join(
                    SQL("SUM(%(c)s)::int AS %(c)s", c=SQL.identifier(column))
                    for column in USAGE_COLUMNS
                ),
                columns=columns,
                zeros=zeros,
                scored=SCORED_ANSWER_CONDITION,
                satisfied=SATISFIED_VALUE,
            )
        )
