# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Segmentation engine and usage import at scale, as ratios measured in one run.

1. Full recompute of metrics and segments (written to the readers) against
   one plain SQL aggregate of the same metrics over the same table, run with
   the same session settings: the first run (the baseline, which writes
   every reader's figures), a run where nothing changed, and a run half a
   year later where most readers change segment (history rows written).
   And the first run against a naive per-reader ORM computation on 1,000
   readers, extrapolated.
2. Import of a CSV against plain COPY into a table of the same shape and
   indexes.
3. Peak RSS of this Odoo process during the recomputes.

Run through run_segmentation.sh; --readers/--usage/--import-rows set the sizes.
"""

import argparse
import csv
import io
import os
import platform
import resource
import tempfile
import time
from contextlib import closing
from datetime import timedelta

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api, fields, sql_db
from odoo.modules.registry import Registry
from odoo.tools import SQL

KINDS = ["loan", "visit", "eresource", "renewal", "workstation", "consultation", "training"]
CATEGORIES = ["undergraduate", "postgraduate", "doctoral", "faculty", "staff", "alumni", "public"]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(env, readers, usage):
    """Readers and usage straight in SQL: the data, not the ORM, is under test."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE reader_card_number LIKE 'BS%%'")
    if cr.fetchone()[0] == readers:
        cr.execute("SELECT count(*) FROM library_usage WHERE source = 'bench'")
        if cr.fetchone()[0] == usage:
            print(f"benchmark data already there: {readers} readers, {usage} usage rows")
            create_metrics_rows(env)
            return
    print(f"generating {readers} readers and {usage} usage rows...", flush=True)
    start = time.perf_counter()
    cr.execute("DELETE FROM library_usage WHERE source = 'bench'")
    cr.execute("DELETE FROM library_segment_history")
    cr.execute("DELETE FROM res_partner WHERE reader_card_number LIKE 'BS%%'")
    company = env.company.id
    cr.execute(
        SQL(
            """
            INSERT INTO res_partner (name, complete_name, is_reader, reader_card_number,
                                     reader_category, active, type, company_id, lang,
                                     create_date, write_date, create_uid, write_uid)
            SELECT 'Bench reader ' || n, 'Bench reader ' || n, TRUE, 'BS' || lpad(n::text, 7, '0'),
                   (%(categories)s)[1 + n %% 7], TRUE, 'contact', %(company)s, 'en_US',
                   now(), now(), 1, 1
              FROM generate_series(1, %(readers)s) n
            """,
            categories=CATEGORIES,
            company=company,
            readers=readers,
        )
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE reader_card_number LIKE 'BS%%'"
    )
    cr.execute("SELECT min(id) FROM res_partner WHERE reader_card_number LIKE 'BS%%'")
    first_id = cr.fetchone()[0]
    # Activity skewed across readers: some heavy, many light, a tenth never active;
    # dates spread over three years.
    cr.execute(
        SQL(
            """
            INSERT INTO library_usage (partner_id, kind, occurred_at, quantity, duration,
                                       source, external_ref, company_id, recorded_at)
            SELECT %(first_id)s + (floor(power(random(), 2) * %(readers)s * 0.9))::int,
                   (%(kinds)s)[1 + (random() * 6)::int],
                   now() AT TIME ZONE 'UTC' - (random() * 1095) * interval '1 day',
                   1, 0, 'bench', 'B' || n, %(company)s, now()
              FROM generate_series(1, %(usage)s) n
            """,
            first_id=first_id,
            readers=readers,
            kinds=KINDS,
            company=company,
            usage=usage,
        )
    )
    cr.commit()
    create_metrics_rows(env)
    print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)


def create_metrics_rows(env):
    """What res.partner.create does for a reader: give it its row of
    metrics, born never active. Readers inserted in SQL get it here, not in
    the measured first recompute."""
    env["library.reader.metrics"]._ensure_rows()
    env.cr.commit()


