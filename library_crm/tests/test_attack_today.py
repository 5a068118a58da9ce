# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on today's features over real JSON-RPC: service ratings, report
subscriptions and their sent PDFs. Each hole found has its regression test
here; the refusals that already held are kept in one table."""

from odoo import http
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmHttpCase
from .test_service_rating import ServiceRatingCommon

HOSTILE = {"active_test": False, "bypass": True}


@tagged("post_install", "-at_install")
class TestAttackToday(ServiceRatingCommon, LibraryCrmHttpCase):
    rpc_context = HOSTILE

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_service_rating()

    def test_rating_link_is_not_readable_in_the_chatter(self):
        """Hole: the rating request was posted as a note on the service, its
        body holding the reader's token; a librarian read it over RPC and
        rated the service in the reader's name. Only the reader's e-mail
        holds the link now."""
        interaction = self._log()
        token = self._token(interaction)
        mail = self.env["mail.mail"].sudo().search([("body_html", "ilike", token)])
        self.assertEqual(mail.recipient_ids, self.reader, "the reader still gets the link")
        for user in (self.user_librarian, self.user_manager, self.user_internal):
            with self.subTest(user=user.login):
                try:
                    messages = self._rpc(
                        user,
                        "mail.message",
                        "search_read",
                        [[("body", "ilike", token)]],
                        {"fields": ["body"]},
                    )
                except JsonRpcException:
                    messages = []
                self.assertFalse(messages, "no staff reads the reader's rating token")
        chatter = self._rpc(
            self.user_librarian,
            "library.interaction",
            "read",
            [interaction.ids, ["message_ids"]],
        )[0]["message_ids"]
        bodies = self.env["mail.message"].browse(chatter).mapped("body")
        self.assertFalse([b for b in bodies if token in str(b)])

    def test_refusals_hold(self):
        """Paths that were already refused: (label, user, model, method,
        args, kwargs)."""
        interaction = self._log()
        rating = (
            self.env["rating.rating"]
            .sudo()
            .search([("res_model", "=", "library.interaction"), ("res_id", "=", interaction.id)])
        )
        subscription_vals = {
            "name": "Leak",
            "report_kind": "segment_summary",
            "recipient_ids": [(6, 0, self.user_internal.partner_id.ids)],
        }
        cases = [
            (
                "rating token",
                self.user_librarian,
                "rating.rating",
                "read",
                [rating.ids, ["access_token"]],
                None,
            ),
            (
                "rating token search",
                self.user_internal,
                "rating.rating",
                "search_read",
                [[("res_model", "=", "library.interaction")], ["access_token"]],
                None,
            ),
            (
                "rating apply",
                self.user_librarian,
                "library.interaction",
                "rating_apply",
                [interaction.ids, 5],
                {"token": rating.access_token},
            ),
            (
                "subscription create librarian",
                self.user_librarian,
                "library.report.subscription",
                "create",
                [subscription_vals],
                None,
            ),
            (
                "subscription create portal",
                self.user_portal,
                "library.report.subscription",
                "create",
                [subscription_vals],
                None,
            ),
            (
                "subscription log internal",
                self.user_internal,
                "library.report.subscription.log",
                "search_read",
                [[]],
                None,
            ),
            (
                "subscription cron",
                self.user_librarian,
                "library.report.subscription",
                "_cron_send",
                [],
                None,
            ),
        ]
        for label, user, model, method, args, kwargs in cases:
            with self.subTest(label):
                try:
                    result = self._rpc(user, model, method, args, kwargs)
                except JsonRpcException:
                    continue
                # A search filtered to nothing is a refusal too.
                self.assertEqual(result, [], f"{label} must be refused")

    def test_nobody_rates_a_suggestion_in_the_readers_name(self):
        """Hole: a suggestion's rating token was readable by any employee
        (rating.rating), its value writable, and rating_apply callable over
        RPC: a librarian rated a suggestion 1/5 in the reader's name, which
        fed the reader's satisfaction and raised a low-rating follow-up."""
        category = self.env["library.suggestion.category"].create({"name": "Attack ratings"})
        suggestion = self.env["library.suggestion"].create(
            {
                "partner_id": self.reader.id,
                "category_id": category.id,
                "subject": "A quiet reading room",
                "description": "<p>Please.</p>",
            }
        )
        token = suggestion.sudo()._rating_get_access_token()
        rating = self.env["rating.rating"].sudo().search([("access_token", "=", token)])
        calls = [
            ("rating.rating", "read", [rating.ids, ["access_token"]], None),
            ("rating.rating", "search", [[("access_token", "=", token)]], None),
            ("rating.rating", "write", [rating.ids, {"rating": 1, "consumed": True}], None),
            ("library.suggestion", "rating_apply", [suggestion.ids, 1], {"token": token}),
        ]
        for user in (self.user_librarian, self.user_manager, self.user_internal):
            for model, method, args, kwargs in calls:
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._rpc(user, model, method, args, kwargs)
                    self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        self.assertFalse(rating.consumed)
        # Librarians still read the rating itself (the suggestion's Rating button).
        (values,) = self._rpc(
            self.user_librarian, "rating.rating", "read", [rating.ids, ["rating", "res_id"]]
        )
        self.assertEqual(values["res_id"], suggestion.id)
        # The reader's own link still rates.
        self.logout()
        response = self.url_open(
            f"/rate/{token}/submit_feedback",
            data={"rate": 5, "feedback": "Thank you", "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual((rating.rating, rating.consumed), (5, True))
