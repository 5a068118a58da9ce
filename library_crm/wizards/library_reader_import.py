# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import datetime
import io
import re
from collections import Counter

from openpyxl import load_workbook

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.mail import email_normalize

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
    "department_code": (
        "department code",
        "department",
        "院系代码",
        "院系编号",
        "院系",
    ),
    "major_code": ("major code", "major", "专业代码", "专业编号", "专业"),
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
        [("upload", "Upload"), ("done", "Done")], default="upload", required=True
    )
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    rejected_file = fields.Binary(string="Rejected Rows", attachment=False, readonly=True)
    rejected_filename = fields.Char(readonly=True)
    error_ids = fields.One2many(
        "library.reader.import.error", "import_id", string="Rejected Rows Shown"
    )

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose a CSV or XLSX file to import."))
        check_upload_size(self.env, self.file)
        result = self._import_content(base64.b64decode(self.file))
        rejected = result["rejected"]
        values = {
            "state": "done",
            "created_count": result["created"],
            "updated_count": result["updated"],
            "unchanged_count": result["unchanged"],
            "rejected_count": len(rejected),
            "error_ids": [
                (
                    0,
                    0,
                    {
                        "row_number": row_number,
                        "card_number": cells.get("card_number", ""),
                        "reader_name": cells.get("name", ""),
                        "reason": reason,
                    },
                )
                for row_number, cells, reason in rejected[:SHOWN_ERRORS]
            ],
        }
        if rejected:
            stem = (self.filename or "readers").rsplit(".", 1)[0]
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
        self.write(values)
        return reopen_action(self, self.env._("Import Readers"))

    def action_view_readers(self):
        return self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_reader")

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
        return map_header(
            header,
            HEADER_TO_COLUMN,
            ("card_number", "name"),
            self.env._(
                "The first row must name the columns. Card number (读者证号) and "
                "name (姓名) are required; accepted column names: %(names)s",
                names=", ".join(aliases[0] for aliases in COLUMN_ALIASES.values()),
            ),
        )

    # ------------------------------------------------------------------
    # Checking rows
    # ------------------------------------------------------------------

    @api.model
    def _messages(self):
        """Translated reasons, looked up once per import rather than per row."""
        return {
            "no_card": self.env._("Card number is missing."),
            "no_name": self.env._("Name is missing."),
            "email": self.env._("E-mail address is not valid."),
            "category": self.env._("Unknown reader category."),
            "department": self.env._("Unknown department code."),
            "major": self.env._("Unknown major code."),
            "major_department": self.env._("The major does not belong to the department."),
            "year": self.env._("Enrollment year is not a year."),
            "birthdate": self.env._("Birthdate is not a date (use YYYY-MM-DD)."),
            "card_expiry_date": self.env._("Card expiry is not a date (use YYYY-MM-DD)."),
            "duplicate": self.env._("The card number appears more than once in the file."),
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
        """Return (values, reason): reader values from the row's non-empty
        cells, or the first reason to reject the row."""
        values = {}
        if not cells.get("card_number"):
            return None, messages["no_card"]
        if not cells.get("name"):
            return None, messages["no_name"]
        values["name"] = cells["name"]
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
        department = major = None
        if code := cells.get("department_code"):
            department = references["departments"].get(code.upper())
            if not department:
                return None, messages["department"]
            values["library_department_id"] = department
        if code := cells.get("major_code"):
            major = references["majors"].get(code.upper())
            if not major:
                return None, messages["major"]
            major_id, major_department = major
            if department and major_department != department:
                return None, messages["major_department"]
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
        return values, None

    @api.model
    def _load_references(self):
        company = self.env.company
        departments = self.env["library.department"].search_read(
            [("company_id", "=", company.id)], ["code"]
        )
        majors = self.env["library.major"].search_read(
            [("company_id", "=", company.id)], ["code", "department_id"]
        )
        return {
            "today": fields.Date.context_today(self),
            "departments": {d["code"]: d["id"] for d in departments},
            "majors": {m["code"]: (m["id"], m["department_id"][0]) for m in majors},
        }

    # ------------------------------------------------------------------
    # Importing
    # ------------------------------------------------------------------

    @api.model
    def _import_content(self, content):
        """Upsert readers by card number from CSV/XLSX bytes.

        Returns counts, the rejected rows with reasons, and the raw rejected
        rows for the downloadable file. Good rows are imported even when
        others are rejected; rows whose values match the reader are left
        untouched, so importing a file twice changes nothing the second time.
        """
        header, columns = self._read_header(content)
        normalize = self.env["res.partner"]._normalize_card_number
        card_index = columns["card_number"]
        width = len(header)

        # First pass: a card number given twice is ambiguous, reject every copy.
        card_counts = Counter(
            normalize(_cell_text(row[card_index]))
            for _number, row, error in self._data_rows(content, width)
            if not error and card_index < len(row)
        )
        messages = self._messages()
        references = self._load_references()
        result = {
            "header": header,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": [],
            "rejected_raw": [],
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
            card_number = normalize(cells["card_number"])
            if any("\x00" in _cell_text(value) for value in row):
                reason = messages["nul"]
                values = None
            else:
                values, reason = self._check_row(cells, references, messages)
            if not reason and card_counts[card_number] > 1:
                reason = messages["duplicate"]
            if reason:
                cells = {key: value.replace("\x00", "") for key, value in cells.items()}
                result["rejected"].append((row_number, cells, reason))
                result["rejected_raw"].append((row_number, row, reason))
                continue
            batch.append((card_number, values))
            if len(batch) >= BATCH_SIZE:
                self._upsert_batch(batch, result)
                batch = []
        if batch:
            self._upsert_batch(batch, result)
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
    def _upsert_batch(self, batch, result):
        Partner = self.env["res.partner"].with_context(
            active_test=False,
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )
        company = self.env.company
        field_names = list(READER_FIELDS.values())
        existing = {
            partner["reader_card_number"]: partner
            for partner in Partner.search_read(
                [
                    ("is_reader", "=", True),
                    ("reader_card_number", "in", [card for card, _v in batch]),
                    ("company_id", "in", [company.id, False]),
                ],
                ["reader_card_number", *field_names],
                load=None,
            )
        }
        to_create = []
        for card_number, values in batch:
            partner = existing.get(card_number)
            if not partner:
                to_create.append(
                    dict(
                        values,
                        is_reader=True,
                        reader_card_number=card_number,
                        company_id=company.id,
                    )
                )
                continue
            changes = {name: value for name, value in values.items() if partner[name] != value}
            if changes:
                Partner.browse(partner["id"])._library_write(changes, "import")
                result["updated"] += 1
            else:
                result["unchanged"] += 1
        if to_create:
            Partner._library_create(to_create, "import")
            result["created"] += len(to_create)
