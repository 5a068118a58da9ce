# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one-question rating (1-5) after an ordinary service: the request, the
rating by its reader only, and what it feeds."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.http import Request
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmCase, LibraryCrmHttpCase


class ServiceRatingCommon:
    @classmethod
    def _setup_service_rating(cls):
        cls.reader.responsible_librarian_id = cls.user_librarian
        cls.other_reader = cls.reader.copy(
            {
                "name": "李华",
                "is_reader": True,
                "reader_card_number": "2024000077",
                "email": "hua.li@example.edu",
            }
        )

    def _log(self, kind="consultation", partner=None, **values):
        return (
            self.env["library.interaction"]
            .with_user(self.user_librarian)
            .create(
                {
                    "partner_id": (partner or self.reader).id,
                    "kind": kind,
                    "channel": "reference_desk",
                    "summary": "Helped with a CNKI search",
                    **values,
                }
            )
        )

    def _token(self, interaction):
        rating = (
            self.env["rating.rating"]
            .sudo()
            .search([("res_model", "=", "library.interaction"), ("res_id", "=", interaction.id)])
        )
        self.assertEqual(len(rating), 1)
        self.assertEqual(rating.partner_id, interaction.partner_id)
        return rating.access_token


@tagged("post_install", "-at_install")
class TestServiceRating(ServiceRatingCommon, LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_service_rating()

    def test_an_ordinary_service_asks_its_reader_once_a_week(self):
        first = self._log()
        self.assertTrue(first.rating_requested_date)
        token = self._token(first)
        self.assertFalse(first.message_ids.filtered(lambda m: token in str(m.body)))
        mail = self.env["mail.mail"].sudo().search([("body_html", "ilike", token)])
        self.assertEqual(mail.recipient_ids, self.reader, "by e-mail to the reader only")
        message = mail.mail_message_id
        self.assertIn(f"/library/service/rate/{token}?rate=5", str(message.body))
        Interaction = self.env["library.interaction"].with_context(lang=self.reader.lang)
        kinds = dict(Interaction._fields["kind"]._description_selection(Interaction.env))
        self.assertIn(kinds["consultation"], str(message.body), "in the reader's language")
        self.assertNotIn("CNKI", str(message.body), "the librarian's notes stay internal")
        # The same week: no second request to the same reader.
        self.assertFalse(self._log(kind="training").rating_requested_date)
        self.assertTrue(
            self._log(kind="front_desk", partner=self.other_reader).rating_requested_date
        )

    def test_no_request_for_other_kinds_late_logs_or_refusing_readers(self):
        self.assertFalse(self._log(kind="outreach").rating_requested_date)
        self.assertFalse(self._log(kind="complaint").rating_requested_date)
        last_month = fields.Datetime.now() - timedelta(days=30)
        self.assertFalse(self._log(date=last_month).rating_requested_date)
        self.other_reader._library_set_consent({"surveys": False}, "portal")
        self.assertFalse(self._log(partner=self.other_reader).rating_requested_date)
        self.assertFalse(
            self.env["rating.rating"].sudo().search([("res_model", "=", "library.interaction")])
        )

    def test_the_rating_feeds_only_its_readers_satisfaction(self):
        interaction = self._log()
        # Another reader's stale score: a single rating must not touch it.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET satisfaction_score = 1.5 WHERE id = %s", [self.other_reader.id]
        )
        self.other_reader.invalidate_recordset(["satisfaction_score"])
        interaction.sudo().rating_apply(4, token=self._token(interaction))
        self.assertEqual(interaction.rating_last_value, 4)
        self.assertAlmostEqual(self.reader.satisfaction_score, 4.0)
        self.assertEqual(self.reader.loyalty_satisfaction, 8, "loyalty recomputed at once")
        self.assertEqual(self.other_reader.satisfaction_score, 1.5)
        self.assertFalse(self.reader.activity_ids, "a good rating needs no follow-up")

    def test_a_low_rating_gives_the_readers_librarian_a_followup(self):
        interaction = self._log()
        interaction.sudo().rating_apply(2, token=self._token(interaction), feedback="Rushed")
        activity = self.reader.activity_ids
        self.assertEqual(activity.user_id, self.user_librarian)
        self.assertIn("Low rating (2/5)", activity.summary)
        self.assertIn("Rushed", str(activity.note))

    def test_nobody_but_the_token_rates_or_reads_the_rating(self):
        interaction = self._log()
        token = self._token(interaction)
        rating = self.env["rating.rating"].sudo().search([("access_token", "=", token)])
        for user in (self.user_portal, self.user_internal, self.user_librarian, self.user_manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    interaction.with_user(user).rating_apply(5, token=token)
                if user == self.user_portal:
                    continue
                Rating = self.env["rating.rating"].with_user(user)
                self.assertFalse(Rating.search([("res_model", "=", "library.interaction")]))
                with self.assertRaises(AccessError):
                    Rating.search([("access_token", "=", token)])
                with self.assertRaises(AccessError):
                    rating.with_user(user).read(["access_token"])
                with self.assertRaises(AccessError):
                    rating.with_user(user).write({"rating": 5, "consumed": True})
        # Even as superuser, a token of another service or reader is refused.
        other = self._log(partner=self.other_reader)
        with self.assertRaises(AccessError):
            other.sudo().rating_apply(5, token=token)
        self.assertFalse(rating.consumed)
        self.assertEqual(interaction.rating_last_value, 0)


@tagged("post_install", "-at_install")
class TestServiceRatingHttp(ServiceRatingCommon, LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_service_rating()

    def _form(self, **values):
        return {"csrf_token": Request.csrf_token(self), **values}

    def test_the_reader_rates_from_the_link(self):
        interaction = self._log()
        url = f"/library/service/rate/{self._token(interaction)}"
        self.authenticate(None, None)  # the reader, not logged in
        page = self.url_open(f"{url}?rate=4")
        self.assertEqual(page.status_code, 200)
        self.assertIn('value="4" checked', page.text)
        interaction.invalidate_recordset()
        self.assertEqual(interaction.rating_last_value, 0, "opening the link rates nothing")
        response = self.url_open(url, data=self._form(rate="4", feedback="Very clear"))
        self.assertEqual(response.status_code, 200)
        self.assertIn("4", response.text)
        interaction.invalidate_recordset()
        self.assertEqual(interaction.rating_last_value, 4)
        self.assertAlmostEqual(self.reader.satisfaction_score, 4.0)

    def test_bad_tokens_and_values_rate_nothing(self):
        interaction = self._log()
        url = f"/library/service/rate/{self._token(interaction)}"
        self.authenticate_as(self.user_portal)
        self.assertEqual(self.url_open(url, data=self._form(rate="9")).status_code, 400)
        self.assertEqual(self.url_open(url, data=self._form(rate="x")).status_code, 400)
        self.assertEqual(
            self.url_open(
                "/library/service/rate/not-a-token", data=self._form(rate="5")
            ).status_code,
            404,
        )
        # A suggestion's rating token is not a service's.
        category = self.env["library.suggestion.category"].create({"name": "Other"})
        suggestion = self.env["library.suggestion"].create(
            {"partner_id": self.reader.id, "category_id": category.id, "subject": "Noise"}
        )
        other_token = suggestion._rating_get_access_token()
        self.assertEqual(
            self.url_open(
                f"/library/service/rate/{other_token}", data=self._form(rate="5")
            ).status_code,
            404,
        )
        interaction.invalidate_recordset()
        self.assertEqual(interaction.rating_last_value, 0)

    def test_other_users_cannot_rate_over_json_rpc(self):
        interaction = self._log()
        token = self._token(interaction)
        rating = self.env["rating.rating"].sudo().search([("access_token", "=", token)])
        calls = [
            ("library.interaction", "rating_apply", [interaction.ids, 5], {"token": token}),
            ("rating.rating", "write", [rating.ids, {"rating": 5, "consumed": True}], {}),
            ("rating.rating", "search_read", [[("res_model", "=", "library.interaction")]], {}),
        ]
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            self.authenticate_as(user)
            for model, method, args, kwargs in calls:
                with self.subTest(user=user.login, method=method):
                    try:
                        result = self.make_jsonrpc_request(
                            f"/web/dataset/call_kw/{model}/{method}",
                            {"model": model, "method": method, "args": args, "kwargs": kwargs},
                        )
                    except JsonRpcException as refused:
                        self.assertIn("AccessError", str(refused))
                    else:
                        self.assertEqual(method, "search_read")
                        self.assertEqual(result, [], "no service rating shows")
        rating.invalidate_recordset()
        self.assertFalse(rating.consumed)
        self.assertEqual(rating.rating, 0)
