# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.library_rights import check_librarian, check_manager
from .library_satisfaction_report import MIN_RESPONDENTS

# The columns of the printed table, in order (field of library.annual.statistics).
TABLE_COLUMNS = [
    "active_readers",
    "visits",
    "loans",
    "renewals",
    "ill_requests",
    "eresource_sessions",
    "consultations",
    "training_attendances",
    "training_attendees",
    "event_attendances",
    "suggestions_received",
    "suggestions_adopted",
]


class LibraryAnnualStatisticsReport(models.TransientModel):
    """The yearly reader-services statistics of one library (company): a
    PDF for the annual report, and the same figures as a pivot table that
    Odoo exports to XLSX."""

    _name = "library.annual.statistics.report"
    _description = "Annual Reader Services Statistics Report"

    year = fields.Integer(
        required=True,
        default=lambda self: fields.Date.context_today(self).year - 1,
        help="Calendar year; the national statistics are reported for the year just ended.",
    )
    company_id = fields.Many2one(
        "res.company",
        string="Library",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )

    @api.constrains("year")
    def _check_year(self):
        for report in self:
            if not 1900 <= report.year <= 9999:
                raise UserError(self.env._("Enter a year such as 2025."))

    def _check_scope(self):
        """The wizard's own company must be one the caller works in: the
        figures are read as the caller, and a company they cannot see would
        only give an empty table, but a company id over RPC must not be
        taken on trust either."""
        self.ensure_one()
        self.check_access("write")  # the caller's own wizard
        if self.company_id not in self.env.user.company_ids:
            raise UserError(self.env._("You do not work for this library."))

    def action_print(self):
        check_manager(self.env)
        self._check_scope()
        return self.env.ref("library_crm.action_report_annual_statistics").report_action(self)

    def action_open_table(self):
        """The figures as a pivot table (download it as XLSX there)."""
        check_librarian(self.env)
        self._check_scope()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_annual_statistics"
        )
        action["domain"] = self._domain()
        action["context"] = {"search_default_group_department": 1}
        action["name"] = self.env._("Annual Statistics %(year)s", year=self.year)
        return action

    def _domain(self):
        # Readers of no company are every library's (a single-library database).
        return [("year", "=", self.year), ("company_id", "in", [self.company_id.id, False])]

    def _period(self):
        """The first and the last day of the year."""
        return date(self.year, 1, 1), date(self.year, 12, 31)

    def _training_sessions(self):
        """Training sessions held in the year: distinct (training, day) that
        readers of the library attended. Not a column of the table, since a
        session that readers of two departments attended would count twice
        in its sum."""
        self.env["library.usage"].flush_model(
            ["kind", "occurred_at", "resource_ref", "partner_id"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(DISTINCT (COALESCE(u.resource_ref, ''), u.occurred_at::date))
                  FROM library_usage u
                  JOIN res_partner p ON p.id = u.partner_id
                 WHERE u.kind = 'training' AND p.is_reader
                   AND (p.company_id = %s OR p.company_id IS NULL)
                   AND u.occurred_at >= %s AND u.occurred_at < %s
                """,
                self.company_id.id,
                datetime(self.year, 1, 1),
                datetime(self.year + 1, 1, 1),
            )
        )
        return self.env.cr.fetchone()[0]

    def _respondents(self, groupby):
        """Respondents of the year per ``groupby`` value (k-anonymity of the
        satisfaction rate)."""
        Answer = self.env["library.satisfaction.answer"]
        domain = [
            *self.env["library.period.mixin"]._datetime_domain("date", *self._period()),
            ("company_id", "in", [self.company_id.id, False]),
        ]
        if not groupby:
            return {False: Answer._read_group(domain, [], ["user_input_id:count_distinct"])[0][0]}
        return dict(Answer._read_group(domain, [groupby], ["user_input_id:count_distinct"]))

    def _rows(self, groupby):
        """(label, {column: value}, satisfaction rate or None) per value of
        ``groupby`` (None: the library's total)."""
        Stats = self.env["library.annual.statistics"]
        aggregates = [f"{column}:sum" for column in TABLE_COLUMNS] + ["satisfied:avg"]
        respondents = self._respondents(groupby)
        if groupby:
            groups = Stats._read_group(self._domain(), [groupby], aggregates)
        else:
            groups = [(False, *Stats._read_group(self._domain(), [], aggregates)[0])]
        labels = {}
        if groupby == "reader_category":
            labels = dict(Stats._fields["reader_category"]._description_selection(self.env))
        rows = []
        for key, *values in groups:
            rate = values[-1] if values[-1] is not False else None
            enough = respondents.get(key, 0) >= MIN_RESPONDENTS
            if groupby == "department_id":
                label = key.display_name or self.env._("No department")
            elif groupby == "reader_category":
                label = labels.get(key) or self.env._("No category")
            else:
                label = self.env._("Total")
            rows.append(
                (
                    label,
                    dict(zip(TABLE_COLUMNS, (v or 0 for v in values[:-1]), strict=True)),
                    rate if rate is not None and enough else None,
                )
            )
        rows.sort(key=lambda row: -row[1]["active_readers"])
        return rows

    def _report_data(self):
        self.ensure_one()
        Stats = self.env["library.annual.statistics"]
        return {
            "columns": [
                (column, Stats._fields[column]._description_string(self.env))
                for column in TABLE_COLUMNS
            ],
            "departments": self._rows("department_id"),
            "categories": self._rows("reader_category"),
            "total": self._rows(None)[0],
            "training_sessions": self._training_sessions(),
            "min_respondents": MIN_RESPONDENTS,
            "printed_on": fields.Date.context_today(self),
            "period": self._period(),
        }
