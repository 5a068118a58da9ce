# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Finding a reader at scale (#18 §3): what a librarian waits for when they
type a card number or a name into a reader field or the search bar, open
the Readers list, or open the Reader Analysis pivot.

Readers are generated in SQL with Chinese names (a common surname and one
or two given-name characters), a library card, a campus card (一卡通) and a
student number, an e-mail address, a category and a lifecycle stage and
value tier, as many as --readers. Each measure runs as a librarian (record
rules apply), --repeat times after two warm-up calls, with a different
reader each time; the median and the 95th percentile are printed, with the
plan PostgreSQL chose (EXPLAIN ANALYZE) for the name searches.

Run through run_reader_search.sh: --readers sets the size.
"""

import argparse
import os
import platform
import random
import resource
import statistics
import time

from bench_segmentation import vacuum

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import SQL

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯"
    "健俊帆帅旭宁欣怡梓涵子轩雨萱一诺思远博文佳琪若曦晨阳天佑浩然嘉怡梦琪"
)
CATEGORIES = ["undergraduate", "postgraduate", "doctoral", "faculty", "staff", "alumni", "public"]
STAGES = ["never_active", "new", "growing", "long_term", "short_term", "lapsed"]
TIERS = ["core", "important", "ordinary"]
PREFIX = "RS"
LIST_FIELDS = [
    "reader_card_number",
    "complete_name",
    "reader_category",
    "library_department_id",
    "library_major_id",
    "email",
    "phone",
    "is_card_expired",
    "card_expiry_date",
    "reader_segment",
    "value_tier",
    "loyalty_score",
]


def card(n):
    return f"{PREFIX}{n:08d}"


def campus(n):
    return f"{(n * 7919) % 10**9 + 10**9}"


def student(n):
    return f"20{18 + n % 8}{n:07d}"


def generate(env, readers):
    """Readers with their metrics, straight in SQL; kept between runs."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE reader_card_number LIKE %s", [PREFIX + "%"])
    if cr.fetchone()[0] == readers:
        print(f"{readers} readers already there", flush=True)
        return
    print(f"generating {readers} readers...", flush=True)
    start = time.perf_counter()
    cr.execute(
        "DELETE FROM library_reader_metrics m USING res_partner p"
        " WHERE p.id = m.partner_id AND p.reader_card_number LIKE %s",
        [PREFIX + "%"],
    )
    cr.execute("DELETE FROM res_partner WHERE reader_card_number LIKE %s", [PREFIX + "%"])
    company = env.company.id
    # Deterministic names: surname, then one given-name character for a
    # third of the readers, two for the others.
    cr.execute(
        SQL(
            """
            INSERT INTO res_partner (name, complete_name, is_reader, reader_card_number,
                                     reader_campus_card, reader_student_number, email,
                                     reader_category, active, type, company_id, lang,
                                     create_date, write_date, create_uid, write_uid)
            SELECT nm, nm, TRUE, %(prefix)s || lpad(n::text, 8, '0'),
                   ((n::bigint * 7919) %% 1000000000 + 1000000000)::text,
                   '20' || (18 + n %% 8) || lpad(n::text, 7, '0'),
                   'rs' || n || '@campus.edu.cn',
                   (%(categories)s)[1 + n %% 7], TRUE, 'contact', %(company)s, 'en_US',
                   now(), now(), 1, 1
              FROM generate_series(1, %(readers)s) n,
                   LATERAL (SELECT substr(%(surnames)s, 1 + (n * 31) %% %(ns)s, 1)
                                   || substr(%(given)s, 1 + (n * 17) %% %(ng)s, 1)
                                   || CASE WHEN n %% 3 = 0 THEN ''
                                           ELSE substr(%(given)s, 1 + (n * 13) %% %(ng)s, 1)
                                      END AS nm) names
            """,
            prefix=PREFIX,
            categories=CATEGORIES,
            company=company,
            readers=readers,
            surnames=SURNAMES,
            ns=len(SURNAMES),
            given=GIVEN,
            ng=len(GIVEN),
        )
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE reader_card_number LIKE %s",
        [PREFIX + "%"],
    )
    env["library.reader.metrics"]._ensure_rows()
    cr.execute(
        SQL(
            """
            UPDATE library_reader_metrics m
               SET reader_segment = (%(stages)s)[1 + p.id %% 6],
                   value_tier = (%(tiers)s)[1 + (p.id / 7) %% 3],
                   loyalty_score = p.id %% 101, value_score = (p.id * 3) %% 101
              FROM res_partner p
             WHERE p.id = m.partner_id AND p.reader_card_number LIKE %(prefix)s
            """,
            stages=STAGES,
            tiers=TIERS,
            prefix=PREFIX + "%",
        )
    )
    cr.commit()
    vacuum(env.registry, "VACUUM ANALYZE res_partner, library_reader_metrics")
    print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)


