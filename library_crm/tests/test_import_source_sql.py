# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SQL sources against real servers: a throw-away MariaDB database shaped
like Koha's (borrowers, statistics), and a throw-away PostgreSQL database;
both are dropped after the tests."""

import base64
import contextlib
import uuid
from unittest.mock import patch

import psycopg2
import pymysql

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import LibraryCrmCase

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

# The Koha mapping documented in readme/USAGE.md.
KOHA_READERS = """
SELECT b.cardnumber AS card_number,
       TRIM(CONCAT(COALESCE(b.surname, ''), COALESCE(b.firstname, ''))) AS name,
       b.email AS email,
       CASE b.categorycode WHEN 'UG' THEN 'undergraduate' WHEN 'PG' THEN 'postgraduate'
            WHEN 'FAC' THEN 'faculty' WHEN 'STAFF' THEN 'staff' ELSE b.categorycode END
           AS category,
       b.dateexpiry AS card_expiry_date
  FROM borrowers b
 WHERE b.cardnumber IS NOT NULL
 ORDER BY b.borrowernumber
"""
KOHA_USAGE = """
SELECT b.cardnumber AS card_number,
       CASE s.type WHEN 'issue' THEN 'loan' WHEN 'renew' THEN 'renewal' END AS kind,
       s.datetime AS occurred_at,
       s.itemnumber AS resource_ref,
       CONCAT('koha-', s.type, '-', s.borrowernumber, '-', s.itemnumber, '-',
              DATE_FORMAT(s.datetime, '%Y%m%d%H%i%s')) AS external_ref
  FROM statistics s
  LEFT JOIN borrowers b ON b.borrowernumber = s.borrowernumber
 WHERE s.type IN ('issue', 'renew')
 ORDER BY s.datetime, s.borrowernumber, s.itemnumber, s.type
