# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import datetime
import io
import re
from collections import Counter

from dateutil.relativedelta import relativedelta
from openpyxl import load_workbook

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools import SQL
from odoo.tools.mail import email_normalize

from ..models.res_config_settings import get_setting
from ..models.res_partner import READER_CATEGORIES
from .import_columns import (
    MAX_LINE_CHARS,
    XLSX_MAX_UNCOMPRESSED,
    alias_index,
    check_upload_size,
    detect_encoding,
    is_digits,
    iter_records,
    map_header,
    rejected_csv,
    rejected_writer,
    reopen_action,
    sniff_dialect,
    xlsx_too_large,
)

BATCH_SIZE = 1000
SHOWN_ERRORS = 200

# Column names accepted in the header row, in English or Chinese, compared
# lower-case with "_" and "-" read as spaces.
COLUMN_ALIASES = {
    "card_number": (
        "card number",
        "card",
        "card no",
        "reader card number",
        "读者证号",
        "证号",
        "借书证号",
        "读者条码",
    ),
    "campus_card": (
        "campus card number",
        "campus card",
        "campus card no",
        "one card number",
        "一卡通号",
        "一卡通",
        "一卡通卡号",
        "校园卡号",
    ),
    "student_number": (
        "student staff number",
        "student/staff number",
        "student number",
        "staff number",
        "student id",
        "staff id",
        "学工号",
        "学号",
        "工号",
        "职工号",
    ),
    "name": ("name", "reader name", "姓名", "读者姓名"),
    "email": ("email", "e mail", "mail", "邮箱", "电子邮箱", "电子邮件"),
    "phone": ("phone", "mobile", "telephone", "电话", "手机", "手机号", "联系电话"),
    "category": (
        "category",
        "reader category",
        "读者类别",
        "读者类型",
        "读者层次",
    ),
    "student_type": (
        "student type",
        "person type",
        "学生类别",
        "学生类型",
        "人员类别",
        "人员类型",
        "培养层次",
    ),
    # A department or major is given by its code, its name, or its path in
    # the department tree ("School of Science / Computer Science").
    "department_code": (
        "department code",
        "department",
        "department name",
        "院系代码",
        "院系编号",
        "院系",
        "院系名称",
        "学院",
        "部门",
    ),
    "major_code": (
        "major code",
        "major",
        "major name",
        "专业代码",
        "专业编号",
        "专业",
        "专业名称",
    ),
    "status": ("status", "registry status", "状态", "学籍状态", "在校状态", "在职状态"),
    "enrollment_year": ("enrollment year", "year of enrollment", "入学年份", "入学年度"),
    "birthdate": ("birthdate", "birth date", "date of birth", "出生日期"),
    "card_expiry_date": (
        "card expiry",
        "card expiry date",
        "expiry date",
        "有效期至",
        "证件有效期",
        "到期日期",
    ),
}
HEADER_TO_COLUMN = alias_index(COLUMN_ALIASES)

# Reader categories as ILS and campus exports spell them.
CATEGORY_ALIASES = {
    "本科生": "undergraduate",
    "本科": "undergraduate",
    "硕士研究生": "postgraduate",
    "硕士生": "postgraduate",
    "研究生": "postgraduate",
    "博士研究生": "doctoral",
    "博士生": "doctoral",
    "教师": "faculty",
    "teacher": "faculty",
    "职工": "staff",
    "校友": "alumni",
    "社会读者": "public",
}
# The campus registry's student or staff type (学生类别, 人员类别), as
# registries spell it, and the reader category it gives; a category column
# in the same row wins over it.
STUDENT_TYPE_CATEGORIES = {
    "本科生": "undergraduate",
    "本科": "undergraduate",
    "普通本科": "undergraduate",
    "专升本": "undergraduate",
    "专科生": "undergraduate",
    "undergraduate": "undergraduate",
    "bachelor": "undergraduate",
    "硕士研究生": "postgraduate",
    "硕士生": "postgraduate",
    "硕士": "postgraduate",
    "学术硕士": "postgraduate",
    "专业硕士": "postgraduate",
    "研究生": "postgraduate",
    "master": "postgraduate",
    "postgraduate": "postgraduate",
    "博士研究生": "doctoral",
    "博士生": "doctoral",
    "博士": "doctoral",
    "doctoral": "doctoral",
    "phd": "doctoral",
    "教师": "faculty",
    "专任教师": "faculty",
    "教职工": "faculty",
    "教工": "faculty",
    "faculty": "faculty",
    "teacher": "faculty",
    "职工": "staff",
    "行政人员": "staff",
    "管理人员": "staff",
    "教辅人员": "staff",
    "staff": "staff",
}

