# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the reader and usage imports share: reading a CSV file that may be
malformed without losing its good rows, matching header names, the
downloadable file of rejected rows, and the action that shows a wizard
again with its results (the hand-over uses it too)."""

import codecs
import csv
import io
import re
import zipfile

from odoo.exceptions import UserError

# Bytes read at a time when checking the encoding of a whole file.
DECODE_CHUNK = 1024 * 1024
# A physical line longer than this is rejected, never held in memory.
MAX_LINE_CHARS = 64 * 1024
# A quoted cell may span lines; a quote still open after this many lines is
# a stray quote: its line is rejected and reading goes on at the next line.
MAX_RECORD_LINES = 20
# Default size limit of a file given to an import wizard, in MB (the
# ir.config_parameter "library_crm.import_max_mb" changes it).
DEFAULT_IMPORT_MAX_MB = 50
# An XLSX is a zip: refuse it when its parts would take more than this once
# uncompressed, before openpyxl opens it (a "zip bomb" is small on disk).
XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024

# Cell content a spreadsheet would run as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DIGITS_RE = re.compile(r"[0-9]+")


def alias_index(column_aliases):
    """{alias: column} from {column: (alias, ...)}."""
    return {alias: column for column, aliases in column_aliases.items() for alias in aliases}


def match_columns(header, header_to_column):
    """The index of each known column in a header row. Names are compared
    lower-case, with "_", "-" and runs of spaces read as one space."""
    columns = {}
    for index, title in enumerate(header):
        key = re.sub(r"[_\-\s]+", " ", str(title or "").strip().lower()).strip()
        column = header_to_column.get(key)
        if column and column not in columns:
            columns[column] = index
    return columns


def map_header(header, header_to_column, required, message):
    """match_columns(), refusing a header without one of the `required`
    columns with `message` (translated by the caller, it names the columns
    the wizard accepts)."""
    columns = match_columns(header, header_to_column)
    if any(column not in columns for column in required):
        raise UserError(message)
    return columns


def reopen_action(wizard, name):
    """The window action that shows `wizard` again, with its results."""
    return {
        "type": "ir.actions.act_window",
        "res_model": wizard._name,
        "res_id": wizard.id,
        "view_mode": "form",
        "target": "new",
        "name": name,
    }


def is_digits(text, max_digits=None):
    """Whether text is made of the digits 0-9 only (str.isdigit() also
    accepts "²" and other characters int() refuses)."""
    return bool(DIGITS_RE.fullmatch(text)) and (max_digits is None or len(text) <= max_digits)


def import_max_bytes(env):
    """The largest file an import wizard accepts, in bytes."""
    value = env["ir.config_parameter"].sudo().get_param("library_crm.import_max_mb")
    value = value.strip() if value else ""
    megabytes = int(value) if is_digits(value, 6) else DEFAULT_IMPORT_MAX_MB
    return megabytes * 1024 * 1024


def check_upload_size(env, b64_data):
    """Refuse a wizard's upload above the size limit, before it is decoded."""
    limit = import_max_bytes(env)
    # Base64 pads the last group with up to two "=": a file of exactly the
    # limit is accepted.
    padding = b64_data[-2:].count(b"=" if isinstance(b64_data, bytes) else "=")
    if len(b64_data) // 4 * 3 - padding > limit:
        raise UserError(
            env._(
                "The file is larger than %(size)s MB, the limit for an import from the "
                "browser. Split it, or ask the administrator to load it with the "
                "library_usage_import command.",
                size=limit // (1024 * 1024),
            )
        )


