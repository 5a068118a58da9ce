# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from ast import literal_eval
from datetime import date, timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL, mute_logger

from .common import LibraryCrmCase


class OutreachCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_outreach = cls._new_user(
            "lib_outreach",
            "library_crm.group_library_librarian,mass_mailing.group_mass_mailing_user",
            name="Outreach Ou",
        )
        Partner = cls.env["res.partner"]
        cls.readers = Partner.create(
            [
                {
                    "name": f"Reader {n}",
                    "is_reader": True,
                    "reader_card_number": f"OUT{n:03d}",
                    "email": f"reader{n}@example.edu",
                    "reader_category": "undergraduate",
                    "library_department_id": (cls.dept_cs if n % 2 else cls.dept_hist).id,
                }
                for n in range(6)
            ]
        )
        cls.non_reader = Partner.create({"name": "Supplier", "email": "sales@example.com"})
        cls._set_segments({0: "growing", 1: "growing", 2: "growing", 3: "lapsed", 4: "lapsed"})

    def _ours(self, partner_ids):
        """The tests' own readers among these ids. The demo database has
        readers of its own in every segment; each audience is asserted exact
        on the readers a test made."""
        return set(partner_ids) & set(self.readers.ids)

    @classmethod
    def _set_segments(cls, segments):
        for index, segment in segments.items():
            cls.env.cr.execute(
                "UPDATE library_reader_metrics SET reader_segment = %s WHERE partner_id = %s",
                [segment, cls.readers[index].id],
            )
        cls.env["library.reader.metrics"].invalidate_model(["reader_segment"])

    def _mailing(self, purpose, domain, **values):
        return (
            self.env["mailing.mailing"]
            .with_user(self.user_outreach)
            .create(
                {
                    "subject": "Library news",
                    "body_html": "<p>Hello <t t-out='object.name'/></p>",
                    "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "mailing_domain": repr(domain),
                    "library_purpose": purpose,
                    **values,
                }
            )
        )


@tagged("post_install", "-at_install")
class TestAudiencesAndConsent(OutreachCase):
    def test_audience_domains_are_exact(self):
        growing_cs = self._mailing(
            "news",
            [
                ("reader_segment", "=", "growing"),
                ("library_department_id", "=", self.dept_cs.id),
            ],
        )
        self.assertEqual(self._ours(growing_cs._get_recipients()), {self.readers[1].id})
        saved = self.env.ref("library_crm.mailing_filter_readers_lapsed")
        lapsed = self._mailing("news", literal_eval(saved.mailing_domain))
        self.assertEqual(self._ours(lapsed._get_recipients()), set(self.readers[3:5].ids))
        everyone = self._mailing("news", [("email", "!=", False)])
        self.assertIn(self.non_reader.id, everyone._get_recipients(), "not a reader: unaffected")

    def test_opted_out_readers_get_nothing_for_that_purpose_only(self):
        reader = self.readers[0]
        reader._library_set_consent({"news": False}, "portal")
        news = self._mailing("news", [("reader_segment", "=", "growing")])
        alerts = self._mailing("new_titles", [("reader_segment", "=", "growing")])
        self.assertNotIn(reader.id, news._get_recipients())
        self.assertIn(reader.id, alerts._get_recipients())
        news.action_send_mail()
        alerts.action_send_mail()
        received = self.env["mailing.trace"].search([("res_id", "=", reader.id)])
        self.assertEqual(received.mass_mailing_id, alerts)
        log = reader.consent_log_ids[:1]  # the latest; the initial state is logged before
        self.assertEqual(
            (log.purpose, log.consent, log.channel, log.user_id),
            ("news", False, "portal", self.env.user),
        )

    def test_category_defaults_make_a_purpose_opt_in(self):
        public = self.env["res.partner"].create(
            {"name": "Visitor", "is_reader": True, "reader_category": "public"}
        )
        self.assertFalse(public.consent_news)
        self.assertFalse(public.consent_new_titles)
        self.assertTrue(public.consent_service)
        self.assertTrue(self.readers[0].consent_news)

    def test_list_sync_adds_and_removes(self):
        growing_list = self.env.ref("library_crm.mailing_list_segment_growing")
        List = self.env["mailing.list"]
        List._library_sync_segment_lists()

        def members():
            return growing_list.subscription_ids.contact_id.library_partner_id & self.readers

        self.assertEqual(members(), self.readers[:3])
        self._set_segments({0: "lapsed", 5: "growing"})
        List._library_sync_segment_lists()
        self.assertEqual(members(), self.readers[1:3] | self.readers[5])
        lapsed_list = self.env.ref("library_crm.mailing_list_segment_lapsed")
        self.assertIn(self.readers[0], lapsed_list.subscription_ids.contact_id.library_partner_id)
        # A list mailing also respects the purpose.
        self.readers[1].consent_news = False
        mailing = self._mailing(
            "news",
            [("list_ids", "in", growing_list.ids)],
            mailing_model_id=self.env["ir.model"]._get_id("mailing.list"),
            contact_list_ids=[(6, 0, growing_list.ids)],
        )
        recipients = self.env["mailing.contact"].browse(mailing._get_recipients())
        self.assertEqual(
            recipients.library_partner_id & self.readers, self.readers[2] | self.readers[5]
        )


