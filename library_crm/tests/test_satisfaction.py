# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import LibraryCrmCase


class SatisfactionCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.survey = cls.env.ref("library_crm.survey_reader_satisfaction")
        # Demo data answers the shipped survey: the tests count their own answers only.
        cls.env["survey.user_input"].search([("survey_id", "=", cls.survey.id)]).unlink()
        questions = cls.survey.question_ids
        cls.dimension_questions = questions.filtered(lambda q: q.library_role == "dimension")
        cls.q_overall = questions.filtered(lambda q: q.library_role == "overall")
        cls.q_nps = questions.filtered(lambda q: q.library_role == "nps")
        cls.q_comment = questions.filtered(lambda q: q.library_role == "comment")
        cls.env["ir.config_parameter"].set_param("library_crm.points_survey_answered", 5)
        cls.env["ir.config_parameter"].set_param("library_crm.satisfaction_survey_weight", 70)
        cls.reader.responsible_librarian_id = cls.user_librarian

    def _answer(self, partner, dimension_scores, overall, nps, comment=None):
        """A completed response, answered the way the survey form does."""
        user_input = self.survey._create_answer(partner=partner, check_attempts=False)
        for question, score in zip(self.dimension_questions, dimension_scores, strict=True):
            user_input._save_lines(question, str(score))
        user_input._save_lines(self.q_overall, str(overall))
        user_input._save_lines(self.q_nps, str(nps))
        if comment:
            user_input._save_lines(self.q_comment, comment)
        user_input._mark_done()
        return user_input


@tagged("post_install", "-at_install")
class TestSatisfactionScores(SatisfactionCase):
    def test_shipped_survey_has_the_dimensions_and_nps(self):
        self.assertEqual(len(self.dimension_questions), 8)
        self.assertEqual(len(self.dimension_questions.library_dimension_id), 4)
        self.assertEqual((self.q_nps.scale_min, self.q_nps.scale_max), (0, 10))
        self.assertEqual(self.q_comment.question_type, "text_box")
        self.assertEqual(self.survey.access_mode, "token")

    def test_scores_and_nps_on_hand_made_answers(self):
        other = self.reader.copy({"name": "Reader Two", "reader_card_number": "2024000002"})
        third = self.reader.copy({"name": "Reader Three", "reader_card_number": "2024000003"})
        first = self._answer(self.reader, [5, 5, 4, 4, 3, 3, 5, 5], overall=5, nps=10)
        self._answer(other, [4, 4, 4, 4, 4, 4, 4, 4], overall=4, nps=8)
        self._answer(third, [2, 3, 3, 3, 3, 3, 3, 3], overall=2, nps=3)
        Response = self.env["library.satisfaction.response"]
        response = Response.browse(first.id)
        self.assertEqual(response.nps_class, "promoter")
        self.assertAlmostEqual(response.dimension_score, 4.25)
        self.assertEqual(response.lowest_score, 3)
        self.assertFalse(response.is_unhappy)
        # 1 promoter, 1 passive, 1 detractor: NPS 0; overall (5 + 4 + 2) / 3.
        nps, overall = Response._read_group(
            [("survey_id", "=", self.survey.id)], [], ["nps_value:avg", "overall_score:avg"]
        )[0]
        self.assertEqual(nps, 0.0)
        self.assertAlmostEqual(overall, 11 / 3)
        by_dimension = dict(
            self.env["library.satisfaction.answer"]._read_group(
                [("role", "=", "dimension")], ["dimension_id"], ["score:avg"]
            )
        )
        services = self.env.ref("library_crm.satisfaction_dimension_services")
        self.assertAlmostEqual(by_dimension[services], (5 + 5 + 4 + 4 + 2 + 3) / 6)

    def test_reader_satisfaction_folds_in_ratings_and_feeds_loyalty(self):
        self._answer(self.reader, [4] * 8, overall=4, nps=9)
        self.assertAlmostEqual(self.reader.satisfaction_score, 4.0)
        self.assertEqual(self.reader.loyalty_satisfaction, 8, "loyalty recomputed at once")
        # A rating of 1 on a suggestion: 0.7 x 4 + 0.3 x 1.
        category = self.env["library.suggestion.category"].create({"name": "Other"})
        suggestion = self.env["library.suggestion"].create(
            {"partner_id": self.reader.id, "category_id": category.id, "subject": "Noise"}
        )
        suggestion.sudo().rating_apply(1, token=suggestion._rating_get_access_token())
        self.assertAlmostEqual(self.reader.satisfaction_score, 3.1)
        self.assertEqual(self.reader.loyalty_satisfaction, 6)
        # A year later nothing counts any more (a year after the test's now,
        # whatever the calendar says).
        with freeze_time(fields.Datetime.now() + timedelta(days=366)):
            self.env["library.satisfaction"]._recompute_scores()
        self.assertEqual(self.reader.satisfaction_score, 0.0)

    def test_participation_points_once_per_survey(self):
        self._answer(self.reader, [4] * 8, overall=4, nps=9)
        self._answer(self.reader, [5] * 8, overall=5, nps=10)
        self.assertEqual(self.reader.points_balance, 5)


