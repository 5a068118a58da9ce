# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
from ast import literal_eval
from datetime import date, timedelta

from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase, tagged

from ..models.res_partner import CONSENT_FIELDS
from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestConsentDefaults(LibraryCrmCase):
    """Category defaults (public readers: no campaigns, no new-title alerts,
    from the module's data) apply until the reader has chosen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Our own defaults, whatever the data or the demo hold.
        Default = cls.env["library.consent.default"]
        Default.search([("reader_category", "in", ["public", "alumni"])]).unlink()
        Default.create(
            [
                {"reader_category": "public", "purpose": "news", "consent": False},
                {"reader_category": "public", "purpose": "new_titles", "consent": False},
                {"reader_category": "alumni", "purpose": "surveys", "consent": False},
            ]
        )

    def _log(self, partner, channel=None):
        log = partner.consent_log_ids
        if channel:
            log = log.filtered(lambda line: line.channel == channel)
        return {(line.purpose, line.consent, line.channel) for line in log}

    def test_new_reader_logs_its_initial_state_as_default(self):
        reader = self.env["res.partner"].create(
            {"name": "Visitor", "is_reader": True, "reader_category": "public"}
        )
        self.assertEqual(
            self._log(reader),
            {
                ("service", True, "default"),
                ("news", False, "default"),
                ("surveys", True, "default"),
                ("new_titles", False, "default"),
            },
        )
        self.assertFalse(reader.consent_chosen)

    def test_existing_contact_becoming_a_reader_gets_the_defaults(self):
        contact = self.env["res.partner"].create({"name": "Neighbour", "email": "n@example.com"})
        self.assertFalse(contact.consent_log_ids, "not a reader: nothing to log")
        contact.with_user(self.user_librarian).write(
            {"is_reader": True, "reader_category": "public"}
        )
        self.assertFalse(contact.consent_news)
        self.assertFalse(contact.consent_new_titles)
        self.assertTrue(contact.consent_service)
        self.assertEqual(len(self._log(contact, "default")), 4, "the initial state is logged")

    def test_category_change_applies_the_new_defaults_until_the_reader_chose(self):
        reader = self.env["res.partner"].create(
            {"name": "Student", "is_reader": True, "reader_category": "undergraduate"}
        )
        self.assertTrue(reader.consent_news)
        reader.with_user(self.user_librarian).reader_category = "public"
        self.assertFalse(reader.consent_news)
        self.assertFalse(reader.consent_new_titles)
        self.assertIn(("news", False, "default"), self._log(reader))
        # Graduating: alumni take campaigns again but not surveys.
        reader.with_user(self.user_librarian).reader_category = "alumni"
        self.assertEqual(
            (reader.consent_news, reader.consent_surveys, reader.consent_new_titles),
            (True, False, True),
        )
        # The reader chooses on the portal: from now on their choice holds.
        reader._library_set_consent({"surveys": True}, "portal")
        self.assertTrue(reader.consent_chosen)
        reader.with_user(self.user_librarian).reader_category = "public"
        self.assertEqual(
            (reader.consent_news, reader.consent_surveys, reader.consent_new_titles),
            (True, True, True),
            "a reader who chose keeps their choice",
        )

    def test_staff_choice_on_creation_is_logged_as_staff_and_kept(self):
        reader = (
            self.env["res.partner"]
            .with_user(self.user_librarian)
            .create(
                {
                    "name": "Keen visitor",
                    "is_reader": True,
                    "reader_category": "public",
                    "consent_news": True,  # asked for campaigns at the desk
                }
            )
        )
        self.assertTrue(reader.consent_news)
        self.assertIn(("news", True, "staff"), self._log(reader))
        self.assertIn(("new_titles", False, "default"), self._log(reader))
        self.assertTrue(reader.consent_chosen)

    def test_form_shows_the_category_defaults(self):
        form = Form(
            self.env["res.partner"]
            .with_user(self.user_librarian)
            .with_context(default_is_reader=True)
        )
        form.name = "Form visitor"
        form.reader_category = "public"
        self.assertFalse(form.consent_news)
        reader = form.save()
        self.assertFalse(reader.consent_news)
        self.assertEqual(
            self._log(reader, "staff"), set(), "defaults shown by the form are no choice"
        )
        self.assertFalse(reader.consent_chosen)

    def test_import_logs_the_import_channel(self):
        content = b"card number,name,category\nCONS1,Imported Visitor,public\n"
        wizard = (
            self.env["library.reader.import"]
            .with_user(self.user_librarian)
            .create({"file": base64.b64encode(content), "filename": "readers.csv"})
        )
        wizard.action_import()
        reader = self.env["res.partner"].search([("reader_card_number", "=", "CONS1")])
        self.assertFalse(reader.consent_news)
        self.assertEqual(
            {channel for _purpose, _consent, channel in self._log(reader)}, {"import"}
        )
        self.assertEqual(len(reader.consent_log_ids), 4)


@tagged("post_install", "-at_install")
class TestConsentChannel(LibraryCrmCase):
    """The channel of a consent change is never taken from the context: an
    RPC caller could otherwise claim the reader chose it themselves."""

    def test_context_cannot_forge_the_channel(self):
        reader = self.reader.with_user(self.user_librarian)
        reader.with_context(library_consent_channel="portal").write({"consent_news": False})
        latest = self.reader.consent_log_ids[:1]
        self.assertEqual((latest.purpose, latest.channel), ("news", "staff"))
        reader.with_context(library_consent_channel="unsubscribe").consent_surveys = False
        self.assertEqual(self.reader.consent_log_ids[:1].channel, "staff")

    def test_private_method_logs_the_readers_channel(self):
        self.reader._library_set_consent({"news": False}, "unsubscribe")
        latest = self.reader.consent_log_ids[:1]
        self.assertEqual(
            (latest.purpose, latest.consent, latest.channel), ("news", False, "unsubscribe")
        )
        self.assertFalse(self.reader.consent_news)

    def test_chosen_flag_is_not_writable_by_users(self):
        for user in (self.user_librarian, self.user_internal):
            with self.assertRaises(AccessError):
                self.reader.with_user(user).write({"consent_chosen": True})


@tagged("post_install", "-at_install")
class TestJourneyOptOut(HttpCase):
    """Journey messages honour the blocklist and carry their purpose's
    opt-out: a link and List-Unsubscribe headers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The journeys run for this day, given explicitly: no assertion reads the clock.
        cls.today = date(2026, 11, 23)
        cls.welcome = cls.env.ref("library_crm.journey_welcome")
        cls.readers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Journey Reader {n}",
                    "email": f"journey{n}@example.edu",
                    "is_reader": True,
                    "reader_category": "undergraduate",
                    "reader_since": cls.today - timedelta(days=2),
                }
                for n in range(2)
            ]
        )
        cls.env["mail.blacklist"]._add("journey1@example.edu")

    def _run(self):
        self.env["library.journey"]._cron_run(self.today)
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "in", self.readers.ids)]
        )

    def test_blocklist_and_opt_out_link_and_headers(self):
        mail = self._run()
        self.assertEqual(mail.res_id, self.readers[0].id, "the blocked address gets nothing")
        url = self.env["library.journey"]._opt_out_url(self.readers[0], self.welcome.purpose)
        self.assertIn(url, mail.body_html)
        headers = literal_eval(mail.headers)
        self.assertEqual(headers["List-Unsubscribe"], f"<{url}>")
        self.assertEqual(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")

    def test_opt_out_link_asks_then_opts_out_of_the_purpose_only(self):
        reader = self.readers[0]
        purpose = self.welcome.purpose
        field = CONSENT_FIELDS[purpose]
        url = self.env["library.journey"]._opt_out_url(reader, purpose)
        path = url[url.index("/library/opt-out/") :]
        self.assertEqual(self.url_open(path).status_code, 200)
        reader.invalidate_recordset()
        self.assertTrue(reader[field], "opening the link changes nothing")
        forged = path.rsplit("/", 1)[0] + "/forged"
        self.assertEqual(self.url_open(forged, data={}).status_code, 404)
        other = self.env["library.journey"]._opt_out_url(self.readers[1], purpose)
        self.assertEqual(
            self.url_open(
                path.replace(str(reader.id), str(self.readers[1].id)), data={}
            ).status_code,
            404,
            "a token opts out its own reader only",
        )
        self.assertTrue(other)
        response = self.url_open(path, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(response.status_code, 200)
        reader.invalidate_recordset()
        self.assertFalse(reader[field])
        other_fields = [f for p, f in CONSENT_FIELDS.items() if p != purpose]
        self.assertTrue(all(reader[f] for f in other_fields), "other purposes untouched")
        latest = reader.consent_log_ids[:1]
        self.assertEqual((latest.purpose, latest.channel), (purpose, "unsubscribe"))


@tagged("post_install", "-at_install")
class TestSegmentListContacts(LibraryCrmCase):
    def test_list_contact_follows_the_readers_email(self):
        self.env.cr.execute(
            "UPDATE library_reader_metrics SET reader_segment = 'growing' WHERE partner_id = %s",
            [self.reader.id],
        )
        self.env["library.reader.metrics"].invalidate_model()
        List = self.env["mailing.list"]
        List._library_sync_segment_lists()
        growing = self.env.ref("library_crm.mailing_list_segment_growing")
        contact = growing.subscription_ids.contact_id.filtered(
            lambda c: c.library_partner_id == self.reader
        )
        self.assertEqual(contact.email, "xiaoming.wang@example.edu")
        self.reader.with_user(self.user_librarian).email = "wang.xm@new.example.edu"
        self.assertEqual(contact.email, "wang.xm@new.example.edu")
        self.assertEqual(contact.email_normalized, "wang.xm@new.example.edu")
        # Changed outside the ORM (an SQL tool): the next sync catches up.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET email = 'wxm@other.example.edu' WHERE id = %s",
            [self.reader.id],
        )
        self.reader.invalidate_recordset(["email"])
        List._library_sync_segment_lists()
        self.assertEqual(contact.email, "wxm@other.example.edu")
        self.assertIn(contact, growing.subscription_ids.contact_id, "still in the list")