# The registry status (学籍状态, 在职状态): "active" changes nothing,
# "graduated" makes the reader an alumnus with a card expiry, "left"
# archives the reader.
STATUS_ALIASES = {
    "active": ("active", "enrolled", "employed", "在校", "在读", "在籍", "在职", "正常"),
    "graduated": ("graduated", "graduate", "alumni", "毕业", "已毕业", "结业"),
    "left": ("left", "resigned", "withdrawn", "离职", "已离职", "调离", "辞职", "退学"),
}
STATUS_INDEX = alias_index(STATUS_ALIASES)

# Import columns that identify a reader, and the reader field of each.
ID_COLUMNS = {
    "card_number": "reader_card_number",
    "campus_card": "reader_campus_card",
    "student_number": "reader_student_number",
}
# A department or major path: "School of Science / Computer Science".
PATH_SEPARATORS_RE = re.compile(r"\s*[/／>＞]\s*")

for _code, _label in READER_CATEGORIES:
    CATEGORY_ALIASES[_code] = _code
    CATEGORY_ALIASES[_label.lower()] = _code

# [0-9], not \d: only digits that int() reads.
DATE_RE = re.compile(r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?$")
COMPACT_DATE_RE = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")

# Reader fields the import compares and writes, by import column.
READER_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "category": "reader_category",
    "department_code": "library_department_id",
    "major_code": "library_major_id",
    "enrollment_year": "enrollment_year",
    "birthdate": "birthdate",
    "card_expiry_date": "card_expiry_date",
}


