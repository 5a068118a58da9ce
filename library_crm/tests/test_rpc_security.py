# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every public method that does work checks its caller: called over RPC by
the wrong role, with a hostile context and ids the caller does not own, it
raises AccessError."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmCase, LibraryCrmHttpCase

# Context keys a caller may send to look privileged: none grants anything.
HOSTILE_CONTEXT = {
    "library_suggestion_step": True,
    "active_test": False,
    "library_consent_channel": "portal",
    "bypass": True,
}


class RpcSecurityCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reader.responsible_librarian_id = cls.user_librarian
        cls.dept_cs.write(
            {
                "liaison_user_ids": [(4, cls.user_librarian.id)],
                "contact_ids": [(4, cls.user_portal.partner_id.id)],
                "review_contact_id": cls.user_portal.partner_id.id,
            }
        )
        cls.review = cls.env["library.liaison.review"].create(
            {
                "year": 2026,
                "department_id": cls.dept_cs.id,
                "liaison_user_id": cls.user_librarian.id,
                "contact_partner_id": cls.user_portal.partner_id.id,
            }
        )
        cls.unit = cls.env["library.unit"].create(
            {"name": "Acquisitions", "member_ids": [(6, 0, cls.user_librarian.ids)]}
        )
        cls.category = cls.env["library.suggestion.category"].create(
            {"name": "Collections", "default_unit_id": cls.unit.id}
        )
        cls.suggestion = cls.env["library.suggestion"].create(
            {
                "partner_id": cls.reader.id,
                "category_id": cls.category.id,
                "subject": "More e-books",
                "unit_id": cls.unit.id,
                "user_id": cls.user_librarian.id,
            }
        )
        survey = cls.env.ref("library_crm.survey_reader_satisfaction")
        cls.user_input = survey._create_answer(partner=cls.reader, check_attempts=False)

    def _public_methods(self):
        """(label, records, method, args, callers that must be refused)."""
        librarian_wizard = self.env["library.suggestion.decision"].with_user(self.user_librarian)
        manager = self.user_manager
        outsiders = (self.user_portal, self.user_internal)
        non_managers = (*outsiders, self.user_librarian)
        return [
            ("recompute segment", self.reader, "action_recompute_segment", (), outsiders),
            ("review send", self.review, "action_send", (), non_managers),
            ("review submit", self.review, "action_submit", (), non_managers),
            ("review validate", self.review, "action_validate", (), non_managers),
            ("review reset", self.review, "action_reset_draft", (), non_managers),
            (
                "create reviews",
                self.env["library.liaison.review"],
                "action_create_reviews",
                (),
                non_managers,
            ),
            (
                "survey comment to suggestion",
                self.user_input,
                "action_library_create_suggestion",
                (),
                outsiders,
            ),
            (
                "hand-over of another librarian's readers",
                self.env["library.handover"]
                .with_user(manager)
                .create(
                    {
                        "from_user_id": self.user_librarian.id,
                        "to_user_id": self.user_librarian_2.id,
                        "all_readers": True,
                        "move_suggestions": True,
                    }
                ),
                "action_handover",
                (),
                (*non_managers, self.user_librarian_2),
            ),
            (
                "survey invitation",
                self.env["library.survey.invitation"]
                .with_user(manager)
                .create({"partner_ids": [(6, 0, self.reader.ids)]}),
                "action_invite",
                (),
                non_managers,
            ),
            (
                "satisfaction report",
                self.env["library.satisfaction.report"].with_user(manager).create({}),
                "action_print",
                (),
                non_managers,
            ),
            (
                "segment summary",
                self.env["library.segment.summary"].with_user(manager).create({}),
                "action_print",
                (),
                non_managers,
            ),
            (
                "suggestions register",
                self.env["library.suggestion.register"].with_user(manager).create({}),
                "action_print",
                (),
                non_managers,
            ),
            (
                "suggestion decision of another librarian",
                librarian_wizard.create(
                    {"suggestion_id": self.suggestion.id, "decision": "reject", "comment": "No"}
                ),
                "action_confirm",
                (),
                (*outsiders, self.user_librarian_2),
            ),
        ]


