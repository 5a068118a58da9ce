# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Leadership approval (提交领导批示): a unit's solution goes to the unit's
leader in charge (分管馆领导), who alone decides it; the proposer never
approves; configuration (managers) is not approval (leadership); a
rejection decided at assessment waits for a leader's confirmation."""

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmHttpCase
from .test_rpc_security import HOSTILE_CONTEXT
from .test_suggestion import SuggestionCase

SUGGESTION = "library.suggestion"
APPROVAL_ACTIVITY = "library_crm.mail_activity_suggestion_approval"


class ApprovalCase(SuggestionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        leadership = "library_crm.group_library_leadership"
        cls.user_other_leader = cls._new_user("lib_leader2", leadership, name="Leader Sun")
        cls.user_leader_manager = cls._new_user(
            "lib_leader_manager",
            f"library_crm.group_library_manager,{leadership}",
            name="Director Zhao",
        )
        cls.unit.leader_id = cls.user_leader
        cls.other_unit = cls.env["library.unit"].create(
            {"name": "Acquisitions (test)", "leader_id": cls.user_other_leader.id}
        )

    def _refused_users(self):
        return (
            self.user_other_leader,
            self.user_manager,
            self.user_librarian,
            self.user_handler,
            self.user_portal,
            self.user_internal,
        )

    def _approval_activities(self, suggestion):
        activity_type = self.env.ref(APPROVAL_ACTIVITY)
        return suggestion.sudo().activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type
        )

    def _reader_messages(self, suggestion):
        """What the reader was sent or shown: messages notifying the reader."""
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", "library.suggestion"),
                    ("res_id", "=", suggestion.id),
                    ("partner_ids", "in", self.reader.ids),
                ]
            )
            | self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("model", "=", "library.suggestion"),
                    ("res_id", "=", suggestion.id),
                    ("recipient_ids", "in", self.reader.ids),
                ]
            )
            .mail_message_id
        )


