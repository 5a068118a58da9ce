# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import freeze_time

from .common import LibraryCrmCase


@freeze_time("2026-06-15 10:00:00")
class TestReportLayout(LibraryCrmCase):
    def test_library_pdfs_use_the_library_paper_formats(self):
        reports = self.env["ir.actions.report"].search(
            [("report_name", "=like", "library_crm.%"), ("report_type", "=", "qweb-pdf")]
        )
        portrait = self.env.ref("library_crm.paperformat_library_a4")
        landscape = self.env.ref("library_crm.paperformat_library_a4_landscape")
        annual = self.env.ref("library_crm.action_report_annual_statistics")
        self.assertIn(annual, reports)
        self.assertEqual(annual.paperformat_id, landscape)
        self.assertEqual(landscape.orientation, "Landscape")
        self.assertEqual((reports - annual).paperformat_id, portrait)
        self.assertEqual(portrait.orientation, "Portrait")
        for paperformat in portrait | landscape:
            # No band is kept for a header section: the letterhead is in the page.
            self.assertLessEqual(paperformat.margin_top, 10)
            self.assertFalse(paperformat.header_spacing)

    def test_letterhead_in_the_page_page_numbers_in_the_footer(self):
        Report = self.env["ir.actions.report"].with_user(self.user_librarian)
        html = Report._render_qweb_html(
            "library_crm.action_report_department_scorecard", self.dept_cs.ids, data={"year": 2026}
        )[0]
        bodies, res_ids, header, footer, _args = Report._prepare_html(html, "library.department")
        self.assertEqual(res_ids, self.dept_cs.ids)
        self.assertEqual(len(bodies), 1)
        body = bodies[0]
        # The letterhead comes first, then the title, in the body itself.
        self.assertIn("o_library_report_letterhead", body)
        self.assertLess(body.index("o_library_report_letterhead"), body.index("<h2>"))
        self.assertIn(self.env.company.name, body)
        self.assertNotIn("o_library_report_letterhead", header)
        self.assertNotIn('class="header', header)
        self.assertIn('class="page"', footer)
        self.assertIn('class="topage"', footer)
