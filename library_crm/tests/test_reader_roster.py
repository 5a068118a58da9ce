# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The reader roster from the campus registry (#17 §2): the campus card and
student/staff numbers, freshman intake, graduation, staff leaving, the dry
run."""

import base64
import csv
import io
from datetime import date

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LibraryCrmCase, LibraryCrmHttpCase

ROSTER_HEADER = "一卡通号,学号,姓名,学生类别,院系,专业,学籍状态"


@tagged("post_install", "-at_install")
class TestReaderRoster(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reader.write({"reader_campus_card": "C100001", "reader_student_number": "S2024001"})
        cls.reader_2 = cls.env["res.partner"].create(
            {
                "name": "李四",
                "is_reader": True,
                "reader_card_number": "2024000002",
                "reader_campus_card": "C100002",
                "reader_student_number": "S2024002",
                "reader_category": "undergraduate",
                "library_department_id": cls.dept_math.id,
                "phone": "13900000002",
            }
        )
        cls.staff = cls.env["res.partner"].create(
            {
                "name": "陈老师",
                "is_reader": True,
                "reader_card_number": "T0001",
                "reader_student_number": "T0001",
                "reader_category": "faculty",
                "library_department_id": cls.dept_hist.id,
            }
        )

    def _run(self, content, dry_run=False, user=None):
        return (
            self.env["library.reader.import"]
            .with_user(user or self.user_librarian)
            .with_context(lang="en_US")
            ._import_content(content.encode("utf-8"), dry_run=dry_run)
        )

    def _csv(self, *lines, header=ROSTER_HEADER):
        return "\n".join((header, *lines))

    def _reasons(self, result):
        return {row: reason for row, _cells, reason in result["rejected"]}

    def _find(self, number):
        return (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search([("is_reader", "=", True), ("display_name", "ilike", number)])
        )

    # ------------------------------------------------------------------
    # The numbers on the reader
    # ------------------------------------------------------------------

    def test_numbers_normalised_unique_and_each_finds_the_reader(self):
        reader = self.env["res.partner"].create(
            {
                "name": "New Reader",
                "is_reader": True,
                "reader_campus_card": "  c7788 ",
                "reader_student_number": " s-2025-9 ",
            }
        )
        self.assertEqual(
            (reader.reader_campus_card, reader.reader_student_number), ("C7788", "S-2025-9")
        )
        reader.reader_campus_card = " c7789"
        self.assertEqual(reader.reader_campus_card, "C7789")
        Partner = self.env["res.partner"].with_user(self.user_librarian)
        for number in ("2024000001", "c100001", "S2024001 "):
            with self.subTest(number=number):
                found = Partner.name_search(number)
                self.assertEqual([row[0] for row in found], [self.reader.id])
        # Two readers of one company never share a number; other contacts may.
        for field in ("reader_campus_card", "reader_student_number"):
            with self.subTest(field=field):
                with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
                    with self.env.cr.savepoint():
                        self.env["res.partner"].create(
                            {"name": "Twin", "is_reader": True, field: self.reader[field]}
                        )
        contact = self.env["res.partner"].create(
            {"name": "Not a reader", "reader_campus_card": "C100001"}
        )
        self.assertFalse(contact.is_reader)

    # ------------------------------------------------------------------
    # Freshman intake
    # ------------------------------------------------------------------

    def test_freshman_intake_category_department_and_major_by_name(self):
        other_school = self.env["library.department"].create(
            {"name": "School of Arts", "code": "XARTS"}
        )
        self.env["library.department"].create(
            {"name": "Computer Science", "code": "XACS", "parent_id": other_school.id}
        )
        result = self._run(
            self._csv(
                "C200001,S2025001,赵一,本科生,XCS,Software Engineering,在校",
                "C200002,S2025002,钱二,硕士研究生,School of Science / Mathematics,,",
                "C200003,S2025003,孙三,博士,School of Science,Statistics,",
                "C200004,S2025004,周四,专任教师,History,,在职",
                "C200005,S2025005,吴五,本科生,Computer Science,,",
                "C200006,S2025006,郑六,外星人,XCS,,",
                "C200007,S2025007,王七,本科生,Nowhere,,",
                "C200008,S2025008,冯八,本科生,XHIST,Statistics,",
                "C200009,S2025009,陈九,本科生,XCS,,毕业了",
            )
        )
        self.assertEqual((result["created"], result["updated"]), (4, 0))
        self.assertEqual(
            self._reasons(result),
            {
                6: "Several departments have this name: give the code or the path "
                "(School / Department).",
                7: "Unknown student type.",
                8: "Unknown department code.",
                9: "The major does not belong to the department.",
                10: "Unknown status (use active, graduated or left).",
            },
        )
        expected = {
            "C200001": ("S2025001", "undergraduate", self.dept_cs, self.major_se),
            "C200002": ("S2025002", "postgraduate", self.dept_math, False),
            # A major of a sub-department: the reader gets the major's department.
            "C200003": ("S2025003", "doctoral", self.dept_math, self.major_stat),
            "C200004": ("S2025004", "faculty", self.dept_hist, False),
        }
        for number, (student_number, category, department, major) in expected.items():
            reader = self._find(number)
            with self.subTest(number=number):
                self.assertEqual(len(reader), 1)
                self.assertEqual(reader.reader_category, category)
                self.assertEqual(reader.library_department_id, department)
                self.assertEqual(reader.library_major_id, major or self.env["library.major"])
                self.assertEqual(reader.reader_student_number, student_number)
                self.assertFalse(reader.reader_card_number)
        self.assertFalse(self._find("C200006") | self._find("C200009"))

    def test_chinese_department_names_match(self):
        self.dept_cs.with_context(lang="zh_CN").name = "计算机系"
        self.env["res.lang"]._activate_lang("zh_CN")
        result = self._run(self._csv("C200101,S2025101,林一,本科生,计算机系,,"))
        self.assertEqual(result["created"], 1, result["rejected"])
        self.assertEqual(self._find("C200101").library_department_id, self.dept_cs)

    # ------------------------------------------------------------------
    # Matching by any number
    # ------------------------------------------------------------------

    def test_any_number_finds_the_reader_and_conflicts_are_rejected(self):
        header = "读者证号,一卡通号,学工号,姓名,电话"
        result = self._run(
            self._csv(
                # By the campus card only: the reader gets the phone.
                ",C100001,,王晓明,010-1",
                # By the card number, the campus card number is filled in.
                "T0001,C300009,,陈老师,",
                # Two numbers of two readers.
                "2024000002,,S2024001,Mixed,",
                # The reader found by the card has another campus card.
                "2024000001,C999999,,王晓明,",
                "NEW1,,,Brand New,",
                header=header,
            )
        )
        self.assertEqual(
            (result["created"], result["updated"], result["unchanged"]),
            (1, 2, 0),
            result["rejected"],
        )
        reasons = self._reasons(result)
        self.assertEqual(
            reasons[4], "The numbers of this row belong to different readers (李四, 王晓明)."
        )
        self.assertEqual(
            reasons[5],
            "Campus Card Number of this row differs from the reader's (C100001): change a "
            "reader's numbers on the reader form.",
        )
        self.assertEqual(self.reader.phone, "010-1")
        self.assertEqual(self.staff.reader_campus_card, "C300009")
        self.assertEqual(self.reader.reader_campus_card, "C100001")
        self.assertEqual(self.reader_2.name, "李四")
        self.assertEqual(self._find("NEW1").name, "Brand New")
        # The same number twice in the file: every copy is rejected.
        result = self._run(
            self._csv(",C300001,,A,", ",c300001 ,,B,", ",,S9,C,", ",,s9,D,", header=header)
        )
        self.assertEqual(result["created"], 0)
        self.assertEqual(
            set(self._reasons(result).values()),
            {
                "The campus card number appears more than once in the file.",
                "The student/staff number appears more than once in the file.",
            },
        )

    # ------------------------------------------------------------------
    # Graduation and leaving
    # ------------------------------------------------------------------

    @freeze_time("2026-07-01 09:00:00")
    def test_graduation_makes_alumni_with_card_expiry_once(self):
        self.env["ir.config_parameter"].sudo().set_param("library_crm.alumni_card_months", "6")
        header = "学号,姓名,学籍状态,有效期至"
        content = self._csv(
            "S2024001,王晓明,毕业,", "S2024002,李四,graduated,2027-12-31", header=header
        )
        result = self._run(content)
        self.assertEqual(result["updated"], 2)
        self.assertRecordValues(
            self.reader | self.reader_2,
            [
                {
                    "reader_category": "alumni",
                    "card_expiry_date": date(2027, 1, 1),
                    "active": True,
                },
                {
                    "reader_category": "alumni",
                    "card_expiry_date": date(2027, 12, 31),
                    "active": True,
                },
            ],
        )
        # A later run of the same roster keeps the expiry it gave.
        with freeze_time("2026-09-01"):
            again = self._run(content)
        self.assertEqual((again["updated"], again["unchanged"]), (0, 2))
        self.assertEqual(self.reader.card_expiry_date, date(2027, 1, 1))
        # A graduate the library did not know is created as an alumnus.
        self._run(self._csv("S2020999,老校友,毕业,", header=header))
        self.assertRecordValues(
            self._find("S2020999"),
            [{"reader_category": "alumni", "card_expiry_date": date(2027, 1, 1)}],
        )

    def test_zero_months_expire_on_the_day(self):
        self.env["ir.config_parameter"].sudo().set_param("library_crm.alumni_card_months", "0")
        with freeze_time("2026-07-01"):
            self._run(self._csv("S2024001,王晓明,毕业", header="学号,姓名,学籍状态"))
        self.assertEqual(self.reader.card_expiry_date, date(2026, 7, 1))

    def test_staff_who_leave_are_archived(self):
        header = "工号,姓名,在职状态"
        result = self._run(self._csv("T0001,陈老师,离职", "T0404,Unknown,离职", header=header))
        self.assertEqual((result["archived"], result["updated"]), (1, 0))
        self.assertEqual(
            self._reasons(result),
            {3: "The person has left and is not a reader: nothing to archive."},
        )
        self.assertFalse(self.staff.active)
        self.assertEqual(self.staff.reader_category, "faculty")
        again = self._run(self._csv("T0001,陈老师,离职", header=header))
        self.assertEqual((again["archived"], again["unchanged"]), (0, 1))
        self.assertEqual(
            self.env["res.partner"].search_count([("reader_student_number", "=", "T0001")]), 0
        )

    def test_empty_cells_never_erase(self):
        self.reader.write({"phone": "010-1234", "card_expiry_date": "2028-07-31"})
        names = [
            "email",
            "phone",
            "reader_category",
            "library_department_id",
            "library_major_id",
            "enrollment_year",
            "birthdate",
            "card_expiry_date",
            "reader_card_number",
            "reader_student_number",
            "active",
        ]
        before = self.reader.read(names)
        header = (
            "card number,campus card number,student number,name,email,phone,category,"
            "student type,department,major,enrollment year,birthdate,card expiry,status"
        )
        result = self._run(self._csv(",C100001,,王晓明,,,,,,,,,,", header=header))
        self.assertEqual((result["unchanged"], result["updated"]), (1, 0))
        self.env.invalidate_all()
        self.assertEqual(self.reader.read(names), before)
        self.assertEqual(self.reader.phone, "010-1234")

    # ------------------------------------------------------------------
    # Dry run
    # ------------------------------------------------------------------

    def _snapshot(self):
        Partner = self.env["res.partner"].with_context(active_test=False)
        return Partner.search_read(
            [("is_reader", "=", True)],
            [
                "name",
                "active",
                "phone",
                "reader_category",
                "card_expiry_date",
                "reader_card_number",
                "reader_campus_card",
                "reader_student_number",
                "library_department_id",
                "write_date",
            ],
            order="id",
        )

    @freeze_time("2026-07-01 09:00:00")
    def test_dry_run_changes_nothing_then_the_real_run_does_what_it_said(self):
        content = self._csv(
            "C100001,S2024001,王晓明,本科生,XCS,,毕业",
            "C100002,S2024002,李四,本科生,XMATH,,",
            ",T0001,陈老师,教师,XHIST,,离职",
            "C200201,S2025201,新生甲,本科生,XCS,,",
            "C200202,S2025202,新生乙,硕士,XMATH,,",
            "C999,,,本科生,,,",
        )
        before = self._snapshot()
        consent_logs = self.env["library.consent.log"].search_count([])
        preview = self._run(content, dry_run=True)
        counts = {key: preview[key] for key in ("created", "updated", "archived", "unchanged")}
        self.assertEqual(counts, {"created": 2, "updated": 1, "archived": 1, "unchanged": 1})
        self.assertEqual(len(preview["rejected"]), 1)
        self.env.invalidate_all()
        self.assertEqual(self._snapshot(), before, "a dry run changes no reader")
        self.assertEqual(self.env["library.consent.log"].search_count([]), consent_logs)
        self.assertFalse(self._find("C200201"))
        actions = {(row, action) for row, action, _ids, _name, _changes in preview["preview"]}
        self.assertEqual(actions, {(2, "update"), (4, "archive"), (5, "create"), (6, "create")})
        changes = {row: changes for row, _a, _i, _n, changes in preview["preview"]}
        self.assertEqual(
            changes[2],
            {
                "reader_category": ("undergraduate", "alumni"),
                "card_expiry_date": (False, date(2027, 7, 1)),
            },
        )

        real = self._run(content)
        self.assertEqual(
            {key: real[key] for key in counts}, counts, "the real run does what the preview said"
        )
        self.assertEqual(real["preview"], preview["preview"])
        self.assertEqual(self.reader.reader_category, "alumni")
        self.assertFalse(self.staff.active)
        self.assertEqual(len(self._find("C200201") | self._find("C200202")), 2)
        self.assertEqual(len(self._snapshot()), len(before) + 2)

    def test_wizard_preview_then_import(self):
        content = self._csv(
            "C200301,S2025301,预览生,本科生,XCS,,",
            "C200302,,,本科生,XCS,,",
            "C100002,,李四,,,,毕业",
        ).encode("utf-8")
        wizard = (
            self.env["library.reader.import"]
            .with_user(self.user_librarian)
            .with_context(lang="en_US")
            .create({"file": base64.b64encode(content), "filename": "roster.csv"})
        )
        wizard.action_preview()
        self.assertEqual(
            (wizard.state, wizard.created_count, wizard.updated_count, wizard.rejected_count),
            ("preview", 1, 1, 1),
        )
        self.assertFalse(self._find("C200301"))
        self.assertEqual(self.reader_2.reader_category, "undergraduate")
        rows = list(
            csv.reader(io.StringIO(base64.b64decode(wizard.preview_file).decode("utf-8-sig")))
        )
        self.assertEqual(wizard.preview_filename, "roster-preview.csv")
        self.assertEqual(
            rows[0],
            [
                "Row",
                "Action",
                "Card Number",
                "Campus Card Number",
                "Student/Staff Number",
                "Name",
                "Changes",
            ],
        )
        self.assertEqual(rows[1][:6], ["2", "Create", "", "C200301", "S2025301", "预览生"])
        self.assertEqual(rows[2][:2], ["4", "Update"])
        self.assertIn("Reader Category: Undergraduate → Alumni", rows[2][6])
        self.assertEqual(wizard.error_ids.reason, "Name is missing.")
        wizard.action_import()
        self.assertEqual(
            (wizard.state, wizard.created_count, wizard.updated_count, len(wizard.error_ids)),
            ("done", 1, 1, 1),
        )
        self.assertTrue(self._find("C200301"))
        self.assertEqual(self.reader_2.reader_category, "alumni")


@tagged("post_install", "-at_install")
class TestReaderRosterRpc(LibraryCrmHttpCase):
    def test_only_librarians_preview_a_roster(self):
        content = base64.b64encode(b"campus card number,name\nC400001,Intruder\n").decode()
        for user in (self.user_portal, self.user_internal):
            with self.subTest(user=user.login):
                self.authenticate_as(user)
                with self.assertRaises(Exception) as error:
                    self.make_jsonrpc_request(
                        "/web/dataset/call_kw/library.reader.import/create",
                        {
                            "model": "library.reader.import",
                            "method": "create",
                            "args": [{"file": content}],
                            "kwargs": {"context": {"active_test": False}},
                        },
                    )
                self.assertIn("AccessError", str(error.exception))
        self.authenticate_as(self.user_librarian)
        wizard_id = self.make_jsonrpc_request(
            "/web/dataset/call_kw/library.reader.import/create",
            {
                "model": "library.reader.import",
                "method": "create",
                "args": [{"file": content}],
                "kwargs": {},
            },
        )
        # Another user cannot run the librarian's wizard either.
        self.authenticate_as(self.user_internal)
        with self.assertRaises(Exception) as error:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/library.reader.import/action_preview",
                {
                    "model": "library.reader.import",
                    "method": "action_preview",
                    "args": [[wizard_id]],
                    "kwargs": {},
                },
            )
        self.assertIn("AccessError", str(error.exception))
        self.assertFalse(self.env["res.partner"].search([("reader_campus_card", "=", "C400001")]))

    def test_only_library_staff_change_a_readers_numbers(self):
        """The numbers link a campus login to a reader: a plain internal user
        who could write their own campus card number on another reader would
        log in as that reader."""
        self.reader.reader_campus_card = "C100001"
        for field in ("reader_campus_card", "reader_student_number", "reader_card_number"):
            with self.subTest(field=field):
                self.authenticate_as(self.user_internal)
                with self.assertRaises(Exception) as error:
                    self.make_jsonrpc_request(
                        "/web/dataset/call_kw/res.partner/write",
                        {
                            "model": "res.partner",
                            "method": "write",
                            "args": [[self.reader.id], {field: "MINE-1"}],
                            "kwargs": {"context": {"tracking_disable": True}},
                        },
                    )
                self.assertIn("AccessError", str(error.exception))
        self.reader.invalidate_recordset()
        self.assertEqual(self.reader.reader_campus_card, "C100001")
        self.authenticate_as(self.user_librarian)
        self.make_jsonrpc_request(
            "/web/dataset/call_kw/res.partner/write",
            {
                "model": "res.partner",
                "method": "write",
                "args": [[self.reader.id], {"reader_campus_card": "c100009"}],
                "kwargs": {},
            },
        )
        self.reader.invalidate_recordset()
        self.assertEqual(self.reader.reader_campus_card, "C100009")