@tagged("post_install", "-at_install")
class TestLeadershipApproval(ApprovalCase):
    def test_groups_separate_configuration_from_approval(self):
        leadership = self.env.ref("library_crm.group_library_leadership")
        manager = self.env.ref("library_crm.group_library_manager")
        librarian = self.env.ref("library_crm.group_library_librarian")
        self.assertIn(librarian, leadership.all_implied_ids)
        self.assertNotIn(manager, leadership.all_implied_ids)
        self.assertNotIn(leadership, manager.all_implied_ids)
        self.assertFalse(self.user_manager.has_group("library_crm.group_library_leadership"))
        self.assertFalse(self.user_leader.has_group("library_crm.group_library_manager"))
        # Naming a unit's leader is the managers' decision.
        with self.assertRaises(AccessError):
            self.other_unit.with_user(self.user_leader).write({"leader_id": self.user_leader.id})
        self.assertEqual(self.other_unit.leader_id, self.user_other_leader)

    def test_the_units_leader_approves(self):
        suggestion = self._to_approval(self._new())
        activity = self._approval_activities(suggestion)
        self.assertEqual(activity.user_id, self.user_leader, "the approval goes to the leader")
        self.assertEqual(suggestion.with_user(self.user_leader).approver_ids, self.user_leader)
        self.assertTrue(suggestion.with_user(self.user_leader).can_decide)
        self.assertFalse(suggestion.with_user(self.user_other_leader).can_decide)
        for user in self._refused_users():
            for method, args in (
                ("action_approve", ("ok",)),
                ("action_return", ("redo",)),
                ("action_reject", ("no",)),
            ):
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(AccessError):
                        getattr(
                            suggestion.with_user(user).with_context(**HOSTILE_CONTEXT), method
                        )(*args)
        self.assertEqual(suggestion.state, "approval")
        suggestion.with_user(self.user_leader).action_approve("Agreed.")
        self.assertEqual(suggestion.state, "approved")
        self.assertEqual(suggestion.approved_by_id, self.user_leader)
        self.assertFalse(self._approval_activities(suggestion))

    def test_the_proposer_never_approves_even_as_leader(self):
        # The leader in charge is also a unit member who proposes the solution.
        self.unit.member_ids = [(4, self.user_leader.id)]
        suggestion = self._new()
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_leader.id})
        suggestion.with_user(self.user_librarian).action_assign()
        leader = suggestion.with_user(self.user_leader)
        leader.solution = "<p>Longer loans.</p>"
        leader.action_propose()
        leader.action_submit_approval()
        for call in (
            lambda s: s.action_approve("mine"),
            lambda s: s.sudo().action_approve("mine"),
            lambda s: s.with_context(**HOSTILE_CONTEXT).action_reject("mine"),
        ):
            with self.assertRaises(AccessError) as caught:
                call(leader)
            self.assertIn("you proposed this", str(caught.exception))
        # Fallback: the leader in charge proposed, another leader decides.
        self.assertNotIn(self.user_leader, suggestion.approver_ids)
        self.assertIn(self.user_other_leader, suggestion.approver_ids)
        self.assertNotEqual(self._approval_activities(suggestion).user_id, self.user_leader)
        suggestion.with_user(self.user_other_leader).action_approve("Agreed.")
        self.assertEqual(suggestion.approved_by_id, self.user_other_leader)

    def test_a_unit_without_leader_falls_back_to_the_leadership(self):
        self.unit.leader_id = False
        suggestion = self._to_approval(self._new())
        self.assertIn(self.user_other_leader, suggestion.approver_ids)
        self.assertIn(self.user_leader_manager, suggestion.approver_ids)
        self.assertNotIn(self.user_manager, suggestion.approver_ids)
        for user in (self.user_manager, self.user_librarian, self.user_portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                suggestion.with_user(user).action_approve("ok")
        suggestion.with_user(self.user_leader_manager).action_approve("ok")
        self.assertEqual(suggestion.state, "approved")

    @freeze_time("2026-11-23 10:00:00")
    def test_rejection_at_assessment_waits_for_the_leader(self):
        suggestion = self._new()
        before = self._reader_messages(suggestion)
        suggestion.with_user(self.user_librarian).action_reject("Set by the ministry.")
        self.assertEqual(suggestion.state, "reject_pending")
        self.assertTrue(suggestion.is_open)
        self.assertEqual(self._reader_messages(suggestion), before, "the reader is not told")
        self.assertFalse(suggestion.reply)
        self.assertFalse(suggestion.assessment_result)
        self.assertFalse(suggestion.first_reply_date)
        self.assertEqual(self._approval_activities(suggestion).user_id, self.user_leader)
        # The reader sees it under review.
        as_reader = suggestion.with_user(self.user_portal).sudo(False)
        self.assertEqual(as_reader.reader_state, "new")
        self.assertEqual(suggestion._portal_state_label(), "Received")
        self.assertEqual(
            [reached for _label, reached in as_reader._portal_progress()],
            [True, False, False, False, False],
        )
        # Only the unit's leader confirms; the librarian who decided it does not.
        for user in (*self._refused_users(), self.user_librarian):
            for method, args in (
                ("action_confirm_rejection", ()),
                ("action_overturn_rejection", ("Accept it",)),
            ):
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(AccessError):
                        getattr(
                            suggestion.with_user(user).with_context(**HOSTILE_CONTEXT), method
                        )(*args)
        suggestion.with_user(self.user_leader).action_confirm_rejection("Agreed.")
        self.assertEqual(
            (suggestion.state, suggestion.assessment_result), ("rejected", "rejected")
        )
        self.assertEqual(suggestion.assessment_reason, "Set by the ministry.")
        self.assertIn("Set by the ministry.", suggestion.reply)
        self.assertGreater(len(self._reader_messages(suggestion)), len(before))
        self.assertEqual(suggestion.approval_ids[-1].decision, "rejection_confirmed")
        self.assertFalse(self._approval_activities(suggestion))

    def test_the_leader_overturns_a_rejection(self):
        suggestion = self._new()
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).action_reject("Too costly.")
        self.assertEqual(suggestion.state, "reject_pending")
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_leader).action_overturn_rejection("")
        suggestion.with_user(self.user_leader).action_overturn_rejection("Worth it.")
        self.assertEqual(suggestion.state, "assessed", "back to assessment")
        self.assertFalse(suggestion.rejection_reason)
        self.assertFalse(suggestion.reply)
        self.assertIn(
            "Worth it.",
            suggestion.activity_ids.filtered(lambda a: a.user_id == self.user_librarian).note,
        )
        # The assessment goes on as usual.
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_handler.id})
        suggestion.with_user(self.user_librarian).action_assign()
        self.assertEqual(suggestion.state, "assigned")


