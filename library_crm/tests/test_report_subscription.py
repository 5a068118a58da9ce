# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Subscribed reports: the period just ended, the recipients' rights, the
PDF and its figures in the recipient's language, once per period."""

from datetime import date, datetime

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, freeze_time, tagged
from odoo.tests.common import JsonRpcException

from ..models.library_report_subscription import period_just_ended
from .common import LibraryCrmCase, LibraryCrmHttpCase

NOW = datetime(2004, 2, 1, 6, 0)


class SubscriptionCommon:
    @classmethod
    def _setup_subscriptions(cls):
        cls.user_manager.partner_id.write({"email": "manager.ma@example.edu", "lang": "en_US"})
        cls.user_leader.partner_id.write({"email": "leader.liu@example.edu", "lang": "zh_CN"})
        cls.contact_cs = cls.user_portal.partner_id
        cls.contact_cs.email = "dean.cs@example.edu"
        cls.dept_cs.contact_ids = [(4, cls.contact_cs.id)]
        cls.school_contact = cls.env["res.partner"].create(
            {"name": "Dean of Science", "email": "dean.science@example.edu", "lang": "en_US"}
        )
        cls.school.contact_ids = [(4, cls.school_contact.id)]
        cls.outsider = cls.env["res.partner"].create(
            {"name": "Journalist", "email": "press@example.com"}
        )

    def _subscription(self, **values):
        values.setdefault("recipient_ids", [(6, 0, self.user_manager.partner_id.ids)])
        return (
            self.env["library.report.subscription"]
            .with_user(self.user_manager)
            .create(
                {
                    "name": "Monthly suggestions",
                    "report_kind": "suggestion_register",
                    "frequency": "monthly",
                    **values,
                }
            )
        )


