# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customised service per segment (定制服务): a programme per lifecycle
stage, and optionally value tier, with its steps. The daily cron enrols
readers set-based, logs each step once per reader and cadence period (a
unique index), then executes what it logged: activities for the reader's
librarian, service mails to readers who accepted them, entitlements, a
named librarian."""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from .library_consent_log import CONSENT_PURPOSES
from .library_rights import check_librarian, check_manager
from .library_segment_history import READER_SEGMENTS
from .res_partner import CONSENT_FIELDS

_logger = logging.getLogger(__name__)

VALUE_TIERS = [("core", "Core"), ("important", "Important"), ("ordinary", "Ordinary")]
STEP_KINDS = [
    ("activity", "Activity for the Librarian"),
    ("mail", "Service Message to the Reader"),
    ("entitlement", "Priority Service (Entitlement)"),
    ("librarian", "Assign a Named Librarian"),
]
ENTITLEMENT_SERVICES = [
    ("extended_consultation", "Extended Consultation"),
    ("document_delivery", "Document Delivery"),
    ("study_space", "Reserved Study Space"),
    ("extended_loan", "Extended Loan Period"),
]
LOG_STATES = [
    ("open", "Open"),
    ("overdue", "Overdue"),
    ("done", "Done"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
]


class LibraryServiceProgramme(models.Model):
    _name = "library.service.programme"
    _description = "Service Programme"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    stage = fields.Selection(READER_SEGMENTS, required=True, string="Lifecycle Stage")
    value_tier = fields.Selection(
        VALUE_TIERS, help="Leave empty for the readers of the stage in every value tier."
    )
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty to share it with every library of the database.",
    )
    step_ids = fields.One2many("library.service.programme.step", "programme_id", string="Steps")
    enrolment_ids = fields.One2many("library.service.programme.enrolment", "programme_id")
    reader_count = fields.Integer(compute="_compute_reader_count", string="Readers Enrolled")

    def _compute_reader_count(self):
        counts = dict(
            self.env["library.service.programme.enrolment"]._read_group(
                [("programme_id", "in", self.ids), ("active", "=", True)],
                ["programme_id"],
                ["__count"],
            )
        )
        for programme in self:
            programme.reader_count = counts.get(programme, 0)

    @api.model_create_multi
    def create(self, vals_list):
        check_manager(self.env)
        return super().create(vals_list)

    def write(self, vals):
        check_manager(self.env)
        return super().write(vals)

    def unlink(self):
        check_manager(self.env)
        return super().unlink()

    # ------------------------------------------------------------------
    # The daily run
    # ------------------------------------------------------------------
    @api.model
    def _cron_run(self, today=None):
        """Enrol, log due steps, execute them, follow what was done."""
        today = today or fields.Date.context_today(self)
        self = self.sudo()
        self.env.flush_all()
        self._expire_entitlements(today)
        self._enrol(today)
        logs = self._log_due_steps(today)
        logs._execute(today)
        self.env["library.service.programme.log"]._sync_states(today)
        self.env.flush_all()
        return logs

    def action_run_now(self):
        """Run the programmes now (managers), as the nightly cron does."""
        check_manager(self.env)
        self.env["library.service.programme"].sudo()._cron_run()
        return True

    @api.model
    def _expire_entitlements(self, today):
        """Priority services past their end are archived."""
        self.env["library.reader.entitlement"].flush_model()
        self.env.cr.execute(
            SQL(
                "UPDATE library_reader_entitlement SET active = FALSE "
                "WHERE active AND date_end < %s",
                today,
            )
        )
        self.env["library.reader.entitlement"].invalidate_model(["active"])

    @api.model
    def _enrol(self, today):
        """Readers enter the programmes of their stage (and tier), and leave
        those they no longer match, in two statements for every reader."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                UPDATE library_service_programme_enrolment e
                   SET active = FALSE, date_end = %(today)s, exit_segment = m.reader_segment
                  FROM library_service_programme p, library_reader_metrics m, res_partner rp
                 WHERE e.active AND p.id = e.programme_id AND m.partner_id = e.partner_id
                   AND rp.id = e.partner_id
                   AND (NOT p.active OR NOT rp.active OR NOT rp.is_reader
                        OR m.reader_segment IS DISTINCT FROM p.stage
                        OR (p.value_tier IS NOT NULL
                            AND m.value_tier IS DISTINCT FROM p.value_tier))
                """,
                today=today,
            )
        )
        cr.execute(
            SQL(
                """
                INSERT INTO library_service_programme_enrolment
                       (partner_id, programme_id, date_start, active)
                SELECT m.partner_id, p.id, %(today)s, TRUE
                  FROM library_reader_metrics m
                  JOIN res_partner rp ON rp.id = m.partner_id AND rp.active AND rp.is_reader
                  JOIN library_service_programme p
                    ON p.active AND p.stage = m.reader_segment
                   AND (p.value_tier IS NULL OR p.value_tier = m.value_tier)
                   AND (p.company_id IS NULL OR rp.company_id IS NULL
                        OR p.company_id = rp.company_id)
                ON CONFLICT (partner_id, programme_id) WHERE active DO NOTHING
                """,
                today=today,
            )
        )
        self.env["library.service.programme.enrolment"].invalidate_model()

    @api.model
    def _log_due_steps(self, today):
        """One log row per enrolled reader and due step and cadence period;
        returns the rows this run created. The unique index keeps a second
        worker from logging (and so executing) a step twice."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                WITH due AS (
                    SELECT e.partner_id, e.programme_id, s.id AS step_id, e.date_start,
                           s.delay_days, s.cadence_days,
                           CASE WHEN s.cadence_days > 0
                                THEN (%(today)s::date - (e.date_start + s.delay_days))
                                     / s.cadence_days
                                ELSE 0 END AS period
                      FROM library_service_programme_enrolment e
                      JOIN library_service_programme_step s
                        ON s.programme_id = e.programme_id AND s.active
                     WHERE e.active AND e.date_start + s.delay_days <= %(today)s::date
                )
                INSERT INTO library_service_programme_log
                       (partner_id, programme_id, step_id, period_key, due_date, state)
                SELECT partner_id, programme_id, step_id,
                       to_char(date_start, 'YYYY-MM-DD') || '/' || period,
                       date_start + delay_days + period * GREATEST(cadence_days, 0),
                       'open'
                  FROM due
                ON CONFLICT (partner_id, step_id, period_key) DO NOTHING
                RETURNING id
                """,
                today=today,
            )
        )
        ids = [row[0] for row in cr.fetchall()]
        return self.env["library.service.programme.log"].browse(ids)


class LibraryServiceProgrammeStep(models.Model):
    _name = "library.service.programme.step"
    _description = "Service Programme Step"
    _order = "programme_id, sequence, id"

    programme_id = fields.Many2one(
        "library.service.programme", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="programme_id.company_id", store=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(STEP_KINDS, required=True, default="activity")
    delay_days = fields.Integer(
        string="After (days)", default=0, help="Days after the reader entered the programme."
    )
    cadence_days = fields.Integer(
        string="Every (days)",
        default=0,
        help="Repeat the step every N days while the reader stays in the programme; "
        "0 runs it once.",
    )
    assign_to = fields.Selection(
        [("responsible", "Responsible librarian"), ("liaison", "Department's liaison librarian")],
        default="responsible",
        help="Who gets the activity; the department's liaison when the reader has no "
        "responsible librarian.",
    )
    activity_type_id = fields.Many2one("mail.activity.type")
    summary = fields.Char(translate=True)
    deadline_days = fields.Integer(default=7, help="Days the librarian has to do the activity.")
    purpose = fields.Selection(
        CONSENT_PURPOSES,
        default="service",
        help="Mail steps reach only readers who accepted this purpose and are not blocklisted.",
    )
    mail_template_id = fields.Many2one(
        "mail.template", string="Message", domain=[("model", "=", "res.partner")]
    )
    service = fields.Selection(ENTITLEMENT_SERVICES)
    entitlement_days = fields.Integer(
        string="Entitlement Length (days)", default=365, help="0 grants it without an end."
    )

    _delay_positive = models.Constraint(
        "CHECK (delay_days >= 0 AND cadence_days >= 0 AND deadline_days >= 0)",
        "Delays, cadences and deadlines cannot be negative.",
    )

    @api.constrains("kind", "activity_type_id", "mail_template_id", "service")
    def _check_kind(self):
        for step in self:
            if step.kind == "activity" and not step.activity_type_id:
                raise ValidationError(self.env._("An activity step needs an activity type."))
            if step.kind == "mail" and not (step.mail_template_id and step.purpose):
                raise ValidationError(self.env._("A message step needs a template and a purpose."))
            # The cron renders it as superuser for readers' ids: a template
            # of another model would render that model's records.
            if step.mail_template_id and step.mail_template_id.sudo().model != "res.partner":
                raise ValidationError(
                    self.env._("A message step's template must be a template for contacts.")
                )
            if step.kind == "entitlement" and not step.service:
                raise ValidationError(self.env._("An entitlement step needs a service."))

    @api.model_create_multi
    def create(self, vals_list):
        check_manager(self.env)
        return super().create(vals_list)

    def write(self, vals):
        check_manager(self.env)
        return super().write(vals)

    def unlink(self):
        check_manager(self.env)
        return super().unlink()


class LibraryServiceProgrammeEnrolment(models.Model):
    """A reader's stay in a programme: from the day the cron found them in
    the programme's stage (and tier) to the day they left it."""

    _name = "library.service.programme.enrolment"
    _description = "Service Programme Enrolment"
    _order = "date_start desc, id desc"
    _log_access = False
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Reader", required=True, ondelete="cascade")
    programme_id = fields.Many2one(
        "library.service.programme", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="partner_id.company_id")
    date_start = fields.Date(string="Entered", required=True)
    date_end = fields.Date(string="Left")
    exit_segment = fields.Selection(READER_SEGMENTS, string="Stage When Leaving")
    active = fields.Boolean(default=True)

    _active_unique = models.UniqueIndex(
        "(partner_id, programme_id) WHERE active", "A reader is in a programme once at a time."
    )


