# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .library_rights import check_manager

# Main classes of the Chinese Library Classification (中图法基本大类).
CLC_CLASSES = [
    ("A", "Marxism, Leninism, Mao Zedong Thought, Deng Xiaoping Theory"),
    ("B", "Philosophy and Religion"),
    ("C", "Social Sciences"),
    ("D", "Politics and Law"),
    ("E", "Military Science"),
    ("F", "Economics"),
    ("G", "Culture, Science, Education and Sports"),
    ("H", "Languages and Linguistics"),
    ("I", "Literature"),
    ("J", "Arts"),
    ("K", "History and Geography"),
    ("N", "Natural Sciences"),
    ("O", "Mathematics, Physics and Chemistry"),
    ("P", "Astronomy and Earth Sciences"),
    ("Q", "Biology"),
    ("R", "Medicine and Health"),
    ("S", "Agriculture"),
    ("T", "Industrial Technology"),
    ("U", "Transportation"),
    ("V", "Aviation and Aerospace"),
    ("X", "Environmental Science and Safety"),
    ("Z", "General Works"),
]
MONTHS = [
    ("1", "January"),
    ("2", "February"),
    ("3", "March"),
    ("4", "April"),
    ("5", "May"),
    ("6", "June"),
    ("7", "July"),
    ("8", "August"),
    ("9", "September"),
    ("10", "October"),
    ("11", "November"),
    ("12", "December"),
]
# Below this many readers with a report in a department, no percentile is
# given: in a small department it would tell a reader about the others.
MIN_DEPARTMENT_READERS = 5
# Usage kinds counted in each figure; alert clicks are no use of the
# library (as in the segmentation engine) but tell what interests a reader.
LOAN_KINDS = ("loan", "ill")
EVENT_KINDS = ("training", "event")
ERESOURCE_KINDS = ("eresource", "workstation")
SUBJECT_KINDS = ("loan", "renewal", "ill", "alert_click")


