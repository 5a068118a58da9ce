# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import LibraryCrmHttpCase


@tagged("post_install", "-at_install")
class TestSatisfactionReport(LibraryCrmHttpCase):
    def test_report_renders_a_real_pdf(self):
        survey = self.env.ref("library_crm.survey_reader_satisfaction")
        # Demo data answers the survey too: the report must count this answer only.
        self.env["library.satisfaction.response"].search([]).user_input_id.unlink()
        reader = self.env["res.partner"].create(
            {"name": "读者甲", "is_reader": True, "reader_card_number": "R-PDF-1"}
        )
        answers = survey._create_answer(partner=reader, check_attempts=False)
        for question in survey.question_ids.filtered("library_role"):
            if question.library_role == "comment":
                answers._save_lines(question, "希望延长开放时间")
            elif question.library_role == "nps":
                answers._save_lines(question, "9")
            else:
                answers._save_lines(question, "4")
        answers._mark_done()
        report = self.env["library.satisfaction.report"].create({})
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        pdf, kind = Report._render_qweb_pdf("library_crm.action_report_satisfaction", report.ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        html = Report._render_qweb_html("library_crm.action_report_satisfaction", report.ids)[0]
        html = html.decode()
        self.assertIn("希望延长开放时间", html)
        self.assertIn("80.0", html, "overall 4 of 5 is an index of 80")
        self.assertIn("100.0", html, "one promoter: NPS 100")

    def test_invitation_tour(self):
        manager = self.user_manager
        manager.email = "manager@example.edu"  # the invitations are sent from it
        department = self.env["library.department"].create(
            {"name": "Tour Chemistry", "code": "TCHEM"}
        )
        readers = self.env["res.partner"].create(
            [
                {
                    "name": f"Chemist {n}",
                    "is_reader": True,
                    "reader_card_number": f"TC{n}",
                    "email": f"chemist{n}@example.edu",
                    "library_department_id": department.id,
                }
                for n in range(3)
            ]
        )
        survey = self.env.ref("library_crm.survey_reader_satisfaction")
        Answer = self.env["survey.user_input"]
        # Demo data answers the survey too: only the tour's invitations count.
        before = Answer.search([("survey_id", "=", survey.id)])
        self.start_tour("/odoo", "library_crm_survey_invitation_tour", login=manager.login)
        invited = (Answer.search([("survey_id", "=", survey.id)]) - before).partner_id
        self.assertEqual(invited, readers)
