# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import LibraryCrmCase

INCOMING_MAIL = """Return-Path: <xiaoming.wang@example.edu>
To: suggestions@{domain}
From: Wang Xiaoming <xiaoming.wang@example.edu>
Subject: Please buy more copies of the algorithms textbook
Message-ID: <suggestion-{n}@example.edu>
Date: Mon, 23 Nov 2026 09:00:00 +0800
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

The three copies are always on loan before exams.
"""


class SuggestionCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_handler = cls._new_user(
            "lib_handler", "library_crm.group_library_librarian", name="Handler He"
        )
        cls.unit = cls.env["library.unit"].create(
            {
                "name": "Circulation Desk",
                "manager_id": cls.user_manager.id,
                "member_ids": [(6, 0, cls.user_handler.ids)],
            }
        )
        cls.category = cls.env["library.suggestion.category"].create(
            {"name": "Borrowing", "default_unit_id": cls.unit.id}
        )
        calendar = cls.env.company.resource_calendar_id
        calendar.tz = "Asia/Shanghai"
        cls.calendar = calendar
        cls.env["ir.config_parameter"].set_param("library_crm.points_suggestion_adopted", 10)

    def _new(self, user=None, **values):
        return (
            self.env["library.suggestion"]
            .with_user(user or self.user_librarian)
            .create(
                {
                    "partner_id": self.reader.id,
                    "category_id": self.category.id,
                    "subject": "Longer loans for theses",
                    "description": "<p>Please allow 60 days.</p>",
                    **values,
                }
            )
        )

    def _to_approval(self, suggestion):
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_handler.id})
        suggestion.with_user(self.user_librarian).action_assign()
        handler = suggestion.with_user(self.user_handler)
        handler.solution = "<p>Theses students get 60 days from next term.</p>"
        handler.action_propose()
        handler.action_submit_approval()
        return suggestion


