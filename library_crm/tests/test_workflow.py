# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The workflow guards written once (library.workflow.mixin): a wrong role
raises AccessError, a wrong state UserError (and not AccessError), for
suggestions and liaison reviews alike; state changes are tracked under
their own message subtypes."""

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .test_suggestion import SuggestionCase

SCORES = {
    "summary": "<p>Very helpful</p>",
    "score_responsiveness": 5,
    "score_expertise": 4,
    "score_proactive": 4,
    "score_deliverables": 5,
}


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 08:00:00")
class TestWorkflowGuards(SuggestionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dean = cls.env["res.partner"].create(
            {"name": "Dean Zhao", "email": "dean.zhao@example.edu"}
        )

    def _review(self):
        # Tracked from its creation (tracking_disable at create discards it).
        Review = self.env["library.liaison.review"].with_context(tracking_disable=False)
        return Review.create(
            {
                "year": 2026,
                "department_id": self.dept_hist.id,
                "liaison_user_id": self.user_librarian_2.id,
                "contact_partner_id": self.dean.id,
            }
        )

    def _messages(self, record, subtype_xmlid):
        subtype = self.env.ref(subtype_xmlid)
        return record.sudo().message_ids.filtered(lambda m: m.subtype_id == subtype)

    def _flush_tracking(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    def assertStateRefused(self, call, name):
        """A UserError for the state, naming the record: not a missing right."""
        with self.assertRaises(UserError) as caught:
            call()
        self.assertNotIsInstance(caught.exception, AccessError)
        self.assertIn(name, str(caught.exception))

    def test_suggestion_wrong_role_is_access_error_wrong_state_user_error(self):
        suggestion = self._new()
        # The role is checked before the state: whoever lacks the role
        # learns nothing about the state.
        for user in (self.user_portal, self.user_internal):
            for method in ("action_accept", "action_assign", "action_done", "action_close"):
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(AccessError):
                        getattr(suggestion.with_user(user), method)()
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                suggestion.with_user(user).action_approve("ok")
        # The right role in the wrong state: UserError naming the suggestion.
        self.assertStateRefused(
            lambda: suggestion.with_user(self.user_leader).action_approve("ok"), suggestion.name
        )
        self.assertStateRefused(
            lambda: suggestion.with_user(self.user_librarian).action_done(), suggestion.name
        )
        self.assertEqual(suggestion.state, "new")

    def test_review_wrong_role_is_access_error_wrong_state_user_error(self):
        review = self._review()
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            for method in ("action_send", "action_submit", "action_validate"):
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(AccessError):
                        getattr(review.with_user(user), method)()
        self.assertStateRefused(
            lambda: review.with_user(self.user_manager).action_validate(), review.display_name
        )
        self.assertStateRefused(
            lambda: review.with_user(self.user_manager).action_reset_draft(),
            review.display_name,
        )
        self.assertEqual(review.state, "draft")

    def test_suggestion_approval_and_reply_tracked_under_their_subtypes(self):
        # Tracked from its creation (tracking_disable at create discards it).
        suggestion = (
            self.env["library.suggestion"]
            .with_context(tracking_disable=False)
            .with_user(self.user_librarian)
            .create(
                {
                    "partner_id": self.reader.id,
                    "category_id": self.category.id,
                    "subject": "Longer loans for theses",
                }
            )
        )
        self._flush_tracking()  # tracking starts after the creation's transaction
        self._to_approval(suggestion)
        self._flush_tracking()
        approved = self.env.ref("library_crm.mt_suggestion_approved")
        replied = self.env.ref("library_crm.mt_suggestion_replied")
        self.assertFalse(self._messages(suggestion, "library_crm.mt_suggestion_approved"))

        suggestion.with_user(self.user_leader).action_approve("Agreed.")
        self._flush_tracking()
        message = self._messages(suggestion, "library_crm.mt_suggestion_approved")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.user_leader.partner_id)
        self.assertIn("Approved", message.tracking_value_ids.mapped("new_value_char"))

        handler = suggestion.with_user(self.user_handler)
        handler.reply = "<p>From next term, theses students borrow for 60 days.</p>"
        handler.action_done()
        self._flush_tracking()
        message = self._messages(suggestion, "library_crm.mt_suggestion_replied")
        self.assertEqual(len(message), 1)
        # Internal: the reader, a follower, hears of it through the reply only.
        self.assertTrue(approved.internal and replied.internal)
        self.assertIn(self.reader, suggestion.message_partner_ids)
        self.assertNotIn(self.reader, message.notified_partner_ids)

    def test_review_submit_and_validate_tracked_under_their_subtypes(self):
        review = self._review()
        self._flush_tracking()  # tracking starts after the creation's transaction
        review.with_user(self.user_manager).action_send()
        review._submit(SCORES)
        self._flush_tracking()
        self.assertEqual(len(self._messages(review, "library_crm.mt_review_submitted")), 1)

        review.with_user(self.user_manager).action_validate()
        self._flush_tracking()
        message = self._messages(review, "library_crm.mt_review_validated")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.user_manager.partner_id)
        self.assertEqual(review.state, "validated")
