# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io
import json
from datetime import datetime

import openpyxl
from freezegun import freeze_time

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import LibraryCrmCase, LibraryCrmHttpCase

# A year no demo data reaches, with the clock frozen just after it: the
# figures are the test's own, whatever today is.
YEAR = 2003
NOW = datetime(YEAR + 1, 2, 1, 10, 0)


class AnnualStatisticsCommon:
    @classmethod
    def _setup_annual(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Partner = cls.env["res.partner"]

        def reader(name, card, dept, category):
            return Partner.create(
                {
                    "name": name,
                    "is_reader": True,
                    "reader_card_number": card,
                    "reader_category": category,
                    "library_department_id": dept.id,
                }
            )

        cls.cs_readers = [
            reader(f"CS {i}", f"AS03CS{i}", cls.dept_cs, "undergraduate") for i in range(5)
        ]
        cls.math_faculty = reader("Math Prof", "AS03MA1", cls.dept_math, "faculty")
        cls.hist_silent = reader("Hist Alert Only", "AS03HI1", cls.dept_hist, "postgraduate")
        Usage = cls.env["library.usage"].sudo()

        def use(partner, kind, when, quantity=1, ref=None):
            Usage.create(
                {
                    "partner_id": partner.id,
                    "kind": kind,
                    "occurred_at": when,
                    "quantity": quantity,
                    "resource_ref": ref,
                    "source": "test",
                }
            )

        first, second = cls.cs_readers[:2]
        use(first, "visit", datetime(YEAR, 3, 1, 9), quantity=3)
        use(first, "loan", datetime(YEAR, 3, 1, 10), quantity=2)
        use(first, "renewal", datetime(YEAR, 4, 1, 10))
        use(first, "training", datetime(YEAR, 5, 6, 14), ref="CNKI basics")
        use(second, "training", datetime(YEAR, 5, 6, 14), ref="CNKI basics")
        use(second, "training", datetime(YEAR, 10, 6, 14), ref="Zotero")
        use(second, "eresource", datetime(YEAR, 12, 31, 23, 30), quantity=4)
        use(cls.math_faculty, "consultation", datetime(YEAR, 6, 1, 10))
        use(cls.math_faculty, "ill", datetime(YEAR, 6, 2, 10))
        use(cls.math_faculty, "loan", datetime(YEAR, 1, 1, 0, 0))
        # Outside the year: the last second before it and the first after it.
        use(first, "loan", datetime(YEAR - 1, 12, 31, 23, 59, 59), quantity=7)
        use(first, "loan", datetime(YEAR + 1, 1, 1, 0, 0), quantity=11)
        # An alert click is attention, not use: no active reader.
        use(cls.hist_silent, "alert_click", datetime(YEAR, 7, 1, 10))

        category = cls.env["library.suggestion.category"].create({"name": "Annual test"})
        Suggestion = cls.env["library.suggestion"]
        with freeze_time(datetime(YEAR, 8, 1, 9)):
            cls.suggestions = Suggestion.create(
                [
                    {"partner_id": first.id, "category_id": category.id, "subject": "Seats"},
                    {"partner_id": second.id, "category_id": category.id, "subject": "Hours"},
                    {
                        "partner_id": cls.math_faculty.id,
                        "category_id": category.id,
                        "subject": "Journals",
                    },
                ]
            )
        cls.suggestions[1].sudo().adopted = True
        with freeze_time(datetime(YEAR + 1, 1, 3, 9)):
            Suggestion.create(
                {"partner_id": first.id, "category_id": category.id, "subject": "Next year"}
            )

        # A survey of its own: one dimension and one overall question (1-5).
        dimension = cls.env["library.satisfaction.dimension"].search([], limit=1)
        cls.survey = cls.env["survey.survey"].create(
            {
                "title": "Annual statistics test survey",
                "access_mode": "token",
                "question_and_page_ids": [
                    (
                        0,
                        0,
                        {
                            "title": "Service",
                            "question_type": "scale",
                            "scale_min": 1,
                            "scale_max": 5,
                            "library_role": "dimension",
                            "library_dimension_id": dimension.id,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "title": "Overall",
                            "question_type": "scale",
                            "scale_min": 1,
                            "scale_max": 5,
                            "library_role": "overall",
                        },
                    ),
                ],
            }
        )
        # Five CS respondents, 10 answers of which 6 at 4-5: 60 %. The faculty
        # reader alone: 2 answers, 1 at 4-5, a group too small to print.
        scores = [(5, 4), (4, 3), (3, 2), (5, 5), (4, 1)]
        with freeze_time(datetime(YEAR, 11, 1, 9)):
            for partner, pair in zip(cls.cs_readers, scores, strict=True):
                cls._answer(partner, pair)
            cls._answer(cls.math_faculty, (4, 2))

    @classmethod
    def _answer(cls, partner, pair):
        user_input = cls.survey._create_answer(partner=partner, check_attempts=False)
        for question, score in zip(cls.survey.question_ids, pair, strict=True):
            user_input._save_lines(question, str(score))
        user_input._mark_done()

    def _wizard(self, user):
        with freeze_time(NOW):
            return self.env["library.annual.statistics.report"].with_user(user).create({})


@tagged("post_install", "-at_install")
class TestAnnualStatistics(AnnualStatisticsCommon, LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_annual()

    def _by(self, groupby, *aggregates):
        Stats = self.env["library.annual.statistics"].with_user(self.user_librarian)
        return {
            key: values
            for key, *values in Stats._read_group(
                [("year", "=", YEAR), ("department_id", "in", self._depts.ids)],
                [groupby],
                list(aggregates),
            )
        }

    @property
    def _depts(self):
        return self.dept_cs | self.dept_math | self.dept_hist

    def test_figures_per_department_by_hand(self):
        figures = self._by(
            "department_id",
            "active_readers:sum",
            "visits:sum",
            "loans:sum",
            "renewals:sum",
            "training_attendances:sum",
            "training_attendees:sum",
            "eresource_sessions:sum",
            "consultations:sum",
            "ill_requests:sum",
            "suggestions_received:sum",
            "suggestions_adopted:sum",
            "satisfaction_answers:sum",
            "satisfied:avg",
        )
        # CS: readers 0 and 1 used the library (the other three only answered
        # the survey); 3 visits; 2 loans (7 and 11 are outside the year).
        self.assertEqual(figures[self.dept_cs], [2, 3, 2, 1, 3, 2, 4, 0, 0, 2, 1, 10, 60.0])
        self.assertEqual(figures[self.dept_math], [1, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 2, 50.0])
        # History: an alert click only, no answer, no suggestion.
        self.assertEqual(figures[self.dept_hist][:12], [0] * 12)
        self.assertIn(figures[self.dept_hist][12], (None, False), "no answer, no rate")

    def test_category_and_year_boundaries(self):
        by_category = self._by("reader_category", "loans:sum", "active_readers:sum")
        self.assertEqual(by_category["undergraduate"], [2, 2])
        self.assertEqual(by_category["faculty"], [1, 1])
        Stats = self.env["library.annual.statistics"].with_user(self.user_librarian)
        loans = dict(
            Stats._read_group(
                [("department_id", "=", self.dept_cs.id), ("year", "in", [YEAR - 1, YEAR + 1])],
                ["year"],
                ["loans:sum"],
            )
        )
        self.assertEqual(loans, {YEAR - 1: 7, YEAR + 1: 11})

    def test_pdf_data_and_k_anonymity(self):
        wizard = self._wizard(self.user_manager)
        self.assertEqual(wizard.year, YEAR, "the year just ended by default")
        data = wizard._report_data()
        departments = {row[0]: row for row in data["departments"]}
        cs = departments["School of Science / Computer Science"]
        self.assertEqual(cs[1]["loans"], 2)
        self.assertEqual(cs[2], 60.0)
        math = departments["School of Science / Mathematics"]
        self.assertIsNone(math[2], "one respondent: no satisfaction rate printed")
        # Two trainings held (CNKI basics, attended by two readers, and Zotero).
        self.assertEqual(data["training_sessions"], 2)
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_user(self.user_manager)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("library_crm.action_report_annual_statistics", wizard.ids)
        )
        self.assertTrue(pdf.startswith(b"%PDF"))
        html = (
            self.env["ir.actions.report"]
            .with_user(self.user_manager)
            ._render_qweb_html("library_crm.action_report_annual_statistics", wizard.ids)[0]
            .decode()
        )
        self.assertIn(f"Annual Reader Services Statistics {YEAR}", html)
        self.assertIn("School of Science / Computer Science", html)

    def test_only_staff_reach_the_figures(self):
        for user in (self.user_portal, self.user_internal):
            with self.assertRaises(AccessError):
                self.env["library.annual.statistics"].with_user(user).search_read([])
            with self.assertRaises(AccessError):
                self._wizard(user)
        librarian_wizard = self._wizard(self.user_librarian)
        with self.assertRaises(AccessError):
            librarian_wizard.action_print()
        action = librarian_wizard.action_open_table()
        self.assertEqual(action["res_model"], "library.annual.statistics")
        self.assertIn(("year", "=", YEAR), action["domain"])
        # Another user's wizard is not the librarian's to print or open.
        manager_wizard = self._wizard(self.user_manager)
        with self.assertRaises(AccessError):
            manager_wizard.with_user(self.user_librarian).action_open_table()

    def test_a_library_the_user_does_not_work_for(self):
        other = self.env["res.company"].create({"name": "Other Library"})
        wizard = self._wizard(self.user_manager)
        wizard.company_id = other  # as an RPC write with a chosen id would
        with self.assertRaises(UserError):
            wizard.with_user(self.user_manager).action_print()
        with self.assertRaises(UserError):
            wizard.with_user(self.user_manager).action_open_table()

    def test_a_wrong_year_is_refused(self):
        with self.assertRaises(UserError):
            self.env["library.annual.statistics.report"].with_user(self.user_manager).create(
                {"year": 20031}
            )


@tagged("post_install", "-at_install")
class TestAnnualStatisticsHttp(AnnualStatisticsCommon, LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_annual()

    def test_xlsx_export_has_the_figures(self):
        """Odoo's own list export (the Export button, grouped as in the
        pivot) writes the department's figures to an XLSX file, for a
        librarian the administrator allowed to export."""
        self.user_librarian.group_ids |= self.env.ref("base.group_allow_export")
        self.authenticate_as(self.user_librarian)
        data = {
            "model": "library.annual.statistics",
            "fields": [
                {"name": "department_id", "label": "Department", "type": "many2one"},
                {"name": "loans", "label": "Loans", "type": "integer"},
                {
                    "name": "training_attendances",
                    "label": "Training Attendances",
                    "type": "integer",
                },
            ],
            "ids": False,
            "domain": [("year", "=", YEAR), ("department_id", "=", self.dept_cs.id)],
            "groupby": ["department_id"],
            "context": {},
            "import_compat": False,
        }
        response = self.url_open(
            "/web/export/xlsx",
            data={"data": json.dumps(data), "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200, response.text[-1500:])
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        self.assertEqual(rows[0], ["Department", "Loans", "Training Attendances"])
        group = rows[1]
        self.assertTrue(str(group[0]).startswith("School of Science / Computer Science"))
        # Odoo writes a group row's aggregates as text.
        self.assertEqual([int(value) for value in group[1:]], [2, 3])

    def test_forbidden_over_json_rpc(self):
        for user in (self.user_portal, self.user_internal):
            for model, method, args in (
                ("library.annual.statistics", "search_read", [[]]),
                (
                    "library.annual.statistics",
                    "formatted_read_group",
                    [[], ["year"], ["loans:sum"]],
                ),
                ("library.annual.statistics.report", "create", [{"year": YEAR}]),
            ):
                with (
                    self.subTest(user=user.login, method=method),
                    self.assertRaises(Exception) as caught,
                ):
                    self._rpc(
                        user, model, method, args, {"context": {"active_test": False, "su": True}}
                    )
                self.assertIn("AccessError", str(caught.exception))
        # A librarian with a hostile context still cannot print the PDF.
        wizard_id = self._rpc(
            self.user_librarian, "library.annual.statistics.report", "create", [{"year": YEAR}]
        )
        with self.assertRaises(Exception) as caught:
            self._rpc(
                self.user_librarian,
                "library.annual.statistics.report",
                "action_print",
                [[wizard_id]],
                {"context": {"is_manager": True, "sudo": True, "uid": self.user_manager.id}},
            )
        self.assertIn("AccessError", str(caught.exception))
