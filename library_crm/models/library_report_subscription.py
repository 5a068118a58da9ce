# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reports that arrive by themselves: a manager subscribes recipients to one
of the PDFs, and a daily cron mails it for the period just ended."""

import logging
from datetime import date

from dateutil.relativedelta import relativedelta
from psycopg2 import errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .library_rights import MANAGER_GROUP, check_manager

_logger = logging.getLogger(__name__)

# kind: (report action, period wizard model or None for the scorecard)
REPORTS = {
    "segment_summary": ("library_crm.action_report_segment_summary", "library.segment.summary"),
    "suggestion_register": (
        "library_crm.action_report_suggestion_register",
        "library.suggestion.register",
    ),
    "satisfaction_report": (
        "library_crm.action_report_satisfaction",
        "library.satisfaction.report",
    ),
    "department_scorecard": ("library_crm.action_report_department_scorecard", None),
}
MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


def period_containing(day, frequency):
    """(first day, last day) of the month, quarter or year of `day`."""
    months = MONTHS[frequency]
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, start + relativedelta(months=months, days=-1)


def period_just_ended(day, frequency):
    """The last whole period before `day`'s: on 2004-02-01, January 2004
    (monthly), Q4 2003 (quarterly), 2003 (yearly)."""
    current_start, _end = period_containing(day, frequency)
    return period_containing(current_start - relativedelta(days=1), frequency)


class LibraryReportSubscription(models.Model):
    _name = "library.report.subscription"
    _description = "Report Subscription"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    report_kind = fields.Selection(
        [
            ("segment_summary", "Reader Segments Summary"),
            ("suggestion_register", "Suggestions Register"),
            ("satisfaction_report", "Reader Satisfaction Report"),
            ("department_scorecard", "Department Scorecard"),
        ],
        string="Report",
        required=True,
        default="segment_summary",
    )
    frequency = fields.Selection(
        [("monthly", "Monthly"), ("quarterly", "Quarterly"), ("yearly", "Yearly")],
        required=True,
        default="monthly",
        help="The report covers the month, quarter or year just ended; it is "
        "sent the first day the cron runs after that period.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    department_id = fields.Many2one(
        "library.department",
        check_company=True,
        index=True,
        ondelete="cascade",
        help="The department of the scorecard. A scorecard shows the year of "
        "the period's end up to that end.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Sent on Behalf of",
        required=True,
        default=lambda self: self.env.user,
        domain=lambda self: [("all_group_ids", "in", self.env.ref(MANAGER_GROUP).id)],
        help="A library manager: the report shows what this manager may see "
        "in the subscription's company. Nothing is sent while they are no "
        "longer a library manager.",
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "library_report_subscription_partner_rel",
        "subscription_id",
        "partner_id",
        string="Recipients",
        required=True,
        help="Reports of all departments (segments, suggestions, satisfaction) "
        "go only to contacts of internal users (library staff, the leadership, "
        "university officers with a login) who are not a department's contact. "
        "A department's contacts receive only the scorecard of their own "
        "department (or of a sub-unit of it).",
    )
    last_period_end = fields.Date(
        string="Last Period Sent",
        readonly=True,
        copy=False,
        help="End of the last period whose report was sent.",
    )
    next_run_date = fields.Date(
        compute="_compute_next_run_date",
        store=True,
        readonly=True,
        copy=False,
        help="The first day the cron sends the next report. A new "
        "subscription sends the period just ended on the next run.",
    )
    log_ids = fields.One2many(
        "library.report.subscription.log", "subscription_id", string="Sent Reports", readonly=True
    )

    @api.depends("frequency", "last_period_end")
    def _compute_next_run_date(self):
        today = fields.Date.context_today(self)
        for subscription in self:
            frequency = subscription.frequency or "monthly"
            if subscription.last_period_end:
                after = subscription.last_period_end + relativedelta(days=1)
                _start, end = period_containing(after, frequency)
            else:
                end = period_just_ended(today, frequency)[1]
            subscription.next_run_date = end + relativedelta(days=1)

    @api.constrains("report_kind", "department_id")
    def _check_department(self):
        for subscription in self:
            if subscription.report_kind == "department_scorecard":
                if not subscription.department_id:
                    raise ValidationError(self.env._("A scorecard is of one department."))
            elif subscription.department_id:
                raise ValidationError(
                    self.env._("Only a scorecard subscription has a department.")
                )

    @api.constrains("user_id", "company_id")
    def _check_user(self):
        for subscription in self:
            if not subscription.user_id.has_group(MANAGER_GROUP):
                raise ValidationError(
                    self.env._("Reports are sent on behalf of a library manager.")
                )
            if subscription.company_id not in subscription.user_id.sudo().company_ids:
                raise ValidationError(
                    self.env._(
                        "Reports are sent on behalf of a manager of the subscription's company."
                    )
                )

    @api.constrains("recipient_ids", "report_kind", "department_id")
    def _check_recipients(self):
        for subscription in self:
            refused = subscription.recipient_ids - subscription._allowed_recipients()
            if refused:
                raise ValidationError(
                    self.env._(
                        "%(names)s may not receive %(report)s: reports of all departments go "
                        "only to internal users who are not a department's contact, and a "
                        "department's contacts receive only their own department's scorecard.",
                        names=", ".join(refused.mapped("display_name")),
                        report=subscription.name,
                    )
                )
            missing = subscription.recipient_ids.filtered(lambda partner: not partner.email)
            if missing:
                raise ValidationError(
                    self.env._(
                        "%(names)s has no e-mail address.",
                        names=", ".join(missing.mapped("display_name")),
                    )
                )

    def _allowed_recipients(self):
        """The recipients the rule lets receive this report (see the
        recipients' help); checked when saved and again when sent."""
        self.ensure_one()
        partners = self.recipient_ids.sudo()
        if not partners:
            return self.env["res.partner"]
        internal = partners.filtered(
            lambda partner: any(
                user.active and not user.share
                for user in partner.with_context(active_test=False).user_ids
            )
        )
        contact_of = {}
        for department in (
            self.env["library.department"]
            .sudo()
            .with_context(active_test=False)
            .search([("contact_ids", "in", partners.ids)])
        ):
            for partner in department.contact_ids & partners:
                contact_of.setdefault(partner, set()).add(department.id)
        if self.report_kind == "department_scorecard":
            own = {int(dept) for dept in self.department_id.sudo().parent_path.split("/") if dept}
            allowed = partners.filtered(
                lambda partner: (
                    contact_of.get(partner, set()) & own
                    if partner in contact_of
                    else partner in internal
                )
            )
        else:
            allowed = internal.filtered(lambda partner: partner not in contact_of)
        return self.recipient_ids & allowed

    # Sending

    def action_send_now(self):
        """Send the period just ended now, if it was not sent yet."""
        check_manager(self.env)
        self.check_access("write")
        today = fields.Date.context_today(self)
        sent = self.env["library.report.subscription.log"]
        for subscription in self:
            period = period_just_ended(today, subscription.frequency)
            if subscription.last_period_end and subscription.last_period_end >= period[1]:
                raise UserError(
                    self.env._(
                        "%(name)s was already sent for the period ending %(end)s.",
                        name=subscription.name,
                        end=period[1],
                    )
                )
            log = subscription.sudo()._send_locked(period)
            if not log:
                raise UserError(
                    self.env._("%(name)s is being sent right now.", name=subscription.name)
                )
            sent |= log
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(count)s report(s) queued for sending.", count=len(sent)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _check_sent_fields(self, vals):
        """What was sent is the sending's record: over RPC a manager could
        otherwise set it (readonly= protects the form only)."""
        if not self.env.su and vals.keys() & {"last_period_end", "next_run_date"}:
            raise AccessError(self.env._("What was sent is recorded by the sending only."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_sent_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_sent_fields(vals)
        return super().write(vals)

    @api.model
    def _cron_send(self, today=None, commit=False):
        """Send every due subscription the period just ended, once: a row
        lock taken with SKIP LOCKED keeps a concurrent run off a
        subscription being sent, and the log's unique index refuses a period
        already sent by a run whose snapshot predates the other's commit.
        The cron's run (commit=True) commits after each subscription.
        Returns the logs created."""
        today = today or fields.Date.context_today(self)
        sent = self.env["library.report.subscription.log"]
        due = self.sudo().search([("next_run_date", "<=", today)])
        for index, subscription in enumerate(due):
            period = period_just_ended(today, subscription.frequency)
            if subscription.last_period_end and subscription.last_period_end >= period[1]:
                continue
            try:
                with self.env.cr.savepoint():
                    sent |= subscription._send_locked(period)
            except (errors.SerializationFailure, errors.UniqueViolation):
                _logger.info(
                    "Report subscription %s: %s - %s sent by another worker; skipped.",
                    subscription.id,
                    *period,
                )
            except Exception:
                _logger.exception(
                    "Report subscription %s (%s) failed and sent nothing; the others go on.",
                    subscription.id,
                    subscription.name,
                )
            if commit:
                self.env["ir.cron"]._commit_progress(1, remaining=len(due) - index - 1)
        return sent

    def _send_locked(self, period):
        """Lock the subscription (skip it if another worker holds it), then
        send `period`. Returns the log, empty if skipped."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT id FROM library_report_subscription
                    WHERE id = %s AND (last_period_end IS NULL OR last_period_end < %s)
                      FOR UPDATE SKIP LOCKED""",
                self.id,
                period[1],
            ),
            # Refused when another worker sent it after this snapshot: expected.
            log_exceptions=False,
        )
        if not self.env.cr.fetchone():
            return self.env["library.report.subscription.log"]
        self.invalidate_recordset(["last_period_end"])
        return self._send(*period)

    def _send(self, period_start, period_end):
        """Render and queue the report of the period: one mail per recipient
        language, PDF and summary in that language."""
        self.ensure_one()
        Log = self.env["library.report.subscription.log"].sudo()
        # Inserted first: the unique index refuses a period already sent.
        log = Log.create(
            {"subscription_id": self.id, "period_start": period_start, "period_end": period_end}
        )
        self.env.flush_all()
        manager = self.user_id
        recipients = self._allowed_recipients().filtered("email")
        if not manager.active or not manager.has_group(MANAGER_GROUP):
            recipients = self.env["res.partner"]
            _logger.warning(
                "Report subscription %s: %s is no longer a library manager; nothing sent.",
                self.id,
                manager.login,
            )
        skipped = self.recipient_ids - recipients
        if skipped:
            _logger.warning(
                "Report subscription %s: not sent to %s (no e-mail or no longer allowed).",
                self.id,
                skipped.ids,
            )
        mails = self.env["mail.mail"]
        by_lang = {}
        for partner in recipients:
            by_lang.setdefault(partner.lang or manager.lang or "en_US", []).append(partner.id)
        for lang, partner_ids in sorted(by_lang.items()):
            mails |= self._send_in(lang, partner_ids, log)
        log.write({"mail_ids": [fields.Command.set(mails.ids)], "recipient_ids": recipients.ids})
        self.write({"last_period_end": period_end})
        return log

    def _send_in(self, lang, partner_ids, log):
        """The mail of `log`'s period in `lang` to `partner_ids`."""
        env = self.env(
            user=self.user_id,
            su=False,
            context=dict(
                self.env.context,
                lang=lang,
                allowed_company_ids=self.company_id.ids,
                active_test=True,
            ),
        )
        subscription = self.with_env(env)
        content, kind, figures = subscription._render(log.period_start, log.period_end)
        extension = "pdf" if kind == "pdf" else "html"
        subject = env._(
            "%(report)s: %(start)s - %(end)s",
            report=subscription.name,
            start=log.period_start,
            end=log.period_end,
        )
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{subject}.{extension}",
                    "raw": content,
                    "mimetype": "application/pdf" if kind == "pdf" else "text/html",
                    "res_model": log._name,
                    "res_id": log.id,
                }
            )
        )
        body = (
            self.env["ir.qweb"]
            .with_context(lang=lang)
            ._render(
                "library_crm.report_subscription_mail_body",
                {
                    "subscription": subscription,
                    "kind": subscription.report_kind,
                    "period_start": log.period_start,
                    "period_end": log.period_end,
                    "figures": figures,
                    "department": subscription.department_id.display_name,
                },
            )
        )
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "subject": subject,
                    "body_html": body,
                    "email_from": self.company_id.email_formatted or self.user_id.email_formatted,
                    "recipient_ids": [fields.Command.set(partner_ids)],
                    "attachment_ids": [fields.Command.set(attachment.ids)],
                    "auto_delete": False,
                }
            )
        )

    def _render(self, period_start, period_end):
        """(content, 'pdf' or 'html', key figures) of the report in the
        environment's language, as the subscription's manager sees it."""
        self.ensure_one()
        xmlid, wizard_model = REPORTS[self.report_kind]
        Report = self.env["ir.actions.report"]
        lang = self.env.lang
        if wizard_model:
            records = self.env[wizard_model].create(
                {"date_from": period_start, "date_to": period_end}
            )
        else:
            records = self.department_id
        data = {"library_lang": lang, "library_year": period_end.year}
        content, kind = Report._render_qweb_pdf(xmlid, records.ids, data=data)
        return content, kind, self._figures(records, period_start, period_end)

    def _figures(self, records, period_start, period_end):
        """A few key figures of the period for the mail's body."""
        if self.report_kind == "segment_summary":
            data = records._summary_data()
            return {
                "readers": data["total"],
                "core": data["core"],
                "conversion": round(data["conversion"], 1),
            }
        if self.report_kind == "suggestion_register":
            data = records._register_data()
            return {
                "received": data["total"],
                "adopted": data["adopted"],
                "reply_days": round(data["reply_days"], 1),
            }
        if self.report_kind == "satisfaction_report":
            data = records._figures(period_start, period_end)
            return {
                "responses": data["responses"],
                "index": round(data["index"], 1),
                "nps": round(data["nps"], 1),
            }
        data = records._scorecard_data(period_end.year)
        return {
            "readers": data["readers"],
            "contacted": data["contacted"],
            "share": data["share"],
        }


class LibraryReportSubscriptionLog(models.Model):
    """One period of a subscription sent: the PDFs are its attachments."""

    _name = "library.report.subscription.log"
    _description = "Report Subscription Sending"
    _order = "period_end desc, id desc"

    subscription_id = fields.Many2one(
        "library.report.subscription", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    mail_ids = fields.Many2many("mail.mail", string="Mails", readonly=True)
    recipient_ids = fields.Many2many("res.partner", string="Sent to", readonly=True)

    _unique_period = models.UniqueIndex(
        "(subscription_id, period_start, period_end)",
        "This period of the subscription was already sent.",
    )
