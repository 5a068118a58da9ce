# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.library_consent_log import CONSENT_PURPOSES
from ..models.library_segment_history import READER_SEGMENTS
from ..models.res_partner import READER_CATEGORIES


class LibraryMailingResult(models.Model):
    """One e-mail of a mailing to a reader, with the reader's segment,
    department and category: campaign results per reader group. Opened and
    clicked are 0/100 so their average is the rate."""

    _name = "library.mailing.result"
    _description = "Campaign Result per Reader"
    _auto = False
    _order = "sent_date desc"
    _depends = {
        "mailing.trace": [
            "model",
            "res_id",
            "mass_mailing_id",
            "trace_status",
            "sent_datetime",
            "links_click_datetime",
        ],
        "mailing.contact": ["library_partner_id"],
        "mailing.mailing": ["library_purpose"],
        "res.partner": ["library_department_id", "reader_category", "company_id"],
        "library.reader.metrics": ["partner_id", "reader_segment"],
    }

    mailing_id = fields.Many2one("mailing.mailing", readonly=True)
    purpose = fields.Selection(CONSENT_PURPOSES, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Reader", readonly=True)
    reader_segment = fields.Selection(READER_SEGMENTS, readonly=True)
    department_id = fields.Many2one("library.department", readonly=True)
    reader_category = fields.Selection(READER_CATEGORIES, readonly=True)
    sent_date = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", string="Reader's Company", readonly=True)
    opened = fields.Float(string="Opened (%)", readonly=True, aggregator="avg")
    clicked = fields.Float(string="Clicked (%)", readonly=True, aggregator="avg")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %s AS (
                    SELECT t.id, t.mass_mailing_id AS mailing_id, m.library_purpose AS purpose,
                           p.id AS partner_id, rm.reader_segment,
                           p.library_department_id AS department_id, p.reader_category,
                           t.sent_datetime AS sent_date,
                           CASE WHEN t.trace_status IN ('open', 'reply')
                                  OR t.links_click_datetime IS NOT NULL
                                THEN 100.0 ELSE 0.0 END AS opened,
                           CASE WHEN t.links_click_datetime IS NOT NULL
                                THEN 100.0 ELSE 0.0 END AS clicked,
                           p.company_id
                      FROM mailing_trace t
                      JOIN mailing_mailing m ON m.id = t.mass_mailing_id
                      LEFT JOIN mailing_contact c
                             ON t.model = 'mailing.contact' AND c.id = t.res_id
                      JOIN res_partner p
                        ON p.id = CASE WHEN t.model = 'res.partner' THEN t.res_id
                                       ELSE c.library_partner_id END
                      LEFT JOIN library_reader_metrics rm ON rm.partner_id = p.id
                     WHERE p.is_reader AND t.trace_status NOT IN ('cancel', 'error')
                )
                """,
                SQL.identifier(self._table),
            )
        )
