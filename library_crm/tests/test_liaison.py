# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestLiaison(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dept_cs.liaison_user_ids = cls.user_librarian
        cls.dept_hist.liaison_user_ids = cls.user_librarian_2
        cls.teacher = cls.env["res.partner"].create(
            {
                "name": "李教授",
                "is_reader": True,
                "reader_category": "faculty",
                "library_department_id": cls.dept_cs.id,
                "responsible_librarian_id": cls.user_librarian.id,
                "email": "li.prof@example.edu",
            }
        )
        cls.reader.responsible_librarian_id = cls.user_librarian

    def test_interaction_defaults_department_and_followup(self):
        interaction = (
            self.env["library.interaction"]
            .with_user(self.user_librarian)
            .create(
                {
                    "partner_id": self.teacher.id,
                    "summary": "Asked for a novelty search",
                    "channel": "wechat",
                    "kind": "information_need",
                    "followup_date": "2026-12-01",
                    "followup_note": "Send the search results",
                }
            )
        )
        self.assertEqual(interaction.department_id, self.dept_cs)
        activity = interaction.followup_activity_id
        self.assertRecordValues(
            activity,
            [
                {
                    "res_model": "res.partner",
                    "res_id": self.teacher.id,
                    "user_id": self.user_librarian.id,
                    "summary": "Send the search results",
                    "activity_type_id": self.env.ref(
                        "library_crm.mail_activity_type_reader_followup"
                    ).id,
                }
            ],
        )
        with self.assertRaises(ValidationError):
            self.env["library.interaction"].create({"summary": "Nobody"})

    def test_liaison_limit_enforced_through_workspace(self):
        # Managers add liaisons from the department form (the workspace's source).
        self.dept_math.with_user(self.user_manager).liaison_user_ids = self.user_librarian
        with self.assertRaises(ValidationError):
            with Form(self.school.with_user(self.user_manager)) as form:
                form.liaison_user_ids.add(self.user_librarian)

    def test_only_liaisons_edit_department_records(self):
        project = (
            self.env["library.research.project"]
            .with_user(self.user_librarian)
            .create(
                {
                    "title": "Graph neural networks",
                    "department_id": self.dept_cs.id,
                    "principal_investigator_id": self.teacher.id,
                }
            )
        )
        # Another librarian reads it but cannot edit it or add to the department.
        other = project.with_user(self.user_librarian_2)
        self.assertEqual(other.title, "Graph neural networks")
        with self.assertRaises(AccessError):
            other.write({"stage": "approved"})
        with self.assertRaises(AccessError):
            self.env["library.liaison.deliverable"].with_user(self.user_librarian_2).create(
                {"title": "Guide", "kind": "subject_guide", "department_id": self.dept_cs.id}
            )
        project.with_user(self.user_manager).write({"stage": "approved"})
        # A librarian logs and edits their own contact with any reader.
        interaction = (
            self.env["library.interaction"]
            .with_user(self.user_librarian_2)
            .create({"partner_id": self.reader.id, "summary": "Desk question"})
        )
        interaction.write({"outcome": "Answered"})
        with self.assertRaises(AccessError):
            interaction.with_user(self.user_internal).read(["summary"])
        with self.assertRaises(AccessError):
            self.env["library.interaction"].with_user(self.user_portal).search([])

    def test_timeline_counts_chatter_emails_once(self):
        self.env["library.interaction"].create(
            {"partner_id": self.teacher.id, "summary": "Visit", "date": "2026-03-01 10:00:00"}
        )
        self.teacher.message_post(
            body="Here is the subject guide",
            subtype_xmlid="mail.mt_comment",
            message_type="comment",
        )
        self.teacher.message_post(body="Internal note", subtype_xmlid="mail.mt_note")
        Timeline = self.env["library.contact.timeline"]
        rows = Timeline.search([("partner_id", "=", self.teacher.id)])
        self.assertEqual(sorted(rows.mapped("source")), ["email", "interaction"])
        self.assertEqual(self.teacher.timeline_count, 2)
        message = rows.filtered(lambda r: r.source == "email").message_id
        self.assertIn("subject guide", message.body)
        self.assertEqual(
            self.env["mail.message"].search_count(
                [
                    ("model", "=", "res.partner"),
                    ("res_id", "=", self.teacher.id),
                    ("body", "ilike", "subject guide"),
                ]
            ),
            1,
        )
        self.assertTrue(self.teacher.last_contact_date)
        self.assertEqual(self.dept_cs.interaction_count, 1)
        action = self.teacher.action_view_timeline()
        self.assertEqual(Timeline.search(action["domain"]), rows)

    def test_handover_moves_exactly_the_right_records(self):
        other_reader = self.env["res.partner"].create(
            {
                "name": "Untouched",
                "is_reader": True,
                "responsible_librarian_id": self.user_librarian.id,
            }
        )
        activity_type = self.env.ref("library_crm.mail_activity_type_reader_followup")
        moved_activity = self.teacher.activity_schedule(
            activity_type_id=activity_type.id, user_id=self.user_librarian.id
        )
        kept_activity = other_reader.activity_schedule(
            activity_type_id=activity_type.id, user_id=self.user_librarian.id
        )
        colleague_activity = self.teacher.activity_schedule(
            activity_type_id=activity_type.id, user_id=self.user_manager.id
        )
        Handover = (
            self.env["library.handover"]
            .with_user(self.user_manager)
            .with_context(active_model="res.partner", active_ids=(self.teacher | self.reader).ids)
        )
        with Form(Handover) as form:
            self.assertEqual(form.from_user_id, self.user_librarian)
            form.to_user_id = self.user_librarian_2
            form.department_ids.add(self.dept_cs)
        wizard = form.record
        self.assertEqual(wizard.from_user_id, self.user_librarian)
        wizard.action_handover()
        self.assertEqual(
            (self.teacher | self.reader).responsible_librarian_id, self.user_librarian_2
        )
        self.assertEqual(other_reader.responsible_librarian_id, self.user_librarian)
        self.assertEqual(moved_activity.user_id, self.user_librarian_2)
        self.assertEqual(kept_activity.user_id, self.user_librarian)
        self.assertEqual(colleague_activity.user_id, self.user_manager)
        self.assertEqual(self.dept_cs.liaison_user_ids, self.user_librarian_2)
        self.assertEqual(self.dept_hist.liaison_user_ids, self.user_librarian_2)
        self.assertEqual(wizard.moved_activity_count, 1)
        self.assertEqual(wizard.moved_partner_ids, self.teacher | self.reader)
        self.assertIn("Handed over", self.teacher.message_ids[0].body)
        self.assertIn("Handed over", self.dept_cs.message_ids[0].body)
        with self.assertRaises(UserError):
            self.env["library.handover"].create(
                {
                    "from_user_id": self.user_librarian.id,
                    "to_user_id": self.user_librarian.id,
                    "all_readers": True,
                }
            ).action_handover()

    def test_librarian_cannot_hand_over_a_department(self):
        wizard = (
            self.env["library.handover"]
            .with_user(self.user_librarian)
            .create({"to_user_id": self.user_librarian_2.id, "department_ids": self.dept_cs.ids})
        )
        with self.assertRaises(AccessError):
            wizard.action_handover()