@tagged("post_install", "-at_install")
class TestNewTitleDigest(OutreachCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Demo data maps TP3 and 人工智能 to its own majors and interests, and
        # has titles not sent yet: the digest here must see only this test's.
        Mapping = cls.env["library.title.mapping"]
        Mapping.search([]).action_archive()
        cls.env["library.new.title"].search([("digest_mailing_id", "=", False)]).unlink()
        Mapping.create({"clc_prefix": "TP3", "major_ids": [(6, 0, cls.major_se.ids)]})
        Mapping.create(
            {"subject_keyword": "人工智能", "interest_ids": [(6, 0, cls.interest_ai.ids)]}
        )
        Title = cls.env["library.new.title"]
        cls.title_se = Title.create(
            {"name": "软件工程导论", "clc_code": "TP311.5", "catalogue_url": "https://opac/1"}
        )
        cls.title_ai = Title.create(
            {"name": "人工智能：一种现代方法", "clc_code": "TP18", "subjects": "人工智能; 算法"}
        )
        cls.title_none = Title.create({"name": "中国通史", "clc_code": "K20"})
        cls.readers[0].write(
            {"library_department_id": cls.dept_cs.id, "library_major_id": cls.major_se.id}
        )
        cls.readers[1].interest_ids = [(6, 0, cls.interest_ai.ids)]
        cls.readers[2].write(
            {
                "library_department_id": cls.dept_cs.id,
                "library_major_id": cls.major_se.id,
                "interest_ids": [(6, 0, cls.interest_ai.ids)],
                "consent_new_titles": False,
            }
        )

    def test_acquisition_export_imports_with_odoo_import(self):
        content = (
            "name,isbn,author,call_number,clc_code,subjects,arrival_date,catalogue_url\n"
            "机器学习,9787302423287,周志华,TP181/Z780,TP181,人工智能; 机器学习,2026-11-20,"
            "https://opac/2\n"
        ).encode()
        messages = self._odoo_import("library.new.title", content, self.user_outreach)
        self.assertFalse(messages, messages)
        title = self.env["library.new.title"].search([("isbn", "=", "9787302423287")])
        self.assertEqual(title.interest_ids, self.interest_ai, "mapped on import")

    def test_mappings_give_each_title_its_readers(self):
        self.assertEqual(self.title_se.major_ids, self.major_se)
        self.assertEqual(self.title_ai.interest_ids, self.interest_ai)
        self.assertFalse(self.title_none.major_ids or self.title_none.interest_ids)

    def test_each_reader_gets_exactly_the_matching_titles(self):
        mailing = self.env["library.new.title"]._cron_send_digest()
        self.assertEqual(mailing.library_purpose, "new_titles")
        mails = self.env["mail.mail"].search([("mailing_id", "=", mailing.id)])
        by_reader = {mail.recipient_ids: mail.body_html for mail in mails}
        # self.reader (Software Engineering) too; readers[2] said no to alerts.
        self.assertEqual(set(by_reader), {self.readers[0], self.readers[1], self.reader})
        self.assertIn("软件工程导论", by_reader[self.readers[0]])
        self.assertNotIn("人工智能：一种现代方法", by_reader[self.readers[0]])
        self.assertIn("人工智能：一种现代方法", by_reader[self.readers[1]])
        self.assertNotIn("软件工程导论", by_reader[self.readers[1]])
        for body in by_reader.values():
            self.assertNotIn("中国通史", body)
        self.assertEqual(self.title_se.digest_mailing_id, mailing)
        self.assertFalse(self.env["library.new.title"]._cron_send_digest(), "sent once")

    def test_clicks_in_alerts_count_as_usage(self):
        mailing = self.env["library.new.title"]._cron_send_digest()
        trace = self.env["mailing.trace"].search(
            [("mass_mailing_id", "=", mailing.id), ("res_id", "=", self.readers[0].id)]
        )
        link = self.env["link.tracker"].create({"url": "https://opac/1"})
        self.env["link.tracker.click"].sudo().add_click(
            link.code, ip="127.0.0.1", mailing_trace_id=trace.id
        )
        Title = self.env["library.new.title"]
        self.assertEqual(Title._cron_record_clicks(), 1)
        self.assertEqual(Title._cron_record_clicks(), 0, "a rerun adds nothing")
        usage = self.env["library.usage"].search([("partner_id", "=", self.readers[0].id)])
        self.assertEqual(usage.kind, "alert_click")


@tagged("post_install", "-at_install")
@freeze_time("2026-11-23 09:00:00")
class TestJourneys(OutreachCase):
    """Readers are created under the same frozen day the journeys run on:
    ``reader_since`` defaults to today."""

    def _sent(self, journey):
        return self.env["library.journey.message"].search(
            [
                ("journey_id", "=", journey.id),
                ("partner_id", "in", (self.readers | self.reader).ids),
            ]
        )

    def _run(self, day):
        """The cron's messages to the tests' own readers (the demo database's
        readers have journeys of their own)."""
        sent = self.env["library.journey"]._cron_run(day)
        return sent.filtered(lambda message: message.partner_id in self.readers | self.reader)

    def test_journeys_fire_once_and_respect_the_cap(self):
        today = date(2026, 11, 23)
        welcome = self.env.ref("library_crm.journey_welcome")
        expiry = self.env.ref("library_crm.journey_card_expiry")
        (self.readers | self.reader).write({"reader_since": today - timedelta(days=3)})
        self.readers[0].card_expiry_date = today + timedelta(days=10)
        self.readers[4].consent_service = False
        sent = self._run(today)
        # Every reader who joined in the last 30 days and accepts service notices.
        self.assertEqual(
            self._sent(welcome).partner_id, (self.readers - self.readers[4]) | self.reader
        )
        self.assertFalse(self._sent(expiry), "the cap: one journey message per reader")
        mails = self.env["mail.mail"].search(
            [("recipient_ids", "in", (self.readers | self.reader).ids)]
        )
        self.assertEqual(len(mails), len(sent))
        self.assertEqual(self._run(today + timedelta(days=1)), sent.browse())
        # After the cap, the expiry reminder goes out, once.
        later = today + timedelta(days=8)
        self.assertEqual(self._run(later).partner_id, self.readers[0])
        self.assertEqual(self._run(later + timedelta(days=1)), sent.browse())

    def test_a_failing_journey_does_not_block_the_others(self):
        """A journey whose template cannot be rendered sends nothing and is
        logged; the journeys after it send as usual."""
        today = date(2026, 11, 23)
        welcome = self.env.ref("library_crm.journey_welcome")
        expiry = self.env.ref("library_crm.journey_card_expiry")
        self.env["library.journey"].search(
            [("id", "not in", (welcome | expiry).ids)]
        ).active = False
        # The welcome journey comes first, and its template was broken (in
        # SQL: the form refuses a template that does not render).
        welcome.sequence = expiry.sequence - 1
        self.env.cr.execute(
            "UPDATE mail_template SET body_html = jsonb_build_object('en_US', %s::text)"
            " WHERE id = %s",
            ["<p><t t-out='object.no_such_field.name'/></p>", welcome.mail_template_id.id],
        )
        welcome.mail_template_id.invalidate_recordset()
        self.readers.write({"reader_since": today - timedelta(days=3)})
        self.readers[0].card_expiry_date = today + timedelta(days=10)
        with self.assertLogs("odoo.addons.library_crm.models.library_journey", "ERROR") as logs:
            sent = self._run(today)
        self.assertIn(welcome.name, logs.output[0])
        self.assertFalse(self._sent(welcome))
        self.assertEqual(sent, self._sent(expiry))
        self.assertEqual(sent.partner_id, self.readers[0])
        self.assertTrue(
            self.env["mail.mail"].search([("recipient_ids", "in", self.readers[0].ids)])
        )

    def test_two_workers_send_each_trigger_once(self):
        """Two workers run the cron at once: the second one skips. A worker
        whose snapshot predates the first one's commit sends nothing that was
        sent: the unique index on the message key refuses it."""
        registry = self.registry
        today = date(2026, 11, 23)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            reader_id = (
                env["res.partner"]
                .create(
                    {
                        "name": "Journey Twice",
                        "is_reader": True,
                        "reader_card_number": "OUT-TWICE",
                        "email": "twice@example.edu",
                    }
                )
                .id
            )
            first = env["library.journey"].search([("active", "=", True)], limit=1)
        Journey = type(self.env["library.journey"])

        def candidates(journey, day):
            if journey.id == first.id:
                return SQL("SELECT %s, 'test-twice'", reader_id)
            return SQL("SELECT NULL::int, NULL::text WHERE FALSE")

        one, two, late = registry.cursor(), registry.cursor(), registry.cursor()
        try:
            late.execute("SELECT 1")  # a worker whose snapshot is taken now
            with patch.object(Journey, "_candidates", candidates):
                sent = api.Environment(one, SUPERUSER_ID, {})["library.journey"]._cron_run(today)
                self.assertEqual(sent.partner_id.ids, [reader_id])
                # At the same time: the first worker has not committed yet.
                self.assertFalse(
                    api.Environment(two, SUPERUSER_ID, {})["library.journey"]._cron_run(today)
                )
                one.commit()
                with mute_logger("odoo.addons.library_crm.models.library_journey"):
                    again = api.Environment(late, SUPERUSER_ID, {})["library.journey"]._cron_run(
                        today
                    )
                self.assertFalse(again)
                late.commit()
            one.execute(
                "SELECT count(*) FROM library_journey_message WHERE partner_id = %s", [reader_id]
            )
            self.assertEqual(one.fetchone()[0], 1)
        finally:
            for cr in (one, two, late):
                cr.close()
            with registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {})["res.partner"].browse(reader_id).unlink()

    def test_segment_journeys_need_a_real_transition(self):
        growing = self.env.ref("library_crm.journey_growing")
        History = self.env["library.segment.history"]
        today = date(2026, 11, 23)
        History.create(
            [
                {
                    "partner_id": self.readers[0].id,
                    "date": today,
                    "change": "segment",
                    "from_segment": "new",
                    "to_segment": "growing",
                },
                {
                    "partner_id": self.readers[1].id,
                    "date": today,
                    "change": "segment",
                    "from_segment": False,
                    "to_segment": "growing",
                },
            ]
        )
        self.env["library.journey"].search([("id", "!=", growing.id)]).active = False
        self.env["library.journey"]._cron_run(today)
        self.assertEqual(self._sent(growing).partner_id, self.readers[0])
