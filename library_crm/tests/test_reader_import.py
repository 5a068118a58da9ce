# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import csv
import io
import zipfile
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time
from openpyxl import Workbook

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..wizards.import_columns import XLSX_MAX_UNCOMPRESSED
from .common import LibraryCrmCase

HEADER = (
    "card number,name,email,phone,category,department code,major code,"
    "enrollment year,birthdate,card expiry"
)


@tagged("post_install", "-at_install")
class TestReaderImport(LibraryCrmCase):
    def _import(self, content, filename="readers.csv", user=None, lang="en_US"):
        wizard = (
            self.env["library.reader.import"]
            .with_user(user or self.user_librarian)
            .with_context(lang=lang)
            .create({"file": base64.b64encode(content), "filename": filename})
        )
        wizard.action_import()
        return wizard

    def _csv(self, *lines, header=HEADER, encoding="utf-8"):
        return "\n".join((header, *lines)).encode(encoding)

    def _rejected_rows(self, wizard):
        text = base64.b64decode(wizard.rejected_file).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))

    def _reader(self, card):
        return self.env["res.partner"].search([("reader_card_number", "=", card)])

    def test_good_file_creates_readers(self):
        wizard = self._import(
            self._csv(
                "2025000101,李华,lihua@example.edu,13800000001,本科生,xcs,XCS01,2025,2007-05-04,2029-07-31",
                " 2025000102 ,Emily Carter,,,postgraduate,XMATH,,2025,2001/12/30,20270731",
                "t0099,张老师,zhang@example.edu,,Faculty,XHIST,,,,",
            )
        )
        self.assertEqual(
            (wizard.state, wizard.created_count, wizard.updated_count, wizard.rejected_count),
            ("done", 3, 0, 0),
        )
        self.assertFalse(wizard.rejected_file)
        li = self._reader("2025000101")
        self.assertRecordValues(
            li,
            [
                {
                    "name": "李华",
                    "is_reader": True,
                    "email": "lihua@example.edu",
                    "phone": "13800000001",
                    "reader_category": "undergraduate",
                    "library_department_id": self.dept_cs.id,
                    "library_major_id": self.major_se.id,
                    "enrollment_year": 2025,
                    "birthdate": date(2007, 5, 4),
                    "card_expiry_date": date(2029, 7, 31),
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(self._reader("2025000102").birthdate, date(2001, 12, 30))
        self.assertEqual(self._reader("2025000102").card_expiry_date, date(2027, 7, 31))
        self.assertEqual(self._reader("T0099").reader_category, "faculty")

    def test_bad_rows_rejected_with_reasons_good_rows_kept(self):
        wizard = self._import(
            self._csv(
                ",No Card,,,,,,,,",
                "B1,,,,,,,,,",
                "B2,Bad Mail,not-an-email,,,,,,,",
                "B3,Bad Dept,,,,NOPE,,,,",
                "B4,Bad Major,,,,,XX99,,,",
                "B5,Wrong Major,,,,XHIST,XCS01,,,",
                "B6,Bad Date,,,,,,,2001-13-45,",
                "B7,Bad Year,,,,,,20x5,,",
                "B8,Bad Category,,,martian,,,,,",
                "DUP,Twice A,,,,,,,,",
                "dup ,Twice B,,,,,,,,",
                "G1,Good One,,,,XCS,,,,",
                "B9,Bad Expiry,,,,,,,,31/31/2030",
            )
        )
        self.assertEqual((wizard.created_count, wizard.rejected_count), (1, 12))
        self.assertTrue(self._reader("G1"))
        self.assertFalse(self._reader("B2") | self._reader("DUP"))
        rows = self._rejected_rows(wizard)
        self.assertEqual(rows[0][:3], ["Row", "Reason", "card number"])
        reasons = {row[0]: row[1] for row in rows[1:]}
        self.assertEqual(
            reasons,
            {
                "2": "Card number is missing.",
                "3": "Name is missing.",
                "4": "E-mail address is not valid.",
                "5": "Unknown department code.",
                "6": "Unknown major code.",
                "7": "The major does not belong to the department.",
                "8": "Birthdate is not a date (use YYYY-MM-DD).",
                "9": "Enrollment year is not a year.",
                "10": "Unknown reader category.",
                "11": "The card number appears more than once in the file.",
                "12": "The card number appears more than once in the file.",
                "14": "Card expiry is not a date (use YYYY-MM-DD).",
            },
        )
        # The rejected file keeps the original cells so it can be fixed and re-imported.
        self.assertEqual(rows[3][2:5], ["B2", "Bad Mail", "not-an-email"])
        self.assertEqual(len(wizard.error_ids), 12)
        self.assertEqual(wizard.rejected_filename, "readers-rejected.csv")

    def test_rerun_creates_and_changes_nothing(self):
        content = self._csv(
            "R1,Reader One,one@example.edu,,undergraduate,XCS,XCS01,2024,2006-01-01,2028-07-31",
            "R2,Reader Two,,,doctoral,XMATH,XMA02,2023,,",
        )
        first = self._import(content)
        self.assertEqual(first.created_count, 2)
        count = self.env["res.partner"].search_count([("is_reader", "=", True)])
        second = self._import(content)
        self.assertEqual(
            (second.created_count, second.updated_count, second.unchanged_count), (0, 0, 2)
        )
        self.assertEqual(self.env["res.partner"].search_count([("is_reader", "=", True)]), count)

    def test_update_existing_reader_keeps_what_file_lacks(self):
        self.reader.phone = "010-1234"
        wizard = self._import(
            self._csv(
                "2024000001,王晓明,new.mail@example.edu,,postgraduate,,,,,",
            )
        )
        self.assertEqual((wizard.created_count, wizard.updated_count), (0, 1))
        self.assertEqual(self.reader.email, "new.mail@example.edu")
        self.assertEqual(self.reader.reader_category, "postgraduate")
        # Empty cells don't erase the reader file.
        self.assertEqual(self.reader.phone, "010-1234")
        self.assertEqual(self.reader.library_major_id, self.major_se)

    def test_archived_reader_is_updated_not_duplicated(self):
        self.reader.action_archive()
        wizard = self._import(self._csv("2024000001,王晓明,,,faculty,,,,,"))
        self.assertEqual((wizard.created_count, wizard.updated_count), (0, 1))
        self.assertEqual(self.reader.reader_category, "faculty")

    def test_chinese_headers_and_gbk_encoding(self):
        content = self._csv(
            "2025000201,赵六,zhao@example.edu,本科生,XCS",
            header="读者证号,姓名,电子邮箱,读者类别,院系代码",
            encoding="gbk",
        )
        wizard = self._import(content)
        self.assertEqual(wizard.created_count, 1)
        reader = self._reader("2025000201")
        self.assertEqual((reader.name, reader.library_department_id), ("赵六", self.dept_cs))

    def test_semicolon_separated(self):
        content = self._csv("S1;Semi Colon;s@example.edu", header="card number;name;email")
        self.assertEqual(self._import(content).created_count, 1)
        self.assertEqual(self._reader("S1").email, "s@example.edu")

    def test_xlsx(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["读者证号", "姓名", "邮箱", "入学年份", "出生日期", "专业代码"])
        sheet.append([2025000301, "孙七", "sun@example.edu", 2025, date(2006, 9, 1), "xma02"])
        sheet.append([2025000302, "周八", "bad@", 2025.0, None, None])
        sheet.append([None, None, None, None, None, None])
        buffer = io.BytesIO()
        workbook.save(buffer)
        wizard = self._import(buffer.getvalue(), filename="readers.xlsx")
        self.assertEqual((wizard.created_count, wizard.rejected_count), (1, 1))
        reader = self._reader("2025000301")
        self.assertRecordValues(
            reader,
            [
                {
                    "name": "孙七",
                    "enrollment_year": 2025,
                    "birthdate": date(2006, 9, 1),
                    "library_major_id": self.major_stat.id,
                    "library_department_id": self.dept_math.id,
                }
            ],
        )
        self.assertEqual(wizard.error_ids.card_number, "2025000302")

    def test_missing_required_column_or_bad_file(self):
        with self.assertRaises(UserError) as error:
            self._import(b"email,phone\na@example.edu,1\n")
        self.assertIn("required", str(error.exception))
        with self.assertRaises(UserError) as error:
            self._import(b"\n\n")
        self.assertIn("empty", str(error.exception))
        with self.assertRaises(UserError):
            self._import(b"\xd0\xcf\x11\xe0 old excel", filename="old.xls")
        with self.assertRaises(UserError):
            self.env["library.reader.import"].with_user(self.user_librarian).create(
                {}
            ).action_import()

    def test_reasons_translated(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        wizard = self._import(self._csv("X1,,,,,,,,,"), lang="zh_CN")
        self.assertEqual(wizard.error_ids.reason, "缺少姓名。")

    def test_many_rows_in_batches(self):
        lines = [
            f"M{n:05d},Reader {n},r{n}@example.edu,,undergraduate,XCS,,2024,," for n in range(2500)
        ]
        wizard = self._import(self._csv(*lines))
        self.assertEqual(wizard.created_count, 2500)
        lines[10] = "M00010,Reader renamed,r10@example.edu,,undergraduate,XCS,,2024,,"
        wizard = self._import(self._csv(*lines))
        self.assertEqual((wizard.created_count, wizard.updated_count), (0, 1))
        self.assertEqual(self._reader("M00010").name, "Reader renamed")

    def test_odoo_generic_import_still_works(self):
        content = (
            b"reader_card_number,name,is_reader,reader_category,library_department_id,"
            b"library_major_id\n"
            b" gen-1 ,Generic Reader,1,Faculty,XCS,XCS01\n"
        )
        messages = self._odoo_import("res.partner", content, self.user_librarian)
        self.assertFalse(messages, messages)
        reader = self._reader("GEN-1")
        self.assertRecordValues(
            reader,
            [
                {
                    "name": "Generic Reader",
                    "reader_category": "faculty",
                    "library_department_id": self.dept_cs.id,
                    "library_major_id": self.major_se.id,
                }
            ],
        )

    @freeze_time("2026-06-01 12:00:00")
    def test_malformed_cells_are_rejected_rows_good_rows_kept(self):
        """Each bad cell is one rejected row with its reason; every good row
        of the same file is imported."""
        padding = [f"P{n:04d},Padding {n},,,,,,,," for n in range(400)]
        content = "\r".join(
            [
                HEADER,
                "Z1,Zero Year,,,,,,,0000-01-01,",
                "Z2,Bad Time,,,,,,,2001-01-01 10:00:61,",
                "Z3,Huge Year,,,,,,99999999999,,",
                "Z5,Nul\x00Byte,,,,,,,,",
                "Z6,Born Tomorrow,,,,,,,2026-06-02,",
                "Z7,Born Today,,,,,,,2026-06-01,",
                'Z8,"Stray quote,,,,,,,,',
                "Z9,After The Quote,,,,,,,,",
                'Z10,"Li ""Ann"" Hua",,,,,,,,',
                'Z11,=HYPERLINK("http://x"),,,,,,,,2031-01-01 bad',
                *padding,
                "Z12,王小二,,,本科生,,,,,",
                "",
            ]
        )
        data = content.encode("gbk")
        # Text that is not UTF-8 only comes after the first 8 KB.
        self.assertGreater(data.index("王".encode("gbk")), 8192)
        wizard = self._import(data)
        self.assertEqual((wizard.created_count, wizard.rejected_count), (404, 7))
        self.assertEqual(self._reader("Z10").name, 'Li "Ann" Hua')
        self.assertEqual(self._reader("Z12").name, "王小二")
        self.assertEqual(self._reader("Z7").birthdate, date(2026, 6, 1))
        self.assertTrue(self._reader("Z9"))
        rows = self._rejected_rows(wizard)
        reasons = {row[0]: row[1] for row in rows[1:]}
        birthdate = "Birthdate is not a date (use YYYY-MM-DD)."
        year = "Enrollment year is not a year."
        self.assertEqual(
            reasons,
            {
                "2": birthdate,
                "3": birthdate,
                "4": year,
                "5": "The row contains a NUL character (binary data).",
                "6": "Birthdate is in the future.",
                "8": "A quotation mark opens a cell that never closes; the row was not read.",
                "11": "Card expiry is not a date (use YYYY-MM-DD).",
            },
        )
        by_line = {row[0]: row for row in rows[1:]}
        self.assertEqual(by_line["11"][3], '\'=HYPERLINK("http://x")')
        self.assertEqual(by_line["5"][3], "NulByte")
        self.assertEqual(by_line["8"][2], 'Z8,"Stray quote,,,,,,,,')
        self.assertFalse(self._reader("Z5") | self._reader("Z6") | self._reader("Z8"))
        # A rerun creates nothing.
        again = self._import(data)
        self.assertEqual((again.created_count, again.updated_count), (0, 0))
        # "²" is a digit to str.isdigit(), not to int(): a rejected row, no error.
        wizard = self._import(self._csv("Z4,Super Two,,,,,,²⁰²⁵,,", "Z13,Fine,,,,,,2025,,"))
        self.assertEqual((wizard.created_count, wizard.error_ids.reason), (1, year))

    def test_size_limit(self):
        self.env["ir.config_parameter"].sudo().set_param("library_crm.import_max_mb", "1")
        lines = [f"L{n:06d},Reader {n},,,,,,,," for n in range(60000)]
        content = self._csv(*lines)
        self.assertGreater(len(content), 1024 * 1024)
        with self.assertRaisesRegex(UserError, "larger than 1 MB"):
            self._import(content)
        self.assertFalse(self._reader("L000001"))

    def test_xlsx_zip_bomb_refused_before_opening(self):
        workbook = Workbook()
        workbook.active.append(["读者证号", "姓名"])
        workbook.active.append(["X1", "Bomb"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        # A part that inflates far beyond the limit: small on disk.
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("xl/media/padding.bin", "w", force_zip64=True) as part:
                chunk = b"\0" * (1024 * 1024)
                for _n in range(XLSX_MAX_UNCOMPRESSED // len(chunk) + 1):
                    part.write(chunk)
        content = buffer.getvalue()
        self.assertLess(len(content), 2 * 1024 * 1024)
        with (
            patch("odoo.addons.library_crm.wizards.library_reader_import.load_workbook") as load,
            self.assertRaisesRegex(UserError, "once uncompressed"),
        ):
            self._import(content, filename="bomb.xlsx")
        load.assert_not_called()
        self.assertFalse(self._reader("X1"))
