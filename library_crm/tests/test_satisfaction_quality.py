# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The satisfaction rate (满意率) beside the index and NPS, and the quality
gap (experience minus expectation, 感知 - 期望) per dimension, counted by hand."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import LibraryCrmCase

# A year no demo data reaches: the report's figures are the test's own.
YEAR = 2003


def _scale(title, role, **values):
    return {
        "title": title,
        "question_type": "scale",
        "scale_min": 1,
        "scale_max": 5,
        "library_role": role,
        **values,
    }


@tagged("post_install", "-at_install")
class TestSatisfactionQuality(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.department = cls.env["library.department"].create(
            {"name": "Quality Test Faculty", "code": "XQUAL"}
        )
        cls.dimension = cls.env["library.satisfaction.dimension"].create(
            {"name": "Desk Service (test)"}
        )
        cls.survey = cls.env["survey.survey"].create(
            {
                "title": "Satisfaction rate test survey",
                "access_mode": "token",
                "question_and_page_ids": [
                    (0, 0, _scale("Desk", "dimension", library_dimension_id=cls.dimension.id)),
                    (
                        0,
                        0,
                        _scale(
                            "Desk expected", "expectation", library_dimension_id=cls.dimension.id
                        ),
                    ),
                    (0, 0, _scale("Overall", "overall")),
                ],
            }
        )
        cls.q_desk, cls.q_expected, cls.q_overall = cls.survey.question_ids
        cls.readers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Quality Reader {n}",
                    "is_reader": True,
                    "reader_card_number": f"XQ{n}",
                    "library_department_id": cls.department.id,
                }
                for n in range(5)
            ]
        )
        # (desk, expected, overall): 7 scored answers, 4 of them at 4-5; the
        # expectations are not scored answers.
        cls.scores = [(5, 4, 5), (4, 5, 3), (2, 3, None), (4, 4, None), (1, 2, None)]
        with freeze_time(datetime(YEAR, 6, 1, 10)):
            cls.responses = cls.env["survey.user_input"]
            for reader, answers in zip(cls.readers, cls.scores, strict=True):
                cls.responses |= cls._answer(
                    reader, dict(zip(cls._questions(), answers, strict=True))
                )

    @classmethod
    def _questions(cls):
        return [cls.q_desk, cls.q_expected, cls.q_overall]

    @classmethod
    def _answer(cls, partner, scores):
        user_input = cls.survey._create_answer(partner=partner, check_attempts=False)
        for question, score in scores.items():
            if score is not None:
                user_input._save_lines(question, str(score))
        user_input._mark_done()
        return user_input

    def test_rate_of_three_answers_at_5_4_2(self):
        Answer = self.env["library.satisfaction.answer"]
        answers = Answer.search(
            [("partner_id", "in", self.readers[:3].ids), ("role", "=", "dimension")]
        )
        self.assertEqual(sorted(answers.mapped("score")), [2, 4, 5])
        self.assertEqual(sorted(answers.mapped("satisfied")), [0, 100, 100])
        [(rate,)] = Answer._read_group([("id", "in", answers.ids)], [], ["satisfied:avg"])
        self.assertAlmostEqual(rate, 200 / 3)
        self.assertEqual(round(rate, 1), 66.7)

    def test_response_rate_weighs_every_answer(self):
        Response = self.env["library.satisfaction.response"]
        first_three = Response.browse(self.responses[:3].ids)
        self.assertEqual(first_three.mapped("scored_answers"), [2, 2, 1])
        self.assertEqual(first_three.mapped("satisfied_answers"), [2, 1, 0])
        self.assertEqual(first_three.mapped("satisfaction_rate"), [100.0, 50.0, 0.0])
        # 3 of their 5 answers at 4-5: 60 %, not the mean of the three rates (50 %).
        [(rate,)] = Response._read_group(
            [("id", "in", first_three.ids)], [], ["satisfaction_rate:avg"]
        )
        self.assertAlmostEqual(rate, 60.0)
        by_department = dict(
            Response._read_group(
                [("survey_id", "=", self.survey.id)], ["department_id"], ["satisfaction_rate:avg"]
            )
        )
        self.assertAlmostEqual(by_department[self.department], 400 / 7)

    def test_the_answer_view_and_annual_statistics_agree(self):
        [(rate, count)] = self.env["library.satisfaction.answer"]._read_group(
            [("survey_id", "=", self.survey.id)], [], ["satisfied:avg", "__count"]
        )
        self.assertEqual(count, 7)
        self.assertAlmostEqual(rate, 400 / 7)
        [(answers, annual_rate)] = self.env["library.annual.statistics"]._read_group(
            [("year", "=", YEAR), ("department_id", "=", self.department.id)],
            [],
            ["satisfaction_answers:sum", "satisfied:avg"],
        )
        self.assertEqual(answers, 7)
        self.assertAlmostEqual(annual_rate, rate)

    def test_report_prints_the_rate_overall_and_per_dimension(self):
        report = (
            self.env["library.satisfaction.report"]
            .with_user(self.user_manager)
            .create({"date_from": date(YEAR, 1, 1), "date_to": date(YEAR, 12, 31)})
        )
        data = report._report_data()
        self.assertEqual(data["current"]["responses"], 5)
        self.assertAlmostEqual(data["current"]["index"], 80.0, msg="overall (5 + 3) / 2 x 20")
        self.assertAlmostEqual(data["current"]["rate"], 400 / 7)
        [desk] = [row for row in data["dimensions"] if row["name"] == self.dimension.name]
        self.assertTrue(desk["enough"])
        self.assertAlmostEqual(desk["score"], 16 / 5)
        self.assertAlmostEqual(desk["rate"], 60.0, msg="5, 4, 2, 4, 1: three at 4-5")
        # Expected 4, 5, 3, 4, 2: gaps +1, -1, -1, 0, -1.
        self.assertAlmostEqual(desk["expectation"], 18 / 5)
        self.assertAlmostEqual(desk["gap"], -0.4)
        self.user_manager.lang = "en_US"
        html = (
            self.env["ir.actions.report"]
            .with_user(self.user_manager)
            ._render_qweb_html("library_crm.action_report_satisfaction", report.ids)[0]
            .decode()
        )
        self.assertIn("57.1%", html)
        self.assertIn("60.0%", html)
        self.assertIn("3.6", html)
        self.assertIn("-0.4", html)

    def test_quality_gap_per_answer_and_dimension(self):
        Answer = self.env["library.satisfaction.answer"]
        desk = Answer.search(
            [("survey_id", "=", self.survey.id), ("role", "=", "dimension")], order="id"
        )
        self.assertEqual(desk.partner_id, self.readers)
        self.assertEqual(desk.mapped("expectation_score"), [4, 5, 3, 4, 2])
        self.assertEqual(desk.mapped("quality_gap"), [1, -1, -1, 0, -1])
        overall = Answer.search([("survey_id", "=", self.survey.id), ("role", "=", "overall")])
        self.assertEqual(len(overall), 2)
        self.assertFalse(any(overall.mapped("quality_gap")), "no expectation of the overall")
        [(score, expectation, gap)] = Answer._read_group(
            [("survey_id", "=", self.survey.id), ("dimension_id", "=", self.dimension.id)],
            [],
            ["score:avg", "expectation_score:avg", "quality_gap:avg"],
        )
        self.assertAlmostEqual(score, 3.2)
        self.assertAlmostEqual(expectation, 3.6)
        self.assertAlmostEqual(gap, -0.4)

    def test_expectations_are_not_satisfaction(self):
        Answer = self.env["library.satisfaction.answer"]
        self.assertFalse(Answer.search([("question_id", "=", self.q_expected.id)]))
        self.assertNotIn("expectation", Answer.search([]).mapped("role"))
        # The reader's satisfaction is their dimension and overall scores only:
        # 5 and 5 (expected 4), 4 and 3 (expected 5), 2 (expected 3).
        self.assertEqual(self.readers[:3].mapped("satisfaction_score"), [5.0, 3.5, 2.0])
        Response = self.env["library.satisfaction.response"].browse(self.responses.ids)
        self.assertEqual(Response.mapped("dimension_score"), [5, 4, 2, 4, 1])
        self.assertEqual(Response.mapped("lowest_score"), [5, 4, 2, 4, 1])
        self.assertEqual(Response.mapped("is_unhappy"), [False, False, True, False, True])

    def test_shipped_survey_asks_the_expectation_of_each_dimension_first(self):
        survey = self.env.ref("library_crm.survey_reader_satisfaction")
        questions = survey.question_ids
        expected = questions.filtered(lambda q: q.library_role == "expectation")
        experienced = questions.filtered(lambda q: q.library_role == "dimension")
        self.assertEqual(len(expected), 4)
        self.assertEqual(expected.library_dimension_id, experienced.library_dimension_id)
        ordered = survey.question_and_page_ids.sorted()
        for question in expected:
            with self.subTest(dimension=question.library_dimension_id.name):
                self.assertEqual(question.page_id.title, question.library_dimension_id.name)
                same = experienced.filtered(
                    lambda q, dim=question.library_dimension_id: q.library_dimension_id == dim
                )
                self.assertEqual(same.page_id, question.page_id)
                self.assertLess(
                    list(ordered).index(question), min(list(ordered).index(q) for q in same)
                )