@tagged("post_install", "-at_install")
class TestReportSubscription(SubscriptionCommon, LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_subscriptions()
        category = cls.env["library.suggestion.category"].create({"name": "Opening hours"})
        Suggestion = cls.env["library.suggestion"]
        for when, subject in [
            ("2003-12-20 03:00:00", "December"),
            ("2004-01-05 03:00:00", "January one"),
            ("2004-01-30 03:00:00", "January two"),
        ]:
            with freeze_time(when):
                Suggestion.create(
                    {"partner_id": cls.reader.id, "category_id": category.id, "subject": subject}
                )

    def _mails(self, log):
        return log.mail_ids.sorted(lambda mail: mail.recipient_ids[:1].lang or "")

    def test_period_just_ended(self):
        today = date(2004, 2, 1)
        self.assertEqual(
            period_just_ended(today, "monthly"), (date(2004, 1, 1), date(2004, 1, 31))
        )
        self.assertEqual(
            period_just_ended(today, "quarterly"), (date(2003, 10, 1), date(2003, 12, 31))
        )
        self.assertEqual(
            period_just_ended(today, "yearly"), (date(2003, 1, 1), date(2003, 12, 31))
        )
        self.assertEqual(
            period_just_ended(date(2004, 3, 31), "quarterly"),
            (date(2003, 10, 1), date(2003, 12, 31)),
        )
        self.assertEqual(
            period_just_ended(date(2004, 3, 1), "monthly"), (date(2004, 2, 1), date(2004, 2, 29))
        )

    def test_monthly_sends_january_once_with_pdf_and_figures(self):
        view = self.env.ref("library_crm.report_subscription_mail_body")
        view.update_field_translations(
            "arch_db", {"zh_CN": {"Suggestions received:": "收到的建议："}}
        )
        with freeze_time(NOW):
            subscription = self._subscription(
                recipient_ids=[(6, 0, (self.user_manager | self.user_leader).partner_id.ids)]
            )
            self.assertEqual(subscription.next_run_date, date(2004, 2, 1))
            Subscription = self.env["library.report.subscription"].with_context(
                force_report_rendering=True
            )
            log = Subscription._cron_send()
            self.assertEqual(log.subscription_id, subscription)
            self.assertEqual(
                (log.period_start, log.period_end), (date(2004, 1, 1), date(2004, 1, 31))
            )
            self.assertEqual(subscription.last_period_end, date(2004, 1, 31))
            self.assertEqual(subscription.next_run_date, date(2004, 3, 1))
            # One mail per language, each with its own PDF.
            english, chinese = self._mails(log)
            self.assertEqual(english.recipient_ids, self.user_manager.partner_id)
            self.assertEqual(chinese.recipient_ids, self.user_leader.partner_id)
            for mail in (english, chinese):
                self.assertEqual(len(mail.attachment_ids), 1)
                self.assertEqual(mail.attachment_ids.mimetype, "application/pdf")
                self.assertTrue(mail.attachment_ids.raw.startswith(b"%PDF"))
                self.assertIn("2004-01-01", mail.subject)
                self.assertIn("2004-01-31", mail.subject)
            # Two suggestions in January; December's is another period.
            self.assertIn("Suggestions received: <b>2</b>", str(english.body_html))
            self.assertIn("收到的建议： <b>2</b>", str(chinese.body_html))
            self.assertNotIn("Suggestions received:", str(chinese.body_html))
            # Run again the same day: nothing more.
            self.assertFalse(Subscription._cron_send())
            with self.assertRaises(UserError):
                subscription.with_user(self.user_manager).action_send_now()
        with freeze_time("2004-02-20 06:00:00"):
            self.assertFalse(self.env["library.report.subscription"]._cron_send())
        with freeze_time("2004-03-01 06:00:00"):
            february = self.env["library.report.subscription"]._cron_send()
        self.assertEqual(
            (february.period_start, february.period_end), (date(2004, 2, 1), date(2004, 2, 29))
        )
        self.assertIn("Suggestions received: <b>0</b>", str(self._mails(february)[0].body_html))
        self.assertEqual(subscription.log_ids, log | february)

    def test_quarterly_and_yearly_periods(self):
        with freeze_time(NOW):
            quarterly = self._subscription(
                name="Quarterly segments", report_kind="segment_summary", frequency="quarterly"
            )
            yearly = self._subscription(
                name="Yearly satisfaction", report_kind="satisfaction_report", frequency="yearly"
            )
            logs = self.env["library.report.subscription"]._cron_send()
            by_subscription = {log.subscription_id: log for log in logs}
            q4 = by_subscription[quarterly]
            self.assertEqual(
                (q4.period_start, q4.period_end), (date(2003, 10, 1), date(2003, 12, 31))
            )
            year = by_subscription[yearly]
            self.assertEqual(
                (year.period_start, year.period_end), (date(2003, 1, 1), date(2003, 12, 31))
            )
            self.assertEqual(quarterly.next_run_date, date(2004, 4, 1))
            self.assertEqual(yearly.next_run_date, date(2005, 1, 1))
            expected = (
                self.env["library.segment.summary"]
                .with_user(self.user_manager)
                .create({"date_from": "2003-10-01", "date_to": "2003-12-31"})
                ._summary_data()
            )
        body = str(q4.mail_ids.body_html)
        self.assertIn(f"Readers: <b>{expected['total']}</b>", body)
        self.assertIn(f"Core readers: <b>{expected['core']}</b>", body)
        self.assertIn("Survey responses: <b>0</b>", str(year.mail_ids.body_html))
        self.assertEqual(len(q4.mail_ids.attachment_ids), 1)

    def test_scorecard_goes_to_the_departments_contact_only(self):
        with freeze_time(NOW):
            card = self._subscription(
                name="CS scorecard",
                report_kind="department_scorecard",
                department_id=self.dept_cs.id,
                recipient_ids=[(6, 0, (self.contact_cs | self.school_contact).ids)],
            )
            log = self.env["library.report.subscription"]._cron_send()
        self.assertEqual(log.subscription_id, card)
        self.assertEqual(log.recipient_ids, self.contact_cs | self.school_contact)
        self.assertIn("Readers of the department: <b>1</b>", str(log.mail_ids.body_html))
        self.assertIn("Computer Science", str(log.mail_ids.body_html))
        self.assertNotIn("Mathematics", str(log.mail_ids.body_html))

    def test_recipient_rules(self):
        manager = self.user_manager.partner_id
        cases = [
            # (report, department, recipient, allowed)
            ("segment_summary", None, manager, True),
            ("segment_summary", None, self.user_leader.partner_id, True),
            ("segment_summary", None, self.contact_cs, False),
            ("satisfaction_report", None, self.school_contact, False),
            ("suggestion_register", None, self.outsider, False),
            ("department_scorecard", self.dept_cs, self.contact_cs, True),
            ("department_scorecard", self.dept_cs, self.school_contact, True),
            ("department_scorecard", self.dept_cs, manager, True),
            ("department_scorecard", self.dept_math, self.contact_cs, False),
            ("department_scorecard", self.dept_hist, self.school_contact, False),
            ("department_scorecard", self.dept_cs, self.outsider, False),
        ]
        for kind, department, partner, allowed in cases:
            with self.subTest(kind=kind, department=department.name if department else None):
                values = {
                    "report_kind": kind,
                    "department_id": department.id if department else False,
                    "recipient_ids": [(6, 0, partner.ids)],
                }
                if allowed:
                    self.assertEqual(self._subscription(**values).recipient_ids, partner)
                else:
                    with self.assertRaises(ValidationError):
                        self._subscription(**values)
        with self.assertRaises(ValidationError):
            self._subscription(report_kind="department_scorecard")
        with self.assertRaises(ValidationError):
            self._subscription(user_id=self.user_librarian.id)
        no_mail = self.user_librarian_2.partner_id
        no_mail.email = False
        with self.assertRaises(ValidationError):
            self._subscription(recipient_ids=[(6, 0, no_mail.ids)])

    def test_a_recipient_no_longer_allowed_is_left_out(self):
        with freeze_time(NOW):
            card = self._subscription(
                name="CS scorecard",
                report_kind="department_scorecard",
                department_id=self.dept_cs.id,
                recipient_ids=[(6, 0, (self.contact_cs | self.user_manager.partner_id).ids)],
            )
            # The contact moves to Mathematics after subscribing.
            self.dept_cs.contact_ids = [(3, self.contact_cs.id)]
            self.dept_math.contact_ids = [(4, self.contact_cs.id)]
            log = self.env["library.report.subscription"]._cron_send()
        self.assertEqual(log.subscription_id, card)
        self.assertEqual(log.recipient_ids, self.user_manager.partner_id)
        self.assertEqual(log.mail_ids.recipient_ids, self.user_manager.partner_id)

    def test_send_now_is_for_managers(self):
        with freeze_time(NOW):
            subscription = self._subscription()
            for user in (self.user_portal, self.user_internal, self.user_librarian):
                with self.subTest(user=user.login), self.assertRaises(AccessError):
                    subscription.with_user(user).action_send_now()
            self.assertFalse(subscription.log_ids)
            subscription.with_user(self.user_manager).action_send_now()
        self.assertEqual(subscription.log_ids.period_end, date(2004, 1, 31))
        self.assertTrue(subscription.log_ids.mail_ids)


@tagged("post_install", "-at_install")
class TestReportSubscriptionCompanies(SubscriptionCommon, LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_subscriptions()
        cls.company_b = cls.env["res.company"].create({"name": "Library B"})
        cls.manager_b = cls._new_user(
            "lib_manager_b",
            "library_crm.group_library_manager",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
            email="manager.b@example.edu",
        )

    def test_each_library_sees_its_own_subscriptions(self):
        ours = self._subscription()
        Subscription = self.env["library.report.subscription"]
        theirs = (
            Subscription.with_user(self.manager_b)
            .with_company(self.company_b)
            .create(
                {
                    "name": "Library B monthly",
                    "report_kind": "segment_summary",
                    "recipient_ids": [(6, 0, self.manager_b.partner_id.ids)],
                }
            )
        )
        self.assertEqual(theirs.company_id, self.company_b)
        visible = Subscription.with_user(self.manager_b).search(
            [("id", "in", (ours | theirs).ids)]
        )
        self.assertEqual(visible, theirs)
        with self.assertRaises(AccessError):
            ours.with_user(self.manager_b).action_send_now()
        # Sent on behalf of a manager of the subscription's company only.
        with self.assertRaises(ValidationError):
            self._subscription(user_id=self.manager_b.id)


@tagged("post_install", "-at_install")
class TestReportSubscriptionOverRpc(SubscriptionCommon, LibraryCrmHttpCase):
    rpc_context = {"active_test": False, "bypass": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_subscriptions()

    def test_only_managers_reach_subscriptions(self):
        subscription = self._subscription()
        Model = "library.report.subscription"
        calls = [
            (Model, "action_send_now", [subscription.ids]),
            (Model, "search_read", [[]]),
            (Model, "write", [subscription.ids, {"recipient_ids": [(4, self.outsider.id)]}]),
            (
                Model,
                "create",
                [{"name": "Mine", "report_kind": "segment_summary", "frequency": "monthly"}],
            ),
            ("library.report.subscription.log", "search_read", [[]]),
        ]
        # Not even a manager rewrites what was sent.
        for values in ({"last_period_end": "2099-12-31"}, {"next_run_date": "2099-12-31"}):
            with self.subTest(values=values):
                with self.assertRaises(JsonRpcException) as caught:
                    self._rpc(self.user_manager, Model, "write", [subscription.ids, values])
                self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        self.assertFalse(subscription.last_period_end)
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            for model, method, args in calls:
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._rpc(user, model, method, args)
                    self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        self.assertFalse(subscription.log_ids)
        self.assertEqual(subscription.recipient_ids, self.user_manager.partner_id)
        result = self._rpc(
            self.user_manager, Model, "search_read", [[("id", "=", subscription.id)]]
        )
        self.assertEqual([row["id"] for row in result], subscription.ids)


@tagged("post_install", "-at_install")
class TestReportSubscriptionConcurrency(TransactionCase):
    """Two workers run the cron at once, and a third whose snapshot predates
    the first one's commit: the period is sent once. (A plain TransactionCase:
    the test's own transaction must hold no lock the workers wait for.)"""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr, freeze_time(NOW):
            env = api.Environment(cr, SUPERUSER_ID, {})
            manager = (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": "Manager Twice",
                        "login": "subs_twice_manager",
                        "email": "twice.manager@example.edu",
                        "group_ids": [(6, 0, env.ref("library_crm.group_library_manager").ids)],
                    }
                )
            )
            subscription = env["library.report.subscription"].create(
                {
                    "name": "Twice",
                    "report_kind": "suggestion_register",
                    "frequency": "monthly",
                    "user_id": manager.id,
                    "recipient_ids": [(6, 0, manager.partner_id.ids)],
                }
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.manager_id, self.subscription_id = manager.id, subscription.id
        self.cursors = [self.registry.cursor() for _i in range(3)]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for cr in self.cursors:
            cr.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            subscription = env["library.report.subscription"].browse(self.subscription_id)
            subscription.log_ids.mail_ids.unlink()
            env["ir.attachment"].search(
                [
                    ("res_model", "=", "library.report.subscription.log"),
                    ("res_id", "in", subscription.log_ids.ids),
                ]
            ).unlink()
            subscription.unlink()
            manager = env["res.users"].browse(self.manager_id)
            partner = manager.partner_id
            manager.unlink()
            partner.unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def test_two_workers_send_once(self):
        one, two, late = self.cursors
        today = date(2004, 2, 1)
        late.execute("SELECT 1")  # a worker whose snapshot is taken now

        def cron(cr):
            return api.Environment(cr, SUPERUSER_ID, {})["library.report.subscription"]._cron_send(
                today
            )

        first = cron(one)
        self.assertEqual(first.subscription_id.ids, [self.subscription_id])
        # At the same time: the first worker holds the row and has not committed.
        self.assertFalse(cron(two))
        two.commit()
        one.commit()
        # Its snapshot still shows the subscription due, but it sends nothing.
        self.assertFalse(cron(late))
        late.commit()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            subscription = env["library.report.subscription"].browse(self.subscription_id)
            self.assertEqual(len(subscription.log_ids), 1)
            self.assertEqual(len(subscription.log_ids.mail_ids), 1)
            self.assertEqual(subscription.last_period_end, date(2004, 1, 31))
            # And a run the next day finds nothing due.
            self.assertFalse(env["library.report.subscription"]._cron_send(date(2004, 2, 2)))