@tagged("post_install", "-at_install")
class TestSuggestionWorkflow(SuggestionCase):
    def test_reference_acknowledgement_and_follower(self):
        suggestion = self._new()
        self.assertTrue(suggestion.name.startswith("SUG/"))
        self.assertEqual(suggestion.state, "new")
        self.assertIn(self.reader, suggestion.message_partner_ids)
        acknowledgement = suggestion.message_ids.filtered(
            lambda m: self.reader in m.partner_ids and suggestion.name in (m.subject or "")
        )
        self.assertTrue(acknowledgement, "the reader is told the suggestion was received")
        self.assertFalse(suggestion.first_reply_date, "an acknowledgement is not a reply")

    def test_full_path_by_the_right_roles(self):
        suggestion = self._new()
        self.assertEqual(
            [reached for _label, reached in suggestion._portal_progress()],
            [True, False, False, False, False],
        )
        self._to_approval(suggestion)
        self.assertEqual(suggestion.state, "approval")
        self.assertEqual(
            [reached for _label, reached in suggestion._portal_progress()],
            [True, True, True, False, False],
        )
        self.assertEqual(suggestion.unit_id, self.unit, "the category's unit is proposed")
        self.assertEqual(suggestion.approval_ids.decision, "submitted")
        suggestion.with_user(self.user_leader).action_approve("Agreed for next term.")
        self.assertEqual(suggestion.state, "approved")
        self.assertEqual(suggestion.approved_by_id, self.user_leader)
        self.assertTrue(suggestion.adopted)
        handler = suggestion.with_user(self.user_handler)
        handler.reply = "<p>From next term, theses students borrow for 60 days.</p>"
        handler.action_done()
        self.assertEqual(suggestion.state, "done")
        self.assertTrue(suggestion.first_reply_date)
        reply = suggestion.message_ids.filtered(
            lambda m: "60 days" in str(m.body) and self.reader in m.partner_ids
        )
        self.assertTrue(reply, "the reply is e-mailed to the reader")
        # The reply is in the chatter too: it holds no rating token (the
        # reader rates on their suggestion page).
        token = suggestion.sudo()._rating_get_access_token()
        self.assertNotIn(token, str(reply[0].body))
        suggestion.with_user(self.user_librarian).action_close()
        self.assertEqual(suggestion.state, "closed")
        self.assertEqual(suggestion.approval_ids.mapped("decision"), ["submitted", "approved"])

    def test_wrong_roles_and_illegal_moves_are_refused(self):
        suggestion = self._new()
        outsider = self._new_user("lib_outsider", "library_crm.group_library_librarian")
        # Nobody skips a step.
        for method in ("action_assign", "action_propose", "action_submit_approval", "action_done"):
            with self.subTest(method=method), self.assertRaises(UserError):
                getattr(suggestion.with_user(self.user_manager), method)()
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_leader).action_approve()
        # Internal users who are not librarians do not assess.
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_internal).action_accept()
        suggestion.with_user(self.user_librarian).action_accept()
        # The handler must belong to the unit.
        suggestion.with_user(self.user_librarian).write({"user_id": outsider.id})
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_librarian).action_assign()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_handler.id})
        suggestion.with_user(self.user_librarian).action_assign()
        # Only unit members propose.
        suggestion.with_user(self.user_handler).solution = "<p>Extend loans.</p>"
        with self.assertRaises(AccessError):
            suggestion.with_user(outsider).action_propose()
        suggestion.with_user(self.user_handler).action_propose()
        suggestion.with_user(self.user_handler).action_submit_approval()
        # Only the leadership approves, returns or rejects at approval.
        for call in (
            lambda s: s.action_approve("ok"),
            lambda s: s.action_return("redo"),
            lambda s: s.action_reject("no"),
        ):
            with self.assertRaises(AccessError):
                call(suggestion.with_user(self.user_handler))
        # The state cannot be written around the steps, even over RPC.
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_librarian).write({"state": "approved"})
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_librarian).write({"adopted": True})
        with self.assertRaises(UserError):
            self._new(state="approved")
        self.assertEqual(self._new(state="new").state, "new")
        self.assertEqual(suggestion.state, "approval")

    def test_return_to_handler_then_approve(self):
        suggestion = self._to_approval(self._new())
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_leader).action_return("")
        suggestion.with_user(self.user_leader).action_return("Check the cost first.")
        self.assertEqual(suggestion.state, "assigned")
        self.assertIn(
            "Check the cost first.",
            suggestion.activity_ids.filtered(lambda a: a.user_id == self.user_handler).mapped(
                "note"
            )[-1],
        )
        suggestion.with_user(self.user_handler).action_propose()
        suggestion.with_user(self.user_handler).action_submit_approval()
        suggestion.with_user(self.user_leader).action_approve(adopted=False)
        self.assertEqual(
            suggestion.approval_ids.mapped("decision"),
            ["submitted", "returned", "submitted", "approved"],
        )
        self.assertFalse(suggestion.adopted)

    def test_rejection_at_assessment_and_at_approval(self):
        first = self._new()
        with self.assertRaises(UserError):
            first.with_user(self.user_librarian).action_reject("")
        first.with_user(self.user_librarian).action_reject(
            "The loan rules are set by the ministry."
        )
        # The librarian's rejection waits for the leader: nothing reaches the reader.
        self.assertEqual((first.state, first.assessment_result), ("reject_pending", False))
        first.with_user(self.user_leader).action_confirm_rejection()
        self.assertEqual((first.state, first.assessment_result), ("rejected", "rejected"))
        self.assertEqual(
            [reached for _label, reached in first._portal_progress()],
            [True, True, False, False, True],
            "the reader sees it assessed and answered, not approved",
        )
        self.assertTrue(first.first_reply_date)
        second = self._to_approval(self._new())
        second.with_user(self.user_leader).action_reject("Not in this year's budget.")
        self.assertEqual(second.state, "rejected")
        self.assertEqual(second.approval_ids[-1].decision, "rejected")
        self.assertFalse(self.reader.points_balance)

    def test_duplicate_and_out_of_scope_close_at_assessment(self):
        original = self._new()
        duplicate = self._new()
        Decision = self.env["library.suggestion.decision"].with_user(self.user_librarian)
        # The form requires the original; a call without it is refused by the server.
        with self.assertRaises(UserError):
            Decision.create(
                {"suggestion_id": duplicate.id, "decision": "duplicate", "comment": "Same"}
            ).action_confirm()
        Decision = Decision.with_context(
            default_suggestion_id=duplicate.id, default_decision="duplicate"
        )
        with Form(Decision) as form:
            form.duplicate_of_id = original
            form.comment = "Already handled in the first one."
        form.record.action_confirm()
        self.assertEqual(duplicate.state, "closed")
        self.assertEqual(duplicate.duplicate_of_id, original)
        original.with_user(self.user_librarian).action_close_as(
            "out_of_scope", "The canteen is run by the university."
        )
        self.assertEqual(original.assessment_result, "out_of_scope")

    def test_description_is_sanitised(self):
        suggestion = self._new(
            description='<p onclick="steal()">Hi<script>alert(1)</script>'
            '<img src="x" onerror="alert(2)"></p>'
        )
        self.assertNotIn("<script", suggestion.description)
        self.assertNotIn("onerror", suggestion.description)
        self.assertNotIn("onclick", suggestion.description)
        self.assertIn("Hi", suggestion.description)


