# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reader import: library_crm's wizard against Odoo's generic import.

Both import the same generated rows into the same database state: each
measurement runs in its own transaction, rolled back afterwards. Prints rows/s
and the ratio, measured in this one run. Run through run_reader_import.sh.
"""

import argparse
import csv
import io
import platform
import random
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

CATEGORIES = ["undergraduate", "postgraduate", "doctoral", "faculty", "staff", "alumni"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["晓明", "丽华", "建国", "思远", "雨涵", "子轩", "欣怡", "浩然", "佳怡", "志强"]


def make_rows(count, departments):
    rng = random.Random(19)
    rows = []
    for n in range(count):
        department, majors = departments[n % len(departments)]
        category = CATEGORIES[n % len(CATEGORIES)]
        year = 2018 + n % 8
        rows.append(
            [
                f"BENCH{n:07d}",
                rng.choice(SURNAMES) + rng.choice(GIVEN),
                f"reader{n}@bench.example.edu",
                f"139{n:08d}",
                category,
                department,
                majors[n % len(majors)],
                str(year),
                f"{year - 18}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                f"{year + 4}-07-31",
            ]
        )
    return rows


HEADER = [
    "card number",
    "name",
    "email",
    "phone",
    "category",
    "department code",
    "major code",
    "enrollment year",
    "birthdate",
    "card expiry",
]
GENERIC_FIELDS = [
    "reader_card_number",
    "name",
    "email",
    "phone",
    "reader_category",
    "library_department_id",
    "library_major_id",
    "enrollment_year",
    "birthdate",
    "card_expiry_date",
    "is_reader",
]


def to_csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def ensure_references(env):
    Department = env["library.department"]
    departments = []
    for d in range(20):
        code = f"BD{d:02d}"
        department = Department.search([("code", "=", code)]) or Department.create(
            {"name": f"Bench Department {d}", "code": code}
        )
        majors = []
        for m in range(3):
            major_code = f"BM{d:02d}{m}"
            if not env["library.major"].search([("code", "=", major_code)]):
                env["library.major"].create(
                    {
                        "name": f"Bench Major {d}.{m}",
                        "code": major_code,
                        "department_id": department.id,
                    }
                )
            majors.append(major_code)
        departments.append((code, majors))
    env.cr.commit()
    return departments


def timed(registry, action):
    """Run action(env) in a transaction that is rolled back; return seconds
    and the action's result."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        start = time.perf_counter()
        result = action(env)
        env.flush_all()
        elapsed = time.perf_counter() - start
        cr.rollback()
    return elapsed, result


def wizard_import(content, rerun):
    def action(env):
        Wizard = env["library.reader.import"]
        first = Wizard._import_content(content)
        if not rerun:
            return first
        start = time.perf_counter()
        second = Wizard._import_content(content)
        return first, second, time.perf_counter() - start

    return action


def generic_import(content):
    def action(env):
        importer = env["base_import.import"].create(
            {
                "res_model": "res.partner",
                "file": content,
                "file_type": "text/csv",
                "file_name": "readers.csv",
            }
        )
        options = {
            "quoting": '"',
            "separator": ",",
            "has_headers": True,
            "date_format": "%Y-%m-%d",
            "encoding": "utf-8",
            "import_skip_records": [],
            "import_set_empty_fields": [],
            "fallback_values": {},
            "name_create_enabled_fields": {},
        }
        result = importer.execute_import(GENERIC_FIELDS, GENERIC_FIELDS, options)
        errors = [m for m in result.get("messages", []) if m.get("type") == "error"]
        if errors:
            raise RuntimeError(f"generic import failed: {errors[:3]}")
        return len(result["ids"])

    return action


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        departments = ensure_references(api.Environment(cr, SUPERUSER_ID, {}))
    rows = make_rows(args.rows, departments)
    ours = to_csv(HEADER, rows)
    generic = to_csv(GENERIC_FIELDS, [[*row, "1"] for row in rows])

    print(
        f"reader import benchmark: {args.rows} rows, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    ours_s, (first, second, rerun_s) = timed(registry, wizard_import(ours, rerun=True))
    assert first["created"] == args.rows and not first["rejected"], first["rejected"][:3]
    assert second["created"] == second["updated"] == 0
    generic_s, generic_count = timed(registry, generic_import(generic))
    assert generic_count == args.rows, generic_count
    fresh_s = ours_s - rerun_s
    print(f"library_crm import, fresh : {fresh_s:8.1f} s  {args.rows / fresh_s:8.0f} rows/s")
    print(
        f"library_crm import, re-run: {rerun_s:8.1f} s  {args.rows / rerun_s:8.0f} rows/s "
        f"(0 created, 0 updated)"
    )
    print(f"Odoo generic import       : {generic_s:8.1f} s  {args.rows / generic_s:8.0f} rows/s")
    print(f"ratio generic / library_crm (fresh): {generic_s / fresh_s:.1f}x (goal >= 3x)")


if __name__ == "__main__":
    main()
