# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reading catalogue records: MARC 21 and CNMARC/UNIMARC, in ISO 2709 or
MARCXML, and Dublin Core from OAI-PMH, into plain title rows.

Pure functions without Odoo: a reason for a rejected record is a
(message, params) pair that the model translates."""

import re

from lxml import etree
from pymarc import Field, Indicators, Record, Subfield
from pymarc.exceptions import PymarcException
from stdnum import isbn as stdnum_isbn

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

RECORD_TERMINATOR = b"\x1d"
LEADER_LEN = 24
NS_MARCXML = "http://www.loc.gov/MARC21/slim"
NS_DC = "http://purl.org/dc/elements/1.1/"

ISBN_RE = re.compile(r"[0-9][0-9\- ]{8,16}[0-9Xx]")
YEAR_RE = re.compile(r"(1[5-9][0-9]{2}|20[0-9]{2})")
SPACES_RE = re.compile(r"\s+")
# Trailing ISBD punctuation of MARC subfields ("Title /", "Beijing :").
ISBD_TRAIL = " /:;,=.[]"

# Character sets a Chinese library's MARC export comes in, tried in this
# order when the records are not UTF-8: GB18030 reads GB2312 and GBK.
CHINESE_ENCODINGS = ("gb18030",)

MAX_TEXT = {"name": 500, "author": 500, "publisher": 300, "subjects": 1000}


class RecordRejected(Exception):
    """A record that cannot be read: args[0] is the lazy translated reason."""


def _ean_check(digits):
    total = sum(map(int, digits[0:12:2])) + 3 * sum(map(int, digits[1:12:2]))
    return str((10 - total % 10) % 10)


def normalise_isbn(value):
    """The ISBN-13 of an ISBN-10 or ISBN-13 as catalogues write it
    ("7-302-12345-6 (平装)"), or None when there is none; raise ValueError
    for a number whose check digit or length is wrong. The arithmetic of
    python-stdnum's isbn module, without its overhead per call (it runs for
    every record of a 100,000-record file); the tests check both agree."""
    if not value:
        return None
    match = ISBN_RE.search(value)
    if not match:
        return None
    number = match.group(0).replace("-", "").replace(" ", "").upper()
    if len(number) == 10 and number[:9].isdigit() and (number[9].isdigit() or number[9] == "X"):
        total = sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(number))
        if total % 11 == 0:
            base = "978" + number[:9]
            return base + _ean_check(base)
    elif len(number) == 13 and number.isdigit() and number[:3] in ("978", "979"):
        if _ean_check(number) == number[12]:
            return number
    raise ValueError(match.group(0))


def normalise_isbn_stdnum(value):
    """normalise_isbn through python-stdnum, as the tests' reference."""
    match = ISBN_RE.search(value)
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(match.group(0)))
    except stdnum_isbn.ValidationError as exc:
        raise ValueError(match.group(0)) from exc


def clean(text, limit=None):
    text = " ".join((text or "").split()).rstrip(ISBD_TRAIL).strip()
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or None


def title_key(name, year):
    """How a title without ISBN is recognised across feeds."""
    return f"t:{SPACES_RE.sub(' ', name.casefold()).strip()}|{year or ''}"


# ----------------------------------------------------------------------
# ISO 2709
# ----------------------------------------------------------------------


def iter_iso2709(data, encoding=None):
    """Yield (record number, pymarc Record or RecordRejected) for each record
    of an ISO 2709 file. Records are cut at the record terminator, so a
    record with a wrong length in its leader is rejected alone and the next
    one is read."""
    position = 0
    number = 0
    size = len(data)
    while position < size:
        end = data.find(RECORD_TERMINATOR, position)
        chunk = data[position:] if end < 0 else data[position : end + 1]
        position = size if end < 0 else end + 1
        # Line breaks between records, as some systems write them.
        stripped = chunk.lstrip(b"\r\n \x00")
        if not stripped.strip(b"\r\n \x00\x1a"):
            continue
        number += 1
        try:
            yield number, _read_iso2709(stripped, end < 0, encoding)
        except RecordRejected as exc:
            yield number, exc