def librarian(env):
    login = "bench_reader_search_librarian"
    user = env["res.users"].with_context(active_test=False).search([("login", "=", login)])
    if not user:
        user = env["res.users"].create(
            {
                "name": "Bench Librarian",
                "login": login,
                "group_ids": [(4, env.ref("library_crm.group_library_librarian").id)],
            }
        )
        env.cr.commit()
    return user


def timed(call, values, repeat):
    for value in values[:2]:
        call(value)
    times = []
    for value in values[2 : 2 + repeat]:
        start = time.perf_counter()
        call(value)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def explain(env, partners, term):
    domain = partners._search_display_name("ilike", term)
    query = partners._search(domain, limit=8, order=partners._order)
    env.cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query.select()))
    return [row[0] for row in env.cr.fetchall()]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--readers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    print(
        f"Reader search benchmark: {args.readers} readers; {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        flush=True,
    )
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        generate(env, args.readers)
        user = librarian(env)
    rng = random.Random(42)
    picks = [rng.randint(1, args.readers) for _ in range(args.repeat + 2)]
    with registry.cursor() as cr:
        env = api.Environment(cr, user.id, {})
        partners = env["res.partner"]
        cr.execute(
            "SELECT complete_name FROM res_partner WHERE reader_card_number = ANY(%s)",
            [[card(n) for n in picks]],
        )
        names = [row[0] for row in cr.fetchall()]
        rng.shuffle(names)
        three = [name for name in names if len(name) == 3]
        two = [name for name in names if len(name) == 2]
        none = [f"QX{n}Z" for n in picks]
        # The first keystroke: a surname alone, about 1% of the readers each.
        surname = [name[0] for name in names]

        def name_search(term):
            return partners.name_search(term, limit=8)

        measures = [
            ("name_search, library card number", [card(n) for n in picks]),
            ("name_search, campus card (一卡通)", [campus(n) for n in picks]),
            ("name_search, student number", [student(n) for n in picks]),
            ("name_search, full name of 3 characters", three),
            ("name_search, full name of 2 characters", two),
            ("name_search, a surname (1 character)", surname),
            ("name_search, matching nothing", none),
        ]
        results = []
        for label, values in measures:
            values = (values * (args.repeat + 2))[: args.repeat + 2]
            assert name_search(values[0]) or label.endswith("nothing"), label
            results.append((label, *timed(name_search, values, args.repeat)))

        readers = [("is_reader", "=", True)]
        spec = {name: {} for name in LIST_FIELDS}
        spec["library_department_id"] = {"fields": {"display_name": {}}}
        spec["library_major_id"] = {"fields": {"display_name": {}}}

        def first_page(_value):
            env.invalidate_all()
            return partners.web_search_read(readers, spec, limit=80, count_limit=10001)

        results.append(
            (
                "Readers list, first page (80, count to 10,001)",
                *timed(first_page, picks, args.repeat),
            )
        )

        def searched_page(number):
            # The search box's "Reader or Card" (view_library_reader_search).
            env.invalidate_all()
            domain = [*readers, ("display_name", "ilike", card(number))]
            return partners.web_search_read(domain, spec, limit=80, count_limit=10001)

        results.append(
            (
                "Readers list searched by card number",
                *timed(searched_page, picks, args.repeat),
            )
        )

        def pivot(_value):
            env.invalidate_all()
            # The four requests the pivot makes: total, rows, columns, cells.
            for groupby in (
                [],
                ["reader_segment"],
                ["value_tier"],
                ["reader_segment", "value_tier"],
            ):
                partners.formatted_read_group(
                    readers, groupby, ["__count", "loyalty_score:avg", "value_score:avg"]
                )

        results.append(
            (
                "Reader Analysis pivot, segment x tier (4 requests)",
                *timed(pivot, picks, args.repeat),
            )
        )
        plans = {
            "card number": explain(env, partners, card(picks[0])),
            "name": explain(env, partners, three[0]),
        }
        cr.rollback()
    print(f"\n{'measure':<52} {'median':>9} {'p95':>9}")
    for label, median, p95 in results:
        print(f"{label:<52} {median:7.1f} ms {p95:7.1f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")
    for what, plan in plans.items():
        timing = [line for line in plan if "Execution Time" in line or "Planning Time" in line]
        print(f"\nEXPLAIN ANALYZE, name_search by {what}: {' '.join(t.strip() for t in timing)}")
        if args.plans:
            print("\n".join(plan))


if __name__ == "__main__":
    main()