class LibraryReadingReport(models.Model):
    """A reader's year at the library (年度阅读报告): generated for every
    reader with activity in the year, in one set-based statement, shown to
    the reader on the portal and mailed in a news campaign."""

    _name = "library.reading.report"
    _description = "Annual Reading Report"
    _order = "year desc, partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Reader",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    year = fields.Integer(required=True, readonly=True, aggregator=False)
    company_id = fields.Many2one(
        "res.company", string="Library", required=True, readonly=True, index=True
    )
    department_id = fields.Many2one(
        "library.department",
        readonly=True,
        index="btree_not_null",
        help="The reader's department when the report was generated.",
    )
    loan_count = fields.Integer(string="Loans", readonly=True)
    visit_count = fields.Integer(string="Visits", readonly=True)
    eresource_count = fields.Integer(string="E-resource Sessions", readonly=True)
    event_count = fields.Integer(string="Events and Trainings", readonly=True)
    activity_count = fields.Integer(
        string="Uses of the Library",
        readonly=True,
        help="Every use of the year (loans, renewals, visits, sessions, consultations, "
        "events), new-title alert clicks left out.",
    )
    busiest_month = fields.Selection(MONTHS, readonly=True)
    busiest_month_count = fields.Integer(string="Uses in the Busiest Month", readonly=True)
    subject_1 = fields.Selection(CLC_CLASSES, string="Favourite Subject", readonly=True)
    subject_2 = fields.Selection(CLC_CLASSES, string="Second Subject", readonly=True)
    subject_3 = fields.Selection(CLC_CLASSES, string="Third Subject", readonly=True)
    department_compared = fields.Boolean(
        string="Compared with the Department",
        readonly=True,
        help="The department had enough readers with a report for a percentile.",
    )
    loan_percentile = fields.Integer(
        string="Loans Percentile",
        readonly=True,
        aggregator="avg",
        help="Share of the department's readers with a report this year who borrowed less.",
    )
    activity_percentile = fields.Integer(
        string="Use Percentile",
        readonly=True,
        aggregator="avg",
        help="Share of the department's readers with a report this year who used the "
        "library less.",
    )
    suggestion_adopted_count = fields.Integer(string="Suggestions Adopted", readonly=True)
    points_earned = fields.Integer(
        readonly=True, help="Points earned in the year, redemptions aside."
    )
    generated_at = fields.Datetime(string="Generated on", readonly=True)

    _unique_reader_year = models.Constraint(
        "UNIQUE (partner_id, year, company_id)",
        "A reader has one reading report per year and library.",
    )

    @api.depends("partner_id", "year")
    def _compute_display_name(self):
        for report in self:
            report.display_name = self.env._(
                "%(year)s reading report of %(reader)s",
                year=report.year,
                reader=report.partner_id.sudo().name,
            )

    def _subjects(self):
        """The labels of the favourite subjects, best first."""
        self.ensure_one()
        labels = dict(self._fields["subject_1"]._description_selection(self.env))
        return [labels[code] for code in (self.subject_1, self.subject_2, self.subject_3) if code]

    def _busiest_month_label(self):
        self.ensure_one()
        return dict(self._fields["busiest_month"]._description_selection(self.env)).get(
            self.busiest_month, ""
        )

    # ------------------------------------------------------------------
    # Generation
    # ------------------------------------------------------------------

    @api.model
    def _year_bounds(self, year, company):
        """The year in the library's time zone, as UTC naive datetimes."""
        try:
            zone = ZoneInfo(company.partner_id.tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")

        def utc(local_year):
            start = datetime(local_year, 1, 1, tzinfo=zone)
            return start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

        return utc(year), utc(year + 1), zone.key

    @api.model
    def _generate(self, year, company=None):
        """Write the reports of this year for the readers of this library
        (the current company when None) with activity in the year, in one
        statement: created, or updated when they exist; reports of readers
        without activity any more are removed. Returns (written, removed).
        Server-side only (private): callers check the rights."""
        company = company or self.env.company
        start, end, zone = self._year_bounds(year, company)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH usage AS (
                    SELECT u.partner_id, u.kind, u.quantity,
                           -- An ISBN as the library system writes it (978-7-...)
                           -- is the ISBN-13 titles are stored under.
                           CASE WHEN u.resource_ref ~ '^[0-9][0-9 -]{11,16}[0-9]$'
                                THEN regexp_replace(u.resource_ref, '[^0-9]', '', 'g')
                                ELSE u.resource_ref END AS resource_ref,
                           extract(month FROM (u.occurred_at AT TIME ZONE 'UTC')
                                              AT TIME ZONE %(zone)s)::int AS month
                      FROM library_usage u
                     WHERE u.company_id = %(company)s
                       AND u.partner_id IS NOT NULL
                       AND u.occurred_at >= %(start)s AND u.occurred_at < %(end)s
                ),
                totals AS (
                    SELECT partner_id,
                           COALESCE(sum(quantity) FILTER (WHERE kind IN %(loan_kinds)s), 0)
                               AS loans,
                           COALESCE(sum(quantity) FILTER (WHERE kind = 'visit'), 0) AS visits,
                           COALESCE(sum(quantity) FILTER (WHERE kind IN %(eres_kinds)s), 0)
                               AS eresources,
                           COALESCE(sum(quantity) FILTER (WHERE kind IN %(event_kinds)s), 0)
                               AS events,
                           COALESCE(sum(quantity) FILTER (WHERE kind <> 'alert_click'), 0)
                               AS activity
                      FROM usage
                     GROUP BY partner_id
                    HAVING count(*) FILTER (WHERE kind <> 'alert_click') > 0
                ),
                months AS (
                    SELECT DISTINCT ON (partner_id) partner_id, month, uses
                      FROM (SELECT partner_id, month, sum(quantity) AS uses
                              FROM usage WHERE kind <> 'alert_click'
                             GROUP BY partner_id, month) m
                     ORDER BY partner_id, uses DESC, month
                ),
                title_keys AS (
                    SELECT DISTINCT ON (key) key, main_class
                      FROM (SELECT isbn AS key, upper(left(clc_code, 1)) AS main_class, id
                              FROM library_new_title WHERE company_id = %(company)s
                               AND isbn IS NOT NULL
                            UNION ALL
                            SELECT call_number, upper(left(clc_code, 1)), id
                              FROM library_new_title WHERE company_id = %(company)s
                               AND call_number IS NOT NULL
                            UNION ALL
                            SELECT left(catalogue_url, 200), upper(left(clc_code, 1)), id
                              FROM library_new_title WHERE company_id = %(company)s
                               AND catalogue_url IS NOT NULL) k
                     WHERE main_class = ANY(%(classes)s)
                     ORDER BY key, id DESC
                ),
                subjects AS (
                    SELECT partner_id, array_agg(main_class ORDER BY uses DESC, main_class)
                               AS classes
                      FROM (SELECT u.partner_id, k.main_class, count(*) AS uses
                              FROM usage u JOIN title_keys k ON k.key = u.resource_ref
                             WHERE u.kind IN %(subject_kinds)s
                             GROUP BY u.partner_id, k.main_class) s
                     GROUP BY partner_id
                ),
                adopted AS (
                    SELECT t.partner_id, count(DISTINCT t.res_id) AS suggestions
                      FROM library_points_transaction t
                      JOIN library_suggestion s ON s.id = t.res_id AND s.adopted
                     WHERE t.res_model = 'library.suggestion'
                       AND t.reason = 'suggestion_adopted'
                       AND t.company_id = %(company)s
                       AND t.date >= %(start)s AND t.date < %(end)s
                     GROUP BY t.partner_id
                ),
                points AS (
                    SELECT partner_id, sum(points) AS earned
                      FROM library_points_transaction
                     WHERE reason <> 'redemption' AND company_id = %(company)s
                       AND date >= %(start)s AND date < %(end)s
                     GROUP BY partner_id
                ),
                ranked AS (
                    SELECT t.*, p.library_department_id AS department_id,
                           round(100 * percent_rank() OVER (
                               PARTITION BY p.library_department_id ORDER BY t.loans))::int
                               AS loan_percentile,
                           round(100 * percent_rank() OVER (
                               PARTITION BY p.library_department_id ORDER BY t.activity))::int
                               AS activity_percentile,
                           count(*) OVER (PARTITION BY p.library_department_id)
                               AS department_readers
                      FROM totals t
                      JOIN res_partner p ON p.id = t.partner_id AND p.is_reader AND p.active
                ),
                written AS (
                    INSERT INTO library_reading_report AS r
                           (partner_id, year, company_id, department_id, loan_count,
                            visit_count, eresource_count, event_count, activity_count,
                            busiest_month, busiest_month_count, subject_1, subject_2, subject_3,
                            department_compared, loan_percentile, activity_percentile,
                            suggestion_adopted_count, points_earned, generated_at,
                            create_uid, create_date, write_uid, write_date)
                    SELECT k.partner_id, %(year)s, %(company)s, k.department_id, k.loans,
                           k.visits, k.eresources, k.events, k.activity,
                           m.month::varchar, m.uses, s.classes[1], s.classes[2], s.classes[3],
                           k.department_id IS NOT NULL
                               AND k.department_readers >= %(min_readers)s,
                           CASE WHEN k.department_id IS NOT NULL
                                 AND k.department_readers >= %(min_readers)s
                                THEN k.loan_percentile END,
                           CASE WHEN k.department_id IS NOT NULL
                                 AND k.department_readers >= %(min_readers)s
                                THEN k.activity_percentile END,
                           COALESCE(a.suggestions, 0), COALESCE(pt.earned, 0), %(now)s,
                           %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM ranked k
                      LEFT JOIN months m ON m.partner_id = k.partner_id
                      LEFT JOIN subjects s ON s.partner_id = k.partner_id
                      LEFT JOIN adopted a ON a.partner_id = k.partner_id
                      LEFT JOIN points pt ON pt.partner_id = k.partner_id
                    ON CONFLICT (partner_id, year, company_id) DO UPDATE SET
                           department_id = EXCLUDED.department_id,
                           loan_count = EXCLUDED.loan_count,
                           visit_count = EXCLUDED.visit_count,
                           eresource_count = EXCLUDED.eresource_count,
                           event_count = EXCLUDED.event_count,
                           activity_count = EXCLUDED.activity_count,
                           busiest_month = EXCLUDED.busiest_month,
                           busiest_month_count = EXCLUDED.busiest_month_count,
                           subject_1 = EXCLUDED.subject_1,
                           subject_2 = EXCLUDED.subject_2,
                           subject_3 = EXCLUDED.subject_3,
                           department_compared = EXCLUDED.department_compared,
                           loan_percentile = EXCLUDED.loan_percentile,
                           activity_percentile = EXCLUDED.activity_percentile,
                           suggestion_adopted_count = EXCLUDED.suggestion_adopted_count,
                           points_earned = EXCLUDED.points_earned,
                           generated_at = EXCLUDED.generated_at,
                           write_uid = EXCLUDED.write_uid,
                           write_date = EXCLUDED.write_date
                    RETURNING r.partner_id
                ),
                removed AS (
                    DELETE FROM library_reading_report r
                     WHERE r.year = %(year)s AND r.company_id = %(company)s
                       AND NOT EXISTS (SELECT 1 FROM written w WHERE w.partner_id = r.partner_id)
                    RETURNING r.id
                )
                SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM removed)
                """,
                zone=zone,
                company=company.id,
                start=start,
                end=end,
                year=year,
                loan_kinds=LOAN_KINDS,
                eres_kinds=ERESOURCE_KINDS,
                event_kinds=EVENT_KINDS,
                subject_kinds=SUBJECT_KINDS,
                classes=[code for code, _label in CLC_CLASSES],
                min_readers=MIN_DEPARTMENT_READERS,
                now=fields.Datetime.now(),
                uid=self.env.uid,
            )
        )
        written, removed = self.env.cr.fetchone()
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["library_reading_report_ids"])
        return written, removed

    @api.model
    def _cron_generate_previous_year(self):
        """Early January: the reports of the year just ended, for each library."""
        year = fields.Date.context_today(self).year - 1
        # The libraries with usage in or around that year (time zones).
        usage = (
            self.env["library.usage"]
            .sudo()
            ._read_group(
                [
                    ("occurred_at", ">=", datetime(year - 1, 12, 31)),
                    ("occurred_at", "<", datetime(year + 1, 1, 2)),
                ],
                ["company_id"],
            )
        )
        for (company,) in usage:
            self.sudo()._generate(year, company)

    # ------------------------------------------------------------------
    # Campaign
    # ------------------------------------------------------------------

    def action_create_mailing(self):
        """A news mailing to the readers of the selected reports' year."""
        check_manager(self.env)
        years = set(self.mapped("year"))
        if len(years) != 1 or len(self.company_id) != 1:
            raise UserError(self.env._("Select the reports of one year and one library."))
        return self._create_mailing(years.pop(), self.company_id)

    @api.model
    def _check_manager_of(self, company):
        """Managers of that library only (its reports, its readers)."""
        check_manager(self.env)
        if not self.env.su and company not in self.env.user.company_ids:
            raise AccessError(self.env._("You do not work for this library."))

    @api.model
    def _create_mailing(self, year, company):
        """A draft news mailing addressed to the readers with a report of
        this year in this library; readers who refused news are left out by
        the mailing's consent filter. Returns an action opening it."""
        self._check_manager_of(company)
        if not self.sudo().search_count(
            [("year", "=", year), ("company_id", "=", company.id)], limit=1
        ):
            raise UserError(
                self.env._("No reading report for %(year)s: generate them first.", year=year)
            )
        env = self.with_context(lang=company.partner_id.lang or "en_US").env
        mailing = (
            self.env["mailing.mailing"]
            .sudo()
            .create(
                {
                    "subject": env._("Your %(year)s at the library", year=year),
                    "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "mailing_domain": repr(
                        [
                            (
                                "library_reading_report_ids",
                                "any",
                                [("year", "=", year), ("company_id", "=", company.id)],
                            )
                        ]
                    ),
                    "library_purpose": "news",
                    "body_html": self._mailing_body(year, company),
                    "user_id": self.env.user.id,
                }
            )
        )
        if self.env.user.has_group("mass_mailing.group_mass_mailing_user"):
            return {
                "type": "ir.actions.act_window",
                "res_model": "mailing.mailing",
                "res_id": mailing.id,
                "view_mode": "form",
                "target": "current",
            }
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "The mailing %(subject)s is ready in Email Marketing.",
                    subject=mailing.subject,
                ),
            },
        }

    @api.model
    def _mailing_body(self, year, company):
        """QWeb rendered for each reader by the mailing, worded in the
        library's language; the figures are the reader's own report."""
        env = self.with_context(lang=company.partner_id.lang or "en_US").env
        figure = '<t t-out="report.%s"/>'
        return Markup(
            """<div>
<t t-set="report" t-value="object._library_reading_report(%(year)s, %(company)s)"/>
<t t-if="report">
<p>%(dear)s</p>
<p>%(intro)s</p>
<ul>
<li>%(loans)s</li>
<li>%(visits)s</li>
<li>%(eresources)s</li>
<li>%(events)s</li>
<li t-if="report.busiest_month">%(busiest)s</li>
<li t-if="report.subject_1">%(subjects)s</li>
<li t-if="report.department_compared and report.loan_percentile">%(percentile)s</li>
<li t-if="report.suggestion_adopted_count">%(suggestions)s</li>
<li t-if="report.points_earned">%(points)s</li>
</ul>
<p><a t-attf-href="{{ object.get_base_url() }}/my/reading-report/%(year)s">%(link)s</a></p>
</t>
<p><small><a href="/unsubscribe_from_list">%(optout)s</a></small></p>
</div>"""
        ) % {
            "year": Markup(str(int(year))),
            "company": Markup(str(int(company.id))),
            "dear": Markup(env._("Dear %(reader)s,", reader='<t t-out="object.name"/>')),
            "intro": env._("Here is your year %(year)s at the library:", year=year),
            "loans": Markup(env._("Loans: %(count)s", count=figure % "loan_count")),
            "visits": Markup(env._("Visits: %(count)s", count=figure % "visit_count")),
            "eresources": Markup(
                env._("E-resource sessions: %(count)s", count=figure % "eresource_count")
            ),
            "events": Markup(
                env._("Events and trainings attended: %(count)s", count=figure % "event_count")
            ),
            "busiest": Markup(
                env._(
                    "Your busiest month: %(month)s",
                    month='<t t-out="report._busiest_month_label()"/>',
                )
            ),
            "subjects": Markup(
                env._(
                    "Your favourite subjects: %(subjects)s",
                    subjects="<t t-out=\"', '.join(report._subjects())\"/>",
                )
            ),
            "percentile": Markup(
                env._(
                    "You borrowed more than %(percent)s%% of the readers of your department.",
                    percent=figure % "loan_percentile",
                )
            ),
            "suggestions": Markup(
                env._(
                    "Suggestions adopted: %(count)s",
                    count=figure % "suggestion_adopted_count",
                )
            ),
            "points": Markup(env._("Points earned: %(count)s", count=figure % "points_earned")),
            "link": env._("See your reading report"),
            "optout": env._("No more library news"),
        }