def _cell_text(value):
    """Spreadsheet cells arrive as str, int, float or dates: give text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return str(value).strip()


class LibraryReaderImport(models.TransientModel):
    _name = "library.reader.import"
    _description = "Import Readers"

    file = fields.Binary(attachment=False)
    filename = fields.Char()
    state = fields.Selection(
        [("upload", "Upload"), ("preview", "Preview"), ("done", "Done")],
        default="upload",
        required=True,
    )
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    archived_count = fields.Integer(string="Archived", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    rejected_file = fields.Binary(string="Rejected Rows", attachment=False, readonly=True)
    rejected_filename = fields.Char(readonly=True)
    preview_file = fields.Binary(string="Changes Preview", attachment=False, readonly=True)
    preview_filename = fields.Char(readonly=True)
    error_ids = fields.One2many(
        "library.reader.import.error", "import_id", string="Rejected Rows Shown"
    )

    def action_preview(self):
        """A dry run: count and list what the import would create, update
        and archive, without changing any reader."""
        return self._run_import(dry_run=True)

    def action_import(self):
        return self._run_import(dry_run=False)

    def _run_import(self, dry_run):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose a CSV or XLSX file to import."))
        check_upload_size(self.env, self.file)
        result = self._import_content(base64.b64decode(self.file), dry_run=dry_run)
        # The rows a preview rejected; the wizard is the user's own (record rule).
        self.error_ids.sudo().unlink()
        rejected = result["rejected"]
        stem = (self.filename or "readers").rsplit(".", 1)[0]
        values = {
            "state": "preview" if dry_run else "done",
            "created_count": result["created"],
            "updated_count": result["updated"],
            "archived_count": result["archived"],
            "unchanged_count": result["unchanged"],
            "rejected_count": len(rejected),
            "rejected_file": False,
            "rejected_filename": False,
            "preview_file": False,
            "preview_filename": False,
            "error_ids": [
                Command.create(
                    {
                        "row_number": row_number,
                        "card_number": next(
                            (cells[column] for column in ID_COLUMNS if cells.get(column)), ""
                        ),
                        "reader_name": cells.get("name", ""),
                        "reason": reason,
                    }
                )
                for row_number, cells, reason in rejected[:SHOWN_ERRORS]
            ],
        }
        if rejected:
            values["rejected_file"] = base64.b64encode(
                rejected_csv(
                    self.env,
                    [
                        (line, reason, map(_cell_text, row))
                        for line, row, reason in result["rejected_raw"]
                    ],
                    result["header"],
                )
            )
            values["rejected_filename"] = f"{stem}-rejected.csv"
        if result["preview"]:
            values["preview_file"] = base64.b64encode(self._preview_csv(result["preview"]))
            values["preview_filename"] = f"{stem}-preview.csv"
        self.write(values)
        return reopen_action(self, self.env._("Import Readers"))

    def action_view_readers(self):
        return self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_reader")

    def _preview_csv(self, preview):
        """The changes of a run, one row per reader: what happens to them,
        their numbers, and each field's value before and after."""
        output = io.StringIO()
        write = rejected_writer(output)
        Partner = self.env["res.partner"]
        labels = {
            name: Partner._fields[name]._description_string(self.env)
            for name in ("active", *ID_COLUMNS.values(), *READER_FIELDS.values())
        }
        actions = {
            "create": self.env._("Create"),
            "update": self.env._("Update"),
            "archive": self.env._("Archive"),
        }
        write(
            [
                self.env._("Row"),
                self.env._("Action"),
                *(labels[name] for name in ID_COLUMNS.values()),
                labels["name"],
                self.env._("Changes"),
            ]
        )
        for row_number, action, ids, name, changes in preview:
            write(
                [
                    row_number,
                    actions[action],
                    *(ids.get(field) or "" for field in ID_COLUMNS.values()),
                    name,
                    "; ".join(
                        f"{labels[field]}: {self._preview_value(field, old)} → "
                        f"{self._preview_value(field, new)}"
                        for field, (old, new) in changes.items()
                    ),
                ]
            )
        return output.getvalue().encode("utf-8-sig")

    def _preview_value(self, field_name, value):
        field = self.env["res.partner"]._fields[field_name]
        if value in (False, None, ""):
            return ""
        if field.type == "many2one":
            return self.env[field.comodel_name].browse(value).display_name
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        if field.type == "boolean":
            return self.env._("Yes") if value else self.env._("No")
        return str(value)

    # ------------------------------------------------------------------
    # Reading the file
    # ------------------------------------------------------------------

    @api.model
    def _read_table(self, content, header_to_column, required, message):
        """(header, rows) of a CSV/XLSX list for the other imports that read
        files like this one: rows yields (row number, raw row, error, cells
        by column) for each non-empty row after the header."""
        rows = self._iter_rows(content)
        for _number, row, error in rows:
            if not error and any(_cell_text(value) for value in row):
                header = [_cell_text(value).replace("\x00", "") for value in row]
                break
        else:
            raise UserError(self.env._("The file is empty."))
        columns = map_header(header, header_to_column, required, message)

        def cells_of(rows):
            for row_number, row, error in rows:
                if not error and not any(_cell_text(value) for value in row):
                    continue
                cells = {
                    column: _cell_text(row[index]) if index < len(row) else ""
                    for column, index in columns.items()
                }
                yield row_number, row, error, cells

        return header, cells_of(rows)

    @api.model
    def _iter_rows(self, content, width=None):
        """Yield (row number, cell values, error) for the rows of a CSV or
        XLSX file; error is None, or "quote" or "long" for a CSV line that
        cannot be read (see import_columns.iter_records)."""
        if content[:2] == b"PK":
            yield from self._iter_xlsx_rows(content)
            return
        if content[:4] == b"\xd0\xcf\x11\xe0":
            raise UserError(
                self.env._(
                    "Old .xls files are not supported: save the sheet as .xlsx "
                    "or CSV and import it again."
                )
            )
        # The whole file is checked, not its beginning: Excel on Chinese
        # Windows saves CSV in GB18030/GBK.
        encoding = detect_encoding(io.BytesIO(content))
        if not encoding:
            raise UserError(self.env._("The file is neither UTF-8 nor GBK text, CSV or XLSX."))
        text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        dialect = sniff_dialect(text.read(4096))
        text.seek(0)
        yield from iter_records(text, dialect, width=width)

    @api.model
    def _iter_xlsx_rows(self, content):
        # Sizes from the zip's central directory, before anything is inflated.
        if xlsx_too_large(content):
            raise UserError(
                self.env._(
                    "This XLSX file cannot be read, or would take more than %(size)s MB once "
                    "uncompressed: save the sheet as CSV and import it again.",
                    size=XLSX_MAX_UNCOMPRESSED // (1024 * 1024),
                )
            )
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise UserError(self.env._("This XLSX file cannot be read.")) from exc
        try:
            for row_number, row in enumerate(workbook.active.iter_rows(values_only=True), 1):
                yield row_number, list(row), None
        finally:
            workbook.close()

    @api.model
    def _map_header(self, header):
        message = self.env._(
            "The first row must name the columns. Name (姓名) and at least one of card "
            "number (读者证号), campus card number (一卡通号) and student/staff number (学工号) "
            "are required; accepted column names: %(names)s",
            names=", ".join(aliases[0] for aliases in COLUMN_ALIASES.values()),
        )
        columns = map_header(header, HEADER_TO_COLUMN, ("name",), message)
        if not any(column in columns for column in ID_COLUMNS):
            raise UserError(message)
        return columns

    # ------------------------------------------------------------------
    # Checking rows
    # ------------------------------------------------------------------

    @api.model
    def _messages(self):
        """Translated reasons, looked up once per import rather than per row."""
        return {
            "no_card": self.env._("Card number is missing."),
            "no_id": self.env._(
                "Card number, campus card number and student/staff number are all missing."
            ),
            "no_name": self.env._("Name is missing."),
            "email": self.env._("E-mail address is not valid."),
            "category": self.env._("Unknown reader category."),
            "student_type": self.env._("Unknown student type."),
            "status": self.env._("Unknown status (use active, graduated or left)."),
            "department": self.env._("Unknown department code."),
            "department_ambiguous": self.env._(
                "Several departments have this name: give the code or the path "
                "(School / Department)."
            ),
            "major": self.env._("Unknown major code."),
            "major_ambiguous": self.env._(
                "Several majors have this name: give the code or the department."
            ),
            "major_department": self.env._("The major does not belong to the department."),
            "year": self.env._("Enrollment year is not a year."),
            "birthdate": self.env._("Birthdate is not a date (use YYYY-MM-DD)."),
            "card_expiry_date": self.env._("Card expiry is not a date (use YYYY-MM-DD)."),
            "duplicate": self.env._("The card number appears more than once in the file."),
            "duplicate_campus_card": self.env._(
                "The campus card number appears more than once in the file."
            ),
            "duplicate_student_number": self.env._(
                "The student/staff number appears more than once in the file."
            ),
            "conflict": self.env._(
                "The numbers of this row belong to different readers (%(readers)s)."
            ),
            "mismatch": self.env._(
                "%(number)s of this row differs from the reader's (%(value)s): change "
                "a reader's numbers on the reader form."
            ),
            "left_unknown": self.env._(
                "The person has left and is not a reader: nothing to archive."
            ),
            "birthdate_future": self.env._("Birthdate is in the future."),
            "nul": self.env._("The row contains a NUL character (binary data)."),
            "quote": self.env._(
                "A quotation mark opens a cell that never closes; the row was not read."
            ),
            "long": self.env._("The row is longer than %(size)s characters.", size=MAX_LINE_CHARS),
        }

    @api.model
    def _parse_date(self, value):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = _cell_text(value)
        match = DATE_RE.match(text) or COMPACT_DATE_RE.match(text)
        if not match:
            raise ValueError(text)
        return datetime.date(*(int(part) for part in match.groups()))

    @api.model
    def _check_row(self, cells, references, messages):
        """Return (row, reason): the row's reader values from its non-empty
        cells, its numbers and its status, or the first reason to reject it.
        row is {"values": {field: value}, "ids": {field: number},
        "status": "active" | "graduated" | "left" | None}."""
        normalize = self.env["res.partner"]._normalize_card_number
        ids = {
            field: normalize(cells[column])
            for column, field in ID_COLUMNS.items()
            if normalize(cells.get(column))
        }
        if not ids:
            only_card = [column for column in ID_COLUMNS if column in cells] == ["card_number"]
            return None, messages["no_card" if only_card else "no_id"]
        if not cells.get("name"):
            return None, messages["no_name"]
        values = {"name": cells["name"]}
        if email := cells.get("email"):
            if not email_normalize(email):
                return None, messages["email"]
            values["email"] = email
        if cells.get("phone"):
            values["phone"] = cells["phone"]
        if category := cells.get("category"):
            code = CATEGORY_ALIASES.get(category.lower())
            if not code:
                return None, messages["category"]
            values["reader_category"] = code
        elif student_type := cells.get("student_type"):
            code = STUDENT_TYPE_CATEGORIES.get(_name_key(student_type))
            if not code:
                return None, messages["student_type"]
            values["reader_category"] = code
        status = None
        if raw_status := cells.get("status"):
            status = STATUS_INDEX.get(_name_key(raw_status))
            if not status:
                return None, messages["status"]
        department = None
        if text := cells.get("department_code"):
            department, reason = self._find_department(text, references, messages)
            if reason:
                return None, reason
            values["library_department_id"] = department
        if text := cells.get("major_code"):
            major, reason = self._find_major(text, department, references, messages)
            if reason:
                return None, reason
            major_id, major_department = major
            values["library_major_id"] = major_id
            values["library_department_id"] = major_department
        if year := cells.get("enrollment_year"):
            if not is_digits(year, 4) or not 1900 <= int(year) <= 2100:
                return None, messages["year"]
            values["enrollment_year"] = int(year)
        for column in ("birthdate", "card_expiry_date"):
            if raw := cells.get(column):
                try:
                    values[column] = self._parse_date(raw)
                except ValueError:
                    return None, messages[column]
        if values.get("birthdate") and values["birthdate"] > references["today"]:
            return None, messages["birthdate_future"]
        if status == "graduated":
            values["reader_category"] = "alumni"
        return {"values": values, "ids": ids, "status": status}, None

    @api.model
    def _find_department(self, text, references, messages):
        """(department id, reason) for a cell giving a department by code,
        by name, or by its path in the tree ("School / Department"), each
        part a code or a name."""
        if department := references["departments"].get(text.strip().upper()):
            return department, None
        parts = [part for part in PATH_SEPARATORS_RE.split(text.strip()) if part]
        if not parts:
            return None, messages["department"]
        units = references["units"]

        def on_path(unit_id):
            for part in reversed(parts[:-1]):
                unit_id = units[unit_id]["parent_id"]
                if not unit_id or unit_id not in self._units_named(part, references):
                    return False
            return True

        candidates = {c for c in self._units_named(parts[-1], references) if on_path(c)}
        if not candidates:
            return None, messages["department"]
        if len(candidates) > 1:
            return None, messages["department_ambiguous"]
        return candidates.pop(), None

    @api.model
    def _units_named(self, part, references):
        key = _name_key(part)
        code = references["departments"].get(part.strip().upper())
        return set(references["unit_names"].get(key, ())) | ({code} if code else set())

    @api.model
    def _find_major(self, text, department, references, messages):
        """((major id, its department id), reason) for a cell giving a major
        by code or by name; given a department, the major must belong to it
        or to one of its sub-departments."""
        units = references["units"]

        def within(major):
            return not department or str(department) in units[major[1]]["parent_path"].split("/")

        major = references["majors"].get(text.strip().upper())
        if major:
            return (major, None) if within(major) else (None, messages["major_department"])
        named = references["major_names"].get(_name_key(text), [])
        if not named:
            return None, messages["major"]
        inside = [major for major in named if within(major)]
        if not inside:
            return None, messages["major_department"]
        if len(inside) > 1:
            return None, messages["major_ambiguous"]
        return inside[0], None

    @api.model
    def _load_references(self):
        """Departments and majors of the company by code and by name (in
        every language they are named in), the department tree, today."""
        company = self.env.company
        self.env["library.department"].flush_model()
        self.env["library.major"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT id, code, name, parent_id, parent_path FROM library_department "
                "WHERE company_id = %s AND active IS TRUE",
                company.id,
            )
        )
        units, unit_names, departments = {}, {}, {}
        for unit_id, code, names, parent_id, parent_path in self.env.cr.fetchall():
            units[unit_id] = {"parent_id": parent_id, "parent_path": parent_path or ""}
            if code:
                departments[code] = unit_id
            for name in set((names or {}).values()):
                unit_names.setdefault(_name_key(name), set()).add(unit_id)
        majors = self.env["library.major"].search_read(
            [("company_id", "=", company.id), ("department_id", "in", list(units))],
            ["code", "department_id"],
        )
        major_ids = {m["id"]: (m["id"], m["department_id"][0]) for m in majors}
        self.env.cr.execute(
            SQL("SELECT id, name FROM library_major WHERE id IN %s", tuple(major_ids) or (0,))
        )
        major_names = {}
        for major_id, names in self.env.cr.fetchall():
            for name in set((names or {}).values() if isinstance(names, dict) else [names]):
                major_names.setdefault(_name_key(name), []).append(major_ids[major_id])
        return {
            "today": fields.Date.context_today(self),
            "alumni_card_months": get_setting(self.env, "alumni_card_months"),
            "departments": departments,
            "units": units,
            "unit_names": unit_names,
            "majors": {m["code"]: major_ids[m["id"]] for m in majors},
            "major_names": major_names,
        }

    # ------------------------------------------------------------------
    # Importing
    # ------------------------------------------------------------------

    @api.model
    def _import_content(self, content, dry_run=False):
        """Upsert readers from CSV/XLSX bytes, matched by any of their
        numbers (library card, campus card, student/staff number).

        Returns counts, the rejected rows with reasons, the raw rejected
        rows for the downloadable file, and the preview: one
        (row, action, numbers, name, {field: (old, new)}) per reader that is
        or would be created, updated or archived. With ``dry_run``, nothing
        is written: the counts and the preview say what a real run does.
        Good rows are imported even when others are rejected; rows whose
        values match the reader are left untouched, so importing a file
        twice changes nothing the second time; empty cells never erase.
        """
        header, columns = self._read_header(content)
        normalize = self.env["res.partner"]._normalize_card_number
        width = len(header)

        # First pass: a number given twice is ambiguous, reject every copy.
        id_counts = {column: Counter() for column in ID_COLUMNS if column in columns}
        for _number, row, error in self._data_rows(content, width):
            if error:
                continue
            for column, counter in id_counts.items():
                index = columns[column]
                if index < len(row) and (number := normalize(_cell_text(row[index]))):
                    counter[number] += 1
        duplicate_messages = {
            "card_number": "duplicate",
            "campus_card": "duplicate_campus_card",
            "student_number": "duplicate_student_number",
        }
        messages = self._messages()
        references = self._load_references()
        result = {
            "header": header,
            "created": 0,
            "updated": 0,
            "archived": 0,
            "unchanged": 0,
            "rejected": [],
            "rejected_raw": [],
            "preview": [],
        }
        batch = []
        for row_number, row, error in self._data_rows(content, width):
            if error:
                reason = messages[error]
                result["rejected"].append((row_number, {}, reason))
                result["rejected_raw"].append((row_number, row, reason))
                continue
            if not any(_cell_text(value) for value in row):
                continue
            cells = {
                column: _cell_text(row[index]) if index < len(row) else ""
                for column, index in columns.items()
            }
            if any("\x00" in _cell_text(value) for value in row):
                reason = messages["nul"]
                checked = None
            else:
                checked, reason = self._check_row(cells, references, messages)
            if not reason:
                for column, counter in id_counts.items():
                    if counter[normalize(cells[column])] > 1:
                        reason = messages[duplicate_messages[column]]
                        break
            if reason:
                cells = {key: value.replace("\x00", "") for key, value in cells.items()}
                result["rejected"].append((row_number, cells, reason))
                result["rejected_raw"].append((row_number, row, reason))
                continue
            batch.append((row_number, row, cells, checked))
            if len(batch) >= BATCH_SIZE:
                self._upsert_batch(batch, result, references, messages, dry_run)
                batch = []
        if batch:
            self._upsert_batch(batch, result, references, messages, dry_run)
        result["rejected"].sort(key=lambda item: item[0])
        result["rejected_raw"].sort(key=lambda item: item[0])
        return result

    @api.model
    def _read_header(self, content):
        for _number, row, error in self._iter_rows(content):
            if not error and any(_cell_text(value) for value in row):
                row = [_cell_text(value).replace("\x00", "") for value in row]
                return row, self._map_header(row)
        raise UserError(self.env._("The file is empty."))

    @api.model
    def _data_rows(self, content, width=None):
        """(row number, cells, error) of the rows after the header row."""
        rows = self._iter_rows(content, width)
        for _number, row, error in rows:
            if not error and any(_cell_text(value) for value in row):
                break
        yield from rows

    @api.model
    def _existing_readers(self, Partner, batch):
        """{(field, number): reader values} of the readers of the company
        (archived included) that any number of the batch finds."""
        company = self.env.company
        numbers = {field: set() for field in ID_COLUMNS.values()}
        for _row_number, _row, _cells, checked in batch:
            for field, number in checked["ids"].items():
                numbers[field].add(number)
        domain = Domain.OR(
            [Domain(field, "in", list(values)) for field, values in numbers.items() if values]
        )
        readers = Partner.search_read(
            Domain.AND(
                [
                    domain,
                    Domain("is_reader", "=", True),
                    Domain("company_id", "in", [company.id, False]),
                ]
            ),
            ["active", *ID_COLUMNS.values(), *READER_FIELDS.values()],
            load=None,
        )
        return {
            (field, reader[field]): reader
            for reader in readers
            for field in ID_COLUMNS.values()
            if reader[field]
        }

    @api.model
    def _upsert_batch(self, batch, result, references, messages, dry_run=False):
        Partner = self.env["res.partner"].with_context(
            active_test=False,
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )
        company = self.env.company
        existing = self._existing_readers(Partner, batch)
        labels = {
            field: Partner._fields[field]._description_string(self.env)
            for field in ID_COLUMNS.values()
        }
        alumni_expiry = references["today"] + relativedelta(
            months=references["alumni_card_months"]
        )
        to_create = []
        for row_number, row, cells, checked in batch:
            values, ids, status = dict(checked["values"]), checked["ids"], checked["status"]
            found = {}
            for field, number in ids.items():
                if reader := existing.get((field, number)):
                    found[reader["id"]] = reader
            reason = None
            if len(found) > 1:
                reason = messages["conflict"] % {
                    "readers": ", ".join(reader["name"] for reader in found.values())
                }
            elif found:
                partner = next(iter(found.values()))
                for field, number in ids.items():
                    if partner[field] and partner[field] != number:
                        reason = messages["mismatch"] % {
                            "number": labels[field],
                            "value": partner[field],
                        }
                        break
            elif status == "left":
                reason = messages["left_unknown"]
            if reason:
                result["rejected"].append((row_number, cells, reason))
                result["rejected_raw"].append((row_number, row, reason))
                continue
            if not found:
                if status == "graduated":
                    values.setdefault("card_expiry_date", alumni_expiry)
                values.update(ids)
                result["preview"].append(
                    (
                        row_number,
                        "create",
                        ids,
                        values["name"],
                        {
                            field: (False, value)
                            for field, value in values.items()
                            if field not in ids
                        },
                    )
                )
                to_create.append(dict(values, is_reader=True, company_id=company.id))
                continue
            # Graduation gives an alumni card expiry, once: a rerun keeps it.
            if (
                status == "graduated"
                and "card_expiry_date" not in values
                and (partner["reader_category"] != "alumni" or not partner["card_expiry_date"])
            ):
                values["card_expiry_date"] = alumni_expiry
            # Numbers the reader lacks are filled in.
            values.update({field: number for field, number in ids.items() if not partner[field]})
            if status == "left":
                values["active"] = False
            changes = {name: value for name, value in values.items() if partner[name] != value}
            if not changes:
                result["unchanged"] += 1
                continue
            action = "archive" if changes.get("active") is False else "update"
            result["archived" if action == "archive" else "updated"] += 1
            result["preview"].append(
                (
                    row_number,
                    action,
                    {field: partner[field] or ids.get(field) for field in ID_COLUMNS.values()},
                    partner["name"],
                    {name: (partner[name], value) for name, value in changes.items()},
                )
            )
            if not dry_run:
                Partner.browse(partner["id"])._library_write(changes, "import")
        if to_create:
            if not dry_run:
                Partner._library_create(to_create, "import")
            result["created"] += len(to_create)


def _name_key(text):
    """A name as compared by the import: spaces collapsed, case folded."""
    return " ".join(str(text or "").split()).casefold()
