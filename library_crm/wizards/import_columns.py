# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the reader and usage imports share: matching header names, and the
downloadable file of rejected rows."""

import csv
import io
import re


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


def rejected_csv(env, rows, header=()):
    """A CSV of (line, reason, cells) rows, reason first so it is seen, with
    a BOM so that Excel opens the Chinese text as UTF-8."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([env._("Row"), env._("Reason"), *header])
    for line, reason, cells in rows:
        writer.writerow([line, reason, *cells])
    return output.getvalue().encode("utf-8-sig")
