# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import csv
import io

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestUsageImport(LibraryCrmCase):
    def _import(self, text, source="ils", user=None):
        wizard = (
            self.env["library.usage.import"]
            .with_user(user or self.user_manager)
            .create(
                {
                    "file": base64.b64encode(text.encode()),
                    "source": source,
                    "filename": "loans.csv",
                }
            )
        )
        wizard.action_import()
        return wizard

    def test_import_idempotent_with_rejections(self):
        content = "\n".join(
            [
                "读者证号,类型,时间,数量,流水号,资源",
                "2024000001,借阅,2026/03/01 10:15,2,L1,TP311/123",
                " 2024000001 ,visit,2026-03-02,,G1,",
                "2024000001,eresource,2026-03-03 23:59:59,1,E1,CNKI",
                "UNKNOWN,loan,2026-03-01,1,L2,",
                "2024000001,loan,2026-02-30,1,L3,",
                "2024000001,loan,2026-03-01 25:00,1,L4,",
                "2024000001,flying,2026-03-01,1,L5,",
                "2024000001,loan,2026-03-01,-1,L6,",
                "2024000001,loan",
            ]
        )
        wizard = self._import(content)
        self.assertEqual(
            (wizard.imported_count, wizard.duplicate_count, wizard.rejected_count), (3, 0, 6)
        )
        usage = self.env["library.usage"].search([("partner_id", "=", self.reader.id)])
        self.assertEqual(sorted(usage.mapped("kind")), ["eresource", "loan", "visit"])
        loan = usage.filtered(lambda u: u.kind == "loan")
        self.assertEqual((loan.quantity, loan.resource_ref, loan.source), (2, "TP311/123", "ils"))
        rows = list(
            csv.reader(io.StringIO(base64.b64decode(wizard.rejected_file).decode("utf-8-sig")))
        )
        reasons = {row[0]: row[1] for row in rows[1:]}
        self.assertEqual(
            reasons,
            {
                "5": "Unknown card number.",
                "6": "Not a date and time (use YYYY-MM-DD HH:MM).",
                "7": "Not a date and time (use YYYY-MM-DD HH:MM).",
                "8": "Unknown kind of usage.",
                "9": "Quantity is not a whole number of zero or more.",
                "10": "Wrong number of columns.",
            },
        )
        self.assertEqual(rows[1][2:4], ["UNKNOWN", "loan"])
        again = self._import(content)
        self.assertEqual((again.imported_count, again.duplicate_count), (0, 3))
        self.assertEqual(
            self.env["library.usage"].search_count([("partner_id", "=", self.reader.id)]), 3
        )
        # The same reference from another source is another record.
        self.assertEqual(self._import(content, source="gate").imported_count, 3)

    def test_rows_without_reference_are_idempotent(self):
        content = "card number,kind,date\n2024000001,loan,2026-03-01 09:00\n"
        self.assertEqual(self._import(content).imported_count, 1)
        self.assertEqual(self._import(content).duplicate_count, 1)

    def test_missing_columns_and_rights(self):
        with self.assertRaises(UserError):
            self._import("card number,quantity\n2024000001,1\n")
        with self.assertRaises(AccessError):
            self._import(
                "card number,kind,date\n2024000001,loan,2026-03-01\n", user=self.user_librarian
            )

    def test_usage_access(self):
        usage = self.env["library.usage"].create(
            {"partner_id": self.reader.id, "kind": "loan", "occurred_at": "2026-03-01 10:00:00"}
        )
        self.assertTrue(usage.external_ref)
        self.assertEqual(usage.with_user(self.user_librarian).kind, "loan")
        with self.assertRaises(AccessError):
            usage.with_user(self.user_librarian).write({"quantity": 3})
        usage.with_user(self.user_manager).write({"quantity": 3})
        for user in (self.user_portal, self.user_internal, self.user_public):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                usage.with_user(user).read(["kind"])

    def test_generic_import_of_small_files(self):
        importer = self.env["base_import.import"].create(
            {
                "res_model": "library.usage",
                "file": b"partner_id,kind,occurred_at\n2024000001,loan,2026-03-05 10:00:00\n",
                "file_type": "text/csv",
            }
        )
        fields = ["partner_id", "kind", "occurred_at"]
        result = importer.execute_import(
            fields,
            fields,
            {
                "quoting": '"',
                "separator": ",",
                "has_headers": True,
                "datetime_format": "%Y-%m-%d %H:%M:%S",
            },
        )
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(self.env["library.usage"].browse(result["ids"]).partner_id, self.reader)


@tagged("post_install", "-at_install")
class TestUsagePortalAndReport(HttpCase):
    def test_reader_sees_only_own_usage_summary(self):
        reader_user = new_test_user(
            self.env, login="usage_reader", password="usage_reader_pw1", groups="base.group_portal"
        )
        other_user = new_test_user(
            self.env, login="usage_other", password="usage_other_pw1", groups="base.group_portal"
        )
        reader_user.partner_id.write({"is_reader": True, "reader_card_number": "PORTAL-1"})
        other_user.partner_id.write({"is_reader": True, "reader_card_number": "PORTAL-2"})
        Usage = self.env["library.usage"]
        Usage.create(
            {
                "partner_id": reader_user.partner_id.id,
                "kind": "loan",
                "occurred_at": "2026-11-01 10:00:00",
                "quantity": 7,
            }
        )
        Usage.create(
            {
                "partner_id": other_user.partner_id.id,
                "kind": "eresource",
                "occurred_at": "2026-11-01 10:00:00",
                "quantity": 41,
            }
        )
        self.authenticate("usage_reader", "usage_reader_pw1")
        page = self.url_open("/my/library-usage")
        self.assertEqual(page.status_code, 200)
        self.assertIn("PORTAL-1", page.text)
        self.assertIn(">7<", page.text)
        self.assertNotIn("PORTAL-2", page.text)
        self.assertNotIn(">41<", page.text)

    def test_segment_summary_pdf(self):
        reader = self.env["res.partner"].create(
            {"name": "PDF Reader", "is_reader": True, "reader_category": "faculty"}
        )
        self.env["library.usage"].create(
            {"partner_id": reader.id, "kind": "loan", "occurred_at": "2026-11-01 10:00:00"}
        )
        self.env["library.segmentation"]._recompute(full=True)
        summary = self.env["library.segment.summary"].create(
            {"date_from": "2026-01-01", "date_to": "2026-12-31"}
        )
        data = summary._summary_data()
        self.assertGreaterEqual(data["total"], 1)
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        with self.allow_pdf_render():
            pdf, kind = Report._render_qweb_pdf(
                "library_crm.action_report_segment_summary", summary.ids
            )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        html = Report._render_qweb_html("library_crm.action_report_segment_summary", summary.ids)[
            0
        ]
        self.assertIn(f"<b>{data['total']}</b>", html.decode())