def detect_encoding(binary_stream):
    """ "utf-8-sig" when the whole stream is valid UTF-8, else "gb18030" (what
    Excel on Chinese Windows writes) when the whole stream is valid GB18030,
    else None. The stream is read in chunks, never whole, and rewound."""
    found = None
    for encoding in ("utf-8-sig", "gb18030"):
        binary_stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            while chunk := binary_stream.read(DECODE_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        found = encoding
        break
    binary_stream.seek(0)
    return found


def sniff_dialect(sample):
    """The standard CSV dialect (quotes doubled inside quoted cells) with the
    delimiter the sample uses. Only the delimiter is taken from the sniffer:
    it guesses "no doubled quotes" when the sample has no quote at all."""
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _physical_lines(text_stream):
    """Yield (line, too_long) for each line of a text stream opened with
    newline="" (so CR, LF and CRLF all end a line). A line longer than
    MAX_LINE_CHARS is skipped to its end and given as ("", True)."""
    while True:
        line = text_stream.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while (rest := text_stream.readline(MAX_LINE_CHARS)) and not rest.endswith(
                ("\n", "\r")
            ):
                pass
            yield "", True
            continue
        yield line, False


def _parse_strict(lines, dialect):
    """("ok", rows), ("open", None) when the lines end inside a quoted cell,
    or ("bad", None) for another quoting error."""
    try:
        return "ok", list(csv.reader(lines, dialect, strict=True))
    except csv.Error as exc:
        return ("open" if "unexpected end of data" in str(exc) else "bad"), None


def iter_records(text_stream, dialect, width=None, first_line=1):
    """Yield (line number, cells, error) for each record of a CSV text
    stream, error being None, "quote" (a quote that never closes: the cells
    are then the line as one text), "nul" (a NUL character the csv module
    of Python < 3.11 refuses) or "long" (a line too long, no cells).
    A bad record costs only its own line: the records after it are read as
    usual. A quoted cell may span lines, but a record
    spanning lines must then parse cleanly into `width` cells, else its
    first line had a stray quote. Memory stays bounded whatever the file."""
    lines = _physical_lines(text_stream)
    pending = []  # lines read ahead while looking for a closing quote
    line_no = first_line - 1

    def next_line():
        if pending:
            return pending.pop(0)
        return next(lines, None)

    while (item := next_line()) is not None:
        line_no += 1
        line, too_long = item
        if too_long:
            yield line_no, [], "long"
            continue
        record = [line]
        if dialect.quotechar not in line:
            try:
                cells = next(csv.reader(record, dialect), [])
            except csv.Error:  # NUL characters, before Python 3.11
                cells = [line.rstrip("\r\n").replace("\x00", "")]
                yield line_no, cells, "nul"
            else:
                yield line_no, cells, None
            continue
        state, rows = _parse_strict(record, dialect)
        while state == "open" and len(record) < MAX_RECORD_LINES:
            following = next_line()
            if following is None or following[1]:
                if following is not None:
                    pending.insert(0, following)
                break
            record.append(following[0])
            state, rows = _parse_strict(record, dialect)
        try:
            if len(record) == 1 and state != "open":
                rows = rows if state == "ok" else list(csv.reader(record, dialect))
                yield line_no, (rows[0] if rows else []), None
                continue
            if state == "ok" and len(rows) == 1 and (width is None or len(rows[0]) == width):
                yield line_no, rows[0], None
                line_no += len(record) - 1
                continue
        except csv.Error:  # a cell larger than csv.field_size_limit()
            yield line_no, [], "long"
            line_no += len(record) - 1
            continue
        pending[:0] = [(extra, False) for extra in record[1:]]
        yield line_no, [line.rstrip("\r\n")], "quote"


def neutralise(cell):
    """A cell as text that a spreadsheet shows and never runs: formulas get a
    leading apostrophe, NUL characters are dropped."""
    text = "" if cell is None else str(cell).replace("\x00", "")
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def rejected_writer(output):
    """A function writing one row of neutralised cells to output as CSV."""
    writer = csv.writer(output)
    return lambda row: writer.writerow([neutralise(cell) for cell in row])


def rejected_csv(env, rows, header=()):
    """A CSV of (line, reason, cells) rows, reason first so it is seen, with
    a BOM so that Excel opens the Chinese text as UTF-8. The header row
    carries the file's own column names after Row and Reason."""
    output = io.StringIO()
    write = rejected_writer(output)
    write([env._("Row"), env._("Reason"), *header])
    for line, reason, cells in rows:
        write([line, reason, *cells])
    return output.getvalue().encode("utf-8-sig")


def xlsx_too_large(content, limit=XLSX_MAX_UNCOMPRESSED):
    """Whether the parts of an XLSX (a zip) would take more than limit bytes
    once uncompressed, read from the zip's central directory without
    decompressing anything. A zip that cannot be read counts as too large."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return sum(info.file_size for info in archive.infolist()) > limit
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return True