@tagged("post_install", "-at_install")
class TestLiaisonReview(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dean = cls.env["res.partner"].create(
            {"name": "Dean Zhao", "email": "dean.zhao@example.edu"}
        )
        cls.user_portal.partner_id.email = "portal@example.edu"
        cls.dept_cs.write(
            {
                "liaison_user_ids": [(6, 0, cls.user_librarian.ids)],
                "contact_ids": [(6, 0, cls.user_portal.partner_id.ids)],
                "review_contact_id": cls.user_portal.partner_id.id,
            }
        )
        cls.dept_hist.write(
            {
                "liaison_user_ids": [(6, 0, cls.user_librarian_2.ids)],
                "contact_ids": [(6, 0, cls.dean.ids)],
                "review_contact_id": cls.dean.id,
            }
        )
        # Reviews go to every department with a liaison: on a demo database,
        # only this test's two departments keep theirs.
        (cls.env["library.department"].search([]) - cls.dept_cs - cls.dept_hist).write(
            {"liaison_user_ids": [(5,)]}
        )
        cls.teacher = cls.env["res.partner"].create(
            {
                "name": "Prof. Sun",
                "is_reader": True,
                "reader_category": "faculty",
                "library_department_id": cls.dept_cs.id,
            }
        )

    def _make_facts(self):
        Interaction = self.env["library.interaction"]
        for when, kind, partner in [
            ("2026-02-01 09:00:00", "consultation", self.teacher),
            ("2026-05-01 09:00:00", "training", self.reader),
            ("2026-11-01 09:00:00", "consultation", self.teacher),
            ("2025-12-31 23:00:00", "consultation", self.teacher),  # last year
        ]:
            Interaction.create(
                {
                    "partner_id": partner.id,
                    "summary": kind,
                    "kind": kind,
                    "date": when,
                    "user_id": self.user_librarian.id,
                }
            )
        # By another librarian: not this liaison's fact.
        Interaction.create(
            {
                "partner_id": self.teacher.id,
                "summary": "x",
                "date": "2026-06-01 09:00:00",
                "user_id": self.user_librarian_2.id,
            }
        )
        project = self.env["library.research.project"].create(
            {
                "title": "P1",
                "department_id": self.dept_cs.id,
                "principal_investigator_id": self.teacher.id,
                "liaison_user_id": self.user_librarian.id,
                "date_start": "2025-01-01",
                "date_end": "2027-12-31",
            }
        )
        self.env["library.research.project"].create(
            {
                "title": "Old",
                "department_id": self.dept_cs.id,
                "principal_investigator_id": self.teacher.id,
                "liaison_user_id": self.user_librarian.id,
                "date_start": "2020-01-01",
                "date_end": "2021-12-31",
            }
        )
        Deliverable = self.env["library.liaison.deliverable"]
        for when, kind, rating in [
            ("2026-03-01", "bibliography", "4"),
            ("2026-04-01", "training", "5"),
            ("2026-09-01", "novelty_search", False),
            ("2025-06-01", "review", "1"),  # last year
        ]:
            Deliverable.create(
                {
                    "title": kind,
                    "kind": kind,
                    "date": when,
                    "department_id": self.dept_cs.id,
                    "project_id": project.id,
                    "liaison_user_id": self.user_librarian.id,
                    "feedback_rating": rating,
                }
            )

    @freeze_time("2026-12-01 08:00:00")
    def test_review_facts_match_hand_count(self):
        self._make_facts()
        reviews = self.env["library.liaison.review"]._create_for_year(2026)
        review = reviews.filtered(lambda r: r.department_id == self.dept_cs)
        self.assertRecordValues(
            review,
            [
                {
                    "liaison_user_id": self.user_librarian.id,
                    "contact_partner_id": self.user_portal.partner_id.id,
                    "interaction_count": 3,
                    "contacted_reader_count": 2,
                    "deliverable_count": 3,
                    "project_count": 1,
                    "training_count": 2,
                    "deliverable_rating": 4.5,
                }
            ],
        )
        self.assertEqual(len(reviews), 2)
        # Running it again creates nothing.
        self.assertFalse(self.env["library.liaison.review"]._create_for_year(2026))

    @freeze_time("2026-12-01 08:00:00")
    def test_review_workflow_by_role(self):
        Review = self.env["library.liaison.review"]
        action = Review.with_user(self.user_manager).action_create_reviews()
        reviews = Review.search(action["domain"])
        self.assertEqual(set(reviews.mapped("state")), {"sent"})
        review = reviews.filtered(lambda r: r.department_id == self.dept_cs)
        mail = self.env["mail.mail"].search(
            [("model", "=", review._name), ("res_id", "=", review.id)]
        )
        self.assertIn(review.access_token, mail.body_html)
        self.assertIn(self.user_portal.partner_id, mail.recipient_ids)

        # Librarians, even the reviewed liaison, neither see nor move it while
        # the department writes it.
        with self.assertRaises(AccessError):
            review.with_user(self.user_librarian).read(["summary"])
        with self.assertRaises(AccessError):
            review.with_user(self.user_librarian).action_validate()
        # The manager cannot validate before the department submits.
        with self.assertRaises(UserError):
            review.with_user(self.user_manager).action_validate()
        with self.assertRaises(ValidationError):
            review._submit({"summary": "<p>Good</p>", "score_expertise": 4})
        review._submit(
            {
                "summary": "<p>Very helpful</p>",
                "score_responsiveness": 5,
                "score_expertise": 4,
                "score_proactive": 4,
                "score_deliverables": 5,
            }
        )
        self.assertEqual(review.state, "submitted")
        self.assertEqual(review.score_average, 4.5)
        review.with_user(self.user_manager).action_validate()
        self.assertRecordValues(
            review, [{"state": "validated", "validated_by_id": self.user_manager.id}]
        )
        with self.assertRaises(UserError):
            review.with_user(self.user_manager).action_reset_draft()

    @freeze_time("2026-12-01 08:00:00")
    def test_portal_contact_sees_only_own_reviews(self):
        reviews = self.env["library.liaison.review"]._create_for_year(2026)
        own = reviews.filtered(lambda r: r.department_id == self.dept_cs)
        Review = self.env["library.liaison.review"].with_user(self.user_portal)
        self.assertEqual(Review.search([]), own)
        with self.assertRaises(AccessError):
            (reviews - own).with_user(self.user_portal).read(["summary"])
        with self.assertRaises(AccessError):
            own.with_user(self.user_portal).write({"summary": "direct write"})

    def test_cron_creates_and_sends(self):
        cron = self.env.ref("library_crm.ir_cron_create_liaison_reviews")
        with freeze_time("2026-12-01 02:00:00"):
            cron.ir_actions_server_id.with_user(cron.user_id).run()
        reviews = self.env["library.liaison.review"].search([("year", "=", 2026)])
        self.assertEqual(len(reviews), 2)
        self.assertEqual(set(reviews.mapped("state")), {"sent"})

    @freeze_time("2026-12-01 08:00:00")
    def test_scorecard_data(self):
        self._make_facts()
        card = self.dept_cs._scorecard_data(2026)
        self.assertEqual(card["readers"], 2)
        self.assertEqual(card["contacted"], 2)
        self.assertEqual(card["share"], 100)
        self.assertEqual(dict(card["deliverables"])["Training Session"], 1)
        self.assertEqual(card["feedback"], 4.5)