@tagged("post_install", "-at_install")
class TestLeadershipApprovalOverJsonRpc(ApprovalCase, HttpCase):
    rpc_context = HOSTILE_CONTEXT
    _rpc = LibraryCrmHttpCase._rpc

    def _call(self, user, method, suggestion, *args):
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/library.suggestion/{method}",
            {
                "model": "library.suggestion",
                "method": method,
                "args": [suggestion.ids, *args],
                "kwargs": {"context": dict(HOSTILE_CONTEXT, uid=self.user_leader.id)},
            },
        )

    def test_refused_and_allowed_over_json_rpc(self):
        suggestion = self._to_approval(self._new())
        for user in self._refused_users():
            with self.subTest(user=user.login):
                with self.assertRaises(JsonRpcException) as caught:
                    self._call(user, "action_approve", suggestion, "ok")
                self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        pending = self._new()
        pending.with_user(self.user_librarian).action_reject("No.")
        with self.assertRaises(JsonRpcException) as caught:
            self._call(self.user_librarian, "action_confirm_rejection", pending)
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        self.assertIs(self._call(self.user_leader, "action_approve", suggestion, "ok"), True)
        self.assertEqual(suggestion.state, "approved")
        self.assertIs(self._call(self.user_leader, "action_confirm_rejection", pending), True)
        self.assertEqual(pending.state, "rejected")

    def test_the_reader_cannot_learn_of_a_pending_rejection_over_json_rpc(self):
        """Hole: the reader read state = reject_pending of their own
        suggestion over RPC before any leader confirmed the rejection. The
        working state is librarians' now; the reader reads reader_state,
        which shows the state the rejection was decided from."""
        portal = self.user_portal
        suggestion = self._new(partner_id=portal.partner_id.id)
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).action_reject("Out of budget.")
        self.assertEqual(suggestion.state, "reject_pending")
        ids = suggestion.ids
        refused = [
            ("read", [ids, ["state"]], {}),
            ("search_read", [[("state", "=", "reject_pending")], ["name"]], {}),
            ("search_count", [[("state", "=", "reject_pending")]], {}),
            ("web_read_group", [], {"domain": [], "groupby": ["state"]}),
            ("read", [ids, ["rejection_reason"]], {}),
        ]
        for method, args, kwargs in refused:
            with self.subTest(method=method, args=args):
                with self.assertRaises(JsonRpcException) as caught:
                    self._rpc(portal, SUGGESTION, method, args, kwargs)
                self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        (values,) = self._rpc(portal, SUGGESTION, "read", [ids, ["reader_state", "name"]])
        self.assertEqual(values["reader_state"], "assessed")
        # Nor does the chatter tell: no tracking value of the state reaches them.
        messages = self._rpc(
            portal,
            "mail.message",
            "search_read",
            [
                [("model", "=", "library.suggestion"), ("res_id", "=", suggestion.id)],
                ["body", "subject", "preview"],
            ],
        )
        self.assertTrue(messages, "the reader reads the suggestion's public messages")
        self.assertNotIn("reject_pending", str(messages))
        self.assertNotIn("Rejection Pending", str(messages))
        self.assertNotIn("Out of budget.", str(messages))
        # A librarian still reads the working state; once the leader
        # confirms, the reader sees the rejection.
        (staff,) = self._rpc(self.user_librarian, SUGGESTION, "read", [ids, ["state"]])
        self.assertEqual(staff["state"], "reject_pending")
        suggestion.with_user(self.user_leader).action_confirm_rejection("Agreed.")
        (values,) = self._rpc(portal, SUGGESTION, "read", [ids, ["reader_state"]])
        self.assertEqual(values["reader_state"], "rejected")
