# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta

from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, freeze_time, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL, mute_logger

from .common import LibraryCrmCase, LibraryCrmHttpCase

DAY0 = date(2026, 3, 2)


def set_stage(env, partners, stage, tier="ordinary"):
    """What the engine writes, written directly: the tests do not depend on
    the engine's rules."""
    env["library.reader.metrics"]._ensure_rows(partners.ids)
    env.cr.execute(
        SQL(
            "UPDATE library_reader_metrics SET reader_segment = %s, value_tier = %s, "
            "is_core_reader = %s WHERE partner_id = ANY(%s)",
            stage,
            tier,
            tier == "core",
            partners.ids,
        )
    )
    env["library.reader.metrics"].invalidate_model()


class ProgrammeCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dept_cs.liaison_user_ids = cls.user_librarian
        Partner = cls.env["res.partner"]
        cls.core = Partner.create(
            {
                "name": "李教授",
                "is_reader": True,
                "reader_category": "faculty",
                "library_department_id": cls.dept_cs.id,
                "email": "li.prof@example.edu",
            }
        )
        cls.grower = Partner.create(
            {
                "name": "张同学",
                "is_reader": True,
                "reader_category": "postgraduate",
                "library_department_id": cls.dept_cs.id,
                "email": "zhang@example.edu",
            }
        )
        cls.refuser = Partner.create(
            {
                "name": "赵同学",
                "is_reader": True,
                "reader_category": "postgraduate",
                "library_department_id": cls.dept_cs.id,
                "email": "zhao@example.edu",
            }
        )
        cls.refuser.consent_service = False
        cls.blocked = Partner.create(
            {
                "name": "钱同学",
                "is_reader": True,
                "reader_category": "postgraduate",
                "library_department_id": cls.dept_cs.id,
                "email": "qian@example.edu",
            }
        )
        cls.env["mail.blacklist"]._add("qian@example.edu")
        cls.lapsed = Partner.create(
            {
                "name": "孙同学",
                "is_reader": True,
                "reader_category": "undergraduate",
                "library_department_id": cls.dept_cs.id,
                "responsible_librarian_id": cls.user_librarian_2.id,
                "email": "sun@example.edu",
            }
        )
        cls.short = Partner.create(
            {"name": "周同学", "is_reader": True, "reader_category": "undergraduate"}
        )
        set_stage(cls.env, cls.core, "long_term", "core")
        set_stage(cls.env, cls.grower | cls.refuser | cls.blocked, "growing")
        set_stage(cls.env, cls.lapsed, "lapsed")
        set_stage(cls.env, cls.short, "short_term")
        cls.mine = cls.core | cls.grower | cls.refuser | cls.blocked | cls.lapsed | cls.short
        cls.Programme = cls.env["library.service.programme"]
        cls.Log = cls.env["library.service.programme.log"]

    def _run(self, day):
        with freeze_time(day):
            return self.Programme._cron_run(day)

    def _logs(self, partner, step_xmlid=None):
        domain = [("partner_id", "=", partner.id)]
        if step_xmlid:
            domain.append(("step_id", "=", self.env.ref(f"library_crm.{step_xmlid}").id))
        return self.Log.search(domain)

    def _activities(self, partner, type_xmlid):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("activity_type_id", "=", self.env.ref(f"library_crm.{type_xmlid}").id),
            ]
        )

    def _mails(self, partner, template_xmlid):
        # Rendered in the reader's language.
        template = self.env.ref(f"library_crm.{template_xmlid}")
        subject = template.with_context(lang=partner.lang).subject
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id), ("subject", "=", subject)]
        )


