# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

from ..models.library_rights import check_manager


class LibrarySuggestionRegister(models.TransientModel):
    """Register of suggestions received in a period (PDF for managers)."""

    _name = "library.suggestion.register"
    _inherit = "library.period.mixin"
    _description = "Suggestions Register"
    _period_months = 1

    def action_print(self):
        self.ensure_one()
        check_manager(self.env)
        self.check_access("write")  # the caller's own wizard
        return self.env.ref("library_crm.action_report_suggestion_register").report_action(self)

    def _domain(self):
        return self._datetime_domain("submission_date", self.date_from, self.date_to)

    def _register_data(self):
        self.ensure_one()
        Suggestion = self.env["library.suggestion"]
        domain = self._domain()
        states = dict(Suggestion._fields["state"]._description_selection(self.env))
        total, overdue = Suggestion._read_group(domain, [], ["__count", "overdue_share:avg"])[0]
        # Averages over the suggestions that reached the step, not zeros.
        reply_days = Suggestion._read_group(
            [*domain, ("first_reply_date", "!=", False)], [], ["reply_days:avg"]
        )[0][0]
        done_days = Suggestion._read_group(
            [*domain, ("done_date", "!=", False)], [], ["done_days:avg"]
        )[0][0]
        rating, rated = Suggestion._read_group(
            [*domain, ("rating_last_value", ">", 0)], [], ["rating_last_value:avg", "__count"]
        )[0]
        return {
            "total": total,
            "reply_days": reply_days or 0.0,
            "done_days": done_days or 0.0,
            "overdue": overdue or 0.0,
            "adopted": Suggestion.search_count([*domain, ("adopted", "=", True)]),
            "rating": rating or 0.0,
            "rated": rated,
            "by_category": [
                (category.display_name, count)
                for category, count in Suggestion._read_group(
                    domain, ["category_id"], ["__count"], order="__count desc"
                )
            ],
            "by_unit": [
                (unit.display_name or self.env._("Not assigned"), count, overdue or 0.0)
                for unit, count, overdue in Suggestion._read_group(
                    domain, ["unit_id"], ["__count", "overdue_share:avg"], order="__count desc"
                )
            ],
            "by_state": [
                (states[state], count)
                for state, count in Suggestion._read_group(domain, ["state"], ["__count"])
            ],
            "suggestions": Suggestion.search(domain, order="submission_date"),
        }