"""

BORROWERS = [
    # borrowernumber, cardnumber, surname, firstname, email, categorycode, dateexpiry
    (1, "K0001", "张", "伟", "zhang.wei@example.edu", "UG", "2028-06-30"),
    (2, "K0002", "李", "娜", "li.na@example.edu", "PG", "2027-06-30"),
    (3, "K0003", "王", "芳", "not-an-address", "UG", "2028-06-30"),
    (4, "K0004", "刘", "洋", None, "FAC", None),
    (5, "K0005", "陈", "静", "chen.jing@example.edu", "ALIEN", "2028-06-30"),
    (6, "K0006", "杨", "磊", "yang.lei@example.edu", "STAFF", "2030-01-31"),
]


@tagged("post_install", "-at_install")
class TestKohaSqlSource(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.koha_db = f"lcrm_koha_test_{uuid.uuid4().hex[:10]}"
        admin = pymysql.connect(**MARIADB, autocommit=True, charset="utf8mb4")
        cls.addClassCleanup(admin.close)
        with admin.cursor() as cr:
            cr.execute(f"CREATE DATABASE {cls.koha_db} CHARACTER SET utf8mb4")
        cls.addClassCleanup(cls._drop_koha, cls.koha_db)
        with admin.cursor() as cr:
            cr.execute(f"USE {cls.koha_db}")
            cr.execute(
                """CREATE TABLE borrowers (
                    borrowernumber INT PRIMARY KEY AUTO_INCREMENT,
                    cardnumber VARCHAR(32) UNIQUE, surname LONGTEXT, firstname MEDIUMTEXT,
                    email MEDIUMTEXT, categorycode VARCHAR(10) NOT NULL,
                    branchcode VARCHAR(10) NOT NULL DEFAULT 'MAIN',
                    dateenrolled DATE, dateexpiry DATE)"""
            )
            cr.execute(
                """CREATE TABLE statistics (
                    datetime DATETIME, branch VARCHAR(10), type VARCHAR(16),
                    itemnumber INT, borrowernumber INT)"""
            )
            cr.executemany(
                "INSERT INTO borrowers (borrowernumber, cardnumber, surname, firstname, email,"
                " categorycode, dateenrolled, dateexpiry)"
                " VALUES (%s, %s, %s, %s, %s, %s, '2024-09-01', %s)",
                BORROWERS,
            )
            cr.executemany(
                "INSERT INTO statistics VALUES (%s, 'MAIN', %s, %s, %s)",
                [
                    ("2026-10-01 09:30:00", "issue", 101, 1),
                    ("2026-10-01 09:31:00", "issue", 102, 1),
                    ("2026-10-02 10:00:00", "return", 101, 1),
                    ("2026-10-15 14:00:00", "renew", 102, 1),
                    ("2026-10-16 08:00:00", "issue", 201, 2),
                    ("2026-10-17 08:00:00", "issue", 301, 99),  # no such borrower
                ],
            )

    @classmethod
    def _drop_koha(cls, name):
        with contextlib.closing(pymysql.connect(**MARIADB, autocommit=True)) as admin:
            with admin.cursor() as cr:
                cr.execute(f"DROP DATABASE IF EXISTS {name}")

    def _source(self, kind, query, **values):
        return self.env["library.import.source"].create(
            {
                "name": f"Koha {kind}",
                "kind": kind,
                "location": "sql",
                "sql_engine": "mysql",
                "sql_host": "127.0.0.1",
                "sql_port": 3306,
                "sql_database": self.koha_db,
                "login": "root",
                "password": "",
                "query": query,
                "usage_source": "koha",
                "tz": "Asia/Shanghai",
                "batch_size": 2,
                **values,
            }
        )

    def _readers(self):
        return self.env["res.partner"].search([("reader_card_number", "=like", "K000%")])

    def test_koha_borrowers_read_in_batches_with_rejected_rows(self):
        source = self._source("readers", KOHA_READERS)
        run = source._run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            (run.read_count, run.created_count, run.rejected_count, run.file_name),
            (6, 4, 2, self.koha_db),
        )
        readers = self._readers()
        self.assertEqual(
            sorted(readers.mapped("reader_card_number")), ["K0001", "K0002", "K0004", "K0006"]
        )
        zhang = readers.filtered(lambda r: r.reader_card_number == "K0001")
        self.assertEqual((zhang.name, zhang.reader_category), ("张伟", "undergraduate"))
        self.assertEqual(str(zhang.card_expiry_date), "2028-06-30")
        text = base64.b64decode(run.rejected_file).decode("utf-8-sig").splitlines()
        self.assertEqual(text[0], "Row,Reason,card_number,name,email,category,card_expiry_date")
        # Rows are numbered in the whole result, across batches.
        self.assertTrue(text[1].startswith("3,E-mail address is not valid.,K0003"), text)
        self.assertTrue(text[2].startswith("5,Unknown reader category.,K0005"), text)
        # Rerun: nothing changes.
        again = source._run()
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 4)
        )
        self.assertEqual(len(self._readers()), 4)

    def test_koha_statistics_as_usage_without_duplicates(self):
        self._source("readers", KOHA_READERS)._run()
        source = self._source("usage", KOHA_USAGE)
        run = source._run()
        self.assertEqual(run.state, "done", run.error)
        # Three issues and a renewal of known borrowers; the loan of a
        # borrower no longer in borrowers has no card number: rejected.
        self.assertEqual((run.read_count, run.created_count, run.rejected_count), (5, 4, 1))
        usage = self.env["library.usage"].search([("source", "=", "koha")])
        self.assertEqual(sorted(usage.mapped("kind")), ["loan", "loan", "loan", "renewal"])
        self.assertIn("koha-issue-1-101-20261001093000", usage.mapped("external_ref"))
        rejected = base64.b64decode(run.rejected_file).decode("utf-8-sig").splitlines()
        self.assertTrue(
            rejected[1].startswith("5,Unknown card number.,,loan,2026-10-17"), rejected
        )
        again = source._run()
        self.assertEqual((again.created_count, again.unchanged_count), (0, 4))
        self.assertEqual(self.env["library.usage"].search_count([("source", "=", "koha")]), 4)

    def test_database_going_away_mid_run_keeps_the_batches_read(self):
        # The result streams: it must be far larger than what the network
        # buffers hold for the server to be still sending it when it is
        # killed (40,000 rows of 4 kB, batches of 5,000).
        self._source("readers", KOHA_READERS)._run()
        rows, batch = 40_000, 5_000
        query = """
            SELECT 'K0001' AS card_number, 'visit' AS kind,
                   DATE_ADD('2026-01-01', INTERVAL seq MINUTE) AS occurred_at,
                   CONCAT('gate-', seq) AS external_ref{padding}
              FROM seq_1_to_{rows} ORDER BY seq
        """
        source = self._source(
            "usage",
            query.format(padding=", REPEAT('x', 4096) AS padding", rows=rows),
            batch_size=batch,
        )
        Source = type(source)

        def kill_before_third_batch(self, connection, offset):
            if offset == 2 * batch:
                with contextlib.closing(pymysql.connect(**MARIADB)) as other:
                    with other.cursor() as cr:
                        cr.execute("KILL %s", (connection.thread_id(),))

        with (
            patch.object(Source, "_before_sql_batch", kill_before_third_batch),
            mute_logger("odoo.addons.library_crm.models.library_import_source"),
        ):
            run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("went away during the run", run.error)
        self.assertNotIn("password", run.error.lower())
        # Whole batches are kept, the two read before the kill at least
        # (rows the network had delivered may make a third): no partial one.
        kept = self.env["library.usage"].search_count([("source", "=", "koha")])
        self.assertEqual(kept % batch, 0, kept)
        self.assertTrue(2 * batch <= kept < rows, kept)
        self.assertEqual((run.read_count, run.created_count), (kept, kept))
        # The responsible manager is told.
        self.assertEqual(len(source.activity_ids), 1)
        source.query = query.format(padding="", rows=rows)
        rerun = source._run()
        self.assertEqual(rerun.state, "done", rerun.error)
        self.assertEqual(
            (rerun.read_count, rerun.created_count, rerun.unchanged_count),
            (rows, rows - kept, kept),
        )
        self.assertEqual(self.env["library.usage"].search_count([("source", "=", "koha")]), rows)

    def test_a_row_longer_than_a_file_line_is_rejected_as_such(self):
        self._source("readers", KOHA_READERS)._run()
        source = self._source(
            "usage",
            """SELECT 'K0001' AS card_number, 'visit' AS kind,
                      DATE_ADD('2026-01-01', INTERVAL seq MINUTE) AS occurred_at,
                      CONCAT('long-', seq) AS external_ref,
                      IF(seq = 2, REPEAT('x', 70000), '') AS note
                 FROM seq_1_to_3 ORDER BY seq""",
        )
        run = source._run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual((run.read_count, run.created_count, run.rejected_count), (3, 2, 1))
        rejected = base64.b64decode(run.rejected_file).decode("utf-8-sig").splitlines()
        self.assertEqual(rejected[1], "2,The row is longer than 65536 characters.")
        self.assertEqual(
            sorted(
                self.env["library.usage"].search([("source", "=", "koha")]).mapped("external_ref")
            ),
            ["long-1", "long-3"],
        )

    def test_the_session_is_read_only(self):
        source = self._source("readers", KOHA_READERS)
        with source._sql_connection() as (_connection, cursor):
            with self.assertRaises(pymysql.err.OperationalError) as caught:
                cursor.execute("DELETE FROM borrowers")
        self.assertIn("READ ONLY", str(caught.exception))
        self.assertIn("card_number, name, email", source._test_connection())

    def test_unreachable_database_fails_with_a_reason(self):
        source = self._source("readers", KOHA_READERS, sql_database="lcrm_no_such_db_x")
        with mute_logger("odoo.addons.library_crm.models.library_import_source"):
            run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("database failed or went away", run.error)
        self.assertIn("lcrm_no_such_db_x", run.error)


@tagged("post_install", "-at_install")
class TestPostgresqlSource(LibraryCrmCase):
    """The same machinery on a PostgreSQL library system database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src_db = f"lcrm_ils_test_{uuid.uuid4().hex[:10]}"
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        cls.addClassCleanup(admin.close)
        with admin.cursor() as cr:
            cr.execute(f"CREATE DATABASE {cls.src_db}")
        cls.addClassCleanup(cls._drop_src, admin, cls.src_db)
        with contextlib.closing(psycopg2.connect(dbname=cls.src_db)) as conn, conn.cursor() as cr:
            cr.execute(
                "CREATE TABLE loans (id serial PRIMARY KEY, card text, at timestamp, item text)"
            )
            cr.execute(
                "INSERT INTO loans (card, at, item) VALUES"
                " ('2024000001', '2026-10-01 09:00', 'B1'),"
                " ('2024000001', '2026-10-02 09:00', 'B2'),"
                " ('NOBODY', '2026-10-03 09:00', 'B3')"
            )
            conn.commit()

    @classmethod
    def _drop_src(cls, admin, name):
        with admin.cursor() as cr:
            cr.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def test_postgresql_usage_since_last_run(self):
        # The test's database server is Odoo's own: allowed by the administrator.
        self.env["ir.config_parameter"].set_param("library_crm.import_sql_allow_odoo_server", "1")
        source = self.env["library.import.source"].create(
            {
                "name": "ILS on PostgreSQL",
                "kind": "usage",
                "location": "sql",
                "sql_engine": "postgresql",
                "sql_host": False,
                # The server of the test's database (libpq's host, this port).
                "sql_port": self.env.cr.connection.info.port,
                "sql_database": self.src_db,
                "usage_source": "pg-ils",
                "query": "SELECT card AS card_number, 'loan' AS kind, at AS occurred_at,"
                " item AS resource_ref, 'L' || id AS external_ref FROM loans"
                " WHERE at >= %(since)s AND item LIKE 'B%%' ORDER BY id",
                "batch_size": 2,
            }
        )
        run = source._run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual((run.read_count, run.created_count, run.rejected_count), (3, 2, 1))
        usage = self.env["library.usage"].search([("source", "=", "pg-ils")])
        self.assertEqual(sorted(usage.mapped("external_ref")), ["L1", "L2"])
        with source._sql_connection() as (_connection, cursor):
            with self.assertRaises(psycopg2.errors.ReadOnlySqlTransaction):
                cursor.execute("DELETE FROM loans")

    def test_odoo_own_database_server_is_refused(self):
        source = self.env["library.import.source"].create(
            {
                "name": "Odoo itself",
                "kind": "readers",
                "location": "sql",
                "sql_engine": "postgresql",
                "sql_host": False,
                # The server of the test's database (libpq's host, this port).
                "sql_port": self.env.cr.connection.info.port,
                "sql_database": self.env.cr.dbname,
                "query": "SELECT login AS card_number, password AS name FROM res_users"
                " ORDER BY id",
            }
        )
        with mute_logger("odoo.addons.library_crm.models.library_import_source"):
            run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("server of Odoo's own database", run.error)
        self.assertFalse(run.read_count)
        self.assertFalse(run.rejected_file)


