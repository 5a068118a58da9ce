# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import csv
import io
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import LibraryCrmCase, LibraryCrmHttpCase


@tagged("post_install", "-at_install")
class TestUsageImport(LibraryCrmCase):
    def _import(self, text, source="ils", user=None):
        content = text if isinstance(text, bytes) else text.encode()
        wizard = (
            self.env["library.usage.import"]
            .with_user(user or self.user_manager)
            .create(
                {
                    "file": base64.b64encode(content),
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
                "9": "Quantity is not a whole number from 0 to 999999999.",
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

    def _rejected(self, wizard):
        text = base64.b64decode(wizard.rejected_file).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))

    def _usage(self, ref):
        return self.env["library.usage"].search([("external_ref", "=", ref)])

    def test_malformed_cells_are_rejected_rows_good_rows_kept(self):
        """Each bad cell is one rejected row with its reason; COPY never
        aborts and every good row of the file is imported."""
        content = "\n".join(
            [
                "读者证号,类型,时间,数量,流水号,资源",
                "2024000001,loan,2026-03-01 10:00,1,M1,good",
                "2024000001,loan,0000-01-01,1,M2,",
                "2024000001,loan,2026-03-01 10:00:61,1,M3,",
                "2024000001,loan,2026-03-01,99999999999,M4,",
                "2024000001,loan,2026-03-01,1,M5,nul\x00byte",
                "2024000001,loan,2026-03-01,²,M6,",
                '2024000001,loan,2026-03-01,1,M7,"never closed',
                "2024000001,loan,2026-03-01,1,M8,after the stray quote",
                '2024000001,loan,2026-03-01,1,M9,"a ""b"" c"',
                'UNKNOWN,loan,2026-03-01,1,M10,=HYPERLINK("http://x")',
                "2024000001,visit,2026-03-01,1,M11,",
                "2024000001,loan,2026-03-01,1,M12,,",
                "2024000001,loan,2026-03-01,,M13,",
                "2024000001,consultation,２０２６-03-01,1,M14,",
                "2024000001,consultation,2026-03-01,1,M15,",
            ]
        )
        wizard = self._import(content)
        self.assertEqual(
            (wizard.imported_count, wizard.duplicate_count, wizard.rejected_count), (7, 0, 8)
        )
        self.assertEqual(
            sorted(
                self.env["library.usage"]
                .search([("partner_id", "=", self.reader.id)])
                .mapped("external_ref")
            ),
            sorted(["M1", "M8", "M9", "M11", "M12", "M13", "M15"]),
        )
        # Doubled quotes in a quoted cell are one cell, not two (defect 6.3).
        self.assertEqual(self._usage("M9").resource_ref, 'a "b" c')
        rows = self._rejected(wizard)
        # The rejected file carries the file's own column names.
        self.assertEqual(
            rows[0], ["Row", "Reason", "读者证号", "类型", "时间", "数量", "流水号", "资源"]
        )
        reasons = {row[0]: row[1] for row in rows[1:]}
        date = "Not a date and time (use YYYY-MM-DD HH:MM)."
        quantity = "Quantity is not a whole number from 0 to 999999999."
        self.assertEqual(
            reasons,
            {
                "3": date,
                "4": date,
                "5": quantity,
                "6": "The row contains a NUL character (binary data).",
                "7": quantity,
                "8": "A quotation mark opens a cell that never closes; the row was not read.",
                "11": "Unknown card number.",
                "15": date,
            },
        )
        by_line = {row[0]: row for row in rows[1:]}
        # Formulas are neutralised, NUL characters dropped, cells kept.
        self.assertEqual(by_line["11"][7], '\'=HYPERLINK("http://x")')
        self.assertEqual(by_line["6"][7], "nulbyte")
        self.assertEqual(by_line["8"][2], '2024000001,loan,2026-03-01,1,M7,"never closed')
        # A rerun imports nothing twice.
        again = self._import(content)
        self.assertEqual((again.imported_count, again.duplicate_count), (0, 7))

    def test_cr_line_endings_and_gbk_after_8_kb(self):
        good = [f"2024000001,loan,2026-03-01 10:00,1,E{n},{'x' * 40}" for n in range(300)]
        late = "2024000001,loan,2026-03-02 10:00,1,GBK,中文题名"
        content = "\r".join(["card number,kind,date,quantity,id,title", *good, late, ""])
        data = content.encode("gbk")
        self.assertGreater(data.index("中".encode("gbk")), 8192)
        wizard = self._import(data)
        self.assertEqual((wizard.imported_count, wizard.rejected_count), (301, 0))
        self.assertEqual(self._usage("GBK").resource_ref, "中文题名")
        # A file that is neither UTF-8 nor GBK is refused as a whole, clearly.
        with self.assertRaisesRegex(UserError, "neither UTF-8 nor GBK"):
            self._import(b"card number,kind,date\n\x80\xff\xfe\x81,loan,2026-03-01\n")

    def test_size_limit_and_excel_file(self):
        self.env["ir.config_parameter"].sudo().set_param("library_crm.import_max_mb", "1")
        line = "2024000001,loan,2026-03-01 10:00,1,%s\n"
        content = "card number,kind,date,quantity,id\n" + "".join(
            line % f"S{n:07d}" for n in range(40000)
        )
        self.assertGreater(len(content), 1024 * 1024)
        with self.assertRaisesRegex(UserError, "larger than 1 MB"):
            self._import(content)
        with self.assertRaisesRegex(UserError, "Excel"):
            self._import(b"PK\x03\x04 a zip")

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
class TestUsagePortalAndReport(LibraryCrmHttpCase):
    def test_reader_sees_only_own_usage_summary(self):
        reader_user = self.user_portal
        other_user = self._new_user("usage_other", "base.group_portal")
        reader_user.partner_id.write({"is_reader": True, "reader_card_number": "PORTAL-1"})
        other_user.partner_id.write({"is_reader": True, "reader_card_number": "PORTAL-2"})
        Usage = self.env["library.usage"]
        Usage.create(
            {
                "partner_id": reader_user.partner_id.id,
                "kind": "loan",
                # Within the portal's last twelve months, whatever today is.
                "occurred_at": fields.Datetime.now() - timedelta(days=28),
                "quantity": 7,
            }
        )
        Usage.create(
            {
                "partner_id": other_user.partner_id.id,
                "kind": "eresource",
                "occurred_at": fields.Datetime.now() - timedelta(days=28),
                "quantity": 41,
            }
        )
        self.authenticate_as(reader_user)
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