def _read_iso2709(chunk, unterminated, encoding):
    if len(chunk) < LEADER_LEN or not chunk[:5].isdigit():
        if unterminated:
            raise RecordRejected(_lt("The record is truncated: the file ends inside it."))
        raise RecordRejected(
            _lt("The record has no valid leader (24 characters starting with the record length).")
        )
    declared = int(chunk[:5])
    if unterminated:
        raise RecordRejected(
            _lt(
                "The record is truncated: its leader announces %(declared)s bytes, "
                "the file ends after %(actual)s.",
                declared=declared,
                actual=len(chunk),
            )
        )
    if declared != len(chunk):
        raise RecordRejected(
            _lt(
                "The record length in the leader (%(declared)s) does not match the record "
                "(%(actual)s bytes).",
                declared=declared,
                actual=len(chunk),
            )
        )
    tried = [encoding] if encoding else ["utf-8", *CHINESE_ENCODINGS]
    if encoding:
        encodings = [encoding]
    else:
        # Checking the bytes is much cheaper than a parse that fails.
        try:
            chunk.decode("utf-8")
            encodings = ["utf-8", *CHINESE_ENCODINGS]
        except UnicodeDecodeError:
            encodings = list(CHINESE_ENCODINGS)
    for charset in encodings:
        try:
            if charset.replace("-", "").lower() == "utf8":
                return Record(data=chunk, to_unicode=True, force_utf8=True)
            # pymarc reads leader position 9 "a" as UTF-8: the record says
            # UTF-8 but its bytes are not, so read it as the library's charset.
            patched = chunk[:9] + b" " + chunk[10:]
            return Record(data=patched, to_unicode=True, file_encoding=charset)
        except (UnicodeDecodeError, LookupError):
            continue
        except (PymarcException, ValueError, IndexError) as exc:
            raise RecordRejected(
                _lt("The record structure is broken (%(error)s).", error=type(exc).__name__)
            ) from exc
    raise RecordRejected(
        _lt(
            "The record's text is neither UTF-8 nor GBK/GB2312 (%(encodings)s).",
            encodings=", ".join(tried),
        )
    )


# ----------------------------------------------------------------------
# MARCXML
# ----------------------------------------------------------------------


def xml_parser(recover=False):
    return etree.XMLParser(
        recover=recover, resolve_entities=False, no_network=True, huge_tree=True
    )


def marcxml_to_record(element):
    """A pymarc Record from a <marc:record> element."""
    record = Record(to_unicode=True, force_utf8=True)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        tag = etree.QName(child).localname
        if tag == "leader":
            text = child.text or ""
            if len(text) == LEADER_LEN:
                record.leader = text
        elif tag == "controlfield":
            record.add_field(Field(tag=child.get("tag", ""), data=child.text or ""))
        elif tag == "datafield":
            subfields = [
                Subfield(code=sub.get("code", ""), value=sub.text or "")
                for sub in child
                if isinstance(sub.tag, str) and etree.QName(sub).localname == "subfield"
            ]
            record.add_field(
                Field(
                    tag=child.get("tag", ""),
                    indicators=Indicators(child.get("ind1", " "), child.get("ind2", " ")),
                    subfields=subfields,
                )
            )
    return record


def iter_marcxml(data):
    """Yield (record number, Record or RecordRejected) for a MARCXML file;
    a file that is not well-formed XML yields the records that can be
    recovered, after a rejection at record 0."""
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as exc:
        yield (
            0,
            RecordRejected(
                _lt(
                    "The file is not well-formed XML (%(error)s); the records that could "
                    "be read were imported.",
                    error=str(exc)[:200],
                )
            ),
        )
        root = etree.fromstring(data, parser=xml_parser(recover=True))
        if root is None:
            return
    records = root.iter(f"{{{NS_MARCXML}}}record", "record")
    for number, element in enumerate(records, 1):
        yield number, marcxml_to_record(element)


# ----------------------------------------------------------------------
# From a record to a title row
# ----------------------------------------------------------------------


def _values(record, tag, codes):
    return [value for field in record.get_fields(tag) for value in field.get_subfields(*codes)]


def _first(record, tag, codes):
    values = _values(record, tag, codes)
    return values[0] if values else None


def _headings(record, tag):
    """Subject headings with their subdivisions, "a -- x -- y"."""
    headings = []
    for field in record.get_fields(tag):
        parts = [clean(v) for v in field.get_subfields("a", "x", "y", "z")]
        heading = " -- ".join(p for p in parts if p)
        if heading and heading not in headings:
            headings.append(heading)
    return headings


def _names(record, tags, codes=("a",)):
    names = []
    for tag in tags:
        for field in record.get_fields(tag):
            name = clean(", ".join(field.get_subfields(*codes)))
            if name and name not in names:
                names.append(name)
    return names


def record_format(record):
    """'unimarc' for CNMARC/UNIMARC (title in 200), 'marc21' (title in 245)."""
    if record.get_fields("245"):
        return "marc21"
    if record.get_fields("200"):
        return "unimarc"
    if record.get_fields("010"):
        return "unimarc"
    return "marc21"


def _isbn(record, tag):
    """The first valid ISBN in $a; RecordRejected when all are invalid."""
    invalid = []
    for value in _values(record, tag, ("a",)):
        try:
            isbn = normalise_isbn(value)
        except ValueError as exc:
            invalid.append(exc.args[0])
            continue
        if isbn:
            return isbn
    if invalid:
        raise RecordRejected(
            _lt("The ISBN %(isbn)s is not valid (wrong check digit or length).", isbn=invalid[0])
        )
    return None


def _year(*texts):
    for text in texts:
        match = YEAR_RE.search(text or "")
        if match:
            return int(match.group(1))
    return None


class _IndexedRecord:
    """A pymarc Record's fields by tag, read once (Record.get_fields walks
    every field at each call)."""

    __slots__ = ("by_tag",)

    def __init__(self, record):
        self.by_tag = {}
        for field in record.fields:
            self.by_tag.setdefault(field.tag, []).append(field)

    def get_fields(self, tag):
        return self.by_tag.get(tag, ())


