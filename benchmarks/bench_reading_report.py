# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Annual reading reports at scale: `library.reading.report._generate` for
one year and one library, timed.

Data, generated in SQL on a throw-away database: readers over departments,
usage of the year (loans, part of them of classified new titles, visits,
e-resource sessions, events, alert clicks) and of the year before, points
lines of the year. Then, each in its own committed transaction:

1. the first generation (every report inserted),
2. a second one, nothing changed (every report updated in place: the rerun
   is idempotent, nothing removed),
3. a third one after a tenth of the readers lost their usage of the year
   (their reports removed, the others' percentiles moved).

Run through run_reading_report.sh; --readers/--usage set the sizes.
"""

import argparse
import os
import platform
import resource
import time
from contextlib import closing
from datetime import datetime

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api, sql_db
from odoo.modules.registry import Registry
from odoo.tools import SQL

KINDS = [
    "loan",
    "loan",
    "loan",
    "visit",
    "visit",
    "eresource",
    "renewal",
    "workstation",
    "training",
    "event",
    "alert_click",
    "consultation",
]
CLASSES = ["TP", "O1", "F8", "K2", "I2", "H3", "D9", "G6", "R7", "B8"]
DEPARTMENTS = 40
TITLES = 5000


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(env, readers, usage, year):
    """Readers, departments, titles, usage and points straight in SQL."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE reader_card_number LIKE 'RR%%'")
    if cr.fetchone()[0] == readers:
        cr.execute("SELECT count(*) FROM library_usage WHERE source = 'bench-rr'")
        if cr.fetchone()[0] == usage:
            print(f"benchmark data already there: {readers} readers, {usage} usage rows")
            return
    print(f"generating {readers} readers and {usage} usage rows...", flush=True)
    start = time.perf_counter()
    company = env.company.id
    cr.execute("DELETE FROM library_reading_report")
    cr.execute("DELETE FROM library_usage WHERE source = 'bench-rr'")
    cr.execute("DELETE FROM library_points_transaction WHERE description = 'bench-rr'")
    cr.execute("DELETE FROM res_partner WHERE reader_card_number LIKE 'RR%%'")
    cr.execute("DELETE FROM library_new_title WHERE isbn LIKE 'RR%%'")
    cr.execute("DELETE FROM library_department WHERE code LIKE 'RRD%%'")
    cr.execute(
        SQL(
            """
            INSERT INTO library_department (name, code, company_id, active, create_date,
                                            write_date, create_uid, write_uid)
            SELECT jsonb_build_object('en_US', 'Bench department ' || n), 'RRD' || n,
                   %(company)s, TRUE, now(), now(), 1, 1
              FROM generate_series(1, %(departments)s) n
            """,
            company=company,
            departments=DEPARTMENTS,
        )
    )
    cr.execute("SELECT array_agg(id ORDER BY id) FROM library_department WHERE code LIKE 'RRD%%'")
    departments = cr.fetchone()[0]
    cr.execute(
        SQL(
            """
            INSERT INTO res_partner (name, complete_name, is_reader, reader_card_number,
                                     reader_category, active, type, company_id, lang,
                                     library_department_id, email, consent_news,
                                     create_date, write_date, create_uid, write_uid)
            SELECT 'Bench reader ' || n, 'Bench reader ' || n, TRUE, 'RR' || lpad(n::text, 7, '0'),
                   'undergraduate', TRUE, 'contact', %(company)s, 'en_US',
                   CASE WHEN n %% 50 = 0 THEN NULL ELSE (%(departments)s)[1 + n %% %(count)s] END,
                   'rr' || n || '@example.edu', n %% 10 <> 0,
                   now(), now(), 1, 1
              FROM generate_series(1, %(readers)s) n
            """,
            company=company,
            departments=departments,
            count=len(departments),
            readers=readers,
        )
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE reader_card_number LIKE 'RR%%'"
    )
    cr.execute("SELECT min(id) FROM res_partner WHERE reader_card_number LIKE 'RR%%'")
    first_id = cr.fetchone()[0]
    cr.execute(
        SQL(
            """
            INSERT INTO library_new_title (name, isbn, call_number, clc_code, catalogue_url,
                                           arrival_date, company_id, create_date, write_date,
                                           create_uid, write_uid)
            SELECT 'Bench title ' || n, 'RR' || n, (%(classes)s)[1 + n %% 10] || '/' || n,
                   (%(classes)s)[1 + n %% 10], 'https://opac.example.edu/rr/' || n,
                   %(arrival)s, %(company)s, now(), now(), 1, 1
              FROM generate_series(1, %(titles)s) n
            """,
            classes=CLASSES,
            arrival=f"{year}-01-01",
            company=company,
            titles=TITLES,
        )
    )
    # Skewed activity (a few heavy readers, many light, some none); four
    # fifths of the rows in the year, the rest in the year before; half of
    # the loans and renewals name a title, alert clicks its catalogue link.
    cr.execute(
        SQL(
            """
            INSERT INTO library_usage (partner_id, kind, occurred_at, quantity, duration,
                                       resource_ref, source, external_ref, company_id,
                                       recorded_at)
            SELECT %(first_id)s + (floor(power(random(), 2) * %(readers)s * 0.95))::int,
                   kind, occurred_at, 1, 0,
                   CASE WHEN kind IN ('loan', 'renewal') AND random() < 0.5
                        THEN 'RR' || (1 + (random() * (%(titles)s - 1))::int)
                        WHEN kind = 'alert_click'
                        THEN 'https://opac.example.edu/rr/'
                             || (1 + (random() * (%(titles)s - 1))::int)
                   END,
                   'bench-rr', 'RR' || n, %(company)s, now()
              FROM (SELECT n, (%(kinds)s)[1 + (random() * 11)::int] AS kind,
                           CASE WHEN random() < 0.8
                                THEN %(start)s::timestamp + random() * interval '365 days'
                                ELSE %(start)s::timestamp - random() * interval '365 days'
                           END AS occurred_at
                      FROM generate_series(1, %(usage)s) n) g
            """,
            first_id=first_id,
            readers=readers,
            titles=TITLES,
            kinds=KINDS,
            start=datetime(year, 1, 1),
            company=company,
            usage=usage,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO library_points_transaction (partner_id, points, reason, description,
                                                    date, company_id, award_cycle,
                                                    create_date, write_date, create_uid,
                                                    write_uid)
            SELECT %(first_id)s + n * 5, 5, 'survey_answered', 'bench-rr',
                   %(start)s::timestamp + random() * interval '365 days', %(company)s, 0,
                   now(), now(), 1, 1
              FROM generate_series(0, %(readers)s / 5 - 1) n
            """,
            first_id=first_id,
            readers=readers,
            start=datetime(year, 1, 1),
            company=company,
        )
    )
    cr.commit()
    vacuum(env.registry, "VACUUM ANALYZE library_usage, res_partner, library_new_title")
    print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)


def vacuum(registry, statement):
    """VACUUM runs outside a transaction: its own connection, autocommit."""
    _name, params = sql_db.connection_info_for(registry.db_name)
    with closing(psycopg2.connect(**params)) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(statement)


def timed_generate(registry, year):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        start = time.perf_counter()
        written, removed = env["library.reading.report"]._generate(year, env.company)
        elapsed = time.perf_counter() - start
        cr.commit()
        cr.execute("SELECT count(*) FROM library_reading_report WHERE year = %s", [year])
        stored = cr.fetchone()[0]
    return elapsed, written, removed, stored


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--usage", type=int, default=2_500_000)
    parser.add_argument("--year", type=int, default=datetime.now().year - 1)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        generate(api.Environment(cr, SUPERUSER_ID, {}), args.readers, args.usage, args.year)
        cr.execute("DELETE FROM library_reading_report")
        cr.commit()
    vacuum(registry, "VACUUM ANALYZE library_reading_report")
    with registry.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM library_usage WHERE occurred_at >= %s AND occurred_at < %s",
            [datetime(args.year, 1, 1), datetime(args.year + 1, 1, 1)],
        )
        in_year = cr.fetchone()[0]
    print(f"usage rows in {args.year}: {in_year}", flush=True)

    results = []
    first = timed_generate(registry, args.year)
    results.append(("first generation (reports inserted)", first))
    vacuum(registry, "VACUUM ANALYZE library_reading_report")
    results.append(
        ("rerun, nothing changed (reports updated)", timed_generate(registry, args.year))
    )
    with registry.cursor() as cr:
        cr.execute(
            """
            DELETE FROM library_usage u USING res_partner p
             WHERE p.id = u.partner_id AND p.reader_card_number LIKE 'RR%%'
               AND p.id %% 10 = 3 AND u.occurred_at >= %s AND u.occurred_at < %s
            """,
            [datetime(args.year, 1, 1), datetime(args.year + 1, 1, 1)],
        )
        cr.commit()
    results.append(
        (
            "rerun after a tenth of the readers lost their usage",
            timed_generate(registry, args.year),
        )
    )

    print()
    print(
        f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"readers: {args.readers}, usage rows: {args.usage} ({in_year} in {args.year})")
    print("| run | time | reports written | removed | stored |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, (elapsed, written, removed, stored) in results:
        print(f"| {label} | {elapsed:.2f} s | {written:,} | {removed:,} | {stored:,} |")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    goal = max(elapsed for _label, (elapsed, *_rest) in results)
    print(f"slowest run: {goal:.2f} s (goal: under 60 s) -> {'met' if goal < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
