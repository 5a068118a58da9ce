# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks over JSON-RPC on the leadership approval of suggestions, the
service programmes and the settings, as a portal reader, a plain internal
user, a librarian, a manager and leaders: what must be refused is refused
(table-driven), and the holes found stay closed (one test each)."""

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmHttpCase
from .test_suggestion_approval import ApprovalCase

# Context keys a caller may send to look privileged: none grants anything.
HOSTILE = {
    "active_test": False,
    "tracking_disable": True,
    "mail_notrack": True,
    "install_mode": True,
    "library_suggestion_step": True,
    "sudo": True,
    "su": True,
    "bypass": True,
}
ACCESS = "odoo.exceptions.AccessError"
USER = "odoo.exceptions.UserError"
MISSING = "odoo.exceptions.MissingError"
VALIDATION = "odoo.exceptions.ValidationError"


class AttackCase(ApprovalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Library B (attack)"})
        cls.user_leader_b = cls._new_user(
            "atk_leader_b",
            "library_crm.group_library_leadership",
            name="Leader of B",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.suggestion_b = cls.env["library.suggestion"].create(
            {
                "subject": "Library B's own",
                "category_id": cls.category.id,
                "company_id": cls.company_b.id,
            }
        )
        cls.programme = cls.env.ref("library_crm.service_programme_growing")
        cls.step = cls.env.ref("library_crm.service_programme_step_growing_training")
        cls.entitlement = cls.env["library.reader.entitlement"].create(
            {"partner_id": cls.reader.id, "service": "study_space"}
        )
        cls.log = cls.env["library.service.programme.log"].create(
            {
                "partner_id": cls.reader.id,
                "programme_id": cls.programme.id,
                "step_id": cls.step.id,
                "period_key": "attack/0",
                "due_date": "2026-03-02",
            }
        )

    def _leader_proposes(self):
        """The unit's leader in charge is also its handler: they propose and
        submit the solution themselves."""
        self.unit.member_ids = [Command.link(self.user_leader.id)]
        suggestion = self._new()
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_leader.id})
        suggestion.with_user(self.user_librarian).action_assign()
        leader = suggestion.with_user(self.user_leader)
        leader.solution = "<p>My own idea.</p>"
        leader.action_propose()
        leader.action_submit_approval()
        return suggestion


@tagged("post_install", "-at_install")
class TestAttackOverJsonRpc(AttackCase, HttpCase):
    rpc_context = HOSTILE
    _rpc = LibraryCrmHttpCase._rpc

    def _assert_refused(self, cases):
        """cases: (label, user, model, method, args, kwargs, expected errors)."""
        for label, user, model, method, args, kwargs, expected in cases:
            with self.subTest(label, user=user.login):
                with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
                    self._rpc(user, model, method, args, kwargs)
                self.assertIn(str(caught.exception), expected)

    def test_self_approval_is_refused_every_way(self):
        suggestion = self._leader_proposes()
        ids = suggestion.ids
        leader = self.user_leader
        wizard = (
            self.env["library.suggestion.decision"]
            .with_user(leader)
            .create({"suggestion_id": suggestion.id, "decision": "approve", "comment": "ok"})
        )
        sug = "library.suggestion"
        cases = [
            ("approve", leader, sug, "action_approve", [ids, "mine"], {}, ACCESS),
            ("reject", leader, sug, "action_reject", [ids, "mine"], {}, ACCESS),
            ("return", leader, sug, "action_return", [ids, "mine"], {}, ACCESS),
            (
                "wizard",
                leader,
                "library.suggestion.decision",
                "action_confirm",
                [wizard.ids],
                {},
                ACCESS,
            ),
            ("state", leader, sug, "write", [ids, {"state": "approved"}], {}, USER),
            ("approver", leader, sug, "write", [ids, {"approved_by_id": leader.id}], {}, USER),
            ("not proposer", leader, sug, "write", [ids, {"solution_by_id": False}], {}, USER),
            (
                "forged chain",
                leader,
                sug,
                "write",
                [
                    ids,
                    {
                        "approval_ids": [
                            Command.create(
                                {"user_id": self.user_other_leader.id, "decision": "submitted"}
                            )
                        ]
                    },
                ],
                {},
                ACCESS,
            ),
            (
                "drop own submission",
                leader,
                "library.suggestion.approval",
                "unlink",
                [suggestion.approval_ids.ids],
                {},
                ACCESS,
            ),
            (
                "create approved",
                self.user_librarian,
                sug,
                "create",
                [[{"subject": "x", "category_id": self.category.id, "state": "approved"}]],
                {},
                USER,
            ),
        ]
        self._assert_refused(cases)
        self.assertEqual(suggestion.state, "approval")
        self.assertFalse(suggestion.approved_by_id)
        self.assertEqual(suggestion.solution_by_id, leader)
        self.assertEqual(suggestion.approval_ids.mapped("decision"), ["submitted"])
        # Another leader decides it (the documented fallback).
        self.assertIs(self._rpc(self.user_other_leader, sug, "action_approve", [ids, "ok"]), True)
        self.assertEqual(suggestion.approved_by_id, self.user_other_leader)

    def test_only_the_leader_decides_and_never_across_libraries(self):
        suggestion = self._to_approval(self._new())
        pending = self._new()
        pending.with_user(self.user_librarian).action_reject("No.")
        sug = "library.suggestion"
        dec = "library.suggestion.decision"
        librarian_overturn = (
            self.env[dec]
            .with_user(self.user_librarian)
            .create({"suggestion_id": pending.id, "decision": "overturn", "comment": "Yes"})
        )
        cases = []
        for user in (
            self.user_portal,
            self.user_internal,
            self.user_librarian,
            self.user_handler,
            self.user_manager,
            self.user_other_leader,
            self.user_leader_b,
        ):
            cases += [
                ("approve", user, sug, "action_approve", [suggestion.ids, "ok"], {}, ACCESS),
                ("return", user, sug, "action_return", [suggestion.ids, "redo"], {}, ACCESS),
                ("reject", user, sug, "action_reject", [suggestion.ids, "no"], {}, ACCESS),
                ("confirm", user, sug, "action_confirm_rejection", [pending.ids], {}, ACCESS),
                (
                    "overturn",
                    user,
                    sug,
                    "action_overturn_rejection",
                    [pending.ids, "x"],
                    {},
                    ACCESS,
                ),
            ]
        cases += [
            # The librarian who decided the rejection, through the wizard.
            (
                "overturn wizard",
                self.user_librarian,
                dec,
                "action_confirm",
                [librarian_overturn.ids],
                {},
                ACCESS,
            ),
            # Another library's suggestion, even with its company in the context.
            (
                "other library",
                self.user_leader,
                sug,
                "action_approve",
                [self.suggestion_b.ids, "ok"],
                {},
                ACCESS,
            ),
            (
                "other library",
                self.user_leader,
                sug,
                "action_confirm_rejection",
                [self.suggestion_b.ids],
                {},
                ACCESS,
            ),
            (
                "nonexistent",
                self.user_leader,
                sug,
                "action_approve",
                [[987654321], "ok"],
                {},
                (ACCESS, MISSING),
            ),
            (
                "read other library",
                self.user_leader,
                sug,
                "read",
                [self.suggestion_b.ids, ["subject"]],
                {},
                ACCESS,
            ),
        ]
        self._assert_refused(cases)
        with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
            self._rpc(
                self.user_leader,
                sug,
                "action_approve",
                [self.suggestion_b.ids, "ok"],
                context={"allowed_company_ids": self.company_b.ids},
            )
        self.assertEqual(str(caught.exception), ACCESS)
        self.assertEqual((suggestion.state, pending.state), ("approval", "reject_pending"))
        self.assertEqual(self.suggestion_b.state, "new")

    def test_configuration_is_not_approval(self):
        """Settings, units and segments belong to managers and administrators,
        never to a leader by being a leader."""
        settings = "res.config.settings"
        params = "ir.config_parameter"
        key = "library_crm.points_suggestion_adopted"
        cases = []
        for user in (self.user_leader, self.user_manager, self.user_librarian):
            cases += [
                (
                    "settings",
                    user,
                    settings,
                    "create",
                    [[{"library_points_suggestion_adopted": 999}]],
                    {},
                    ACCESS,
                ),
                ("set_param", user, params, "set_param", [key, "999"], {}, ACCESS),
                ("read params", user, params, "search_read", [[("key", "=", key)]], {}, ACCESS),
            ]
        for user in (self.user_leader, self.user_librarian, self.user_internal):
            cases += [
                (
                    "unit leader",
                    user,
                    "library.unit",
                    "write",
                    [self.unit.ids, {"leader_id": user.id}],
                    {},
                    ACCESS,
                ),
                (
                    "recompute all",
                    user,
                    "library.segmentation",
                    "action_recompute_all",
                    [],
                    {},
                    ACCESS,
                ),
            ]
        self._assert_refused(cases)
        self.assertEqual(self.env["ir.config_parameter"].get_param(key), "10")
        self.assertEqual(self.unit.leader_id, self.user_leader)
        # Not even through the settings' own method on a record an admin made.
        record = self.env[settings].create({"library_points_suggestion_adopted": 999})
        with self.assertRaises(AccessError):
            record.with_user(self.user_leader_manager).execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param(key), "10")

    def test_programmes_logs_and_entitlements(self):
        step = "library.service.programme.step"
        log = "library.service.programme.log"
        ent = "library.reader.entitlement"
        cases = []
        for user in (self.user_portal, self.user_internal, self.user_librarian, self.user_leader):
            cases += [
                ("step", user, step, "write", [self.step.ids, {"cadence_days": 1}], {}, ACCESS),
                (
                    "programme",
                    user,
                    "library.service.programme",
                    "write",
                    [self.programme.ids, {"stage": "lapsed"}],
                    {},
                    ACCESS,
                ),
                (
                    "run now",
                    user,
                    "library.service.programme",
                    "action_run_now",
                    [self.programme.ids],
                    {},
                    ACCESS,
                ),
                (
                    "complete step",
                    user,
                    log,
                    "write",
                    [self.log.ids, {"state": "done", "done_date": "2026-03-03"}],
                    {},
                    ACCESS,
                ),
                ("delete entitlement", user, ent, "unlink", [self.entitlement.ids], {}, ACCESS),
                (
                    "entitlement source",
                    user,
                    ent,
                    "write",
                    [
                        self.entitlement.ids,
                        {"source": "programme", "programme_id": self.programme.id},
                    ],
                    {},
                    ACCESS,
                ),
            ]
        for user in (self.user_portal, self.user_internal):
            cases += [
                (
                    "read entitlements",
                    user,
                    ent,
                    "search_read",
                    [[]],
                    {"fields": ["note"]},
                    ACCESS,
                ),
                (
                    "group entitlements",
                    user,
                    ent,
                    "formatted_read_group",
                    [[], ["service"]],
                    {"aggregates": ["__count"]},
                    ACCESS,
                ),
                ("read logs", user, log, "search_read", [[]], {"fields": ["note"]}, ACCESS),
                (
                    "partner entitlements",
                    user,
                    "res.partner",
                    "read",
                    [user.partner_id.ids, ["library_entitlement_ids"]],
                    {},
                    ACCESS,
                ),
                (
                    "partner steps",
                    user,
                    "res.partner",
                    "search_read",
                    [[("id", "=", user.partner_id.id)]],
                    {"fields": ["library_programme_log_ids"]},
                    ACCESS,
                ),
            ]
        self._assert_refused(cases)
        self.assertRecordValues(self.log, [{"state": "open", "done_date": False}])
        self.assertRecordValues(
            self.entitlement, [{"source": "manual", "programme_id": False, "active": True}]
        )
        self.assertEqual(self.step.cadence_days, 0)

    def test_programme_activity_is_completed_by_library_staff_only(self):
        """A step's activity done (or deleted) marks the step done (or
        cancelled): outsiders cannot do either."""
        activity = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.reader.id,
                "activity_type_id": self.env.ref(
                    "library_crm.mail_activity_type_programme_checkin"
                ).id,
                "user_id": self.user_librarian.id,
            }
        )
        self.log.sudo().write({"activity_id": activity.id})
        act = "mail.activity"
        cases = []
        for user in (self.user_portal, self.user_internal):
            cases += [
                ("done", user, act, "action_feedback", [activity.ids], {"feedback": "x"}, ACCESS),
                ("delete", user, act, "unlink", [activity.ids], {}, ACCESS),
                ("reassign", user, act, "write", [activity.ids, {"user_id": user.id}], {}, ACCESS),
            ]
        self._assert_refused(cases)
        self.env["library.service.programme.log"]._sync_states(fields.Date.to_date("2026-03-03"))
        self.assertRecordValues(self.log, [{"state": "open", "activity_id": activity.id}])
        self.assertEqual(activity.user_id, self.user_librarian)

    def test_hole_unit_change_reroutes_the_approval(self):
        """Hole: any librarian moved a suggestion awaiting approval (or a
        pending rejection) to another unit, so another leader decided it."""
        suggestion = self._to_approval(self._new())
        pending = self._new()
        pending.with_user(self.user_librarian).action_reject("No.")
        for record in (suggestion, pending):
            unit = record.unit_id
            with self.subTest(state=record.state):
                with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
                    self._rpc(
                        self.user_librarian,
                        "library.suggestion",
                        "write",
                        [record.ids, {"unit_id": self.other_unit.id}],
                    )
                self.assertEqual(str(caught.exception), USER)
                self.assertEqual(record.unit_id, unit)
                self.assertEqual(record.with_user(self.user_leader).approver_ids, self.user_leader)
        with self.assertRaises(JsonRpcException), mute_logger("odoo.http"):
            self._rpc(
                self.user_other_leader,
                "library.suggestion",
                "action_approve",
                [suggestion.ids, "ok"],
            )
        self.assertEqual(suggestion.state, "approval")
        # Returned to the handler, the unit can change again.
        suggestion.with_user(self.user_leader).action_return("Other unit")
        suggestion.with_user(self.user_librarian).unit_id = self.other_unit
        self.assertEqual(suggestion.unit_id, self.other_unit)


@tagged("post_install", "-at_install")
class TestAttackApprovalHoles(AttackCase):
    def test_hole_a_leader_in_charge_who_cannot_decide_blocks_the_approval(self):
        """Hole: a unit's leader in charge who is not (or no longer) a
        leader, or is not in the suggestion's library, was its only
        approver: nobody could decide it. Such a leader falls back to the
        leadership of the library."""
        self.unit.leader_id = self.user_librarian_2  # set over RPC, the domain is the client's
        suggestion = self._to_approval(self._new())
        approvers = suggestion.with_user(self.user_other_leader).approver_ids
        self.assertNotIn(self.user_librarian_2, approvers)
        self.assertIn(self.user_other_leader, approvers)
        suggestion.with_user(self.user_other_leader).action_approve("ok")
        self.assertEqual(suggestion.approved_by_id, self.user_other_leader)
        # A leader of another library is neither the leader in charge nor the fallback.
        self.unit.leader_id = self.user_leader_b
        other = self._to_approval(self._new())
        approvers = other.with_user(self.user_leader).approver_ids
        self.assertNotIn(self.user_leader_b, approvers)
        self.assertIn(self.user_leader, approvers)
        self.assertNotEqual(self._approval_activities(other).user_id, self.user_leader_b)
        # A leader in charge who left the leadership no longer decides.
        self.unit.leader_id = self.user_leader
        self.user_leader.group_ids = [
            Command.set(self.env.ref("library_crm.group_library_librarian").ids)
        ]
        self.assertFalse(self.user_leader.has_group("library_crm.group_library_leadership"))
        third = self._to_approval(self._new())
        self.assertNotIn(self.user_leader, third.with_user(self.user_other_leader).approver_ids)
        third.with_user(self.user_other_leader).action_approve("ok")
        self.assertEqual(third.state, "approved")

    def test_hole_a_leader_amends_then_approves_the_solution(self):
        """Hole: a leader who is also a manager rewrote the solution awaiting
        approval with Amend, then approved their own text."""
        self.unit.leader_id = self.user_leader_manager
        suggestion = self._to_approval(self._new())
        director = suggestion.with_user(self.user_leader_manager)
        with self.assertRaises(UserError):
            director.action_amend({"solution": "<p>The director's own plan.</p>"}, "Better")
        self.assertIn("60 days", suggestion.solution)
        director.action_approve("ok")
        self.assertEqual(suggestion.state, "approved")
        # Once decided (or before the submission) amend corrects it as before.
        director.action_amend({"solution": "<p>60 days, from next term.</p>"}, "Typo")
        self.assertIn("from next term", suggestion.solution)

    def test_hole_a_message_step_with_another_models_template(self):
        """Hole: a message step took any mail template (the res.partner
        domain was the client's); the cron rendered it as superuser for the
        readers' ids as records of another model."""
        foreign = self.env.ref("library_crm.mail_template_suggestion_reply")
        step = self.step.with_user(self.user_manager)
        with self.assertRaises(ValidationError):
            step.write({"mail_template_id": foreign.id})
        with self.assertRaises(ValidationError):
            step.create(
                {
                    "programme_id": self.programme.id,
                    "name": "Foreign",
                    "kind": "mail",
                    "mail_template_id": foreign.id,
                }
            )
        own = self.env.ref("library_crm.mail_template_programme_winback")
        step.write({"mail_template_id": own.id})
        self.assertEqual(self.step.mail_template_id, own)
        with self.assertRaises(AccessError):
            self.step.with_user(self.user_leader).write({"mail_template_id": own.id})


@tagged("post_install", "-at_install")
class TestAttackAcrossLibrariesOverJsonRpc(AttackCase, HttpCase):
    rpc_context = HOSTILE
    _rpc = LibraryCrmHttpCase._rpc
    _assert_refused = TestAttackOverJsonRpc._assert_refused

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.unit_b = cls.env["library.unit"].create(
            {
                "name": "Unit of B",
                "company_id": cls.company_b.id,
                "leader_id": cls.user_leader_b.id,
            }
        )
        cls.reader_b = cls.env["res.partner"].create(
            {"name": "Reader of B", "is_reader": True, "company_id": cls.company_b.id}
        )
        # A reader's own suggestion, its rejection pending: the reason is the
        # library's until a leader confirms it.
        cls.own = cls.env["library.suggestion"].create(
            {
                "subject": "Mine",
                "category_id": cls.category.id,
                "partner_id": cls.user_portal.partner_id.id,
            }
        )
        cls.own.with_user(cls.user_librarian).action_reject("Secret budget reason")

    def test_other_libraries_records_and_staff_fields(self):
        sug = "library.suggestion"
        portal = self.user_portal
        librarian_wizard = (
            self.env["library.suggestion.decision"]
            .with_user(self.user_librarian)
            .create({"suggestion_id": self.suggestion_b.id, "decision": "reject", "comment": "x"})
        )
        cases = [
            (
                "unit of B",
                self.user_manager,
                "library.unit",
                "write",
                [self.unit_b.ids, {"leader_id": self.user_leader.id}],
                {},
                ACCESS,
            ),
            (
                "decide B's",
                self.user_librarian,
                "library.suggestion.decision",
                "action_confirm",
                [librarian_wizard.ids],
                {},
                ACCESS,
            ),
            (
                "B's reader",
                self.user_librarian,
                "library.reader.entitlement",
                "create",
                [[{"partner_id": self.reader_b.id, "service": "study_space"}]],
                {},
                ACCESS,
            ),
            (
                "amend B's",
                self.user_manager,
                sug,
                "action_amend",
                [self.suggestion_b.ids, {"subject": "Renamed"}, "why"],
                {},
                ACCESS,
            ),
        ]
        for domain, kwargs in (
            ([("rejection_reason", "ilike", "Secret")], {"fields": ["subject"]}),
            ([], {"fields": ["subject"], "order": "rejection_reason"}),
            ([], {"fields": ["approval_ids", "approved_by_id"]}),
        ):
            cases.append(("staff field", portal, sug, "search_read", [domain], kwargs, ACCESS))
        cases.append(
            (
                "group by approver",
                portal,
                sug,
                "formatted_read_group",
                [[], ["approved_by_id"]],
                {"aggregates": ["__count"]},
                ACCESS,
            )
        )
        self._assert_refused(cases)
        self.assertEqual(self.unit_b.leader_id, self.user_leader_b)
        self.assertEqual(self.suggestion_b.subject, "Library B's own")
        self.assertFalse(self.reader_b.sudo().library_entitlement_ids)
        # The rules still let the reader read their own suggestion.
        [row] = self._rpc(
            portal, sug, "search_read", [[("id", "=", self.own.id)]], {"fields": ["subject"]}
        )
        self.assertEqual(row["subject"], "Mine")

    def test_hole_a_unit_of_another_library(self):
        """Hole: a librarian gave a suggestion a unit of another library,
        whose staff and leader cannot see it."""
        suggestion = self._new()
        with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
            self._rpc(
                self.user_librarian,
                "library.suggestion",
                "write",
                [suggestion.ids, {"unit_id": self.unit_b.id}],
            )
        self.assertEqual(str(caught.exception), USER)
        self.assertFalse(suggestion.unit_id)
        # Categories are shared: accepting B's suggestion does not give it
        # the category's unit of another library; B's own unit it takes.
        self.suggestion_b.action_accept()
        self.assertRecordValues(self.suggestion_b, [{"state": "assessed", "unit_id": False}])
        self.suggestion_b.unit_id = self.unit_b
        self.assertEqual(self.suggestion_b.unit_id, self.unit_b)
