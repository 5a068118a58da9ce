# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bulk usage import: the file is streamed into a temporary table with COPY,
checked and merged into library_usage with INSERT ... ON CONFLICT in SQL."""

import base64
import csv
import functools
import io
import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.library_usage import USAGE_KINDS
from .import_columns import (
    MAX_LINE_CHARS,
    alias_index,
    check_upload_size,
    detect_encoding,
    iter_records,
    map_header,
    rejected_csv,
    reopen_action,
    sniff_dialect,
)

COLUMN_ALIASES = {
    "card_number": ("card number", "card", "reader card number", "读者证号", "证号", "借书证号"),
    "kind": ("kind", "type", "usage type", "类型", "服务类型", "行为类型"),
    "occurred_at": ("occurred at", "date", "datetime", "time", "时间", "日期", "发生时间"),
    "quantity": ("quantity", "count", "数量", "册数"),
    "duration": ("duration", "minutes", "时长", "时长分钟"),
    "resource_ref": ("resource", "resource ref", "item", "title", "资源", "题名", "条码"),
    "external_ref": ("external ref", "external reference", "id", "transaction id", "流水号"),
}
HEADER_TO_COLUMN = alias_index(COLUMN_ALIASES)
KIND_ALIASES = {
    "借阅": "loan",
    "借书": "loan",
    "续借": "renewal",
    "入馆": "visit",
    "门禁": "visit",
    "gate": "visit",
    "电子资源": "eresource",
    "e-resource": "eresource",
    "研修机": "workstation",
    "研修间": "workstation",
    "咨询": "consultation",
    "参考咨询": "consultation",
    "培训": "training",
    "活动": "event",
    "讲座": "event",
    "馆际互借": "ill",
    "interlibrary loan": "ill",
}
for _code, _label in USAGE_KINDS:
    KIND_ALIASES[_code] = _code
    KIND_ALIASES[_label.lower()] = _code
STAGE_COLUMNS = ("card_number", "kind", "occurred_at", "quantity", "duration", "resource_ref")
# Rejected rows are read back from the database this many at a time.
REJECTED_BATCH = 5000
# The years a usage row may have: a library's records, and far enough from
# Python's datetime limits (years 1 and 9999) to survive any time zone.
MIN_YEAR = 1900
MAX_YEAR = 2999


class _CopyStream(io.TextIOBase):
    """A read()-able file over a generator of text lines, for COPY FROM STDIN:
    the source file is never held in memory as a whole."""

    def __init__(self, lines):
        self._lines = lines
        self._buffer = ""

    def readable(self):
        return True

    def read(self, size=-1):  # pylint: disable=method-required-super
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._lines)
            except StopIteration:
                break
        if size < 0:
            data, self._buffer = self._buffer, ""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class LibraryUsageImport(models.TransientModel):
    _name = "library.usage.import"
    _description = "Import Usage"

    file = fields.Binary(attachment=False)
    filename = fields.Char()
    source = fields.Char(
        required=True,
        default="ils",
        help="Where the file comes from (ils, gate, eresources...): external "
        "references are unique per source within the current library.",
    )
    state = fields.Selection([("upload", "Upload"), ("done", "Done")], default="upload")
    imported_count = fields.Integer(string="Imported", readonly=True)
    duplicate_count = fields.Integer(string="Already Imported", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    rejected_file = fields.Binary(string="Rejected Rows", attachment=False, readonly=True)
    rejected_filename = fields.Char(readonly=True)

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose a CSV file to import."))
        check_upload_size(self.env, self.file)
        stream = io.BytesIO(base64.b64decode(self.file))
        result = self._import_stream(stream, self.source.strip())
        values = {
            "state": "done",
            "imported_count": result["imported"],
            "duplicate_count": result["duplicates"],
            "rejected_count": len(result["rejected"]),
        }
        if result["rejected"]:
            stem = (self.filename or "usage").rsplit(".", 1)[0]
            values["rejected_file"] = base64.b64encode(
                rejected_csv(self.env, result["rejected"], result["header"])
            )
            values["rejected_filename"] = f"{stem}-rejected.csv"
        self.write(values)
        return reopen_action(self, self.env._("Import Usage"))

    @api.model
    def _reasons(self):
        return {
            "card": self.env._("Unknown card number."),
            "kind": self.env._("Unknown kind of usage."),
            "date": self.env._("Not a date and time (use YYYY-MM-DD HH:MM)."),
            "year": self.env._(
                "The year of the date is not between %(min)s and %(max)s.",
                min=MIN_YEAR,
                max=MAX_YEAR,
            ),
            "quantity": self.env._("Quantity is not a whole number from 0 to 999999999."),
            "duration": self.env._("Duration is not a number of minutes from 0 to 999999999."),
            "columns": self.env._("Wrong number of columns."),
            "quote": self.env._(
                "A quotation mark opens a cell that never closes; the row was not read."
            ),
            "long": self.env._("The row is longer than %(size)s characters.", size=MAX_LINE_CHARS),
            "nul": self.env._("The row contains a NUL character (binary data)."),
        }

    @api.model
    def _import_stream(self, binary_stream, source, tz=None, on_rejected=None):
        """Import usage from a seekable CSV byte stream, read in pieces so
        that memory stays bounded whatever the size of the file.

        Returns the counts, the file's header and the rejected rows as (line
        number, reason, cells); when on_rejected is given, the rejected rows
        are passed to it with the header, in batches, instead of being
        returned."""
        if not source:
            raise UserError(self.env._("Name the source of the file (ils, gate...)."))
        if binary_stream.read(4) == b"PK\x03\x04":
            raise UserError(
                self.env._("This looks like an Excel file: save it as CSV and import it again.")
            )
        encoding = detect_encoding(binary_stream)
        if not encoding:
            raise UserError(
                self.env._(
                    "The file is neither UTF-8 nor GBK text: save it as CSV (UTF-8) and "
                    "import it again."
                )
            )
        text = io.TextIOWrapper(binary_stream, encoding=encoding, newline="")
        first = text.readline(MAX_LINE_CHARS).replace("\x00", "")
        dialect = sniff_dialect(first)
        header = next(csv.reader([first], dialect), [])
        records = iter_records(text, dialect, width=len(header), first_line=2)
        return self._import_records(header, records, source, tz, on_rejected)

    @api.model
    def _import_records(self, header, records, source, tz=None, on_rejected=None):
        """Import usage records, (line number, cells, error) as the CSV
        reader yields them or as an SQL source reads them, under a header
        naming their columns: staged with COPY, checked and merged in SQL.
        Returns what _import_stream returns."""
        if not source:
            raise UserError(self.env._("Name the source of the file (ils, gate...)."))
        columns = self._map_header(header)
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            SQL(
                """
                CREATE TEMP TABLE library_usage_stage (
                    line_no integer, card text, kind text, occurred_at text,
                    quantity text, duration text, resource_ref text, external_ref text,
                    raw text, error text
                ) ON COMMIT DROP
                """
            )
        )
        cr.copy_expert(
            "COPY library_usage_stage FROM STDIN WITH (FORMAT csv)",
            _CopyStream(self._stage_lines(records, columns, len(header))),
        )
        counts = self._merge_stage(
            source,
            tz or self.env.user.tz or "UTC",
            on_rejected and functools.partial(on_rejected, header),
        )
        cr.execute(SQL("DROP TABLE library_usage_stage, library_usage_checked"))
        counts["header"] = header
        return counts

    @api.model
    def _map_header(self, header):
        return map_header(
            header,
            HEADER_TO_COLUMN,
            ("card_number", "kind", "occurred_at"),
            self.env._(
                "The first row must name the columns; card number (读者证号), kind "
                "(类型) and date (时间) are required. Accepted names: %(names)s",
                names=", ".join(aliases[0] for aliases in COLUMN_ALIASES.values()),
            ),
        )

    @api.model
    def _stage_lines(self, records, columns, width):
        """Yield one normalised CSV line per source record, numbered as in
        the file; a record that cannot be read is staged with its error."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        indexes = [columns.get(name) for name in STAGE_COLUMNS]
        ref_index = columns.get("external_ref")
        for count, (line_no, row, error) in enumerate(records, start=1):
            if error:
                writer.writerow([line_no, "", "", "", "", "", "", "", json.dumps(row), error])
            elif not any(row):
                continue
            elif any("\x00" in cell for cell in row):
                writer.writerow([line_no, "", "", "", "", "", "", "", json.dumps(row), "nul"])
            elif len(row) < width:
                writer.writerow([line_no, "", "", "", "", "", "", "", json.dumps(row), "columns"])
            else:
                card, kind, when, quantity, duration, resource = (
                    row[i].strip() if i is not None else "" for i in indexes
                )
                card = card.upper()
                kind = KIND_ALIASES.get(kind.lower(), kind)
                when = when.replace("/", "-").replace("T", " ")
                ref = row[ref_index].strip() if ref_index is not None else ""
                # Without a reference, the row's own content identifies it.
                ref = ref or f"{card}|{kind}|{when}|{resource}"
                raw = json.dumps(row)
                writer.writerow(
                    [line_no, card, kind, when, quantity, duration, resource, ref, raw, ""]
                )
            if count % 1000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    @api.model
    def _checked_rows(self):
        """The staged rows with their reader and the first reason to reject
        them (NULL when good), evaluated by PostgreSQL without exceptions."""
        return SQL(
            """
            SELECT s.*, p.id AS partner_id,
                   CASE WHEN s.error IS NOT NULL THEN s.error
                        WHEN p.id IS NULL THEN 'card'
                        WHEN NOT s.kind = ANY(%(kinds)s) THEN 'kind'
                        WHEN s.occurred_at !~ %(date_re)s THEN 'date'
                        WHEN substr(s.occurred_at, 1, 4) = '0000' THEN 'date'
                        -- Years beyond these leave Python's datetime once
                        -- moved to UTC (1 BC, 10000): every list of the
                        -- reader's usage and the segmentation engine failed.
                        WHEN substr(s.occurred_at, 1, 4)::int
                             NOT BETWEEN %(min_year)s AND %(max_year)s THEN 'year'
                        WHEN substr(s.occurred_at, 6, 2)::int NOT BETWEEN 1 AND 12
                            THEN 'date'
                        WHEN substr(s.occurred_at, 9, 2)::int
                             NOT BETWEEN 1 AND extract(day FROM
                                 make_date(substr(s.occurred_at, 1, 4)::int,
                                           substr(s.occurred_at, 6, 2)::int, 1)
                                 + interval '1 month - 1 day')
                            THEN 'date'
                        WHEN length(s.occurred_at) > 10
                             AND (substr(s.occurred_at, 12, 2)::int > 23
                                  OR substr(s.occurred_at, 15, 2)::int > 59
                                  OR (length(s.occurred_at) > 16
                                      AND substr(s.occurred_at, 18, 2)::int > 59))
                            THEN 'date'
                        WHEN s.quantity <> '' AND s.quantity !~ '^[0-9]{1,9}$' THEN 'quantity'
                        WHEN s.duration <> '' AND s.duration !~ '^[0-9]{1,9}([.][0-9]{1,6})?$'
                            THEN 'duration'
                   END AS reason
              FROM library_usage_stage s
              LEFT JOIN res_partner p
                     ON p.reader_card_number = s.card AND p.is_reader
                    AND (p.company_id = %(company)s OR p.company_id IS NULL)
            """,
            kinds=[code for code, _label in USAGE_KINDS],
            # [0-9], not \d: every value that passes can be cast without error.
            date_re="^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$",
            company=self.env.company.id,
            min_year=MIN_YEAR,
            max_year=MAX_YEAR,
        )

    @api.model
    def _merge_stage(self, source, tz, on_rejected=None):
        cr = self.env.cr
        # Checked once into a table: the insert and the rejected rows read it.
        cr.execute(
            SQL(
                "CREATE TEMP TABLE library_usage_checked ON COMMIT DROP AS %(checked)s",
                checked=self._checked_rows(),
            )
        )
        cr.execute(SQL("CREATE INDEX ON library_usage_checked (line_no) WHERE reason IS NOT NULL"))
        cr.execute(
            SQL(
                """
                INSERT INTO library_usage
                       (partner_id, kind, occurred_at, quantity, duration, resource_ref,
                        source, external_ref, company_id, recorded_at)
                SELECT partner_id, kind,
                       (occurred_at::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                       COALESCE(NULLIF(quantity, '')::int, 1),
                       COALESCE(NULLIF(duration, '')::float, 0),
                       NULLIF(resource_ref, ''), %(source)s, external_ref, %(company)s,
                       now() AT TIME ZONE 'UTC'
                  FROM library_usage_checked
                 WHERE reason IS NULL
                ON CONFLICT (company_id, source, external_ref) DO NOTHING
                """,
                tz=tz,
                source=source,
                company=self.env.company.id,
            )
        )
        imported = cr.rowcount
        reasons = self._reasons()
        rejected = []
        rejected_count = 0
        last_line = 0
        while True:
            cr.execute(
                SQL(
                    """
                    SELECT line_no, reason, raw FROM library_usage_checked
                     WHERE reason IS NOT NULL AND line_no > %(last)s
                     ORDER BY line_no LIMIT %(limit)s
                    """,
                    last=last_line,
                    limit=REJECTED_BATCH,
                )
            )
            batch = [
                (line, reasons[reason], json.loads(raw)) for line, reason, raw in cr.fetchall()
            ]
            if not batch:
                break
            rejected_count += len(batch)
            last_line = batch[-1][0]
            if on_rejected:
                on_rejected(batch)
            else:
                rejected += batch
        cr.execute(SQL("SELECT count(*) FROM library_usage_checked WHERE reason IS NULL"))
        good = cr.fetchone()[0]
        self.env["library.usage"].invalidate_model()
        return {
            "imported": imported,
            "duplicates": good - imported,
            "rejected": rejected,
            "rejected_count": rejected_count,
        }
