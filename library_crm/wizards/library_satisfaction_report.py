# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import babel
import babel.dates
from dateutil.relativedelta import relativedelta

from odoo import fields, models

from ..models.library_rights import check_manager

# k-anonymity: no figure of a group smaller than this.
MIN_RESPONDENTS = 5


class LibrarySatisfactionReport(models.TransientModel):
    """Satisfaction report for a period (PDF for the leadership), compared
    with the period of the same length just before."""

    _name = "library.satisfaction.report"
    _inherit = "library.period.mixin"
    _description = "Reader Satisfaction Report"
    _period_months = 6

    comment_count = fields.Integer(string="Comments to Quote", default=8)

    def action_print(self):
        self.ensure_one()
        check_manager(self.env)
        self.check_access("write")  # the caller's own wizard
        return self.env.ref("library_crm.action_report_satisfaction").report_action(self)

    def _figures(self, date_from, date_to):
        """Index (0-100: overall score x 20), satisfaction rate (share of
        the scored answers at 4 or 5, in %), NPS and response count."""
        Response = self.env["library.satisfaction.response"]
        domain = self._datetime_domain("date", date_from, date_to)
        count, overall, nps, rate = Response._read_group(
            domain, [], ["__count", "overall_score:avg", "nps_value:avg", "satisfaction_rate:avg"]
        )[0]
        groups = dict(Response._read_group(domain, ["nps_class"], ["__count"]))
        return {
            "responses": count,
            "index": (overall or 0.0) * 20,
            "rate": rate or 0.0,
            "nps": nps or 0.0,
            "promoters": groups.get("promoter", 0),
            "passives": groups.get("passive", 0),
            "detractors": groups.get("detractor", 0),
        }

    def _report_data(self):
        """The report's figures. A group (dimension, department, segment)
        with fewer than MIN_RESPONDENTS respondents shows no figure, and a
        comment shows its month only, and its department only when that
        department has enough respondents: a figure or a quote must not point
        at a reader."""
        self.ensure_one()
        length = self.date_to - self.date_from
        previous_to = self.date_from - relativedelta(days=1)
        previous_from = previous_to - length
        Answer = self.env["library.satisfaction.answer"]
        Response = self.env["library.satisfaction.response"]
        domain = self._datetime_domain("date", self.date_from, self.date_to)
        previous_domain = self._datetime_domain("date", previous_from, previous_to)
        aggregates = [
            "score:avg",
            "__count",
            "user_input_id:count_distinct",
            "satisfied:avg",
            "expectation_score:avg",
            "quality_gap:avg",
        ]
        dimensions = Answer._read_group(
            [*domain, ("role", "=", "dimension")], ["dimension_id"], aggregates
        )
        previous_dimensions = {
            dim: avg
            for dim, avg, _count, respondents, *_rest in Answer._read_group(
                [*previous_domain, ("role", "=", "dimension")], ["dimension_id"], aggregates
            )
            if respondents >= MIN_RESPONDENTS
        }
        segments = dict(
            self.env["res.partner"]._fields["reader_segment"]._description_selection(self.env)
        )
        by_department = Response._read_group(
            domain,
            ["department_id"],
            ["__count", "overall_score:avg", "nps_value:avg"],
            order="__count desc",
        )
        by_segment = Response._read_group(
            domain,
            ["reader_segment"],
            ["__count", "overall_score:avg", "nps_value:avg"],
            order="__count desc",
        )
        quotable = {dept for dept, count, _o, _n in by_department if count >= MIN_RESPONDENTS}
        lang = self.env.context.get("lang") or self.env.user.lang or "en_US"
        locale = babel.Locale.parse(lang, sep="_")
        comments = Response.search(
            [*domain, ("comment", "!=", False)], limit=self.comment_count, order="date desc"
        )
        return {
            "current": self._figures(self.date_from, self.date_to),
            "previous": self._figures(previous_from, previous_to),
            "previous_from": previous_from,
            "previous_to": previous_to,
            "dimensions": [
                {
                    "name": dim.display_name,
                    "score": avg,
                    "answers": count,
                    "previous": previous_dimensions.get(dim),
                    "enough": respondents >= MIN_RESPONDENTS,
                    "rate": rate,
                    # None when the survey asks no expectation of the dimension
                    "expectation": expectation,
                    "gap": gap,
                }
                for dim, avg, count, respondents, rate, expectation, gap in dimensions
            ],
            # (name, responses, overall, NPS, enough respondents)
            "departments": [
                (
                    dept.display_name or self.env._("No department"),
                    count,
                    overall or 0.0,
                    nps,
                    count >= MIN_RESPONDENTS,
                )
                for dept, count, overall, nps in by_department
            ],
            "segments": [
                (
                    segments.get(seg) or self.env._("Not computed"),
                    count,
                    overall or 0.0,
                    nps,
                    count >= MIN_RESPONDENTS,
                )
                for seg, count, overall, nps in by_segment
            ],
            # (comment, department or "", month)
            "comments": [
                (
                    response.comment,
                    response.department_id.display_name
                    if response.department_id in quotable
                    else "",
                    babel.dates.format_skeleton("yMMM", response.date, locale=locale),
                )
                for response in comments
            ],
        }