@tagged("post_install", "-at_install")
class TestPublicMethodsCheckTheCaller(RpcSecurityCase):
    def test_every_public_method_refuses_the_wrong_caller(self):
        for label, records, method, args, callers in self._public_methods():
            for user in callers:
                with self.subTest(method=label, user=user.login):
                    target = records.with_user(user).with_context(**HOSTILE_CONTEXT)
                    with self.assertRaises(AccessError):
                        getattr(target, method)(*args)
        # Nothing moved.
        self.assertEqual(self.review.state, "draft")
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian)
        self.assertEqual(self.suggestion.user_id, self.user_librarian)
        self.assertEqual(self.suggestion.state, "new")

    def test_the_right_caller_still_passes(self):
        self.reader.with_user(self.user_librarian).action_recompute_segment()
        self.review.contact_partner_id.email = "dean@example.edu"
        self.review.with_user(self.user_manager).action_send()
        self.assertEqual(self.review.state, "sent")
        action = (
            self.env["library.satisfaction.report"]
            .with_user(self.user_manager)
            .create({})
            .action_print()
        )
        self.assertEqual(action["report_name"], "library_crm.report_satisfaction")

    def test_review_state_and_submitted_content_are_not_writable_over_rpc(self):
        review = self.review.with_user(self.user_manager)
        for values in (
            {"state": "validated"},
            {"validated_by_id": self.user_manager.id},
            {"submitted_date": "2026-12-01 08:00:00"},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                review.write(values)
        self.review.contact_partner_id.email = "dean@example.edu"
        review.action_send()
        review.write({"score_expertise": 3, "manager_comment": "Typed in for the dean"})
        self.review._submit(
            {
                "summary": "<p>Helpful</p>",
                "score_responsiveness": 5,
                "score_expertise": 4,
                "score_proactive": 4,
                "score_deliverables": 5,
            }
        )
        # The department's words and scores are frozen once submitted.
        for values in ({"score_expertise": 1}, {"summary": "<p>Rewritten</p>"}):
            with self.subTest(values=values), self.assertRaises(UserError):
                review.write(values)
        review.write({"manager_comment": "Well done"})
        review.action_validate()
        self.assertRecordValues(
            self.review,
            [{"state": "validated", "score_expertise": 4, "manager_comment": "Well done"}],
        )
        with self.assertRaises(UserError):
            review.write({"manager_comment": "Changed afterwards"})

    def test_consent_channel_is_not_taken_from_the_callers_context(self):
        self.reader.with_user(self.user_librarian).with_context(**HOSTILE_CONTEXT).write(
            {"consent_news": False}
        )
        # The reader's initial consent is logged too (channel "default").
        log = self.reader.consent_log_ids.filtered(lambda line: line.channel != "default")
        self.assertEqual((log.purpose, log.consent, log.channel), ("news", False, "staff"))
        self.assertEqual(log.user_id, self.user_librarian)


@tagged("post_install", "-at_install")
class TestHandoverAndUnits(RpcSecurityCase):
    def test_librarian_cannot_hand_over_another_librarians_readers(self):
        wizard = (
            self.env["library.handover"]
            .with_user(self.user_librarian_2)
            .create(
                {
                    "from_user_id": self.user_librarian.id,
                    "to_user_id": self.user_librarian_2.id,
                    "all_readers": True,
                }
            )
        )
        with self.assertRaises(AccessError):
            wizard.action_handover()
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian)

    def test_librarian_cannot_slip_a_colleagues_reader_into_their_own_handover(self):
        wizard = (
            self.env["library.handover"]
            .with_user(self.user_librarian_2)
            .create({"to_user_id": self.user_manager.id, "partner_ids": self.reader.ids})
        )
        self.assertEqual(wizard.from_user_id, self.user_librarian_2)
        with self.assertRaises(AccessError):
            wizard.action_handover()
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian)

    def test_librarian_cannot_take_a_colleagues_reader_directly(self):
        with self.assertRaises(AccessError):
            self.reader.with_user(self.user_librarian_2).write(
                {"responsible_librarian_id": self.user_librarian_2.id}
            )
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian)
        # A reader nobody follows can be taken; one's own can be given away.
        newcomer = self.env["res.partner"].create({"name": "Newcomer", "is_reader": True})
        newcomer.with_user(self.user_librarian_2).responsible_librarian_id = self.user_librarian_2
        newcomer.with_user(self.user_librarian_2).responsible_librarian_id = self.user_librarian
        self.assertEqual(newcomer.responsible_librarian_id, self.user_librarian)

    def test_librarian_hands_over_their_own_readers(self):
        wizard = (
            self.env["library.handover"]
            .with_user(self.user_librarian)
            .create({"to_user_id": self.user_librarian_2.id, "all_readers": True})
        )
        wizard.action_handover()
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian_2)
        self.assertEqual(wizard.moved_partner_ids, self.reader)

    def test_unit_membership_is_a_managers_decision(self):
        Unit = self.unit.with_user(self.user_librarian)
        for values in (
            {"member_ids": [(4, self.user_librarian_2.id)]},
            {"manager_id": self.user_librarian.id},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                Unit.write(values)
        # Handing one's own suggestions to a colleague outside the unit would
        # make them a member: that takes a manager.
        wizard = (
            self.env["library.handover"]
            .with_user(self.user_librarian)
            .create({"to_user_id": self.user_librarian_2.id, "move_suggestions": True})
        )
        with self.assertRaises(AccessError):
            wizard.action_handover()
        self.assertEqual(self.unit.member_ids, self.user_librarian)
        self.assertEqual(self.suggestion.user_id, self.user_librarian)
        self.unit.with_user(self.user_manager).member_ids = [(4, self.user_librarian_2.id)]
        self.assertEqual(self.unit.member_ids, self.user_librarian | self.user_librarian_2)


@tagged("post_install", "-at_install")
class TestPublicMethodsOverJsonRpc(RpcSecurityCase, HttpCase):
    """The same refusals through the real transport: /web/dataset/call_kw."""

    def _call(self, user, model, method, ids, context=None):
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": [ids],
                "kwargs": {"context": dict(HOSTILE_CONTEXT, **(context or {}))},
            },
        )

    def test_refused_over_json_rpc(self):
        cases = [
            (self.user_portal, "res.partner", "action_recompute_segment", self.reader.ids),
            (self.user_internal, "res.partner", "action_recompute_segment", self.reader.ids),
            (self.user_portal, "library.liaison.review", "action_validate", self.review.ids),
            (self.user_librarian, "library.liaison.review", "action_send", self.review.ids),
        ]
        for user, model, method, ids in cases:
            with self.subTest(user=user.login, method=method):
                with self.assertRaises(JsonRpcException) as caught:
                    self._call(user, model, method, ids)
                self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        self.assertEqual(self.review.state, "draft")

    def test_the_librarian_still_recomputes_over_json_rpc(self):
        result = self._call(
            self.user_librarian, "res.partner", "action_recompute_segment", self.reader.ids
        )
        self.assertIs(result, True)