@tagged("post_install", "-at_install")
class TestSqlRunCrashAndResume(TransactionCase):
    """Real transactions: a worker dies after committing two batches; the
    next run closes the interrupted run and completes it, no duplicates."""

    def setUp(self):
        super().setUp()
        self.koha_db = f"lcrm_koha_test_{uuid.uuid4().hex[:10]}"
        with contextlib.closing(pymysql.connect(**MARIADB, autocommit=True)) as admin:
            with admin.cursor() as cr:
                cr.execute(f"CREATE DATABASE {self.koha_db} CHARACTER SET utf8mb4")
                cr.execute(f"CREATE TABLE {self.koha_db}.units (code VARCHAR(10), name TEXT)")
                cr.executemany(
                    f"INSERT INTO {self.koha_db}.units VALUES (%s, %s)",
                    [(f"ZCRASH{n}", f"Unit {n}") for n in range(1, 6)],
                )
        self.addCleanup(TestKohaSqlSource._drop_koha, self.koha_db)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            source = env["library.import.source"].create(
                {
                    "name": "Campus units",
                    "kind": "departments",
                    "location": "sql",
                    "sql_engine": "mysql",
                    "sql_database": self.koha_db,
                    "login": "root",
                    "query": "SELECT code, name FROM units ORDER BY code",
                    "batch_size": 2,
                    "silent_days": 0,
                }
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.source_id = source.id
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["library.department"].with_context(active_test=False).search(
                [("code", "=like", "ZCRASH%")]
            ).unlink()
            env["library.import.source"].browse(self.source_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def test_crash_after_two_batches_then_resume(self):
        Source = type(self.env["library.import.source"])

        def crash_before_third_batch(self, connection, offset):
            if offset == 4:
                raise KeyboardInterrupt  # the worker is killed: nothing is recorded

        with self.registry.cursor() as cr:
            source = api.Environment(cr, SUPERUSER_ID, {})["library.import.source"].browse(
                self.source_id
            )
            with patch.object(Source, "_before_sql_batch", crash_before_third_batch):
                with self.assertRaises(KeyboardInterrupt):
                    source._run(commit=True)
            cr.rollback()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            [stopped] = env["library.import.run"].search([("source_id", "=", self.source_id)])
            self.assertEqual((stopped.state, stopped.created_count), ("running", 4))
            codes = env["library.department"].search([("code", "=like", "ZCRASH%")])
            self.assertEqual(len(codes), 4, "the two committed batches are kept")
            run = env["library.import.source"].browse(self.source_id)._run(commit=True)
            self.assertEqual(run.state, "done", run.error)
            self.assertEqual((run.read_count, run.created_count, run.unchanged_count), (5, 1, 4))
            self.assertEqual(stopped.state, "failed")
            self.assertIn("Interrupted", stopped.error)
            self.assertEqual(
                sorted(
                    env["library.department"].search([("code", "=like", "ZCRASH%")]).mapped("code")
                ),
                [f"ZCRASH{n}" for n in range(1, 6)],
            )
