# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A SQL usage source (#17 §4) against the CSV usage import of the same rows,
measured in one run.

The rows live in a throw-away MariaDB database shaped like Koha's
`statistics` joined to `borrowers` (the mapping query of USAGE.md); the same
rows are written as the CSV export the wizard takes. Both go into
library.usage through the same checks; each import starts from the same
state (its rows rolled back after). Goal: the SQL source within 2x of the
CSV import.

Run through run_sql_source.sh; --readers/--rows set the sizes, --batch the
source's batch size.
"""

import argparse
import csv
import os
import platform
import tempfile
import time
import uuid

import pymysql
from bench_segmentation import generate  # readers straight in SQL

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

KINDS = ["issue", "renew", "localuse"]
QUERY = (
    "SELECT b.cardnumber AS card_number,"
    " CASE s.type WHEN 'issue' THEN 'loan' WHEN 'renew' THEN 'renewal' ELSE 'visit' END"
    " AS kind, s.datetime AS occurred_at, s.itemnumber AS resource_ref,"
    " CONCAT('S', s.id) AS external_ref"
    " FROM statistics s JOIN borrowers b ON b.borrowernumber = s.borrowernumber"
    " ORDER BY s.id"
)


def mariadb(database=None):
    return pymysql.connect(
        host="127.0.0.1", port=3306, user="root", password="", database=database, autocommit=True
    )


def fill_mariadb(name, readers, rows, csv_path):
    with mariadb() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn = mariadb(name)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE borrowers (borrowernumber INT PRIMARY KEY, cardnumber VARCHAR(32))"
        )
        cur.execute(
            "CREATE TABLE statistics (id INT PRIMARY KEY, datetime DATETIME, type VARCHAR(16),"
            " itemnumber VARCHAR(32), borrowernumber INT, KEY (borrowernumber))"
        )
        cur.executemany(
            "INSERT INTO borrowers VALUES (%s, %s)",
            [(n, f"BS{n:07d}") for n in range(1, readers + 1)],
        )
        with open(csv_path, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["card number", "kind", "date", "resource ref", "external ref"])
            batch = []
            for n in range(1, rows + 1):
                reader = 1 + (n * 7919) % readers
                when = f"2026-{1 + n % 11:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00"
                kind = KINDS[n % 3]
                batch.append((n, when, kind, f"I{n % 50000}", reader))
                ours = {"issue": "loan", "renew": "renewal", "localuse": "visit"}[kind]
                writer.writerow([f"BS{reader:07d}", ours, when, f"I{n % 50000}", f"S{n}"])
                if len(batch) == 10000:
                    cur.executemany("INSERT INTO statistics VALUES (%s,%s,%s,%s,%s)", batch)
                    batch = []
            if batch:
                cur.executemany("INSERT INTO statistics VALUES (%s,%s,%s,%s,%s)", batch)
    conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    print(
        f"SQL source benchmark: {args.readers} readers, {args.rows} usage rows, batches of "
        f"{args.batch}; {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    with registry.cursor() as cr:
        generate(api.Environment(cr, SUPERUSER_ID, {}), args.readers, 0)
    name = f"lcrm_bench_koha_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        csv_path = os.path.join(folder, "usage.csv")
        t0 = time.perf_counter()
        fill_mariadb(name, args.readers, args.rows, csv_path)
        print(f"MariaDB {name} and the CSV filled in {time.perf_counter() - t0:.0f} s")
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                t0 = time.perf_counter()
                with open(csv_path, "rb") as stream:
                    result = env["library.usage.import"]._import_stream(stream, "bench-csv")
                csv_s = time.perf_counter() - t0
                cr.rollback()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["ir.config_parameter"].set_param(
                    "library_crm.import_sql_allow_odoo_server", "1"
                )
                source = env["library.import.source"].create(
                    {
                        "name": "Bench Koha",
                        "kind": "usage",
                        "location": "sql",
                        "sql_engine": "mysql",
                        "sql_host": "127.0.0.1",
                        "sql_port": 3306,
                        "login": "root",
                        "sql_database": name,
                        "usage_source": "bench-sql",
                        "tz": "UTC",
                        "query": QUERY,
                        "batch_size": args.batch,
                    }
                )
                t0 = time.perf_counter()
                run = source._run()
                sql_s = time.perf_counter() - t0
                counts = (run.state, run.read_count, run.created_count, run.rejected_count)
                cr.rollback()
        finally:
            with mariadb() as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    print(
        f"CSV usage import ({result['imported']} imported, {len(result['rejected'])} "
        f"rejected): {csv_s:8.2f} s ({args.rows / csv_s:,.0f} rows/s)"
    )
    print(
        f"SQL source run (state {counts[0]}, {counts[1]} read, {counts[2]} created, "
        f"{counts[3]} rejected): {sql_s:8.2f} s ({args.rows / sql_s:,.0f} rows/s)"
    )
    print(f"  ratio SQL source / CSV import: {sql_s / csv_s:8.2f}x (goal <= 2x)", flush=True)


if __name__ == "__main__":
    main()