@tagged("post_install", "-at_install")
class TestSuggestionSla(SuggestionCase):
    def test_deadlines_skip_the_weekend(self):
        # Friday 2026-11-20, 10:00 in Shanghai.
        with freeze_time("2026-11-20 02:00:00"):
            suggestion = self._new()
        # 5 working days: Mon 23 .. Fri 27, until the end of the day in Shanghai.
        self.assertEqual(suggestion.reply_deadline, datetime(2026, 11, 27, 15, 59, 59))
        # 10 working days: .. Fri 4 December.
        self.assertEqual(suggestion.resolution_deadline, datetime(2026, 12, 4, 15, 59, 59))

    def test_deadlines_skip_public_holidays(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": self.calendar.id,
                "date_from": datetime(2026, 11, 24, 16, 0),  # Wed 25 in Shanghai
                "date_to": datetime(2026, 11, 25, 15, 59, 59),
            }
        )
        with freeze_time("2026-11-20 02:00:00"):
            suggestion = self._new()
        self.assertEqual(suggestion.reply_deadline, datetime(2026, 11, 30, 15, 59, 59))

    def test_overdue_cron_gives_one_activity_per_newly_overdue(self):
        # Suggestions already in the database (demo data) are out of the count.
        self.env["library.suggestion"].sudo().search([]).is_overdue = True
        with freeze_time("2026-11-20 02:00:00"):
            late = self._new()
            answered = self._new()
            answered.with_user(self.user_librarian).message_post(
                body="We are looking into it.",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            late.with_user(self.user_librarian).action_accept()
        Suggestion = self.env["library.suggestion"]
        with freeze_time("2026-11-27 15:00:00"):
            self.assertEqual(Suggestion._cron_check_overdue(), 0)
        with freeze_time("2026-11-28 09:00:00"):
            self.assertEqual(Suggestion._cron_check_overdue(), 1)
            self.assertTrue(late.is_overdue)
            self.assertFalse(answered.is_overdue, "it was answered in time")
            activities = late.activity_ids.filtered(lambda a: a.user_id == self.user_manager)
            self.assertEqual(len(activities), 1)
            self.assertEqual(Suggestion._cron_check_overdue(), 0, "once per suggestion")
        with freeze_time("2026-12-05 09:00:00"):
            self.assertEqual(Suggestion._cron_check_overdue(), 1, "the answered one, unresolved")
            self.assertTrue(answered.is_overdue)
            self.assertEqual(answered.overdue_share, 100.0)


@tagged("post_install", "-at_install")
class TestSuggestionRatingMailPoints(SuggestionCase):
    def _done(self):
        suggestion = self._to_approval(self._new())
        suggestion.with_user(self.user_leader).action_approve()
        suggestion.with_user(self.user_handler).reply = "<p>Done.</p>"
        suggestion.with_user(self.user_handler).action_done()
        return suggestion

    def test_rating_flow_and_low_rating_activity(self):
        suggestion = self._done()
        token = suggestion.sudo()._rating_get_access_token()
        suggestion.sudo().rating_apply(5, token=token, feedback="Great")
        self.assertEqual(suggestion.rating_last_value, 5)
        self.assertFalse(
            suggestion.activity_ids.filtered(lambda a: "Low rating" in (a.summary or ""))
        )
        other = self._done()
        token = other.sudo()._rating_get_access_token()
        other.sudo().rating_apply(1, token=token, feedback="Nobody called me back")
        low = other.activity_ids.filtered(lambda a: "1/5" in (a.summary or ""))
        self.assertEqual(low.user_id, self.user_manager, "the unit's manager follows up")
        self.assertIn("Nobody called me back", str(low.note))

    def test_points_awarded_once_and_never_negative(self):
        suggestion = self._done()
        self.assertEqual(self.reader.points_balance, 10)
        suggestion.with_user(self.user_manager).write({"adopted": False})
        suggestion.with_user(self.user_manager).write({"adopted": True})
        suggestion._award_points()
        self.reader.invalidate_recordset(["points_balance"])
        self.assertEqual(self.reader.points_balance, 10, "adopted twice, paid once")
        Redemption = (
            self.env["library.points.redemption"]
            .with_user(self.user_librarian)
            .with_context(default_partner_id=self.reader.id)
        )
        with Form(Redemption) as form:
            self.assertEqual(form.points_balance, 10)
            form.points = 11
            form.description = "Printing"
        with self.assertRaises(ValidationError):
            form.record.action_confirm()
        with Form(Redemption) as form:
            form.points = 4
            form.description = "Printing credit"
        form.record.action_confirm()
        self.reader.invalidate_recordset(["points_balance"])
        self.assertEqual(self.reader.points_balance, 6)
        with self.assertRaises(UserError):
            Redemption.create(
                {"partner_id": self.reader.id, "points": -5, "description": "Sneaky"}
            ).action_confirm()
        with self.assertRaises(AccessError):
            self.reader.points_transaction_ids[0].with_user(self.user_librarian).write(
                {"points": 100}
            )

    def test_mail_alias_creates_a_suggestion_for_the_reader(self):
        domain = "library.example.edu"
        alias_domain = self.env["mail.alias.domain"].create({"name": domain})
        self.env.ref("library_crm.mail_alias_suggestion").alias_domain_id = alias_domain
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            # No model given: the alias routes the message.
            thread_id = self.env["mail.thread"].message_process(
                False, INCOMING_MAIL.format(domain=domain, n=1)
            )
        suggestion = self.env["library.suggestion"].browse(thread_id)
        self.assertEqual(suggestion.partner_id, self.reader)
        self.assertEqual(suggestion.channel, "email")
        self.assertEqual(suggestion.subject, "Please buy more copies of the algorithms textbook")
        self.assertIn("always on loan", suggestion.description)
        self.assertTrue(suggestion.name.startswith("SUG/"))
        # A writer without an account is still tracked, by address.
        stranger = INCOMING_MAIL.format(domain=domain, n=2).replace(
            "Wang Xiaoming <xiaoming.wang@example.edu>", "visitor@example.org"
        )
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            thread_id = self.env["mail.thread"].message_process(False, stranger)
        suggestion = self.env["library.suggestion"].browse(thread_id)
        self.assertFalse(suggestion.partner_id)
        self.assertEqual(suggestion.email_from, "visitor@example.org")
        self.assertTrue(suggestion.category_id)

    def test_readers_get_portal_access_in_bulk(self):
        second = self.env["res.partner"].create(
            {"name": "李华", "is_reader": True, "email": "li.hua@example.edu"}
        )
        readers = self.reader | second
        wizard = (
            self.env["portal.wizard"]
            .with_user(self.user_librarian)
            .with_context(active_ids=readers.ids, active_model="res.partner")
            .create({})
        )
        for line in wizard.user_ids:
            line.action_grant_access()
        self.assertTrue(all(readers.user_ids.mapped(lambda u: u._is_portal())))
        self.assertEqual(len(readers.user_ids), 2)

    def test_register_figures(self):
        # A period before any demo data: only this test's suggestions count.
        with freeze_time("2021-06-15 02:00:00"):
            self._done()
            self._new()
            register = (
                self.env["library.suggestion.register"].with_user(self.user_manager).create({})
            )
            data = register._register_data()
        self.assertEqual(data["total"], 2)
        self.assertEqual(data["adopted"], 1)
        self.assertEqual(dict(data["by_category"]), {"Borrowing": 2})
        self.assertEqual(len(data["suggestions"]), 2)


@tagged("post_install", "-at_install")
class TestSuggestionLiaison(SuggestionCase):
    """Suggestions in the department liaison's work."""

    def test_workspace_counts_open_suggestions_of_the_department(self):
        open_one = self._new()
        closed = self._new()
        closed.with_user(self.user_librarian).action_reject("No.")
        closed.with_user(self.user_leader).action_confirm_rejection()
        self.assertEqual(self.dept_cs.open_suggestion_count, 1)
        self.assertEqual(self.dept_math.open_suggestion_count, 0)
        action = self.dept_cs.action_view_suggestions()
        self.assertEqual(
            self.env["library.suggestion"].search(action["domain"]), open_one | closed
        )

    def test_handover_moves_open_suggestions_when_asked(self):
        done = self._to_approval(self._new())
        done.with_user(self.user_leader).action_approve()
        done.with_user(self.user_handler).reply = "<p>Done</p>"
        done.with_user(self.user_handler).action_done()
        open_one = self._new()
        open_one.with_user(self.user_librarian).action_accept()
        open_one.with_user(self.user_librarian).write({"user_id": self.user_handler.id})
        open_one.with_user(self.user_librarian).action_assign()
        Handover = self.env["library.handover"]
        # A colleague's suggestions are handed over by a library manager.
        with self.assertRaises(AccessError):
            Handover.with_user(self.user_librarian).create(
                {
                    "from_user_id": self.user_handler.id,
                    "to_user_id": self.user_librarian_2.id,
                    "move_suggestions": True,
                }
            ).action_handover()
        # A hand-over that moves nothing is refused.
        with self.assertRaises(UserError):
            Handover.with_user(self.user_manager).create(
                {"from_user_id": self.user_handler.id, "to_user_id": self.user_librarian_2.id}
            ).action_handover()
        self.assertEqual(open_one.user_id, self.user_handler)
        with Form(Handover.with_user(self.user_manager)) as form:
            form.from_user_id = self.user_handler
            form.to_user_id = self.user_librarian_2
            form.move_suggestions = True
        wizard = form.record
        wizard.action_handover()
        self.assertEqual(wizard.moved_suggestion_count, 1)
        self.assertEqual(open_one.user_id, self.user_librarian_2)
        self.assertEqual(done.user_id, self.user_handler, "closed work keeps its handler")
        self.assertIn(self.user_librarian_2, self.unit.member_ids)
        self.assertEqual(open_one.activity_ids.user_id, self.user_librarian_2, "the to-do follows")
        # The new handler can go on with it.
        open_one.with_user(self.user_librarian_2).solution = "<p>Plan</p>"
        open_one.with_user(self.user_librarian_2).action_propose()

    def test_review_facts_count_the_departments_suggestions(self):
        self.dept_cs.liaison_user_ids = [(4, self.user_librarian.id)]
        with freeze_time("2026-03-02 02:00:00"):
            rated = self._to_approval(self._new())
            rated.with_user(self.user_leader).action_approve()
            rated.with_user(self.user_handler).reply = "<p>Done</p>"
            rated.with_user(self.user_handler).action_done()
            rated.sudo().rating_apply(5, token=rated.sudo()._rating_get_access_token())
            self._new()
        with freeze_time("2025-06-02 02:00:00"):
            self._new()  # another year
        review = self.env["library.liaison.review"].create(
            {
                "year": 2026,
                "department_id": self.dept_cs.id,
                "liaison_user_id": self.user_librarian.id,
            }
        )
        self.assertEqual(review.suggestion_count, 2)
        self.assertEqual(review.suggestion_rating, 5.0)
