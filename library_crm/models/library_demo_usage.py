# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A year and a half of usage for the demo readers, deterministic, so that a
demo database shows every lifecycle stage and value tier, history and the
conversion growing -> long-term right after installation.

Each reader follows one of the patterns below (days before now); the engine
then runs twice: the baseline half a year ago, and a run now, which records
what changed in between."""

import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

BASELINE_DAYS = 182


def _monthly(start, end, step=30):
    return list(range(start, end - 1, -step))


# pattern: (stage expected now, [(days ago, kind, quantity), ...] builder)
PATTERNS = {
    # first use 40 days ago, every week since
    "new": lambda r: [(d, r.choice(("loan", "visit")), 1) for d in range(40, 0, -7)],
    # a loan a month for 7 months: steady, building tenure
    "growing": lambda r: [(d, "loan", r.randint(1, 2)) for d in _monthly(200, 0)],
    # a use every two months, then every ten days: rising
    "slow_grower": lambda r: (
        [(d, "visit", 1) for d in _monthly(330, 181, 60)]
        + [(d, r.choice(("loan", "eresource")), 1) for d in range(170, 0, -10)]
    ),
    # growing at the baseline, long-term now
    "converted": lambda r: (
        [(d, "loan", r.randint(1, 3)) for d in _monthly(400, 0)]
        + [(d, "eresource", 1) for d in _monthly(380, 0, 45)]
    ),
    # heavy borrower for a year and a half: long-term, high value
    "long_term": lambda r: (
        [(d, "loan", r.randint(3, 6)) for d in _monthly(540, 0)]
        + [(d, "eresource", 2) for d in _monthly(530, 0, 20)]
        + [(d, "visit", 4) for d in _monthly(535, 0, 15)]
    ),
    # faculty who consult and train: long-term, research support
    "consulting": lambda r: (
        [(d, "consultation", 1) for d in _monthly(520, 0, 40)]
        + [(d, "loan", 2) for d in _monthly(510, 0)]
        + [(d, "training", 1) for d in _monthly(500, 0, 120)]
        + [(d, "event", 1) for d in _monthly(450, 0, 150)]
    ),
    # a burst in one week 250 days ago, silence since
    "burst": lambda r: [(250 - h / 24, "loan", 1) for h in range(0, 120, 15)],
    # long-term, then slowed down to two uses
    "slowed_down": lambda r: (
        [(d, "loan", 1) for d in _monthly(540, 300)] + [(100, "visit", 1), (30, "loan", 1)]
    ),
    # a visit now and then, alerts read
    "occasional": lambda r: (
        [(500, "visit", 1), (350, "visit", 1), (170, "loan", 1)]
        + [(d, "alert_click", 1) for d in (160, 90, 20)]
    ),
    # long-term until 250 days ago
    "lapsed": lambda r: [(d, "loan", 2) for d in _monthly(560, 250)],
    # never used anything; read an alert once
    "never_active": lambda r: [(15, "alert_click", 1)],
}
ORDER = list(PATTERNS)


class LibraryUsage(models.Model):
    _inherit = "library.usage"

    @api.model
    def _library_demo_generate_usage(self, partner_ids=None, now=None, seed=2026):
        """Give these readers (the demo readers when None) the patterns
        above, in turn, and run the engine: baseline half a year before now,
        then now. Superuser only (demo data loads so): not a tool to forge
        usage. Returns {partner id: pattern}."""
        if not self.env.su:
            raise AccessError(self.env._("Only the demo data generates demo usage."))
        now = now or fields.Datetime.now()
        if partner_ids is None:
            data = self.env["ir.model.data"].search(
                [("module", "=", "library_crm"), ("model", "=", "res.partner"),
                 ("name", "=like", "reader_%")]
            )  # fmt: skip
            partner_ids = sorted(data.mapped("res_id"))
        partners = self.env["res.partner"].browse(partner_ids).exists()
        # Loans of the demo's new titles, so that reading reports have subjects.
        isbns = sorted(
            self.env["library.new.title"].search([("isbn", "!=", False)]).mapped("isbn")
        )
        rng = random.Random(seed)
        assigned = {}
        rows = []
        for index, partner in enumerate(partners.sorted("id")):
            pattern = ORDER[index % len(ORDER)]
            assigned[partner.id] = pattern
            for number, (days, kind, quantity) in enumerate(PATTERNS[pattern](rng)):
                when = (now - timedelta(days=days)).replace(microsecond=0)
                rows.append(
                    (
                        partner.id,
                        kind,
                        when,
                        quantity,
                        isbns[number % len(isbns)] if isbns and kind == "loan" else None,
                        f"demo-{partner.id}-{number}",
                        partner.company_id.id or self.env.company.id,
                    )
                )
        if rows:
            columns = list(zip(*rows, strict=True))
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO library_usage
                           (partner_id, kind, occurred_at, quantity, resource_ref, source,
                            external_ref, company_id, recorded_at)
                    SELECT p, k, o, q, r, 'demo', e, c, now() AT TIME ZONE 'UTC'
                      FROM unnest(%s::int[], %s::varchar[], %s::timestamp[], %s::int[],
                                  %s::varchar[], %s::varchar[], %s::int[])
                           AS t(p, k, o, q, r, e, c)
                    ON CONFLICT DO NOTHING
                    """,
                    *[list(column) for column in columns],
                )
            )
            self.invalidate_model()
        engine = self.env["library.segmentation"]
        engine._recompute(full=True, now=now - timedelta(days=BASELINE_DAYS))
        engine._recompute(full=True, now=now)
        return assigned


class LibraryReadingReport(models.Model):
    _inherit = "library.reading.report"

    @api.model
    def _library_demo_generate_reports(self, now=None):
        """The reading reports of last year and of this year so far, for
        the demo readers' usage. Superuser only (demo data loads so)."""
        if not self.env.su:
            raise AccessError(self.env._("Only the demo data generates demo usage."))
        year = (now or fields.Datetime.now()).year
        for report_year in (year - 1, year):
            self._generate(report_year, self.env.company)