def reset_to_first_run(registry):
    """Put the readers back as they were before the first recompute: rows
    of metrics as born, no history, no last run. Then vacuum, as autovacuum would have done
    on a server where it runs (it is off on some, which leaves the tables
    bloated by every earlier run)."""
    # Importable once the configuration has set the addons path.
    from odoo.addons.library_crm.models.library_reader_metrics import NEVER_ACTIVE

    with registry.cursor() as cr:
        born = {**NEVER_ACTIVE, "usage_first_date": None, "last_activity_date": None}
        cr.execute(
            SQL(
                "UPDATE library_reader_metrics SET %s",
                SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(name), value) for name, value in born.items()
                ),
            )
        )
        cr.execute("DELETE FROM library_segment_history")
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("library_crm.segmentation_last_run", "")
        env["ir.config_parameter"].set_param("library_crm.segmentation_usage_watermark", "")
    # Rewritten compactly, as rows freshly created with their readers are.
    vacuum(registry, "VACUUM FULL library_reader_metrics")
    vacuum(
        registry,
        "VACUUM ANALYZE library_usage, res_partner, library_reader_metrics, "
        "library_segment_history",
    )


def vacuum(registry, statement):
    """VACUUM runs outside a transaction: its own connection, autocommit."""
    _name, params = sql_db.connection_info_for(registry.db_name)
    with closing(psycopg2.connect(**params)) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(statement)


def plain_aggregate(env, now):
    """The same per-reader metrics as the engine computes (loyalty's and
    the value score's), as one SQL aggregate with the same expressions, and
    nothing else."""
    start_12 = now - timedelta(days=365)
    start_6 = now - timedelta(days=182)
    env.cr.execute(
        SQL(
            """
            SELECT u.partner_id,
                   min(u.occurred_at) FILTER (WHERE u.kind <> 'alert_click'),
                   max(u.occurred_at) FILTER (WHERE u.kind <> 'alert_click'),
                   count(*) FILTER (WHERE u.kind <> 'alert_click' AND u.occurred_at >= %(s12)s),
                   sum(u.quantity) FILTER (WHERE u.kind = 'loan' AND u.occurred_at >= %(s12)s),
                   bit_count(bit_or(1::bigint << (
                       (extract(year FROM u.occurred_at) * 12
                        + extract(month FROM u.occurred_at))::int - %(base)s
                   )) FILTER (WHERE u.kind <> 'alert_click'
                              AND u.occurred_at >= %(s12)s)::bit(64)),
                   bit_count(bit_or(1::bigint << array_position(%(kinds)s, u.kind::text))
                       FILTER (WHERE u.kind <> 'alert_click'
                               AND u.occurred_at >= %(s12)s)::bit(64)),
                   count(*) FILTER (WHERE u.kind <> 'alert_click' AND u.occurred_at >= %(s6)s),
                   count(*) FILTER (WHERE u.kind <> 'alert_click' AND u.occurred_at >= %(s12)s
                                    AND u.occurred_at < %(s6)s),
                   count(*) FILTER (WHERE u.kind IN ('training', 'event')
                                    AND u.occurred_at >= %(s12)s),
                   sum(u.quantity) FILTER (
                       WHERE u.kind IN ('loan', 'renewal', 'ill', 'eresource', 'workstation')
                         AND u.occurred_at >= %(s12)s)
                   + 2 * count(*) FILTER (WHERE u.kind = 'consultation'
                                          AND u.occurred_at >= %(s12)s),
                   sum(u.quantity) FILTER (WHERE u.kind = 'visit' AND u.occurred_at >= %(s12)s),
                   count(*) FILTER (WHERE u.kind = 'alert_click' AND u.occurred_at >= %(s12)s)
              FROM library_usage u
             WHERE u.partner_id IS NOT NULL AND u.occurred_at <= %(now)s
             GROUP BY u.partner_id
            """,
            s12=start_12,
            s6=start_6,
            now=now,
            base=start_12.year * 12 + start_12.month,
            kinds=env["library.usage"]._fields["kind"].get_values(env),
        )
    )
    return len(env.cr.fetchall())


def naive_orm(env, partners, now):
    """What a per-reader ORM loop would do: read each reader's usage, compute
    in Python, write the reader's metrics."""
    start_12 = now - timedelta(days=365)
    start_6 = now - timedelta(days=182)
    Usage = env["library.usage"]
    for partner in partners:
        rows = Usage.search_read(
            [("partner_id", "=", partner.id), ("occurred_at", "<=", now)],
            ["kind", "occurred_at", "quantity"],
        )
        recent = [r for r in rows if r["occurred_at"] >= start_12]
        partner.library_metrics_id.write(
            {
                "usage_first_date": min((r["occurred_at"] for r in rows), default=None),
                "last_activity_date": max((r["occurred_at"] for r in rows), default=None),
                "usage_count_12m": len(recent),
                "loan_count_12m": sum(r["quantity"] for r in recent if r["kind"] == "loan"),
                "active_months_12m": len({r["occurred_at"].strftime("%Y%m") for r in recent}),
                "usage_breadth": len({r["kind"] for r in recent}),
                "usage_recent_6m": len([r for r in recent if r["occurred_at"] >= start_6]),
            }
        )
    env.flush_all()