@tagged("post_install", "-at_install")
class TestSatisfactionInvitations(SatisfactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.growing = Partner.create(
            [
                {
                    "name": f"Growing {n}",
                    "is_reader": True,
                    "reader_card_number": f"G{n:03d}",
                    "email": f"growing{n}@example.edu",
                    "reader_category": "undergraduate",
                    "library_department_id": cls.dept_cs.id,
                }
                for n in range(20)
            ]
        )
        cls.env.cr.execute(
            "UPDATE library_reader_metrics SET reader_segment = 'growing' "
            "WHERE partner_id = ANY(%s)",
            [cls.growing.ids],
        )
        cls.env["library.reader.metrics"].invalidate_model(["reader_segment"])
        cls.no_email = Partner.create(
            {"name": "No mail", "is_reader": True, "reader_card_number": "G999"}
        )

    def _wizard(self, **values):
        """The invitation as a manager fills it in the form, then saved."""
        with Form(self.env["library.survey.invitation"].with_user(self.user_manager)) as form:
            form.survey_id = self.survey
            form.reader_segment = "growing"
            # The test's own readers: demo readers may be growing too.
            form.department_ids.set(self.school)
            for name, value in values.items():
                setattr(form, name, value)
        return form.record

    def _invited(self):
        return (
            self.env["survey.user_input"].search([("survey_id", "=", self.survey.id)]).partner_id
        )

    def test_sample_of_a_segment_with_answers_linked_to_readers(self):
        wizard = self._wizard(sample_percent=30)
        self.assertEqual((wizard.matching_count, wizard.invite_count), (20, 6))
        wizard.action_invite()
        invited = self._invited()
        self.assertEqual(len(invited), 6)
        self.assertLessEqual(invited, self.growing)
        answers = self.env["survey.user_input"].search([("partner_id", "in", invited.ids)])
        self.assertTrue(all(answers.mapped("access_token")), "each reader has a personal link")
        mails = self.env["mail.mail"].search([("recipient_ids", "in", invited.ids)])
        self.assertEqual(len(mails), 6)

    def test_frequency_cap(self):
        self._wizard(sample_percent=50).action_invite()
        first = self._invited()
        self.assertEqual(len(first), 10)
        wizard = self._wizard()
        self.assertEqual(wizard.recently_invited_count, 10)
        self.assertEqual(wizard.invite_count, 10)
        wizard.action_invite()
        second = self._invited() - first
        self.assertEqual(len(second), 10)
        self.assertFalse(second & first, "nobody invited twice within 90 days")
        with self.assertRaises(UserError):
            self._wizard().action_invite()
        # 100 days later everyone may be asked again.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE survey_user_input SET create_date = create_date - interval '100 days'"
        )
        self.assertEqual(self._wizard(cap_days=90).invite_count, 20)
        self.assertEqual(self._wizard(cap_days=120).invite_count, 0)

    def test_selection_from_the_readers_list(self):
        selected = self.growing[:3] | self.no_email
        Invitation = (
            self.env["library.survey.invitation"]
            .with_user(self.user_manager)
            .with_context(active_model="res.partner", active_ids=selected.ids)
        )
        with Form(Invitation) as form:
            form.survey_id = self.survey
            self.assertEqual(form.invite_count, 3, "the form previews the same count")
        wizard = form.record
        self.assertEqual(wizard.invite_count, 3, "readers without e-mail are left out")
        wizard.action_invite()
        self.assertEqual(self._invited(), self.growing[:3])

    def test_only_managers_invite(self):
        with self.assertRaises(AccessError):
            self.env["library.survey.invitation"].with_user(self.user_librarian).create(
                {"survey_id": self.survey.id}
            )


@tagged("post_install", "-at_install")
class TestDetractorLoop(SatisfactionCase):
    def test_detractor_activity_and_suggestion_from_comment(self):
        happy = self._answer(self.reader, [4] * 8, overall=4, nps=9, comment="Fine")
        self.assertFalse(happy.activity_ids)
        unhappy = self._answer(
            self.reader, [4, 4, 4, 4, 1, 4, 4, 4], overall=3, nps=8, comment="没有座位，太吵了"
        )
        activity = unhappy.activity_ids
        self.assertEqual(activity.user_id, self.user_librarian, "the responsible librarian")
        self.assertIn("没有座位", str(activity.note))
        action = unhappy.with_user(self.user_librarian).action_library_create_suggestion()
        suggestion = self.env["library.suggestion"].browse(action["res_id"])
        self.assertEqual(suggestion.partner_id, self.reader)
        self.assertEqual(suggestion.channel, "survey")
        self.assertEqual(suggestion.survey_user_input_id, unhappy)
        self.assertIn("没有座位", suggestion.description)
        self.assertEqual(unhappy.library_suggestion_ids, suggestion)
        detractor = self._answer(self.reader, [4] * 8, overall=4, nps=6)
        self.assertTrue(detractor.activity_ids, "NPS 6 is a detractor")
        with self.assertRaises(UserError):
            detractor.action_library_create_suggestion()

    def test_readers_see_only_their_own_answers(self):
        portal_reader = self.user_portal.partner_id
        portal_reader.write({"is_reader": True, "reader_card_number": "P001"})
        own = self._answer(portal_reader, [4] * 8, overall=4, nps=9)
        other = self._answer(self.reader, [2] * 8, overall=2, nps=2, comment="Secret")
        for record in (own, other):
            with self.assertRaises(AccessError):
                record.with_user(self.user_portal).read(["partner_id"])
        for model in ("library.satisfaction.answer", "library.satisfaction.response"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.user_portal).search([])
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.user_internal).search([])
        # The reader's own answers open with their own token only.
        self.assertNotEqual(own.access_token, other.access_token)
