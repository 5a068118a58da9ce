# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class LibraryPeriodMixin(models.AbstractModel):
    """The period of a report wizard: its dates, their check, and the
    domain that covers whole days of a datetime field."""

    _name = "library.period.mixin"
    _description = "Report Period"
    _period_months = 3  # default length, per report

    date_from = fields.Date(
        required=True,
        default=lambda self: (
            fields.Date.context_today(self) - relativedelta(months=self._period_months)
        ),
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for period in self:
            if period.date_to < period.date_from:
                raise UserError(self.env._("The period ends before it starts."))

    @api.model
    def _datetime_domain(self, field, date_from, date_to):
        """Datetimes from the first day's start to the last day's end."""
        return [
            (field, ">=", fields.Datetime.to_datetime(date_from)),
            (field, "<", fields.Datetime.to_datetime(date_to + relativedelta(days=1))),
        ]
