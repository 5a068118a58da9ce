# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.http import Request
from odoo.tests import tagged

from .common import LibraryCrmHttpCase


@tagged("post_install", "-at_install")
class TestLiaisonPortal(LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contact_user = cls.user_portal
        cls.other_user = cls._new_user("http_other_dean", "base.group_portal")
        Department = cls.env["library.department"]
        cls.department = Department.create(
            {
                "name": "Chemistry",
                "code": "CHEM",
                "liaison_user_ids": [(6, 0, cls.user_librarian.ids)],
                "contact_ids": [(6, 0, cls.contact_user.partner_id.ids)],
                "review_contact_id": cls.contact_user.partner_id.id,
            }
        )
        cls.other_department = Department.create(
            {
                "name": "Biology",
                "code": "BIO",
                "liaison_user_ids": [(6, 0, cls.user_librarian.ids)],
                "contact_ids": [(6, 0, cls.other_user.partner_id.ids)],
                "review_contact_id": cls.other_user.partner_id.id,
            }
        )
        with freeze_time("2026-12-01"):
            reviews = cls.env["library.liaison.review"]._create_for_year(2026)
        # Only this test's departments: a demo database has reviews of its own.
        reviews = reviews.filtered(
            lambda r: r.department_id in (cls.department | cls.other_department)
        )
        reviews.write({"state": "sent"})
        cls.review = reviews.filtered(lambda r: r.department_id == cls.department)
        cls.other_review = reviews - cls.review
        cls.review._portal_ensure_token()
        cls.other_review._portal_ensure_token()

    def _form(self, **values):
        return {"csrf_token": Request.csrf_token(self), **values}

    def test_contact_fills_review_on_portal(self):
        self.authenticate_as(self.contact_user)
        page = self.url_open(f"/my/liaison-reviews/{self.review.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Chemistry", page.text)
        listing = self.url_open("/my/liaison-reviews")
        self.assertIn(f"/my/liaison-reviews/{self.review.id}", listing.text)
        self.assertNotIn(f"/my/liaison-reviews/{self.other_review.id}", listing.text)

        # A bad form comes back with what was typed and what is wrong.
        response = self.url_open(
            f"/my/liaison-reviews/{self.review.id}",
            data=self._form(summary="Always ready to help <b>us</b>", score_expertise="9"),
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Always ready to help &lt;b&gt;us&lt;/b&gt;", response.text)
        self.assertIn('id="score_expertise" class="form-select w-auto is-invalid"', response.text)
        self.assertEqual(self.review.state, "sent")

        response = self.url_open(
            f"/my/liaison-reviews/{self.review.id}",
            data=self._form(
                summary="Always ready to help <b>us</b>",
                score_responsiveness="5",
                score_expertise="4",
                score_proactive="4",
                score_deliverables="3",
                department_comment="More trainings please",
            ),
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("submitted", response.url)
        self.review.invalidate_recordset()
        self.assertEqual(self.review.state, "submitted")
        self.assertEqual(self.review.score_average, 4.0)
        self.assertNotIn("<b>", self.review.summary)
        self.assertEqual(self.review.department_comment, "More trainings please")

    def test_departments_are_isolated(self):
        self.authenticate_as(self.contact_user)
        response = self.url_open(
            f"/my/liaison-reviews/{self.other_review.id}",
            data=self._form(
                summary="Hijack",
                score_responsiveness="1",
                score_expertise="1",
                score_proactive="1",
                score_deliverables="1",
            ),
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.other_review.invalidate_recordset()
        self.assertEqual(self.other_review.state, "sent")
        # Another review's token does not open this one.
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/liaison-reviews/{self.other_review.id}?access_token={self.review.access_token}"
        )
        self.assertNotIn("Biology", response.text)
        # Its own token does, without an account (the e-mailed link).
        response = self.url_open(self.other_review.get_portal_url())
        self.assertIn("Biology", response.text)

    def test_reports_render_real_pdfs(self):
        self.review._submit(
            {
                "summary": "<p>很好的学科馆员</p>",
                "score_responsiveness": 5,
                "score_expertise": 4,
                "score_proactive": 4,
                "score_deliverables": 5,
            }
        )
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        for xmlid, records in [
            ("library_crm.action_report_liaison_review", self.review),
            ("library_crm.action_report_department_scorecard", self.department),
        ]:
            with self.subTest(report=xmlid), self.allow_pdf_render():
                pdf, kind = Report._render_qweb_pdf(xmlid, records.ids)
                self.assertEqual(kind, "pdf")
                self.assertTrue(pdf.startswith(b"%PDF"))
        html = Report._render_qweb_html(
            "library_crm.action_report_liaison_review", self.review.ids
        )[0]
        self.assertIn("很好的学科馆员", html.decode())
        html = Report._render_qweb_html(
            "library_crm.action_report_department_scorecard", self.department.ids
        )[0]
        self.assertIn("Chemistry", html.decode())

    def test_my_departments_tour(self):
        self.env["library.department"].create({"name": "Physics", "code": "PHYS"})
        self.env["res.partner"].create(
            {
                "name": "Prof. Tour",
                "is_reader": True,
                "reader_category": "faculty",
                "library_department_id": self.department.id,
            }
        )
        self.start_tour(
            "/odoo", "library_crm_my_departments_tour", login=self.user_librarian.login
        )
        interaction = self.env["library.interaction"].search(
            [("summary", "=", "Tour consultation")]
        )
        self.assertEqual(interaction.department_id, self.department)
        self.assertEqual(interaction.user_id, self.user_librarian)