@tagged("post_install", "-at_install")
class TestServiceProgramme(ProgrammeCase):
    def test_core_reader_named_librarian_checkins_and_entitlements(self):
        self.assertFalse(self.core.responsible_librarian_id)
        self._run(DAY0)
        self.assertEqual(self.core.responsible_librarian_id, self.user_librarian)
        checkins = self._activities(self.core, "mail_activity_type_programme_checkin")
        self.assertEqual(len(checkins), 1)
        self.assertEqual(checkins.user_id, self.user_librarian, "the named librarian checks in")
        entitlements = self.core.library_entitlement_ids
        self.assertEqual(
            sorted(entitlements.mapped("service")), ["document_delivery", "extended_consultation"]
        )
        self.assertEqual(set(entitlements.mapped("source")), {"programme"})
        self.assertEqual(entitlements[0].date_end, DAY0 + timedelta(days=364), "a year")

        # The cron runs twice the same day, then every day of the cadence: nothing new.
        self._run(DAY0)
        self._run(DAY0 + timedelta(days=1))
        self._run(DAY0 + timedelta(days=89))
        self.assertEqual(
            len(self._activities(self.core, "mail_activity_type_programme_checkin")), 1
        )
        self.assertEqual(len(self._logs(self.core, "service_programme_step_core_checkin")), 1)
        self.assertEqual(len(self.core.library_entitlement_ids), 2)

        # One cadence later the check-in fires again; entitlements do not.
        self._run(DAY0 + timedelta(days=90))
        self._run(DAY0 + timedelta(days=91))
        logs = self._logs(self.core, "service_programme_step_core_checkin")
        self.assertEqual(len(logs), 2)
        self.assertEqual(
            sorted(logs.mapped("due_date")), [DAY0, DAY0 + timedelta(days=90)], "one per period"
        )
        self.assertEqual(
            len(self._activities(self.core, "mail_activity_type_programme_checkin")), 2
        )
        self.assertEqual(len(self.core.library_entitlement_ids), 2)
        self.assertEqual(len(self._logs(self.core, "service_programme_step_core_consultation")), 1)

        # A year later the priority services of a reader still core are renewed.
        self._run(DAY0 + timedelta(days=365))
        self.assertEqual(len(self.core.library_entitlement_ids), 2, "the old ones expired")
        self.assertEqual(
            set(self.core.library_entitlement_ids.mapped("date_start")),
            {DAY0 + timedelta(days=365)},
        )
        self.assertEqual(
            len(
                self.env["library.reader.entitlement"]
                .with_context(active_test=False)
                .search([("partner_id", "=", self.core.id)])
            ),
            4,
        )

    def test_entitlement_granted_by_hand_is_not_duplicated(self):
        self.env["library.reader.entitlement"].with_user(self.user_librarian).create(
            {"partner_id": self.core.id, "service": "document_delivery", "date_start": DAY0}
        )
        self._run(DAY0)
        delivery = self.core.library_entitlement_ids.filtered(
            lambda e: e.service == "document_delivery"
        )
        self.assertEqual(len(delivery), 1)
        self.assertEqual(delivery.source, "manual")
        self.assertEqual(
            self._logs(self.core, "service_programme_step_core_delivery").state, "done"
        )

    def test_growing_nurture_respects_service_consent(self):
        self._run(DAY0)
        for reader in (self.grower, self.refuser, self.blocked):
            intro = self._activities(reader, "mail_activity_type_programme_nurture")
            self.assertEqual(intro.user_id, self.user_librarian, "the liaison introduces")
        # No training invitation before its delay.
        self.assertFalse(self._logs(self.grower, "service_programme_step_growing_training"))
        self._run(DAY0 + timedelta(days=7))
        self.assertEqual(len(self._mails(self.grower, "mail_template_programme_training")), 1)
        for reader in (self.refuser, self.blocked):
            self.assertFalse(self._mails(reader, "mail_template_programme_training"))
            self.assertEqual(
                self._logs(reader, "service_programme_step_growing_training").state, "skipped"
            )
            # The librarian still has the activity for them.
            self.assertEqual(
                len(self._activities(reader, "mail_activity_type_programme_nurture")), 1
            )
        training = self._logs(self.grower, "service_programme_step_growing_training")
        self.assertEqual(training.state, "open")
        self._run(DAY0 + timedelta(days=8))
        self.assertEqual(len(self._mails(self.grower, "mail_template_programme_training")), 1)
        # Sent: the mail is marked sent (or deleted after sending).
        training.mail_id.write({"state": "sent"})
        self._run(DAY0 + timedelta(days=9))
        self.assertEqual(training.state, "done")

    def test_activity_done_marks_the_step_done_and_late_is_overdue(self):
        self._run(DAY0)
        intro_log = self._logs(self.grower, "service_programme_step_growing_introduction")
        refuser_log = self._logs(self.refuser, "service_programme_step_growing_introduction")
        self.assertEqual(intro_log.state, "open")
        with freeze_time(DAY0 + timedelta(days=3)):
            intro_log.activity_id.with_user(self.user_librarian).action_feedback("Met them")
            self.env.flush_all()
        # The activity type's deadline is 7 days (the step's default).
        self._run(DAY0 + timedelta(days=8))
        self.assertEqual(intro_log.state, "done")
        self.assertEqual(intro_log.done_date, DAY0 + timedelta(days=3))
        self.assertEqual(refuser_log.state, "overdue")

    def test_lapsed_win_back_and_short_term_general_service(self):
        self._run(DAY0)
        self.assertEqual(len(self._mails(self.lapsed, "mail_template_programme_winback")), 1)
        call = self._activities(self.lapsed, "mail_activity_type_programme_winback")
        self.assertEqual(call.user_id, self.user_librarian_2, "the responsible librarian calls")
        self.assertFalse(self._logs(self.short), "general service: no personal steps")
        enrolment = self.env["library.service.programme.enrolment"].search(
            [("partner_id", "=", self.short.id)]
        )
        self.assertEqual(
            enrolment.programme_id, self.env.ref("library_crm.service_programme_short_term")
        )

    def test_report_counts_by_hand(self):
        self._run(DAY0)
        # The grower moves up to long-term (not core), the refuser lapses, the
        # blocked reader stays.
        set_stage(self.env, self.grower, "long_term", "important")
        set_stage(self.env, self.refuser, "lapsed")
        moved = DAY0 + timedelta(days=10)
        self.env["library.segment.history"].create(
            [
                {
                    "partner_id": self.grower.id,
                    "date": moved,
                    "from_segment": "growing",
                    "to_segment": "long_term",
                },
                {
                    "partner_id": self.refuser.id,
                    "date": moved,
                    "from_segment": "growing",
                    "to_segment": "lapsed",
                },
            ]
        )
        self._run(moved)
        growing = self.env.ref("library_crm.service_programme_growing")
        self.env.flush_all()
        Report = self.env["library.service.programme.report"]
        domain = [("partner_id", "in", self.mine.ids), ("programme_id", "=", growing.id)]
        (row,) = Report._read_group(
            domain,
            [],
            [
                "reader_count:sum",
                "stayed_count:sum",
                "due_count:sum",
                "done_count:sum",
                "overdue_count:sum",
                "skipped_count:sum",
                "moved_up_count:sum",
                "moved_down_count:sum",
                "lapsed_count:sum",
            ],
        )
        # 3 readers entered; 1 stays (the blocked one). Day 0: 3 introductions;
        # day 10: 3 training invitations logged (grower and refuser left that
        # day, before the steps: so only the blocked reader's, skipped).
        # Introductions are past their 7-day deadline on day 10: overdue.
        self.assertEqual(row, (3, 1, 3, 0, 3, 1, 1, 0, 1))
        # The grower has entered the long-term programme? Not core: no.
        self.assertFalse(
            self.env["library.service.programme.enrolment"].search(
                [("partner_id", "=", self.grower.id), ("active", "=", True)]
            )
        )
        lapsed = self.env.ref("library_crm.service_programme_lapsed")
        self.assertEqual(
            Report.search_count(
                [
                    ("partner_id", "=", self.refuser.id),
                    ("programme_id", "=", lapsed.id),
                    ("row_kind", "=", "reader"),
                ]
            ),
            1,
        )


