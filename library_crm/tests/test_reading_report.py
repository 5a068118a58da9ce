# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import LibraryCrmCase

YEAR = 2025
# Early in the next year, when the reports of YEAR are generated.
NOW = datetime(YEAR + 1, 1, 3, 9)


class ReadingReportCommon:
    """Readers of one department of the test's own, with usage of YEAR at
    mid-month noon (no time zone moves them to another month), titles whose
    classification tells the subjects, and an adopted suggestion."""

    @classmethod
    def _setup_reading_report(cls):
        # The campaign is worded in the library's language: English here,
        # whatever the database's languages.
        cls.env["res.lang"]._activate_lang("en_US")
        cls.company.partner_id.write({"tz": "Asia/Shanghai", "lang": "en_US"})
        cls.env["ir.config_parameter"].set_param("library_crm.points_suggestion_adopted", 10)
        Partner = cls.env["res.partner"]
        cls.dept_rr = cls.env["library.department"].create({"name": "Physics", "code": "XRRPHY"})
        cls.peers = Partner.create(
            [
                {
                    "name": f"Physics reader {n}",
                    "is_reader": True,
                    "reader_card_number": f"XRR{n:03d}",
                    "reader_category": "undergraduate",
                    "library_department_id": cls.dept_rr.id,
                    "email": f"physics{n}@example.edu",
                }
                for n in range(6)
            ]
        )
        Title = cls.env["library.new.title"]
        cls.titles = Title.create(
            [
                {"name": "Deep Learning", "isbn": "979-1099990-01-3", "clc_code": "TP181"},
                {"name": "Red Sorghum", "isbn": "9791099990020", "clc_code": "I247.5"},
                {
                    "name": "A Brief History of China",
                    "call_number": "XRR-K20/123",
                    "clc_code": "K20",
                    "catalogue_url": "https://opac.example.edu/xrr/K20-123",
                },
            ]
        )
        rows = []
        # Peer n borrows n titles (0..5): percentiles 0, 20, ... 100.
        for n, peer in enumerate(cls.peers):
            rows += [cls._use(peer, "loan", 3, 15) for _loan in range(n)]
            rows.append(cls._use(peer, "visit", 4, 10))
        star = cls.peers[5]
        rows += [
            cls._use(star, "loan", 5, 12, ref="979-1099990-01-3"),
            cls._use(star, "renewal", 5, 20, ref="9791099990013"),
            cls._use(star, "loan", 6, 3, ref="9791099990020"),
            cls._use(star, "alert_click", 6, 4, ref="https://opac.example.edu/xrr/K20-123"),
            cls._use(star, "alert_click", 6, 5, ref="https://opac.example.edu/xrr/K20-123"),
            cls._use(star, "alert_click", 6, 6, ref="https://opac.example.edu/xrr/K20-123"),
            cls._use(star, "eresource", 3, 2, quantity=2),
            cls._use(star, "workstation", 3, 8),
            cls._use(star, "training", 10, 9),
            cls._use(star, "event", 11, 9),
            cls._use(star, "ill", 3, 25),
            # The previous and the next year, in Shanghai time, are not YEAR.
            cls._use(star, "visit", 12, 31, hour=17, year=YEAR),
            cls._use(star, "visit", 12, 31, hour=12, year=YEAR - 1),
        ]
        cls.env["library.usage"].create(rows)
        # Only alert clicks: no activity, no report.
        cls.clicker = Partner.create(
            {"name": "Clicker", "is_reader": True, "library_department_id": cls.dept_rr.id}
        )
        cls.env["library.usage"].create(
            [cls._use(cls.clicker, "alert_click", 2, 10, ref="9791099990013")]
        )
        unit = cls.env["library.unit"].create(
            {"name": "Acquisitions XRR", "manager_id": cls.user_manager.id}
        )
        cls.suggestion_category = cls.env["library.suggestion.category"].create(
            {"name": "Collections XRR", "default_unit_id": unit.id}
        )
        with freeze_time(datetime(YEAR, 6, 10, 9)):
            cls.env["library.suggestion"].create(
                {
                    "partner_id": star.id,
                    "category_id": cls.suggestion_category.id,
                    "subject": "More physics e-books",
                    "adopted": True,
                }
            )

    _use_number = 0

    @classmethod
    def _use(cls, partner, kind, month, day, ref=None, quantity=1, hour=12, year=YEAR):
        ReadingReportCommon._use_number += 1
        return {
            "external_ref": f"rr-{ReadingReportCommon._use_number}",
            "partner_id": partner.id,
            "kind": kind,
            "occurred_at": datetime(year, month, day, hour),
            "quantity": quantity,
            "resource_ref": ref,
            "company_id": cls.company.id,
            "source": "test-rr",
        }

    @classmethod
    def _generate(cls):
        with freeze_time(NOW):
            return cls.env["library.reading.report"].sudo()._generate(YEAR, cls.company)

    @classmethod
    def _report(cls, partner, year=YEAR):
        return cls.env["library.reading.report"].search(
            [("partner_id", "=", partner.id), ("year", "=", year)]
        )


