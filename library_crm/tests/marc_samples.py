# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""MARC records built with pymarc, as library systems export them: MARC 21
in UTF-8 and CNMARC in UTF-8 or GBK (for the tests and the benchmark)."""

from pymarc import Field, Indicators, Record, Subfield, record_to_xml


def _field(tag, *pairs, ind=(" ", " ")):
    return Field(
        tag=tag,
        indicators=Indicators(*ind),
        subfields=[Subfield(code=pairs[i], value=pairs[i + 1]) for i in range(0, len(pairs), 2)],
    )


def marc21_record(
    control,
    title,
    isbn=None,
    authors=("Goodfellow, Ian",),
    publisher="MIT Press",
    year="2016",
    clc=None,
    ddc="006.31",
    lcc=("Q325.5", ".G66 2016"),
    subjects=("Machine learning",),
    link=None,
):
    record = Record(force_utf8=True)
    record.leader = record.leader[:9] + "a" + record.leader[10:]
    record.add_field(Field(tag="001", data=control))
    record.add_field(Field(tag="008", data=f"160101s{year}    mau           000 0 eng d"))
    if isbn:
        record.add_field(_field("020", "a", f"{isbn} (hardcover)"))
    if lcc:
        record.add_field(_field("050", "a", lcc[0], "b", lcc[1], ind=("0", "0")))
    if ddc:
        record.add_field(_field("082", "a", ddc, ind=("0", "4")))
    if clc:
        record.add_field(_field("084", "a", clc, "2", "clc"))
    if authors:
        record.add_field(_field("100", "a", authors[0] + ",", ind=("1", " ")))
        for author in authors[1:]:
            record.add_field(_field("700", "a", author + ",", ind=("1", " ")))
    record.add_field(_field("245", "a", title + " /", "c", "by someone.", ind=("1", "0")))
    record.add_field(
        _field("264", "a", "Cambridge :", "b", publisher + ",", "c", year + ".", ind=(" ", "1"))
    )
    for subject in subjects:
        record.add_field(_field("650", "a", subject + ".", ind=(" ", "0")))
    if link:
        record.add_field(_field("856", "u", link, ind=("4", "0")))
    return record


def cnmarc_record(
    control,
    title,
    isbn=None,
    authors=("周志华",),
    publisher="清华大学出版社",
    year="2016",
    clc="TP181",
    subjects=("机器学习",),
    link=None,
):
    """A CNMARC record as Chinese library systems write it (leader position
    9 blank: the character set is the system's, UTF-8 or GBK)."""
    record = Record()
    record.add_field(Field(tag="001", data=control))
    if isbn:
        record.add_field(_field("010", "a", isbn, "d", "CNY88.00"))
    record.add_field(_field("100", "a", f"20160101d{year}    em y0chiy50      ea"))
    record.add_field(_field("200", "a", title, "f", authors[0] + "著", ind=("1", " ")))
    record.add_field(_field("210", "a", "北京", "c", publisher, "d", year))
    for subject in subjects:
        record.add_field(_field("606", "a", subject, "x", "研究", ind=("0", " ")))
    record.add_field(_field("690", "a", clc, "v", "5"))
    record.add_field(_field("701", "a", authors[0], "4", "著", ind=(" ", "0")))
    for author in authors[1:]:
        record.add_field(_field("702", "a", author, "4", "译", ind=(" ", "0")))
    if link:
        record.add_field(_field("856", "u", link))
    return record


def as_marc(record, encoding="utf-8"):
    """ISO 2709 bytes of a record in this character set (pymarc writes
    UTF-8: a GBK record is re-encoded and its lengths recomputed)."""
    if encoding == "utf-8":
        return record.as_marc()
    # Encode every field in the character set, then lay out the directory.
    fields = []
    for field in record.fields:
        if field.is_control_field():
            data = field.data.encode(encoding) + b"\x1e"
        else:
            data = (field.indicator1 + field.indicator2).encode("ascii")
            for subfield in field.subfields:
                data += b"\x1f" + subfield.code.encode("ascii") + subfield.value.encode(encoding)
            data += b"\x1e"
        fields.append((field.tag, data))
    directory = b""
    offset = 0
    for tag, data in fields:
        directory += f"{tag}{len(data):04d}{offset:05d}".encode("ascii")
        offset += len(data)
    directory += b"\x1e"
    base = 24 + len(directory)
    length = base + offset + 1
    leader = str(record.leader)
    leader = f"{length:05d}{leader[5:9]} {leader[10:12]}{base:05d}{leader[17:]}"
    return leader.encode("ascii") + directory + b"".join(d for _t, d in fields) + b"\x1d"


def as_marcxml(records, encoding="utf-8"):
    body = b"".join(record_to_xml(record, namespace=False) for record in records)
    head = f'<?xml version="1.0" encoding="{encoding}"?>'.encode("ascii")
    text = (
        head + b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + body + b"</collection>"
    ).decode("utf-8")
    return text.encode(encoding)