@tagged("post_install", "-at_install")
class TestServiceProgrammeSecurity(ProgrammeCase):
    def test_only_managers_configure(self):
        programme = self.env.ref("library_crm.service_programme_growing")
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Programme.with_user(user).with_context(
                    library_suggestion_step=True, active_test=False
                ).create({"name": "Mine", "stage": "growing"})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                programme.with_user(user).write({"active": False})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                programme.with_user(user).action_run_now()
        programme.with_user(self.user_manager).write({"description": "Edited"})
        self.assertEqual(programme.description, "Edited")

    def test_logs_and_entitlements_for_library_staff_only(self):
        self._run(DAY0)
        log = self._logs(self.grower)[:1]
        self.assertTrue(log)
        entitlement = self.core.library_entitlement_ids[:1]
        for user in (self.user_portal, self.user_internal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                log.with_user(user).read(["state"])
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                entitlement.with_user(user).read(["service"])
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["library.reader.entitlement"].with_user(user).create(
                    {"partner_id": self.grower.id, "service": "study_space"}
                )
        # Librarians read; they cannot forge or edit the log, nor a programme grant.
        self.assertEqual(log.with_user(self.user_librarian).state, "open")
        with self.assertRaises(AccessError):
            log.with_user(self.user_librarian).write({"state": "done"})
        with self.assertRaises(AccessError):
            self.Log.with_user(self.user_librarian).create(
                {
                    "partner_id": self.grower.id,
                    "programme_id": log.programme_id.id,
                    "step_id": log.step_id.id,
                    "period_key": "x",
                    "due_date": DAY0,
                }
            )
        with self.assertRaises(AccessError):
            entitlement.with_user(self.user_librarian).write({"source": "manual"})
        manual = (
            self.env["library.reader.entitlement"]
            .with_user(self.user_librarian)
            .create(
                {
                    "partner_id": self.grower.id,
                    "service": "study_space",
                    "source": "programme",
                    "programme_id": log.programme_id.id,
                }
            )
        )
        self.assertEqual((manual.source, manual.programme_id.id), ("manual", False))
        with self.assertRaises(AccessError):
            manual.with_user(self.user_librarian).unlink()


@tagged("post_install", "-at_install")
class TestServiceProgrammeRpc(LibraryCrmHttpCase):
    def _call(self, model, method, args, context=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {"context": context or {}},
            },
        )

    def test_rpc_refuses_each_role_where_forbidden(self):
        programme = self.env.ref("library_crm.service_programme_growing")
        hostile = {"active_test": False, "library_suggestion_step": True, "sudo": True}
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            self.authenticate_as(user)
            for model, method, args in (
                ("library.service.programme", "action_run_now", [[programme.id]]),
                ("library.service.programme", "write", [[programme.id], {"active": False}]),
                ("library.service.programme", "_cron_run", []),
                ("library.service.programme.log", "create", [[{"partner_id": self.reader.id}]]),
            ):
                with (
                    self.subTest(user=user.login, method=method),
                    self.assertRaises(JsonRpcException),
                    mute_logger("odoo.http"),
                ):
                    self._call(model, method, args, hostile)
            if user != self.user_librarian:
                with (
                    self.subTest(user=user.login, method="search_read"),
                    self.assertRaises(JsonRpcException),
                    mute_logger("odoo.http"),
                ):
                    self._call("library.reader.entitlement", "search_read", [[]], hostile)
        self.assertTrue(programme.active)
        self.assertFalse(
            self.env["library.service.programme.log"].search([("partner_id", "=", self.reader.id)])
        )