def record_to_row(record):
    """The title row of a MARC record; RecordRejected when it has no title."""
    record = _IndexedRecord(record)
    if record_format(record) == "unimarc":
        row = _unimarc_row(record)
    else:
        row = _marc21_row(record)
    if not row["name"]:
        raise RecordRejected(_lt("The record has no title (245 $a in MARC 21, 200 $a in CNMARC)."))
    control = record.get_fields("001")
    row["source_record_id"] = clean(control[0].data, 64) if control else None
    row["catalogue_url"] = clean(_first(record, "856", ("u",)), 500)
    return row


def _marc21_row(record):
    title = " : ".join(
        part
        for part in (clean(_first(record, "245", ("a",))), clean(_first(record, "245", ("b",))))
        if part
    )
    publication = record.get_fields("264") or record.get_fields("260")
    publisher = year_text = None
    if publication:
        publisher = clean(", ".join(publication[0].get_subfields("b")))
        year_text = " ".join(publication[0].get_subfields("c"))
    fixed = record.get_fields("008")
    clc = ddc = None
    for field in record.get_fields("084"):
        scheme = (field.get("2") or "").lower()
        if scheme in ("clc", "cclc", "zhongtu", "ztf", "") and field.get("a"):
            clc = clean(field.get("a"), 64)
            break
    ddc = clean(_first(record, "082", ("a",)), 64)
    lcc = clean(" ".join(_values(record, "050", ("a", "b"))[:2]), 64)
    return {
        "isbn": _isbn(record, "020"),
        "name": clean(title, MAX_TEXT["name"]),
        "author": clean("; ".join(_names(record, ("100", "110", "700", "710"))), 500),
        "publisher": clean(publisher, MAX_TEXT["publisher"]),
        "publication_year": _year(year_text, fixed[0].data[7:11] if fixed else None),
        "clc_code": clc,
        "ddc_code": ddc,
        "lcc_code": lcc,
        "subjects": clean("; ".join(_headings(record, "650")), MAX_TEXT["subjects"]),
    }


def _unimarc_row(record):
    title = " : ".join(
        part
        for part in (clean(_first(record, "200", ("a",))), clean(_first(record, "200", ("e",))))
        if part
    )
    publication = record.get_fields("210") or record.get_fields("214")
    publisher = year_text = None
    if publication:
        publisher = clean(", ".join(publication[0].get_subfields("c")))
        year_text = " ".join(publication[0].get_subfields("d"))
    fixed = record.get_fields("100")
    fixed_text = fixed[0].get("a") if fixed else None
    authors = _names(record, ("700", "701", "702", "710", "711", "712"), ("a", "b"))
    if not authors:
        authors = [clean(v) for v in _values(record, "200", ("f",)) if clean(v)]
    return {
        "isbn": _isbn(record, "010"),
        "name": clean(title, MAX_TEXT["name"]),
        "author": clean("; ".join(authors), 500),
        "publisher": clean(publisher, MAX_TEXT["publisher"]),
        "publication_year": _year(year_text, fixed_text[9:13] if fixed_text else None),
        "clc_code": clean(_first(record, "690", ("a",)), 64),
        "ddc_code": clean(_first(record, "676", ("a",)), 64),
        "lcc_code": clean(_first(record, "680", ("a",)), 64),
        "subjects": clean("; ".join(_headings(record, "606")), MAX_TEXT["subjects"]),
    }


def dc_to_row(element):
    """The title row of an <oai_dc:dc> element; RecordRejected without title."""

    values = {}
    prefix = f"{{{NS_DC}}}"
    # Dublin Core elements are the children of <oai_dc:dc>.
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            text = clean(child.text)
            if text:
                values.setdefault(tag[len(prefix) :], []).append(text)

    def texts(name):
        return values.get(name, [])

    titles = texts("title")
    if not titles:
        raise RecordRejected(_lt("The record has no title (dc:title)."))
    isbn = link = None
    invalid = []
    for identifier in texts("identifier"):
        lowered = identifier.lower()
        if lowered.startswith(("http://", "https://")):
            link = link or identifier[:500]
            continue
        if "isbn" in lowered or ISBN_RE.fullmatch(identifier.replace("urn:", "")):
            try:
                isbn = isbn or normalise_isbn(identifier)
            except ValueError as exc:
                invalid.append(exc.args[0])
    if invalid and not isbn:
        raise RecordRejected(
            _lt("The ISBN %(isbn)s is not valid (wrong check digit or length).", isbn=invalid[0])
        )
    return {
        "isbn": isbn,
        "name": clean(titles[0], MAX_TEXT["name"]),
        "author": clean("; ".join(texts("creator") + texts("contributor")), 500),
        "publisher": clean("; ".join(texts("publisher")), MAX_TEXT["publisher"]),
        "publication_year": _year(*texts("date")),
        "clc_code": None,
        "ddc_code": None,
        "lcc_code": None,
        "subjects": clean("; ".join(texts("subject")), MAX_TEXT["subjects"]),
        "source_record_id": None,
        "catalogue_url": link,
    }