@tagged("post_install", "-at_install")
class TestReadingReport(ReadingReportCommon, LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_reading_report()

    def test_figures_of_a_reader(self):
        self._generate()
        report = self._report(self.peers[5])
        self.assertEqual(len(report), 1)
        # 5 loans of the pattern + 2 loans + 1 interlibrary loan.
        self.assertEqual(report.loan_count, 8)
        self.assertEqual(
            report.visit_count, 1, "the visits of 31 December (Shanghai) are not YEAR"
        )
        self.assertEqual(report.eresource_count, 3)
        self.assertEqual(report.event_count, 2)
        # loans 8 + renewal 1 + visit 1 + e-resources 3 + events 2; clicks aside.
        self.assertEqual(report.activity_count, 15)
        self.assertEqual((report.busiest_month, report.busiest_month_count), ("3", 9))
        # Industrial technology twice (loan, renewal), history thrice (alert
        # clicks), literature once.
        self.assertEqual((report.subject_1, report.subject_2, report.subject_3), ("K", "T", "I"))
        self.assertEqual(
            report.with_context(lang="en_US")._subjects(),
            ["History and Geography", "Industrial Technology", "Literature"],
        )
        self.assertEqual(report.suggestion_adopted_count, 1)
        self.assertEqual(report.points_earned, 10)
        self.assertEqual(report.department_id, self.dept_rr)
        self.assertEqual(report.generated_at, NOW)
        quiet = self._report(self.peers[0])
        self.assertEqual((quiet.loan_count, quiet.visit_count, quiet.subject_1), (0, 1, False))
        self.assertEqual((quiet.suggestion_adopted_count, quiet.points_earned), (0, 0))

    def test_department_percentile(self):
        self._generate()
        reports = self.env["library.reading.report"].search(
            [("partner_id", "in", self.peers.ids), ("year", "=", YEAR)]
        )
        by_reader = {r.partner_id: r for r in reports}
        self.assertEqual(
            [by_reader[p].loan_percentile for p in self.peers], [0, 20, 40, 60, 80, 100]
        )
        self.assertTrue(all(r.department_compared for r in reports))
        # Peer 5 used the library most, peer 0 least.
        self.assertEqual(by_reader[self.peers[5]].activity_percentile, 100)
        self.assertEqual(by_reader[self.peers[0]].activity_percentile, 0)

    def test_small_department_gets_no_percentile(self):
        loner = self.env["res.partner"].create(
            {"name": "Historian", "is_reader": True, "library_department_id": self.dept_hist.id}
        )
        self.env["library.usage"].create([self._use(loner, "loan", 2, 2)])
        self._generate()
        report = self._report(loner)
        self.assertFalse(report.department_compared)
        self.assertFalse(report.loan_percentile)

    def test_only_readers_with_activity_get_a_report(self):
        self._generate()
        self.assertFalse(self._report(self.clicker), "alert clicks are no use of the library")
        self.assertFalse(self._report(self.reader), "no usage in the year")
        self.assertEqual(len(self._report(self.peers[5], YEAR - 1)), 0, "not generated")

    def test_rerun_is_idempotent_and_follows_the_usage(self):
        written, _removed = self._generate()
        Report = self.env["library.reading.report"]
        ours = [("partner_id", "in", self.peers.ids), ("year", "=", YEAR)]
        before = Report.search(ours)
        self.assertEqual(len(before), 6)
        self.assertGreaterEqual(written, 6)
        self.assertEqual(self._generate(), (written, 0))
        self.assertEqual(Report.search(ours), before, "same rows, updated in place")
        self.env["library.usage"].create([self._use(self.peers[0], "loan", 7, 7)])
        self.env["library.usage"].search([("partner_id", "=", self.peers[1].id)]).unlink()
        self._generate()
        self.assertEqual(self._report(self.peers[0]).loan_count, 1)
        self.assertFalse(self._report(self.peers[1]), "no activity any more: removed")

    def test_one_report_per_reader_year_and_library(self):
        self._generate()
        report = self._report(self.peers[2])
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            with self.env.cr.savepoint():
                self.env["library.reading.report"].create(
                    {
                        "partner_id": report.partner_id.id,
                        "year": YEAR,
                        "company_id": self.company.id,
                    }
                )

    def test_cron_generates_the_previous_year(self):
        with freeze_time(datetime(YEAR + 1, 1, 2, 3)):
            self.env["library.reading.report"]._cron_generate_previous_year()
        self.assertEqual(self._report(self.peers[5]).loan_count, 8)
        cron = self.env.ref("library_crm.ir_cron_reading_report_generate")
        self.assertEqual((cron.interval_number, cron.interval_type), (12, "months"))
        self.assertEqual((cron.nextcall.month, cron.nextcall.day), (1, 2))

    def test_access_by_role(self):
        self._generate()
        reader_user = self._new_user("rr_reader", "base.group_portal", partner_id=self.peers[5].id)
        Report = self.env["library.reading.report"]
        own = Report.with_user(reader_user).search([])
        self.assertEqual(own, self._report(self.peers[5]), "a reader reads only their own")
        other = self._report(self.peers[4]).with_user(reader_user)
        with self.assertRaises(AccessError):
            other.read(["loan_count"])
        with self.assertRaises(AccessError):
            Report.with_user(self.user_internal).search([])
        seen = Report.with_user(self.user_librarian).search([("partner_id", "in", self.peers.ids)])
        self.assertEqual(len(seen), 6, "librarians read all of their library")
        with self.assertRaises(AccessError):
            self._report(self.peers[4]).with_user(self.user_manager).write({"loan_count": 99})

    def test_views_and_menus_by_role(self):
        views = (
            self.env["library.reading.report"]
            .with_user(self.user_librarian)
            .get_views([(False, "list"), (False, "form"), (False, "pivot"), (False, "search")])
        )
        self.assertIn("loan_percentile", views["views"]["list"]["arch"])
        self.assertNotIn("action_create_mailing", views["views"]["form"]["arch"], "managers only")
        manager_form = (
            self.env["library.reading.report"]
            .with_user(self.user_manager)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn("action_create_mailing", manager_form)
        menu = self.env.ref("library_crm.menu_library_reading_reports")
        generate = self.env.ref("library_crm.menu_library_reading_report_generate")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.user_librarian)._visible_menu_ids())
        self.assertNotIn(generate.id, Menu.with_user(self.user_librarian)._visible_menu_ids())
        self.assertIn(generate.id, Menu.with_user(self.user_manager)._visible_menu_ids())

    def test_wizard_is_for_managers(self):
        Wizard = self.env["library.reading.report.generate"]
        with freeze_time(NOW):
            wizard = Wizard.with_user(self.user_manager).create({"year": YEAR})
            self.assertEqual(Wizard.with_user(self.user_manager).new({}).year, YEAR)
            action = wizard.action_generate()
        self.assertEqual(action["res_model"], "library.reading.report")
        self.assertEqual(self._report(self.peers[3]).loan_count, 3)
        with self.assertRaises(AccessError):
            Wizard.with_user(self.user_librarian).create({"year": YEAR})
        with freeze_time(NOW), self.assertRaises(UserError):
            Wizard.with_user(self.user_manager).create({"year": YEAR + 5}).action_generate()