@tagged("post_install", "-at_install")
class TestServiceProgrammeConcurrency(TransactionCase):
    """Two cron workers log the same due step at once: one log row."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            reader = env["res.partner"].create({"name": "并发读者", "is_reader": True})
            set_stage(env, reader, "growing")
            env["library.service.programme.enrolment"].create(
                {
                    "partner_id": reader.id,
                    "programme_id": env.ref("library_crm.service_programme_growing").id,
                    "date_start": DAY0,
                }
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.reader_id = reader.id
        self.cursors = [self.registry.cursor(), self.registry.cursor()]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for cr in self.cursors:
            cr.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["res.partner"].browse(self.reader_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _mine(self, logs):
        return logs.filtered(lambda log: log.partner_id.id == self.reader_id)

    def test_two_workers_log_a_step_once(self):
        env1, env2 = (api.Environment(cr, SUPERUSER_ID, {}) for cr in self.cursors)
        # Both transactions take their snapshot before either logs.
        for env in (env1, env2):
            env.cr.execute("SELECT count(*) FROM library_service_programme_log")
        first = self._mine(env1["library.service.programme"]._log_due_steps(DAY0))
        self.assertEqual(len(first), 1)
        env1.cr.commit()
        # The second worker, on its older snapshot, cannot log it again: the
        # unique index refuses the row it cannot see...
        with self.assertRaises(SerializationFailure), mute_logger("odoo.sql_db"):
            env2["library.service.programme"]._log_due_steps(DAY0)
        env2.cr.rollback()
        # ...and its retry sees the row and logs nothing.
        env2.transaction.reset()
        second = self._mine(env2["library.service.programme"]._log_due_steps(DAY0))
        self.assertFalse(second, "the second worker logged nothing to execute")
        env2.cr.commit()
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM library_service_programme_log WHERE partner_id = %s",
                [self.reader_id],
            )
            self.assertEqual(cr.fetchone()[0], 1)