def import_files(rows, readers, folder):
    """The same rows as an export (ours) and as typed columns (for COPY)."""
    export = os.path.join(folder, "usage.csv")
    typed = os.path.join(folder, "typed.csv")
    with open(export, "w", newline="") as out_export, open(typed, "w", newline="") as out_typed:
        w_export = csv.writer(out_export)
        w_typed = csv.writer(out_typed)
        w_export.writerow(["card number", "kind", "date", "quantity", "external ref"])
        for n in range(rows):
            card = f"BS{1 + n % readers:07d}"
            when = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00"
            kind = KINDS[n % 7]
            w_export.writerow([card, kind, when, 1, f"I{n}"])
            w_typed.writerow([kind, when, 1, 0, "copy", f"I{n}", 1])
    return export, typed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--usage", type=int, default=5_000_000)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    print(
        f"segmentation benchmark: {args.readers} readers, {args.usage} usage rows, "
        f"{args.import_rows} import rows; {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        generate(env, args.readers, args.usage)

    reset_to_first_run(registry)
    now = fields.Datetime.now()
    m = measure_recompute(registry, now)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        partners = env["res.partner"].search(
            [("reader_card_number", "like", "BS%")], limit=1000, order="id"
        )
        t0 = time.perf_counter()
        naive_orm(env, partners, now)
        naive_s = (time.perf_counter() - t0) * args.readers / len(partners)
        cr.rollback()

    plain_s = m["plain"]
    print(f"plain SQL aggregate, server settings: {m['plain_default']:8.2f} s")
    print(f"plain SQL aggregate, engine settings: {plain_s:8.2f} s (the reference below)")
    print(
        f"first full recompute, the baseline ({m['processed']} readers, "
        f"{m['first_written']} written, "
        f"{m['first_history']} history rows): {m['first']:8.2f} s"
    )
    print(f"  ratio recompute / plain SQL    : {m['first'] / plain_s:8.2f}x (goal <= 1.5x)")
    print(
        f"full recompute again, nothing changed: {m['steady']:8.2f} s "
        f"({m['steady'] / plain_s:.2f}x the plain SQL)"
    )
    print(
        f"full recompute half a year later, no new usage ({m['later_written']} readers "
        f"written, {m['later_history']} history rows): {m['later']:8.2f} s "
        f"({m['later'] / m['plain_later']:.2f}x the plain SQL at that date, "
        f"{m['plain_later']:.2f} s; goal <= 1.5x)"
    )
    print(
        f"single-reader update (_recompute_readers, 50 readers): median "
        f"{m['single_median'] * 1000:.1f} ms, p95 {m['single_p95'] * 1000:.1f} ms (goal < 50 ms)"
    )
    print(f"naive ORM, extrapolated          : {naive_s:8.0f} s")
    print(f"  recompute faster than naive ORM: {naive_s / m['first']:8.0f}x (goal >= 50x)")
    rss_before, rss_peak = m["rss_before"], m["rss_peak"]
    print(
        f"peak RSS: {rss_before:.0f} MB before, {rss_peak:.0f} MB after the recomputes "
        f"(goal < 1024 MB)",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as folder:
        export, typed = import_files(args.import_rows, args.readers, folder)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            baselines = copy_baselines(cr, typed)
            t0 = time.perf_counter()
            with open(export, "rb") as stream:
                result = env["library.usage.import"]._import_stream(stream, "bench-import")
            import_s = time.perf_counter() - t0
            cr.rollback()
    print(
        f"usage import ({result['imported']} imported, {len(result['rejected'])} rejected):"
        f" {import_s:8.2f} s"
    )
    for label, seconds in baselines:
        print(f"plain COPY of the same rows into {label}: {seconds:8.2f} s")
        print(f"  ratio import / this COPY: {import_s / seconds:8.2f}x (goal <= 5x)")


def measure_recompute(registry, now):
    """The engine's runs, each timed against the plain aggregate measured in
    the same run with the same session settings: the first run (from the
    state reset_to_first_run leaves), a run where nothing changed, and a run
    half a year later where many readers change segment (rolled back)."""
    engine = "library.segmentation"
    m = {}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        t0 = time.perf_counter()
        plain_aggregate(env, now)
        m["plain_default"] = time.perf_counter() - t0
        env[engine]._tune_session()
        t0 = time.perf_counter()
        plain_aggregate(env, now)
        m["plain"] = time.perf_counter() - t0
        m["rss_before"] = peak_rss_mb()
        t0 = time.perf_counter()
        m["processed"] = env[engine]._recompute(full=True, now=now)
        m["first"] = time.perf_counter() - t0
        m["first_history"] = history_count(cr)
        m["first_written"] = metrics_updates(cr)
    # Between two nightly runs, autovacuum clears the old row versions.
    vacuum(registry, "VACUUM ANALYZE library_reader_metrics, library_segment_history")
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        t0 = time.perf_counter()
        env[engine]._recompute(full=True, now=now)
        m["steady"] = time.perf_counter() - t0
        cr.commit()
        # Measured warm too, after the runs; the better of the two counts.
        env[engine]._tune_session()
        t0 = time.perf_counter()
        plain_aggregate(env, now)
        m["plain"] = min(m["plain"], time.perf_counter() - t0)

        # A single-reader event (an answer, a rating): 50 readers spread
        # over the table, one at a time, each against the stored cutoffs.
        cr.execute("SELECT id FROM res_partner WHERE is_reader ORDER BY id")
        ids = [row[0] for row in cr.fetchall()]
        sample = ids[:: max(1, len(ids) // 50)][:50]
        times = []
        for partner_id in sample:
            t0 = time.perf_counter()
            env[engine]._recompute_readers([partner_id], now=now)
            times.append(time.perf_counter() - t0)
        times.sort()
        m["single_median"] = times[len(times) // 2]
        m["single_p95"] = times[int(len(times) * 0.95) - 1]

        later = now + timedelta(days=182)
        env[engine]._tune_session()
        t0 = time.perf_counter()
        plain_aggregate(env, later)
        m["plain_later"] = time.perf_counter() - t0
        before = history_count(cr)
        updated_before = metrics_updates(cr)
        t0 = time.perf_counter()
        env[engine]._recompute(full=True, now=later)
        m["later"] = time.perf_counter() - t0
        m["later_history"] = history_count(cr) - before
        m["later_written"] = metrics_updates(cr) - updated_before
        m["rss_peak"] = peak_rss_mb()
        cr.rollback()
    return m


def history_count(cr):
    cr.execute("SELECT count(*) FROM library_segment_history")
    return cr.fetchone()[0]


def metrics_updates(cr):
    """Rows of metrics updated so far in this transaction."""
    cr.execute(
        "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'library_reader_metrics'"
    )
    return cr.fetchone()[0]


def copy_baselines(cr, typed):
    """Plain COPY of the rows into tables of library_usage's shape: a
    temporary one (no WAL), a regular one with the same indexes, and one
    with the same indexes and foreign keys. Rolled back by the caller."""
    first_id = first_reader_id(cr)
    recorded_at = fields.Datetime.to_string(fields.Datetime.now())
    with open(typed) as stream:
        rows = [
            f"{first_id + n % 100_000},{line.rstrip()},{recorded_at}"
            for n, line in enumerate(stream)
        ]
    data = "\n".join(rows) + "\n"
    copy_sql = (
        "COPY {table} (partner_id, kind, occurred_at, quantity, duration, source, "
        "external_ref, company_id, recorded_at) FROM STDIN WITH (FORMAT csv)"
    )
    tables = [
        ("a temporary table, same indexes", "CREATE TEMP TABLE bench_copy_temp", ""),
        ("a regular table, same indexes", "CREATE TABLE bench_copy_plain", ""),
        (
            "a regular table, same indexes and foreign keys",
            "CREATE TABLE bench_copy_fk",
            "ALTER TABLE bench_copy_fk "
            "ADD FOREIGN KEY (partner_id) REFERENCES res_partner(id), "
            "ADD FOREIGN KEY (company_id) REFERENCES res_company(id)",
        ),
    ]
    results = []
    for label, create, constraints in tables:
        table = create.split()[-1]
        cr.execute(f"{create} (LIKE library_usage INCLUDING ALL)")
        if constraints:
            cr.execute(constraints)
        t0 = time.perf_counter()
        cr.copy_expert(copy_sql.format(table=table), io.StringIO(data))
        results.append((label, time.perf_counter() - t0))
    return results


def first_reader_id(cr):
    cr.execute("SELECT min(id) FROM res_partner WHERE reader_card_number LIKE 'BS%%'")
    return cr.fetchone()[0]


if __name__ == "__main__":
    main()