@tagged("post_install", "-at_install")
class TestUnsubscribeRoute(LibraryCrmHttpCase):
    """The token-less unsubscribe of a logged-in Email Marketing user acts on
    their own address only; a malformed document id is a 4xx."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marketer = cls._new_user(
            "rpc_marketer",
            "base.group_user,mass_mailing.group_mass_mailing_user",
            email="marketer@example.org",
        )
        cls.reader = cls.env["res.partner"].create(
            {
                "name": "Reader Far Away",
                "is_reader": True,
                "reader_card_number": "RPC1",
                "email": "far.away@example.edu",
            }
        )
        cls.mailing = cls._news_mailing(cls.reader)

    def test_marketing_user_cannot_unsubscribe_another_reader_without_token(self):
        self.authenticate_as(self.marketer)
        response = self.url_open(
            f"/mailing/{self.mailing.id}/unsubscribe?document_id={self.reader.id}"
        )
        self.assertLess(response.status_code, 500)
        self.reader.invalidate_recordset()
        self.assertTrue(self.reader.consent_news, "another reader's consent is untouched")
        self.assertFalse(
            self.reader.consent_log_ids.filtered(lambda line: line.channel != "default"),
            "nothing logged but the reader's initial consent",
        )
        self.assertFalse(self.reader.is_blacklisted)

    def test_non_integer_document_id_is_a_client_error(self):
        self.authenticate_as(self.marketer)
        response = self.url_open(f"/mailing/{self.mailing.id}/unsubscribe?document_id=abc")
        self.assertIn(response.status_code, (400, 404))
        self.authenticate(None, None)
        response = self.url_open(
            f"/mailing/{self.mailing.id}/unsubscribe"
            f"?document_id=abc&email={self.reader.email}&hash_token=forged"
        )
        self.assertIn(response.status_code, (400, 404))
        self.reader.invalidate_recordset()
        self.assertTrue(self.reader.consent_news)
