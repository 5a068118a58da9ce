# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .test_suggestion import SuggestionCase

STEP_CONTEXT = {"library_suggestion_step": True, "library_suggestion_notice": True}


@tagged("post_install", "-at_install")
class TestSuggestionSteps(SuggestionCase):
    """No context key switches a check off; every step checks the role."""

    def _approved(self):
        suggestion = self._to_approval(self._new())
        suggestion.with_user(self.user_leader).action_approve("Agreed.")
        return suggestion

    def test_context_keys_do_not_skip_the_write_rules(self):
        suggestion = self._new()
        as_librarian = suggestion.with_user(self.user_librarian).with_context(**STEP_CONTEXT)
        with self.assertRaises(UserError):
            as_librarian.write({"state": "approved", "adopted": True, "is_published": True})
        for vals in ({"adopted": True}, {"is_published": True}, {"public_summary": "x"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_librarian.write(vals)
        self.assertEqual(suggestion.state, "new")
        self.assertFalse(suggestion.adopted)
        self.assertFalse(suggestion.is_published)
        self.assertFalse(self.reader.points_balance, "no points for a forged adoption")

    def test_a_staff_reply_counts_whatever_the_context(self):
        suggestion = self._new()
        self.assertFalse(suggestion.first_reply_date, "the acknowledgement is no reply")
        suggestion.with_user(self.user_librarian).with_context(
            library_suggestion_notice=True
        ).message_post(
            body="We are looking into it.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(suggestion.first_reply_date)

    def test_steps_write_as_superuser_but_record_the_caller(self):
        suggestion = self._to_approval(self._new())
        suggestion.with_user(self.user_leader).action_approve("Agreed.")
        suggestion.invalidate_recordset()
        self.assertEqual(suggestion.assessed_by_id, self.user_librarian)
        self.assertEqual(suggestion.solution_by_id, self.user_handler)
        self.assertEqual(suggestion.approved_by_id, self.user_leader)
        self.assertEqual(suggestion.write_uid, self.user_leader, "sudo() keeps the caller")
        self.assertEqual(suggestion.approval_ids[-1].user_id, self.user_leader)
        self.assertEqual(suggestion.approval_ids[-1].create_uid, self.user_leader)

    def test_every_action_checks_the_role(self):
        portal_suggestion = self._new(partner_id=self.user_portal.partner_id.id)
        calls = {
            "action_accept": (),
            "action_close_as": ("out_of_scope", "Not ours."),
            "action_reject": ("No.",),
            "action_assign": (),
            "action_propose": (),
            "action_submit_approval": (),
            "action_approve": ("Yes",),
            "action_return": ("Redo",),
            "action_confirm_rejection": (),
            "action_overturn_rejection": ("Redo",),
            "action_done": (),
            "action_close": (),
            "action_view_ratings": (),
            "action_amend": ({"subject": "Changed"}, "Typo"),
        }
        for user in (self.user_portal, self.user_internal):
            for method, args in calls.items():
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(AccessError):
                        getattr(portal_suggestion.with_user(user), method)(*args)
        approval = self._to_approval(self._new())
        for method, args in (
            ("action_approve", ("Yes",)),
            ("action_return", ("Redo",)),
            ("action_reject", ("No",)),
            ("action_amend", ({"subject": "Changed"}, "Typo")),
        ):
            with self.subTest(user="librarian", method=method):
                with self.assertRaises(AccessError):
                    getattr(approval.with_user(self.user_librarian), method)(*args)
        self.assertEqual(portal_suggestion.state, "new")
        self.assertEqual(approval.state, "approval")


@tagged("post_install", "-at_install")
class TestSuggestionFrozenContent(SuggestionCase):
    def _approved(self):
        suggestion = self._to_approval(self._new())
        suggestion.with_user(self.user_leader).action_approve("Agreed.")
        return suggestion

    def test_approved_content_is_frozen(self):
        suggestion = self._approved()
        other_reader = self.env["res.partner"].create({"name": "李华", "is_reader": True})
        changes = {
            "solution": "<p>Something else.</p>",
            "subject": "Another subject",
            "description": "<p>Other words.</p>",
            "partner_id": other_reader.id,
            "submission_date": "2026-01-01 00:00:00",
            "category_id": self.env["library.suggestion.category"].create({"name": "Other"}).id,
        }
        for user in (self.user_handler, self.user_manager):
            for name, value in changes.items():
                with self.subTest(user=user.login, field=name), self.assertRaises(UserError):
                    suggestion.with_user(user).write({name: value})
        self.assertEqual(suggestion.partner_id, self.reader)
        # An unchanged value, as a form sends it, is no change.
        suggestion.with_user(self.user_handler).write({"subject": suggestion.subject})
        # The reply is written after approval, and frozen once sent.
        suggestion.with_user(self.user_handler).reply = "<p>From next term.</p>"
        suggestion.with_user(self.user_handler).action_done()
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_manager).write({"reply": "<p>Never mind.</p>"})
        self.assertIn("From next term.", suggestion.reply)

    def test_submission_date_and_proposed_solution(self):
        suggestion = self._new()
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_librarian).write(
                {"submission_date": "2026-01-01 00:00:00"}
            )
        self._to_approval(suggestion)
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_handler).write({"solution": "<p>Better plan.</p>"})
        suggestion.with_user(self.user_leader).action_return("Cheaper, please.")
        suggestion.with_user(self.user_handler).write({"solution": "<p>Cheaper plan.</p>"})
        self.assertIn("Cheaper plan.", suggestion.solution)

    def test_manager_amends_with_a_logged_before_and_after(self):
        suggestion = self._approved()
        other_reader = self.env["res.partner"].create(
            {"name": "李华", "is_reader": True, "email": "li.hua@example.edu"}
        )
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_manager).action_amend({"subject": "Fixed"}, "")
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_manager).action_amend({"state": "new"}, "Reset")
        suggestion.with_user(self.user_manager).action_amend(
            {"subject": "Longer loans for master's theses", "partner_id": other_reader.id},
            "Wrong reader entered at the front desk",
        )
        self.assertEqual(suggestion.subject, "Longer loans for master's theses")
        self.assertEqual(suggestion.partner_id, other_reader)
        note = suggestion.message_ids.filtered(lambda m: "Amended" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.user_manager.partner_id)
        body = str(note.body)
        for text in (
            "Wrong reader entered at the front desk",
            "Longer loans for theses",
            "Longer loans for master",
            "王晓明",
            "李华",
        ):
            self.assertIn(text, body)
        self.assertNotIn(self.reader, suggestion.message_partner_ids, "the former reader left")
        self.assertIn(other_reader, suggestion.message_partner_ids)

    def test_amend_form_starts_from_the_current_values(self):
        suggestion = self._approved()
        with self.assertRaises(AccessError):
            self.env["library.suggestion.amend"].with_user(self.user_librarian).with_context(
                default_suggestion_id=suggestion.id
            ).create({"reason": "Typo"})
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_manager).action_amend({}, "Nothing")
        Amend = (
            self.env["library.suggestion.amend"]
            .with_user(self.user_manager)
            .with_context(default_suggestion_id=suggestion.id)
        )
        wizard = Amend.create({"reason": "Typo in the subject"})
        self.assertEqual(wizard.subject, "Longer loans for theses")
        self.assertEqual(wizard.partner_id, self.reader)
        self.assertEqual(wizard.submission_date, suggestion.submission_date)
        wizard.subject = "Longer loans for PhD theses"
        wizard.action_confirm()
        self.assertEqual(suggestion.subject, "Longer loans for PhD theses")
        self.assertEqual(suggestion.partner_id, self.reader, "unchanged fields stay")
        note = suggestion.message_ids.filtered(lambda m: "Typo in the subject" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertNotIn("Reader", str(note.body), "only what changed is logged")

    def test_reader_change_moves_the_follower(self):
        suggestion = self._new()
        other_reader = self.env["res.partner"].create(
            {"name": "李华", "is_reader": True, "email": "li.hua@example.edu"}
        )
        self.assertIn(self.reader, suggestion.message_partner_ids)
        suggestion.with_user(self.user_librarian).write({"partner_id": other_reader.id})
        self.assertNotIn(self.reader, suggestion.message_partner_ids)
        self.assertIn(other_reader, suggestion.message_partner_ids)


@tagged("post_install", "-at_install")
class TestSuggestionHandler(SuggestionCase):
    def _assigned(self):
        suggestion = self._new()
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_handler.id})
        suggestion.with_user(self.user_librarian).action_assign()
        return suggestion

    def test_handing_over_a_colleagues_suggestion_is_for_managers(self):
        suggestion = self._assigned()
        # Nobody but a manager moves the handler's work to someone else.
        for target in (self.user_librarian, self.user_librarian_2):
            with self.subTest(target=target.login), self.assertRaises(AccessError):
                suggestion.with_user(self.user_librarian).write({"user_id": target.id})
        self.assertEqual(suggestion.user_id, self.user_handler)
        # The handler passes on their own.
        suggestion.with_user(self.user_handler).write({"user_id": self.user_librarian_2.id})
        self.assertEqual(suggestion.user_id, self.user_librarian_2)
        # A manager hands over anyone's.
        suggestion.with_user(self.user_manager).write({"user_id": self.user_handler.id})
        self.assertEqual(suggestion.user_id, self.user_handler)

    def test_unassigned_suggestion_can_be_taken(self):
        suggestion = self._assigned()
        suggestion.with_user(self.user_manager).write({"user_id": False})
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_librarian).write({"user_id": self.user_librarian_2.id})
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_librarian.id})
        self.assertEqual(suggestion.user_id, self.user_librarian)

    def test_before_assignment_any_librarian_chooses_the_handler(self):
        suggestion = self._new()
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_handler.id})
        suggestion.with_user(self.user_librarian_2).write({"user_id": self.user_librarian.id})
        self.assertEqual(suggestion.user_id, self.user_librarian)