@tagged("post_install", "-at_install")
class TestReadingReportMailing(ReadingReportCommon, LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_reading_report()
        cls.user_campaign = cls._new_user(
            "rr_campaign",
            "library_crm.group_library_manager,mass_mailing.group_mass_mailing_user",
            name="Campaign Cao",
        )

    def _mailing(self):
        reports = self.env["library.reading.report"].search(
            [("partner_id", "in", self.peers.ids), ("year", "=", YEAR)]
        )
        action = reports.with_user(self.user_campaign).action_create_mailing()
        return self.env["mailing.mailing"].browse(action["res_id"])

    def test_mailing_reaches_readers_with_a_report_who_accept_news(self):
        self._generate()
        self.peers[1]._library_set_consent({"news": False}, "portal")
        no_report = self.env["res.partner"].create(
            {"name": "Silent", "is_reader": True, "email": "silent@example.edu"}
        )
        mailing = self._mailing()
        self.assertEqual(mailing.library_purpose, "news")
        recipients = set(mailing._get_recipients())
        ours = recipients & set((self.peers | no_report | self.clicker | self.reader).ids)
        self.assertEqual(ours, set((self.peers - self.peers[1]).ids))

    def test_mail_body_carries_the_reader_figures_and_link(self):
        self._generate()
        mailing = self._mailing()
        mailing.mailing_domain = repr([("id", "in", self.peers[5].ids)])
        mailing.action_send_mail()
        mail = self.env["mail.mail"].sudo().search([("mailing_id", "=", mailing.id)])
        self.assertEqual(mail.recipient_ids, self.peers[5])
        body = str(mail.body_html)
        self.assertIn("Loans: 8", body)
        self.assertIn("Your busiest month: March", body)
        self.assertIn("History and Geography, Industrial Technology, Literature", body)
        self.assertIn("more than 100% of the readers of your department", body)
        self.assertIn("Points earned: 10", body)
        # The link to the portal page, tracked by the mailing.
        link = self.env["link.tracker"].search([("mass_mailing_id", "=", mailing.id)])
        self.assertTrue(link.url.endswith(f"/my/reading-report/{YEAR}"), link.url)
        self.assertIn(link.short_url_host, body)

    def test_only_managers_create_the_mailing(self):
        self._generate()
        reports = self._report(self.peers[5])
        for user in (self.user_librarian, self.user_internal, self.user_portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                reports.with_user(user).action_create_mailing()
        with self.assertRaises(UserError):
            self.env["library.reading.report"].with_user(self.user_campaign)._create_mailing(
                YEAR - 3, self.company
            )

    def test_body_method_gives_nothing_to_outsiders(self):
        self._generate()
        star = self.peers[5]
        self.assertEqual(
            star.with_user(self.user_internal)._library_reading_report(YEAR, self.company.id),
            self.env["library.reading.report"],
        )
        self.assertEqual(star._library_reading_report(YEAR, self.company.id).loan_count, 8)


@tagged("post_install", "-at_install")
class TestReadingReportMultiCompany(ReadingReportCommon, LibraryCrmCase):
    """A second library: its reports, readers and campaign stay its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_reading_report()
        cls.company_b = cls.env["res.company"].create({"name": "Library B XRR"})
        cls.reader_b = cls.env["res.partner"].create(
            {
                "name": "Reader of B",
                "email": "b@example.edu",
                "is_reader": True,
                "company_id": cls.company_b.id,
            }
        )
        cls.env["library.usage"].create(
            [
                {
                    **cls._use(cls.reader_b, "loan", 4, 4),
                    "company_id": cls.company_b.id,
                }
            ]
        )
        cls.manager_b = cls._new_user(
            "rr_manager_b",
            "library_crm.group_library_manager,mass_mailing.group_mass_mailing_user",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.user_campaign = cls._new_user(
            "rr_campaign_a",
            "library_crm.group_library_manager,mass_mailing.group_mass_mailing_user",
        )
        with freeze_time(NOW):
            Report = cls.env["library.reading.report"].sudo()
            Report._generate(YEAR, cls.company)
            Report._generate(YEAR, cls.company_b)

    def test_each_library_its_own_reports_and_campaign(self):
        report_b = self._report(self.reader_b)
        self.assertEqual((report_b.company_id, report_b.loan_count), (self.company_b, 1))
        self.assertFalse(
            self._report(self.peers[5]).filtered(lambda r: r.company_id == self.company_b),
            "usage of library A makes no report in library B",
        )
        Report = self.env["library.reading.report"]
        self.assertFalse(
            Report.with_user(self.user_librarian).search([("id", "=", report_b.id)]),
            "a librarian of A does not read B's reports",
        )
        with self.assertRaises(AccessError):
            Report.with_user(self.user_campaign)._create_mailing(YEAR, self.company_b)
        action = Report.with_user(self.manager_b)._create_mailing(YEAR, self.company_b)
        mailing = self.env["mailing.mailing"].browse(action["res_id"])
        ours = set(mailing._get_recipients()) & set((self.peers | self.reader_b).ids)
        self.assertEqual(ours, {self.reader_b.id})
        self.assertFalse(
            self.reader_b.with_user(self.user_campaign)._library_reading_report(
                YEAR, self.company_b.id
            ),
            "the mail body gives no figures of another library",
        )
