# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import csv
import io
from datetime import date

from openpyxl import Workbook

from odoo.exceptions import UserError
from odoo.tests import tagged

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
                "2025000101,李华,lihua@example.edu,13800000001,本科生,cs,CS01,2025,2007-05-04,2029-07-31",
                " 2025000102 ,Emily Carter,,,postgraduate,MATH,,2025,2001/12/30,20270731",
                "t0099,张老师,zhang@example.edu,,Faculty,HIST,,,,",
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
                "B5,Wrong Major,,,,HIST,CS01,,,",
                "B6,Bad Date,,,,,,,2001-13-45,",
                "B7,Bad Year,,,,,,20x5,,",
                "B8,Bad Category,,,martian,,,,,",
                "DUP,Twice A,,,,,,,,",
                "dup ,Twice B,,,,,,,,",
                "G1,Good One,,,,CS,,,,",
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
            "R1,Reader One,one@example.edu,,undergraduate,CS,CS01,2024,2006-01-01,2028-07-31",
            "R2,Reader Two,,,doctoral,MATH,MA02,2023,,",
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
            "2025000201,赵六,zhao@example.edu,本科生,CS",
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
        sheet.append([2025000301, "孙七", "sun@example.edu", 2025, date(2006, 9, 1), "ma02"])
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
            f"M{n:05d},Reader {n},r{n}@example.edu,,undergraduate,CS,,2024,," for n in range(2500)
        ]
        wizard = self._import(self._csv(*lines))
        self.assertEqual(wizard.created_count, 2500)
        lines[10] = "M00010,Reader renamed,r10@example.edu,,undergraduate,CS,,2024,,"
        wizard = self._import(self._csv(*lines))
        self.assertEqual((wizard.created_count, wizard.updated_count), (0, 1))
        self.assertEqual(self._reader("M00010").name, "Reader renamed")

    def test_odoo_generic_import_still_works(self):
        content = (
            b"reader_card_number,name,is_reader,reader_category,library_department_id,"
            b"library_major_id\n"
            b" gen-1 ,Generic Reader,1,Faculty,CS,CS01\n"
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