class LibraryServiceProgrammeLog(models.Model):
    """One row per reader, step and cadence period: written first, then the
    step is executed, so that a step never runs twice for a period."""

    _name = "library.service.programme.log"
    _description = "Service Programme Step Log"
    _order = "due_date desc, id desc"
    _log_access = False
    _rec_name = "step_id"

    partner_id = fields.Many2one("res.partner", string="Reader", required=True, ondelete="cascade")
    programme_id = fields.Many2one(
        "library.service.programme", required=True, ondelete="cascade", index=True
    )
    step_id = fields.Many2one("library.service.programme.step", required=True, ondelete="cascade")
    kind = fields.Selection(related="step_id.kind")
    company_id = fields.Many2one(related="partner_id.company_id")
    period_key = fields.Char(
        required=True, help="The reader's entry date and the cadence period number."
    )
    due_date = fields.Date(required=True)
    done_date = fields.Date()
    state = fields.Selection(LOG_STATES, required=True, default="open")
    note = fields.Char(help="Why a step was skipped.")
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
    mail_id = fields.Many2one("mail.mail", ondelete="set null")
    mail_queued = fields.Boolean()
    entitlement_id = fields.Many2one("library.reader.entitlement", ondelete="set null")

    _once_per_period = models.UniqueIndex(
        "(partner_id, step_id, period_key)", "A step runs once per reader and cadence period."
    )

    def _execute(self, today):
        """Do what these freshly logged steps say, grouped by step."""
        ordered = self.sorted(lambda log: (log.step_id.sequence, log.step_id.id, log.id))
        for step, logs in ordered.grouped("step_id").items():
            getattr(logs, f"_execute_{step.kind}")(step, today)

    def _assignees(self, step):
        """{log: user} of the librarian who gets the activity."""
        result = {}
        for log in self:
            reader = log.partner_id
            liaison = reader.library_department_id.liaison_user_ids[:1]
            if step.assign_to == "liaison":
                user = liaison or reader.responsible_librarian_id
            else:
                user = reader.responsible_librarian_id or liaison
            result[log] = user
        return result

    def _execute_activity(self, step, today):
        assignees = self._assignees(step)
        without = self.filtered(lambda log: not assignees[log])
        without.write(
            {
                "state": "skipped",
                "done_date": today,
                "note": self.env._("No librarian for the reader."),
            }
        )
        todo = self - without
        if not todo:
            return
        model_id = self.env["ir.model"]._get_id("res.partner")
        activities = self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": log.partner_id.id,
                    "activity_type_id": step.activity_type_id.id,
                    "summary": step.summary or step.name,
                    "user_id": assignees[log].id,
                    "date_deadline": today + timedelta(days=step.deadline_days),
                }
                for log in todo
            ]
        )
        for log, activity in zip(todo, activities, strict=True):
            log.activity_id = activity

    def _execute_mail(self, step, today):
        consent = CONSENT_FIELDS[step.purpose]
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id FROM res_partner p
                 WHERE p.id = ANY(%(ids)s) AND p.active AND p.email IS NOT NULL
                   AND %(consent)s
                   AND NOT EXISTS (SELECT 1 FROM mail_blacklist b
                                    WHERE b.active AND b.email = p.email_normalized)
                """,
                ids=self.partner_id.ids,
                consent=SQL("p.%s", SQL.identifier(consent)),
            )
        )
        reachable = {row[0] for row in self.env.cr.fetchall()}
        refused = self.filtered(lambda log: log.partner_id.id not in reachable)
        refused.write(
            {
                "state": "skipped",
                "done_date": today,
                "note": self.env._(
                    "The reader did not accept this purpose, has no e-mail or is blocklisted."
                ),
            }
        )
        todo = self - refused
        if not todo:
            return
        mails = step.mail_template_id.send_mail_batch(todo.partner_id.ids)
        by_partner = {mail.res_id: mail for mail in mails}
        for log in todo:
            log.write({"mail_id": by_partner.get(log.partner_id.id), "mail_queued": True})

    def _execute_entitlement(self, step, today):
        Entitlement = self.env["library.reader.entitlement"]
        existing = Entitlement.search(
            [
                ("partner_id", "in", self.partner_id.ids),
                ("service", "=", step.service),
                ("active", "=", True),
                "|",
                ("date_end", "=", False),
                ("date_end", ">=", today),
            ]
        ).grouped("partner_id")
        have = self.filtered(lambda log: log.partner_id in existing)
        for log in have:
            log.write(
                {
                    "state": "done",
                    "done_date": today,
                    "entitlement_id": existing[log.partner_id][:1].id,
                    "note": self.env._("The reader already has this service."),
                }
            )
        todo = self - have
        # N days including the first: a yearly step renews it the day after it ends.
        end = today + timedelta(days=step.entitlement_days - 1) if step.entitlement_days else False
        granted = Entitlement.create(
            [
                {
                    "partner_id": log.partner_id.id,
                    "service": step.service,
                    "programme_id": step.programme_id.id,
                    "source": "programme",
                    "date_start": today,
                    "date_end": end,
                }
                for log in todo
            ]
        )
        for log, entitlement in zip(todo, granted, strict=True):
            log.write({"state": "done", "done_date": today, "entitlement_id": entitlement.id})

    def _execute_librarian(self, step, today):
        readers = self.partner_id.filtered(lambda p: not p.responsible_librarian_id)
        for liaison, group in readers.grouped(
            lambda p: p.library_department_id.liaison_user_ids[:1]
        ).items():
            if liaison:
                group.write({"responsible_librarian_id": liaison.id})
        for log in self:
            if log.partner_id.responsible_librarian_id:
                log.write({"state": "done", "done_date": today})
            else:
                log.write(
                    {
                        "state": "skipped",
                        "done_date": today,
                        "note": self.env._("The reader's department has no liaison librarian."),
                    }
                )

    @api.model
    def _sync_states(self, today):
        """Activities done (archived) and mails sent mark their step done;
        an activity deleted cancels it; open steps past their deadline are
        overdue. Set-based."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                UPDATE library_service_programme_log l
                   SET state = 'done', done_date = COALESCE(a.date_done, %(today)s)
                  FROM mail_activity a
                 WHERE l.activity_id = a.id AND l.state IN ('open', 'overdue') AND NOT a.active
                """,
                today=today,
            )
        )
        cr.execute(
            SQL(
                """
                UPDATE library_service_programme_log l SET state = 'cancelled'
                  FROM library_service_programme_step s
                 WHERE s.id = l.step_id AND s.kind = 'activity'
                   AND l.state IN ('open', 'overdue') AND l.activity_id IS NULL
                """
            )
        )
        # A mail sent is deleted (auto_delete) or marked sent.
        cr.execute(
            SQL(
                """
                UPDATE library_service_programme_log l
                   SET state = 'done', done_date = %(today)s
                 WHERE l.mail_queued AND l.state IN ('open', 'overdue')
                   AND (l.mail_id IS NULL OR EXISTS (
                        SELECT 1 FROM mail_mail mm WHERE mm.id = l.mail_id
                           AND mm.state = 'sent'))
                """,
                today=today,
            )
        )
        cr.execute(
            SQL(
                """
                UPDATE library_service_programme_log l SET state = 'overdue'
                  FROM library_service_programme_step s
                 WHERE s.id = l.step_id AND l.state = 'open'
                   AND l.due_date + s.deadline_days < %(today)s::date
                """,
                today=today,
            )
        )
        self.invalidate_model()


class LibraryReaderEntitlement(models.Model):
    """A priority service a reader is entitled to (优先服务), granted by a
    programme or by a librarian."""

    _name = "library.reader.entitlement"
    _description = "Reader Priority Service"
    _order = "date_start desc, id desc"

    partner_id = fields.Many2one(
        "res.partner",
        string="Reader",
        required=True,
        index=True,
        ondelete="cascade",
        domain=[("is_reader", "=", True)],
    )
    service = fields.Selection(ENTITLEMENT_SERVICES, required=True)
    source = fields.Selection(
        [("programme", "Service Programme"), ("manual", "Granted by a Librarian")],
        required=True,
        default="manual",
        readonly=True,
    )
    programme_id = fields.Many2one("library.service.programme", readonly=True, ondelete="set null")
    date_start = fields.Date(string="From", required=True, default=fields.Date.context_today)
    date_end = fields.Date(string="Until")
    active = fields.Boolean(default=True)
    note = fields.Char()
    company_id = fields.Many2one(related="partner_id.company_id", store=True, index=True)

    @api.model_create_multi
    def create(self, vals_list):
        check_librarian(self.env)
        if not self.env.su:
            for vals in vals_list:
                vals.update(source="manual", programme_id=False)
        return super().create(vals_list)

    def write(self, vals):
        check_librarian(self.env)
        if not self.env.su and ({"source", "programme_id", "partner_id"} & set(vals)):
            raise AccessError(self.env._("The reader and source of an entitlement are fixed."))
        return super().write(vals)

    def unlink(self):
        check_manager(self.env)
        return super().unlink()
