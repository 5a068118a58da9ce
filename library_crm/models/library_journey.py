# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Lifecycle journeys without Enterprise marketing automation: a mail
template sent when a reader reaches a moment of their life with the library.
Each journey sends once per trigger, only to readers who agreed to its
purpose, and no reader gets more than one journey message per N days."""

import ast
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, consteq, hmac

from .library_consent_log import CONSENT_PURPOSES
from .res_config_settings import get_setting
from .res_partner import CONSENT_FIELDS

_logger = logging.getLogger(__name__)

JOURNEY_LOCK_KEY = 7_190_002  # pg advisory lock: one worker sends journeys at a time
JOURNEY_TRIGGERS = [
    ("welcome", "Welcome a New Reader"),
    ("lapsed", "Reader Became Lapsed"),
    ("growing", "Reader Became Growing"),
    ("card_expiry", "Card About to Expire"),
]


class LibraryJourney(models.Model):
    _name = "library.journey"
    _description = "Reader Journey"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    trigger = fields.Selection(JOURNEY_TRIGGERS, required=True)
    purpose = fields.Selection(CONSENT_PURPOSES, required=True, default="news")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Message",
        required=True,
        domain=[("model", "=", "res.partner")],
    )
    days = fields.Integer(
        default=30,
        help="Welcome: readers who joined in the last N days. Segment journeys: readers who "
        "entered the segment in the last N days. Card expiry: cards expiring within N days.",
    )
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty to share it with every library of the database.",
    )
    message_ids = fields.One2many("library.journey.message", "journey_id", string="Sent")
    message_count = fields.Integer(compute="_compute_message_count", string="Messages Sent")

    def _compute_message_count(self):
        counts = dict(
            self.env["library.journey.message"]._read_group(
                [("journey_id", "in", self.ids)], ["journey_id"], ["__count"]
            )
        )
        for journey in self:
            journey.message_count = counts.get(journey, 0)

    @api.model
    def _cap_days(self):
        return get_setting(self.env, "journey_cap_days")

    def _candidates(self, today):
        """(partner_id, trigger key) pairs this journey may send to: the key
        makes each trigger send once."""
        self.ensure_one()
        since = today - timedelta(days=self.days)
        queries = {
            "welcome": SQL(
                """SELECT p.id, 'welcome' FROM res_partner p
                    WHERE p.is_reader AND p.reader_since >= %s AND p.reader_since <= %s""",
                since,
                today,
            ),
            "card_expiry": SQL(
                """SELECT p.id, 'card-' || p.card_expiry_date FROM res_partner p
                    WHERE p.is_reader AND p.card_expiry_date >= %s
                      AND p.card_expiry_date <= %s""",
                today,
                today + timedelta(days=self.days),
            ),
        }
        if self.trigger in ("lapsed", "growing"):
            query = SQL(
                """SELECT h.partner_id, 'history-' || h.id FROM library_segment_history h
                    JOIN library_reader_metrics m ON m.partner_id = h.partner_id
                   WHERE h.change = 'segment' AND h.to_segment = %s
                     AND h.from_segment IS NOT NULL AND h.date >= %s
                     AND m.reader_segment = h.to_segment""",
                self.trigger,
                since,
            )
        else:
            query = queries[self.trigger]
        return query

    @api.model
    def _opt_out_token(self, partner_id, purpose):
        return hmac(self.env(su=True), "library-journey-opt-out", (partner_id, purpose))

    @api.model
    def _check_opt_out_token(self, partner_id, purpose, token):
        return bool(token) and consteq(self._opt_out_token(partner_id, purpose), token)

    @api.model
    def _opt_out_url(self, partner, purpose):
        token = self._opt_out_token(partner.id, purpose)
        return f"{partner.get_base_url()}/library/opt-out/{partner.id}/{purpose}/{token}"

    def _add_opt_out(self, mails):
        """Each message carries the opt-out of its purpose: a link at the
        end, and List-Unsubscribe headers (one click) for the mail client."""
        self.ensure_one()
        for mail in mails.sudo():
            if mail.model != "res.partner" or not mail.res_id:
                continue
            partner = self.env["res.partner"].sudo().browse(mail.res_id)
            url = self._opt_out_url(partner, self.purpose)
            lang_env = self.with_context(lang=partner.lang or "en_US").env
            purpose = dict(self._fields["purpose"]._description_selection(lang_env))[self.purpose]
            footer = Markup('<p style="font-size: small;"><a href="%s">%s</a></p>') % (
                url,
                lang_env._("Stop receiving: %(purpose)s", purpose=purpose),
            )
            headers = ast.literal_eval(mail.headers) if mail.headers else {}
            headers.update(
                {
                    "List-Unsubscribe": f"<{url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                }
            )
            mail.write({"body_html": (mail.body_html or "") + footer, "headers": repr(headers)})

    @api.model
    def _cron_run(self, today=None):
        """Send every active journey's messages, oldest journey first within
        the cap; returns the messages sent.

        One worker at a time (an advisory lock held until the transaction
        ends); a worker whose snapshot predates another's commit is still
        refused a second message per trigger by the unique index on the
        message key. A journey that fails (a broken template, a refused
        duplicate) is rolled back alone and logged; the others go on."""
        today = today or fields.Date.context_today(self)
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", JOURNEY_LOCK_KEY))
        if not self.env.cr.fetchone()[0]:
            _logger.info("Journeys already being sent by another worker; skipped.")
            return self.env["library.journey.message"]
        cap_since = today - timedelta(days=self._cap_days())
        self.env.flush_all()
        sent = self.env["library.journey.message"]
        for journey in self.search([("active", "=", True)]):
            try:
                with self.env.cr.savepoint():
                    sent |= journey._send(today, cap_since)
            except Exception:
                _logger.exception(
                    "Journey %s (%s) failed and sent nothing; the others go on.",
                    journey.id,
                    journey.name,
                )
        return sent.exists()

    def _send(self, today, cap_since):
        """Send this journey's messages of the day; returns them."""
        self.ensure_one()
        journey = self
        consent = CONSENT_FIELDS[journey.purpose]
        self.env.cr.execute(
            SQL(
                """
                WITH candidates(partner_id, trigger_key) AS (%(candidates)s)
                SELECT DISTINCT ON (c.partner_id) c.partner_id, c.trigger_key
                  FROM candidates c
                  JOIN res_partner p ON p.id = c.partner_id
                 WHERE p.active AND p.email IS NOT NULL AND %(consent)s
                   AND NOT EXISTS (SELECT 1 FROM mail_blacklist b
                                    WHERE b.active AND b.email = p.email_normalized)
                   AND (%(company)s IS NULL OR p.company_id IS NULL
                        OR p.company_id = %(company)s)
                   AND NOT EXISTS (SELECT 1 FROM library_journey_message m
                                    WHERE m.journey_id = %(journey)s
                                      AND m.partner_id = c.partner_id
                                      AND m.trigger_key = c.trigger_key)
                   AND NOT EXISTS (SELECT 1 FROM library_journey_message m
                                    WHERE m.partner_id = c.partner_id
                                      AND m.date > %(cap_since)s)
                 ORDER BY c.partner_id, c.trigger_key
                """,
                candidates=journey._candidates(today),
                consent=SQL("p.%s", SQL.identifier(consent)),
                journey=journey.id,
                company=journey.company_id.id or None,
                cap_since=cap_since,
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return self.env["library.journey.message"]
        # Inserted first: the unique index refuses a message already sent
        # by another worker before any mail is queued.
        messages = self.env["library.journey.message"].create(
            [
                {
                    "journey_id": journey.id,
                    "partner_id": partner_id,
                    "trigger_key": key,
                    "date": today,
                }
                for partner_id, key in rows
            ]
        )
        mails = journey.mail_template_id.send_mail_batch([partner_id for partner_id, _key in rows])
        journey._add_opt_out(mails)
        self.env.flush_all()
        return messages
