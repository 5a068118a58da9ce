# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""New titles: library_crm's MARC import against Odoo's generic import of the
same titles as CSV, and an OAI-PMH harvest against the server alone.

Each measurement runs in its own transaction, rolled back afterwards, so all
start from the same database. The OAI-PMH server is pyoai's (PyPI) in a
separate process on a loopback port. Prints records/s and the ratios,
measured in this one run. Run through run_marc_import.sh.
"""

import argparse
import csv
import io
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta

import psycopg2
import requests
from stdnum import ean

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "library_crm", "tests"))
from marc_samples import as_marc, cnmarc_record, marc21_record

CLC = ["TP181", "TP311.5", "O212.1", "K20", "I247.5", "F275", "G250.7", "R73"]
WORDS = ["数据", "学习", "系统", "方法", "理论", "研究", "导论", "实践", "设计", "分析"]
EN_WORDS = ["data", "learning", "systems", "methods", "theory", "design", "analysis"]


def isbn13(n):
    base = f"97875{n:07d}"
    return base + ean.calc_check_digit(base)


def make_records(count):
    """Half MARC 21 (ISBN-10 in 020), half CNMARC (a third of it in GBK)."""
    chunks = []
    rows = []
    for n in range(count):
        isbn = isbn13(n)
        year = str(1990 + n % 35)
        clc = CLC[n % len(CLC)]
        if n % 2:
            title = f"{WORDS[n % 10]}{WORDS[(n // 10) % 10]}{n}"
            record = cnmarc_record(
                f"c{n}", title, isbn=isbn, year=year, clc=clc, subjects=(WORDS[n % 7],)
            )
            chunks.append(as_marc(record, "gbk" if n % 3 == 0 else "utf-8"))
            author, publisher, subjects = "周志华", "清华大学出版社", f"{WORDS[n % 7]} -- 研究"
            ddc = lcc = ""
        else:
            title = f"{EN_WORDS[n % 7].title()} {EN_WORDS[(n // 7) % 7]} {n}"
            record = marc21_record(
                f"m{n}",
                title,
                isbn=isbn[3:12] + _isbn10_check(isbn[3:12]),
                year=year,
                clc=clc,
                link=f"https://opac.example.com/{n}",
            )
            chunks.append(as_marc(record))
            author, publisher, subjects = "Goodfellow, Ian", "MIT Press", "Machine learning"
            ddc, lcc = "006.31", "Q325.5 .G66 2016"
        rows.append([title, isbn, author, publisher, year, clc, ddc, lcc, subjects])
    return b"".join(chunks), rows


def _isbn10_check(nine):
    total = sum((10 - i) * int(d) for i, d in enumerate(nine))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


GENERIC_FIELDS = [
    "name",
    "isbn",
    "author",
    "publisher",
    "publication_year",
    "clc_code",
    "ddc_code",
    "lcc_code",
    "subjects",
]


def to_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(GENERIC_FIELDS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def vacuum(dbname):
    """Each measurement is rolled back: without a vacuum, the next one would
    walk the dead index entries of the previous ones."""
    config = odoo.tools.config
    cnx = psycopg2.connect(
        dbname=dbname,
        host=config["db_host"] or None,
        port=config["db_port"] or None,
        user=config["db_user"] or None,
        password=config["db_password"] or None,
    )
    try:
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute("VACUUM ANALYZE library_new_title")
    finally:
        cnx.close()


def timed(registry, action):
    vacuum(registry.db_name)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        start = time.perf_counter()
        result = action(env)
        env.flush_all()
        elapsed = time.perf_counter() - start
        cr.rollback()
    return elapsed, result


def marc_import(data):
    def action(env):
        Title = env["library.new.title"]
        first = Title._import_marc_records(data)
        start = time.perf_counter()
        second = Title._import_marc_records(data)
        return first, second, time.perf_counter() - start

    return action


def generic_import(content):
    def action(env):
        importer = env["base_import.import"].create(
            {
                "res_model": "library.new.title",
                "file": content,
                "file_type": "text/csv",
                "file_name": "titles.csv",
            }
        )
        options = {
            "quoting": '"',
            "separator": ",",
            "has_headers": True,
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


# ----------------------------------------------------------------------
# OAI-PMH
# ----------------------------------------------------------------------


def serve_oai(count, batch_size):
    """The server process: pyoai's BatchingServer over count Dublin Core records."""
    from oai_server import OaiTestServer, Repository

    start = datetime(2026, 1, 1)
    records = [
        {
            "identifier": f"oai:bench.example.com:{n}",
            "datestamp": start + timedelta(seconds=n),
            "dc": {
                "title": [f"{WORDS[n % 10]}{WORDS[(n // 10) % 10]}{n}"],
                "creator": ["周志华"],
                "publisher": ["清华大学出版社"],
                "date": [str(1990 + n % 35)],
                "subject": [WORDS[n % 7]],
                "identifier": [f"ISBN {isbn13(n + 5_000_000)}", f"https://opac.example.com/{n}"],
            },
        }
        for n in range(count)
    ]
    server = OaiTestServer(
        Repository(records, presorted=True), batch_size=batch_size, batching=True
    ).start()
    print(server.base_url, flush=True)
    server.thread.join()