@tagged("post_install", "-at_install")
class TestSuggestionPublicationAndPortalFields(SuggestionCase):
    def _done(self, **values):
        suggestion = self._to_approval(self._new(**values))
        suggestion.with_user(self.user_leader).action_approve("Agreed.")
        suggestion.with_user(self.user_handler).reply = "<p>Done.</p>"
        suggestion.with_user(self.user_handler).action_done()
        return suggestion

    def test_publication_needs_the_public_texts_written_by_a_manager(self):
        early = self._new()
        manager_early = early.with_user(self.user_manager)
        manager_early.write({"public_summary": "Longer loans.", "public_reply": "Done."})
        with self.assertRaises(ValidationError):
            manager_early.write({"is_published": True})
        suggestion = self._done()
        manager = suggestion.with_user(self.user_manager)
        with self.assertRaises(ValidationError):
            manager.write({"is_published": True})
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_librarian).write({"public_summary": "Longer loans."})
        with self.assertRaises(ValidationError):
            manager.write({"public_summary": "Longer loans.", "is_published": True})
        manager.write(
            {
                "public_summary": "A reader asked for longer loans for theses.",
                "public_reply": "Theses students borrow for 60 days.",
                "is_published": True,
            }
        )
        self.assertTrue(suggestion.is_published)
        with self.assertRaises(ValidationError):
            manager.write({"public_reply": " "})

    def test_portal_reader_cannot_read_internal_fields(self):
        suggestion = self._done(partner_id=self.user_portal.partner_id.id)
        as_reader = suggestion.with_user(self.user_portal)
        values = as_reader.read(["name", "subject", "reader_state", "reply", "reply_deadline"])[0]
        self.assertIn("Done.", values["reply"])
        self.assertEqual(values["reader_state"], "done")
        internal = [
            "state",
            "rejection_reason",
            "solution",
            "approval_comment",
            "approval_ids",
            "user_id",
            "unit_id",
            "solution_by_id",
            "solution_date",
            "assessed_by_id",
            "assessed_date",
            "approved_by_id",
            "approval_date",
            "duplicate_of_id",
            "is_overdue",
            "resolution_deadline",
            "overdue_share",
            "reply_days",
            "done_days",
            "color",
            "survey_user_input_id",
            "unit_staff_ids",
        ]
        for name in internal:
            with self.subTest(field=name), self.assertRaises(AccessError):
                as_reader.read([name])
