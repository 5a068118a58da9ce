# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Departments (院系) and majors (专业) from the campus lists, by code: what
the reader roster refers to. Used by the import sources; rows are checked
one by one, bad rows rejected with their reason, reruns change nothing."""

from collections import Counter

from odoo import api, models
from odoo.exceptions import ValidationError

from ..wizards.import_columns import alias_index

DEPARTMENT_ALIASES = {
    "code": ("department code", "code", "院系代码", "院系编号", "单位代码"),
    "name": ("department name", "name", "院系名称", "院系", "单位名称"),
    "parent_code": ("parent code", "faculty code", "上级代码", "上级单位代码", "学院代码"),
}
MAJOR_ALIASES = {
    "code": ("major code", "code", "专业代码", "专业编号"),
    "name": ("major name", "name", "专业名称", "专业"),
    "department_code": ("department code", "department", "院系代码", "院系编号"),
}


def _result(header):
    return {
        "header": header,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
        "rejected_raw": [],
    }


def _reject(result, row_number, row, reason):
    result["rejected"].append((row_number, {}, reason))
    result["rejected_raw"].append((row_number, row, reason))


class LibraryDepartment(models.Model):
    _inherit = "library.department"

    @api.model
    def _reference_messages(self):
        Reader = self.env["library.reader.import"]
        return {
            "no_code": self.env._("Code is missing."),
            "no_name": self.env._("Name is missing."),
            "duplicate": self.env._("The code appears more than once in the file."),
            "parent": self.env._("Unknown parent department code."),
            "cycle": self.env._("The department cannot be its own parent unit."),
            "department": self.env._("Unknown department code."),
            "nul": self.env._("The row contains a NUL character (binary data)."),
            **{
                key: value for key, value in Reader._messages().items() if key in ("quote", "long")
            },
        }

    @api.model
    def _read_codes(self, content, aliases, messages):
        """(header, good rows as (row number, row, cells), result) of a list
        keyed by code: rows without code or name, with a NUL, or whose code
        appears twice are rejected."""
        header, rows = self.env["library.reader.import"]._read_table(
            content,
            alias_index(aliases),
            ("code", "name"),
            self.env._(
                "The first row must name the columns. Code and name are required; "
                "accepted column names: %(names)s",
                names=", ".join(names[0] for names in aliases.values()),
            ),
        )
        result = _result(header)
        checked = []
        for row_number, row, error, cells in rows:
            cells = {
                key: value.upper() if key.endswith("code") else value
                for key, value in cells.items()
            }
            reason = messages.get(error) if error else None
            if not reason and any("\x00" in str(value or "") for value in row):
                reason = messages["nul"]
            if not reason and not cells["code"]:
                reason = messages["no_code"]
            if not reason and not cells["name"]:
                reason = messages["no_name"]
            checked.append((row_number, row, cells, reason))
        counts = Counter(cells["code"] for _n, _r, cells, reason in checked if not reason)
        good = []
        for row_number, row, cells, reason in checked:
            if not reason and counts[cells["code"]] > 1:
                reason = messages["duplicate"]
            if reason:
                _reject(result, row_number, row, reason)
            else:
                good.append((row_number, row, cells))
        return good, result

    @api.model
    def _upsert_codes(self, model, good, values_of, result):
        """Create or update records of model by code in the current company;
        values_of(cells) gives the values or a reason to reject the row.
        Returns {code: record} of the rows kept."""
        company = self.env.company
        existing = {
            record.code: record
            for record in self.env[model]
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "=", company.id),
                    ("code", "in", [c["code"] for _n, _r, c in good]),
                ]
            )
        }
        kept = {}
        for row_number, row, cells in good:
            values, reason = values_of(cells)
            if reason:
                _reject(result, row_number, row, reason)
                continue
            record = existing.get(cells["code"])
            if not record:
                extra = {"company_id": company.id} if model == "library.department" else {}
                record = self.env[model].create({"code": cells["code"], **values, **extra})
                result["created"] += 1
            else:
                changes = {
                    name: value
                    for name, value in values.items()
                    if (record[name].id if hasattr(record[name], "id") else record[name]) != value
                }
                if changes:
                    try:
                        with self.env.cr.savepoint():
                            record.write(changes)
                    except ValidationError as exc:
                        _reject(result, row_number, row, str(exc.args[0]))
                        continue
                    result["updated"] += 1
                else:
                    result["unchanged"] += 1
            kept[cells["code"]] = record
        return kept

    @api.model
    def _import_table_content(self, content):
        """Departments by code from a CSV/XLSX list; a parent unit is named by
        its code, in the list or already in the database."""
        messages = self._reference_messages()
        good, result = self._read_codes(content, DEPARTMENT_ALIASES, messages)
        known = {
            department.code: department.id
            for department in self.with_context(active_test=False).search(
                [("company_id", "=", self.env.company.id)]
            )
        }
        in_file = {cells["code"] for _n, _r, cells in good}
        # Parents first, so that a unit of the list exists before its children.
        top = [item for item in good if not item[2].get("parent_code")]
        children = [item for item in good if item[2].get("parent_code")]
        self._upsert_codes(
            "library.department", top, lambda cells: ({"name": cells["name"]}, None), result
        )
        known.update(
            {
                d.code: d.id
                for d in self.with_context(active_test=False).search(
                    [("company_id", "=", self.env.company.id), ("code", "in", list(in_file))]
                )
            }
        )
        # Children whose parent is itself a child of the list: as many passes
        # as the tree is deep.
        pending = children
        while pending:
            ready = [item for item in pending if item[2]["parent_code"] in known]
            if not ready:
                break
            pending = [item for item in pending if item not in ready]

            def values_of(cells):
                if cells["parent_code"] == cells["code"]:
                    return None, messages["cycle"]
                return {"name": cells["name"], "parent_id": known[cells["parent_code"]]}, None

            kept = self._upsert_codes("library.department", ready, values_of, result)
            known.update({code: record.id for code, record in kept.items()})
        for row_number, row, cells in pending:
            reason = (
                messages["cycle"] if cells["parent_code"] == cells["code"] else messages["parent"]
            )
            _reject(result, row_number, row, reason)
        result["rejected"].sort(key=lambda item: item[0])
        result["rejected_raw"].sort(key=lambda item: item[0])
        return result


class LibraryMajor(models.Model):
    _inherit = "library.major"

    @api.model
    def _import_table_content(self, content):
        """Majors by code from a CSV/XLSX list, each under a department code."""
        Department = self.env["library.department"]
        messages = Department._reference_messages()
        good, result = Department._read_codes(content, MAJOR_ALIASES, messages)
        departments = {
            department.code: department.id
            for department in Department.with_context(active_test=False).search(
                [("company_id", "=", self.env.company.id)]
            )
        }

        def values_of(cells):
            department = departments.get(cells.get("department_code", ""))
            if not department:
                return None, messages["department"]
            return {"name": cells["name"], "department_id": department}, None

        Department._upsert_codes("library.major", good, values_of, result)
        result["rejected"].sort(key=lambda item: item[0])
        result["rejected_raw"].sort(key=lambda item: item[0])
        return result
