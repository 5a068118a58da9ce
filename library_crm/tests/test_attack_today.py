# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on today's features over real JSON-RPC: service ratings, report
subscriptions and their sent PDFs. Each hole found has its regression test
here; the refusals that already held are kept in one table."""

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
