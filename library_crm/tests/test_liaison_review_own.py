# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The department writes its own review (#15 §6): only the department contact
submits its summary and scores (a manager may on its behalf), who submitted
is recorded and every change tracked; the appraised liaison reads their own
reviews, read only; the facts count the department's sub-departments."""

from freezegun import freeze_time

from odoo.http import Request
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools.safe_eval import safe_eval

from .common import LibraryCrmCase, LibraryCrmHttpCase

SCORES = {
    "score_responsiveness": 5,
    "score_expertise": 4,
    "score_proactive": 4,
    "score_deliverables": 3,
}


@tagged("post_install", "-at_install")
class TestDepartmentWritesItsReview(LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_dean = cls._new_user("own_other_dean", "base.group_portal", name="Dean Wu")
        cls.dept_cs.write(
            {
                "contact_ids": [(6, 0, cls.user_portal.partner_id.ids)],
                "review_contact_id": cls.user_portal.partner_id.id,
            }
        )
        Review = cls.env["library.liaison.review"]
        # Made by hand, not for every department: a demo database has its own.
        cls.review = Review.create(
            {
                "year": 2026,
                "department_id": cls.dept_cs.id,
                "liaison_user_id": cls.user_librarian.id,
                "contact_partner_id": cls.user_portal.partner_id.id,
            }
        )
        cls.other_review = Review.create(
            {
                "year": 2026,
                "department_id": cls.dept_hist.id,
                "liaison_user_id": cls.user_librarian_2.id,
                "contact_partner_id": cls.other_dean.partner_id.id,
            }
        )
        # Tracked from here on: Odoo tracks nothing of a record in the
        # transaction that creates it, until the creation is committed.
        cls.env.flush_all()
        cls.env.cr.precommit.run()
        (cls.review | cls.other_review).write({"state": "sent"})
        cls.review._portal_ensure_token()

    def _rpc(self, user, model, method, args, **kwargs):
        """Call a model method as `user` through /web/dataset/call_kw."""
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )

    def _assert_rpc_refused(self, user, method, args, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self._rpc(user, "library.liaison.review", method, args, **kwargs)
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")

    def _flush_tracking(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _tracked(self, review):
        """{field name: (old, new)} of the review's tracking values."""
        review.invalidate_recordset(["message_ids"])
        return {
            value.field_id.name: (
                value._format_display_value(value.field_id.ttype, new=False)[0],
                value._format_display_value(value.field_id.ttype, new=True)[0],
            )
            for value in review.message_ids.tracking_value_ids
        }

    @freeze_time("2026-12-01 08:00:00")
    def test_contact_submits_on_portal_who_and_what_is_recorded(self):
        # Another portal user holding the e-mailed link is not the contact.
        self.authenticate_as(self.other_dean)
        page = self.url_open(self.review.get_portal_url())
        # The notice names the contact (in the page's language); no form.
        self.assertIn(self.user_portal.partner_id.name, page.text)
        self.assertIn('role="status"', page.text)
        self.assertNotIn('name="summary"', page.text)
        form = {"csrf_token": Request.csrf_token(self), "summary": "Hijack"}
        form.update(dict.fromkeys(SCORES, "1"))
        response = self.url_open(
            f"/my/liaison-reviews/{self.review.id}?access_token={self.review.access_token}",
            data=dict(form, access_token=self.review.access_token),
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.review.invalidate_recordset()
        self.assertRecordValues(
            self.review, [{"state": "sent", "summary": False, "submitted_by_id": False}]
        )

        self.authenticate_as(self.user_portal)
        form = {"csrf_token": Request.csrf_token(self), "summary": "Always ready to help"}
        form.update({name: str(score) for name, score in SCORES.items()})
        response = self.url_open(f"/my/liaison-reviews/{self.review.id}", data=form)
        self.assertIn("submitted", response.url)
        self._flush_tracking()
        self.review.invalidate_recordset()
        self.assertRecordValues(
            self.review,
            [
                {
                    "state": "submitted",
                    "submitted_by_id": self.user_portal.id,
                    "summary_text": "Always ready to help",
                    "score_average": 4.0,
                }
            ],
        )
        tracked = self._tracked(self.review)
        self.assertEqual(tracked["summary_text"], (False, "Always ready to help"))
        self.assertEqual(tracked["score_expertise"], (0, 4))
        self.assertEqual(tracked["score_deliverables"], (0, 3))

    @freeze_time("2026-12-01 08:00:00")
    def test_link_without_account_is_the_contacts_submission(self):
        self.authenticate(None, None)
        form = {
            "csrf_token": Request.csrf_token(self),
            "summary": "Good work",
            "access_token": self.review.access_token,
        }
        form.update({name: str(score) for name, score in SCORES.items()})
        self.url_open(self.review.get_portal_url(), data=form)
        self.review.invalidate_recordset()
        self.assertRecordValues(
            self.review, [{"state": "submitted", "submitted_by_id": self.user_portal.id}]
        )

    @freeze_time("2026-12-01 08:00:00")
    def test_manager_helps_change_tracked_and_submission_is_theirs(self):
        review = self.review.with_user(self.user_manager)
        review.write({"summary": "<p>Dictated by the dean</p>", "score_expertise": 2})
        self._flush_tracking()
        self.assertEqual(self._tracked(self.review)["score_expertise"], (0, 2))
        review.write({**SCORES, "summary": "<p>Dictated by the dean, corrected</p>"})
        review.action_submit()
        self._flush_tracking()
        self.assertRecordValues(
            self.review, [{"state": "submitted", "submitted_by_id": self.user_manager.id}]
        )
        values = self.review.message_ids.tracking_value_ids.filtered(
            lambda v: v.field_id.name == "score_expertise"
        )
        self.assertEqual(
            sorted((v.old_value_integer, v.new_value_integer) for v in values), [(0, 2), (2, 4)]
        )
        summaries = self.review.message_ids.tracking_value_ids.filtered(
            lambda v: v.field_id.name == "summary_text"
        )
        self.assertEqual(
            set(summaries.mapped("new_value_text")),
            {"Dictated by the dean", "Dictated by the dean, corrected"},
        )
        # The PDF review form names who submitted it.
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("library_crm.action_report_liaison_review", self.review.ids)[0]
            .decode()
        )
        self.assertIn("Manager Ma", html)
        # Who submitted is the workflow's to write, not the caller's.
        with self.assertRaises(JsonRpcException):
            self._rpc(
                self.user_manager,
                "library.liaison.review",
                "write",
                [self.review.ids, {"submitted_by_id": self.user_portal.id}],
            )
        self.assertEqual(self.review.submitted_by_id, self.user_manager)

    def test_only_managers_submit_or_alter_over_rpc(self):
        # Portal users (even the contact: the portal form is their way),
        # employees and librarians (even the appraised liaison).
        for user in (self.other_dean, self.user_portal, self.user_internal, self.user_librarian):
            for method, args in (
                ("write", [self.review.ids, {"score_expertise": 1}]),
                ("write", [self.review.ids, {"summary": "<p>Rewritten</p>"}]),
                ("action_submit", [self.review.ids]),
            ):
                with self.subTest(user=user.login, method=method, args=args):
                    self._assert_rpc_refused(user, method, args)
        self.review.invalidate_recordset()
        self.assertRecordValues(
            self.review, [{"state": "sent", "score_expertise": 0, "summary": False}]
        )

    @freeze_time("2026-12-01 08:00:00")
    def test_appraised_liaison_reads_own_reviews_only(self):
        # While the department writes it (its chatter holds the contact's
        # link), not even the appraised liaison reads it.
        self._assert_rpc_refused(self.user_librarian, "read", [self.review.ids, ["summary"]])
        for review in (self.review, self.other_review):
            review._submit({**SCORES, "summary": "<p>Helpful</p>"})
        read = self._rpc(
            self.user_librarian,
            "library.liaison.review",
            "read",
            [self.review.ids, ["summary", "score_average", "submitted_by_id"]],
        )
        self.assertEqual(read[0]["score_average"], 4.0)
        self._assert_rpc_refused(self.user_librarian, "read", [self.other_review.ids, ["summary"]])
        own = self._rpc(
            self.user_librarian,
            "library.liaison.review",
            "search",
            [[("id", "in", (self.review | self.other_review).ids)]],
        )
        self.assertEqual(own, self.review.ids)
        # They cannot change the scores, nor can a plain employee read it.
        self._assert_rpc_refused(self.user_librarian, "write", [self.review.ids, SCORES])
        self._assert_rpc_refused(self.user_internal, "read", [self.review.ids, ["summary"]])
        # Managers keep every review.
        both = self.env["library.liaison.review"].with_user(self.user_manager)
        self.assertEqual(
            both.search([("id", "in", (self.review | self.other_review).ids)]),
            self.review | self.other_review,
        )
        # My Reviews opens for them: its views, and the action's domain.
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_my_liaison_reviews"
        )
        views = self._rpc(
            self.user_librarian,
            "library.liaison.review",
            "get_views",
            [[[False, "list"], [False, "form"]]],
        )
        self.assertIn("submitted_by_id", views["views"]["form"]["arch"])
        self.assertNotIn("action_submit", views["views"]["form"]["arch"])
        mine = self._rpc(
            self.user_librarian,
            "library.liaison.review",
            "search",
            [[*safe_eval(action["domain"], {"uid": self.user_librarian.id})]],
        )
        self.assertIn(self.review.id, mine)
        self.assertNotIn(self.other_review.id, mine)

    @freeze_time("2026-12-01 08:00:00")
    def test_next_round_link_is_not_the_liaisons(self):
        self.review._submit({**SCORES, "summary": "<p>Helpful</p>"})
        old_token = self.review.access_token
        # Reading the submitted review, the liaison may follow it...
        self.review.with_user(self.user_librarian).message_subscribe(
            partner_ids=self.user_librarian.partner_id.ids
        )
        self.review.with_user(self.user_manager).action_reset_draft()
        self.user_portal.partner_id.email = "dean.cs@example.edu"
        self.review.with_user(self.user_manager).action_send()
        # ...but the next round's link is new and not sent to them.
        self.assertNotEqual(self.review.access_token, old_token)
        self.assertNotIn(self.user_librarian.partner_id, self.review.message_partner_ids)
        mail = self.env["mail.mail"].search(
            [("model", "=", self.review._name), ("res_id", "=", self.review.id)]
        )
        self.assertIn(self.review.access_token, mail.body_html)
        self.assertNotIn(self.user_librarian.partner_id, mail.recipient_ids)
        self.assertNotIn(
            self.user_librarian.partner_id,
            self.review.message_ids[0].notification_ids.res_partner_id,
        )


@tagged("post_install", "-at_install")
class TestReviewFactsOfSubDepartments(LibraryCrmCase):
    """A liaison of a 学院 (the School of Science) is credited with the work
    logged against its 系 (Computer Science, Mathematics), once each."""

    @freeze_time("2026-12-01 08:00:00")
    def test_parent_department_counts_its_subtree_once(self):
        liaison = self.user_librarian
        Interaction = self.env["library.interaction"]
        for values in (
            {"partner_id": self.reader.id},  # a reader of Computer Science
            {"department_id": self.dept_math.id},  # Mathematics itself
            {"department_id": self.school.id},  # the school itself
            {"department_id": self.dept_hist.id},  # outside the school
        ):
            Interaction.create(
                {
                    "summary": "Visit",
                    "date": "2026-05-01 09:00:00",
                    "user_id": liaison.id,
                    **values,
                }
            )
        project = self.env["library.research.project"].create(
            {
                "title": "Graph neural networks",
                "department_id": self.dept_cs.id,
                "principal_investigator_id": self.reader.id,
                "liaison_user_id": liaison.id,
                "date_start": "2026-01-01",
            }
        )
        Deliverable = self.env["library.liaison.deliverable"]
        for values in (
            {"project_id": project.id, "department_id": self.dept_cs.id},
            {"department_id": self.dept_math.id},
        ):
            Deliverable.create(
                {
                    "title": "Guide",
                    "kind": "subject_guide",
                    "date": "2026-06-01",
                    "liaison_user_id": liaison.id,
                    **values,
                }
            )
        unit = self.env["library.unit"].create({"name": "Own Review Unit"})
        category = self.env["library.suggestion.category"].create(
            {"name": "Own Review Category", "default_unit_id": unit.id}
        )
        self.env["library.suggestion"].create(
            {"partner_id": self.reader.id, "category_id": category.id, "subject": "E-books"}
        )
        Review = self.env["library.liaison.review"]
        facts = {}
        for department in (self.school, self.dept_cs, self.dept_math, self.dept_hist):
            review = Review.create(
                {"year": 2026, "department_id": department.id, "liaison_user_id": liaison.id}
            )
            facts[department] = [
                review.interaction_count,
                review.contacted_reader_count,
                review.deliverable_count,
                review.project_count,
                review.suggestion_count,
            ]
        self.assertEqual(
            facts,
            {
                self.school: [3, 1, 2, 1, 1],
                self.dept_cs: [1, 1, 1, 1, 1],
                self.dept_math: [1, 0, 1, 0, 0],
                self.dept_hist: [1, 0, 0, 0, 0],
            },
        )