TOKEN_RE = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def server_alone(base_url):
    """Walk the list as fast as the server answers, reading nothing but the token."""
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    records = 0
    start = time.perf_counter()
    with requests.Session() as session:
        while params:
            body = session.get(base_url, params=params, timeout=120).content
            records += body.count(b"<record>")
            token = TOKEN_RE.search(body)
            params = token and {"verb": "ListRecords", "resumptionToken": token.group(1).decode()}
    return time.perf_counter() - start, records


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config")
    parser.add_argument("--database")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--oai-records", type=int, default=None)
    parser.add_argument("--oai-batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--serve-oai", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    oai_count = args.oai_records or args.records
    if args.serve_oai:
        serve_oai(oai_count, args.oai_batch)
        return
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    print(
        f"new-title benchmark: {args.records} MARC records, {oai_count} OAI records, "
        f"{platform.node()}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    data, rows = make_records(args.records)
    content = to_csv(rows)
    print(f"MARC file {len(data) / 1e6:.1f} MB, CSV {len(content) / 1e6:.1f} MB")

    # The machine is shared: each side runs --repeat times, interleaved,
    # and its best time counts.
    fresh_times, rerun_times, generic_times = [], [], []
    for _run in range(args.repeat):
        ours_s, (first, second, rerun_s) = timed(registry, marc_import(data))
        assert first["created"] == args.records and not first["rejected"], first["rejected"][:3]
        assert second["created"] == second["updated"] == 0, second
        fresh_times.append(ours_s - rerun_s)
        rerun_times.append(rerun_s)
        generic_s, generic_count = timed(registry, generic_import(content))
        assert generic_count == args.records, generic_count
        generic_times.append(generic_s)
        print(
            f"  run {_run + 1}: ours {fresh_times[-1]:.1f} s (re-run {rerun_s:.1f} s), "
            f"generic {generic_s:.1f} s",
            flush=True,
        )
    fresh_s, rerun_s, generic_s = min(fresh_times), min(rerun_times), min(generic_times)
    n = args.records
    print(f"library_crm MARC import, fresh : {fresh_s:8.1f} s  {n / fresh_s:8.0f} records/s")
    print(f"library_crm MARC import, re-run: {rerun_s:8.1f} s  {n / rerun_s:8.0f} records/s")
    print(f"Odoo generic import (CSV)      : {generic_s:8.1f} s  {n / generic_s:8.0f} rows/s")
    print(f"ratio generic / library_crm (fresh): {generic_s / fresh_s:.1f}x (goal >= 3x)")

    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-oai",
            "--oai-records",
            str(oai_count),
            "--oai-batch",
            str(args.oai_batch),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        alone_times, harvest_times = [], []
        for _run in range(args.repeat):
            alone, served = server_alone(base_url)
            assert served == oai_count, served
            harvest, result = timed(
                registry, lambda env: env["library.new.title"]._harvest_oai(base_url)
            )
            assert result["complete"] and result["created"] == oai_count, result
            alone_times.append(alone)
            harvest_times.append(harvest)
            print(f"  run {_run + 1}: server alone {alone:.1f} s, harvest {harvest:.1f} s")
        alone_s, harvest_s = min(alone_times), min(harvest_times)
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"OAI-PMH server alone (ListRecords, {args.oai_batch}/page): {alone_s:8.1f} s  "
        f"{oai_count / alone_s:8.0f} records/s"
    )
    print(
        f"library_crm OAI-PMH harvest              : {harvest_s:8.1f} s  "
        f"{oai_count / harvest_s:8.0f} records/s"
    )
    print(f"harvest / server alone: {harvest_s / alone_s:.2f} (1.00 = bounded by the server)")


if __name__ == "__main__":
    main()
