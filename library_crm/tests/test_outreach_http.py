# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from urllib.parse import parse_qs, urlparse

from odoo.http import Request
from odoo.tests import tagged

from .common import LibraryCrmHttpCase


@tagged("post_install", "-at_install")
class TestConsentOverHttp(LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_reader = cls.user_portal.partner_id
        cls.portal_reader.write(
            {"is_reader": True, "reader_card_number": "HTTP1", "email": "out.reader@example.edu"}
        )
        cls.mailing = cls._news_mailing(cls.portal_reader)

    def test_unsubscribe_link_opts_out_of_the_purpose_only(self):
        url = self.mailing._get_unsubscribe_url(self.portal_reader.email, self.portal_reader.id)
        params = {key: value[0] for key, value in parse_qs(urlparse(url).query).items()}
        self.authenticate(None, None)  # the reader is not logged in
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        response = self.url_open(
            "/mailing/confirm_unsubscribe",
            data={"mailing_id": self.mailing.id, **params, "csrf_token": Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200)
        self.portal_reader.invalidate_recordset()
        self.assertFalse(self.portal_reader.consent_news)
        self.assertTrue(self.portal_reader.consent_new_titles, "other purposes untouched")
        self.assertFalse(self.portal_reader.is_blacklisted, "not blocked from every e-mail")
        # The initial state was logged when the contact became a reader.
        log = self.portal_reader.consent_log_ids.filtered(lambda line: line.channel != "default")
        self.assertEqual(log.channel, "unsubscribe")

    def test_one_click_unsubscribe(self):
        url = self.mailing._get_unsubscribe_oneclick_url(
            self.portal_reader.email, self.portal_reader.id
        )
        response = self.url_open(url, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(response.status_code, 200)
        self.portal_reader.invalidate_recordset()
        self.assertFalse(self.portal_reader.consent_news)
        self.assertFalse(self.portal_reader.is_blacklisted)

    def test_reader_manages_preferences_on_the_portal(self):
        self.authenticate_as(self.user_portal)
        page = self.url_open("/my/library-preferences")
        self.assertEqual(page.status_code, 200)
        self.assertIn('name="new_titles"', page.text)
        response = self.url_open(
            "/my/library-preferences",
            data={"service": "1", "surveys": "1", "csrf_token": Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200)
        self.portal_reader.invalidate_recordset()
        self.assertEqual(
            (
                self.portal_reader.consent_service,
                self.portal_reader.consent_news,
                self.portal_reader.consent_surveys,
                self.portal_reader.consent_new_titles,
            ),
            (True, False, True, False),
        )
        log = self.portal_reader.consent_log_ids.filtered(lambda line: line.channel != "default")
        self.assertEqual(sorted(log.mapped("purpose")), ["new_titles", "news"])
        self.assertEqual(set(log.mapped("channel")), {"portal"})
        self.assertEqual(log.user_id, self.user_portal)
