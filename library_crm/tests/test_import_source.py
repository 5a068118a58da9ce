# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Import sources: a server folder, an HTTP(S) URL served by a real local
server, the new-title list, monitoring, and one run at a time proved with
two real transactions."""

import base64
import csv
import datetime
import hashlib
import io
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .common import LibraryCrmCase
from .marc_samples import as_marcxml, marc21_record
from .oai_server import OaiTestServer, Repository
from .test_marc_import import _dc

NOW = datetime.datetime(2026, 11, 20, 10, 0, 0)
NOW_TS = NOW.replace(tzinfo=datetime.UTC).timestamp()

USAGE_CSV = "\n".join(
    [
        "读者证号,类型,时间,流水号",
        "2024000001,借阅,2026-11-01 10:00,S1",
        "2024000001,入馆,2026-11-02 09:00,S2",
        "NOBODY,借阅,2026-11-01 10:00,S3",
        "2024000001,借阅,2026-13-01 10:00,S4",
    ]
).encode()


def _rejected_rows(run):
    text = base64.b64decode(run.rejected_file).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


class ImportSourceCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.env["ir.config_parameter"].set_param("library_crm.import_folder_root", cls.tmp.name)

    def _source(self, folder="feed", **values):
        os.makedirs(os.path.join(self.tmp.name, folder), exist_ok=True)
        vals = {
            "name": f"Feed {folder}",
            "kind": "usage",
            "location": "folder",
            "folder_path": folder,
            "usage_source": f"test-{folder}",
            "tz": "Asia/Shanghai",
            "user_id": self.user_manager.id,
        }
        vals.update(values)
        return self.env["library.import.source"].create(vals)

    def _drop(self, source, name, data, age=600):
        path = os.path.join(self.tmp.name, source.folder_path, name)
        with open(path, "wb") as out:
            out.write(data)
        os.utime(path, (NOW_TS - age, NOW_TS - age))
        return path

    def _usage(self, source):
        return self.env["library.usage"].search([("source", "=", source.usage_source)])


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestFolderSource(ImportSourceCase):
    def test_folder_file_imported_once_with_rejected_rows(self):
        source = self._source("usage1")
        self._drop(source, "loans.csv", USAGE_CSV)
        run = source._run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            (run.read_count, run.created_count, run.unchanged_count, run.rejected_count),
            (4, 2, 0, 2),
        )
        self.assertEqual(run.file_sha256, hashlib.sha256(USAGE_CSV).hexdigest())
        rows = _rejected_rows(run)
        self.assertEqual(rows[0], ["Row", "Reason", "读者证号", "类型", "时间", "流水号"])
        self.assertEqual(
            {row[0]: row[1] for row in rows[1:]},
            {"4": "Unknown card number.", "5": "Not a date and time (use YYYY-MM-DD HH:MM)."},
        )
        usage = self._usage(source)
        self.assertEqual(sorted(usage.mapped("kind")), ["loan", "visit"])
        # 10:00 in Shanghai is 02:00 UTC.
        self.assertEqual(
            usage.filtered(lambda u: u.kind == "loan").occurred_at,
            datetime.datetime(2026, 11, 1, 2, 0),
        )
        folder = os.path.join(self.tmp.name, "usage1")
        self.assertEqual(os.listdir(os.path.join(folder, "processed")), ["loans.csv"])
        self.assertNotIn("loans.csv", os.listdir(folder))
        self.assertEqual(source.last_run_id, run)
        self.assertEqual(source.last_data_at, NOW)

        # The same content again, under another name: not imported twice.
        self._drop(source, "loans-again.csv", USAGE_CSV)
        self.assertFalse(source._run())
        self.assertEqual(len(self._usage(source)), 2)
        self.assertEqual(source.run_count, 1)
        self.assertIn("loans-again.csv", os.listdir(os.path.join(folder, "processed")))

    def test_file_still_being_written_waits_for_a_later_run(self):
        source = self._source("usage2", stable_seconds=120)
        path = self._drop(source, "loans.csv", USAGE_CSV, age=30)
        self._drop(source, "more.csv.part", b"half a file", age=3600)
        run = source._run()
        self.assertEqual(run.state, "waiting")
        self.assertIn("still being written", run.error)
        self.assertFalse(self._usage(source))
        self.assertTrue(os.path.exists(path))
        # Still written to at the next tick: the same log line, not a new one.
        self.assertEqual(source._run(), run)
        self.assertEqual(source.run_count, 1)
        os.utime(path, (NOW_TS - 600, NOW_TS - 600))
        self.assertEqual(source._run(), run)
        self.assertEqual((run.state, run.created_count), ("done", 2))
        self.assertFalse(run.error)
        # A partial (.part) file is never read.
        self.assertIn("more.csv.part", os.listdir(os.path.join(self.tmp.name, "usage2")))

    def test_interrupted_run_is_redone_without_duplicates(self):
        source = self._source("usage3")
        self._drop(source, "loans.csv", USAGE_CSV)
        # A run that the server stopped after importing part of the file:
        # the first row is in, the run is still "running", the file is
        # still in the folder.
        stopped = self.env["library.import.run"].create(
            {
                "source_id": source.id,
                "state": "running",
                "file_name": "loans.csv",
                "file_sha256": hashlib.sha256(USAGE_CSV).hexdigest(),
            }
        )
        self.env["library.usage.import"]._import_stream(
            io.BytesIO(b"card number,kind,date,id\n2024000001,loan,2026-11-01 10:00,S1\n"),
            source.usage_source,
            tz="Asia/Shanghai",
        )
        run = source._run()
        self.assertEqual(stopped.state, "failed")
        self.assertIn("Interrupted", stopped.error)
        self.assertEqual(run.state, "done")
        self.assertEqual((run.created_count, run.unchanged_count), (1, 1))
        self.assertEqual(len(self._usage(source)), 2)

    def test_readers_roster_upserted_by_card_number(self):
        source = self._source("roster", kind="readers")
        roster = (
            "读者证号,姓名,邮箱,院系代码\n"
            "R-77,李雷,lilei@example.edu,XCS\n"
            "R-78,韩梅梅,bad-mail,XCS\n"
        )
        self._drop(source, "roster.csv", roster.encode())
        run = source._run()
        self.assertEqual(
            (run.read_count, run.created_count, run.rejected_count), (2, 1, 1), run.error
        )
        reader = self.env["res.partner"].search([("reader_card_number", "=", "R-77")])
        self.assertEqual((reader.name, reader.library_department_id), ("李雷", self.dept_cs))
        self.assertEqual(_rejected_rows(run)[1][:2], ["3", "E-mail address is not valid."])
        self._drop(source, "roster2.csv", roster.replace("李雷", "李雷雷").encode())
        second = source._run()
        self.assertEqual((second.created_count, second.updated_count), (0, 1))
        self.assertEqual(reader.name, "李雷雷")

    def test_bad_file_fails_with_its_reason_and_moves_to_failed(self):
        source = self._source("bad")
        self._drop(source, "loans.csv", b"what,ever\n1,2\n")
        run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("The first row must name the columns", run.error)
        failed = os.path.join(self.tmp.name, "bad", "failed")
        self.assertEqual(os.listdir(failed), ["loans.csv"])
        # The manager responsible is told once.
        activities = source.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.user_manager)
        self._drop(source, "loans2.csv", b"other,thing\n1,2\n")
        self.assertEqual(source._run().state, "failed")
        self.assertEqual(source.activity_ids, activities)

    def test_inconsistent_sources_are_refused(self):
        cases = [
            ({"location": "oai", "url": "https://oai.example.edu/oai"}, "OAI-PMH endpoint"),
            ({"kind": "usage", "file_format": "marc"}, "MARC and Dublin Core"),
            ({"kind": "usage", "file_format": "xlsx"}, "Usage is read from CSV"),
            ({"location": "url", "url": "file:///etc/passwd"}, "must start with http"),
            ({"location": "sql", "kind": "new_titles"}, "A database source carries"),
            (
                {"location": "sql", "query": "DELETE FROM borrowers"},
                "must be a single SELECT",
            ),
            (
                {"location": "sql", "query": "SELECT 1; DROP TABLE borrowers"},
                "a single statement",
            ),
        ]
        for values, message in cases:
            with self.subTest(values=values):
                with self.assertRaisesRegex(ValidationError, message):
                    self._source("bad-config", **values)

    def test_folder_outside_the_allowed_root_is_refused(self):
        source = self._source("escape", folder_path="../")
        run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("The folder must lie inside", run.error)
        self.env["ir.config_parameter"].set_param("library_crm.import_folder_root", False)
        self.assertIn("has not allowed any server folder", self._source("x")._run().error)

    def test_new_titles_list_upserted_by_isbn(self):
        source = self._source("titles", kind="new_titles", file_format="csv")
        content = "\n".join(
            [
                "题名,ISBN,责任者,中图分类号,到馆日期",
                "深度学习,7-999-00001-9,伊恩,TP181,2026-11-02",
                "没有书号,,某人,TP1,2026-11-02",
                "日期不对,9787999000020,某人,I2,2026-02-30",
            ]
        )
        self._drop(source, "titles.csv", content.encode())
        run = source._run()
        self.assertEqual((run.created_count, run.rejected_count), (1, 2), run.error)
        title = self.env["library.new.title"].search([("isbn", "=", "9787999000013")])
        self.assertEqual((title.name, title.clc_code), ("深度学习", "TP181"))
        self.assertEqual(title.arrival_date, datetime.date(2026, 11, 2))
        self.assertEqual(
            [row[1] for row in _rejected_rows(run)[1:]],
            [
                "ISBN is missing or not a valid ISBN-10 or ISBN-13.",
                "Arrival date is not a date (use YYYY-MM-DD).",
            ],
        )
        self._drop(source, "titles2.csv", content.encode() + b"\n")
        second = source._run()
        self.assertEqual((second.created_count, second.unchanged_count), (0, 1))

    def test_departments_and_majors_by_code(self):
        departments = self._source("depts", kind="departments")
        content = "\n".join(
            [
                "院系代码,院系名称,上级代码",
                "xeng,School of Engineering,",
                "XEE,Electrical Engineering,XENG",
                "XEE2,Power Systems,XEE",
                "XCS,Computer Science and Technology,XSCI",
                "XBAD,Nowhere,XNONE",
                "XLOOP,Loop,XLOOP",
                ",No code,",
            ]
        )
        self._drop(departments, "units.csv", content.encode())
        run = departments._run()
        self.assertEqual(run.state, "done", run.error)
        # XCS exists (renamed and moved under XSCI); three new units.
        self.assertEqual(
            (run.read_count, run.created_count, run.updated_count, run.rejected_count),
            (7, 3, 1, 3),
        )
        Department = self.env["library.department"]
        power = Department.search([("code", "=", "XEE2")])
        self.assertEqual(power.parent_id.parent_id.code, "XENG")
        self.assertEqual(self.dept_cs.name, "Computer Science and Technology")
        self.assertEqual(
            [row[:2] for row in _rejected_rows(run)[1:]],
            [
                ["6", "Unknown parent department code."],
                ["7", "The department cannot be its own parent unit."],
                ["8", "Code is missing."],
            ],
        )
        self._drop(departments, "units2.csv", content.encode() + b"\n")
        again = departments._run()
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 4)
        )

        majors = self._source("majors", kind="majors")
        self._drop(
            majors,
            "majors.csv",
            "专业代码,专业名称,院系代码\nXEE01,Power Engineering,XEE\nXZZ01,Lost,XZZ\n".encode(),
        )
        run = majors._run()
        self.assertEqual((run.created_count, run.rejected_count), (1, 1), run.error)
        major = self.env["library.major"].search([("code", "=", "XEE01")])
        self.assertEqual(major.department_id.code, "XEE")
        self.assertEqual(_rejected_rows(run)[1][:2], ["3", "Unknown department code."])

    def test_marc_source_imports_with_the_marc_reader(self):
        source = self._source("marc", kind="new_titles", file_format="marcxml")
        good = marc21_record("SRC-1", "Deep Learning (source test)", isbn="7-999-00001-9")
        untitled = marc21_record("SRC-2", "Untitled", isbn="9787999000020")
        untitled.remove_fields("245")
        self._drop(source, "records.xml", as_marcxml([good, untitled]))
        run = source._run()
        self.assertEqual(
            (run.state, run.read_count, run.created_count, run.rejected_count),
            ("done", 2, 1, 1),
            run.error,
        )
        title = self.env["library.new.title"].search([("isbn", "=", "9787999000013")])
        self.assertEqual(title.name, "Deep Learning (source test)")
        self.assertEqual(_rejected_rows(run)[1][0], "2")


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestOaiSource(ImportSourceCase):
    """An OAI-PMH source against pyoai's real server on a loopback port."""

    def setUp(self):
        super().setUp()
        self.repository = Repository(
            [
                _dc(n, f"源新书{n}", isbn)
                for n, isbn in ((1, "9787999000037"), (2, None), (3, None))
            ]
        )
        for number, record in enumerate(self.repository.records, 1):
            record["identifier"] = f"oai:source.example.com:{number}"
        self.server = OaiTestServer(self.repository, batch_size=2).start()
        self.addCleanup(self.server.stop)

    def _titles(self):
        return (
            self.env["library.new.title"]
            .with_context(active_test=False)
            .search([("oai_identifier", "like", "oai:source.example.com:")])
        )

    def test_oai_source_harvests_incrementally_and_survives_a_drop(self):
        source = self._source(
            "oai",
            kind="new_titles",
            location="oai",
            file_format="oai_dc",
            url=self.server.base_url,
        )
        first = source._run()
        self.assertEqual((first.state, first.created_count), ("done", 3), first.error)
        self.assertEqual(self.server.requests, 2, "3 records by pages of 2")
        self.assertEqual(source.oai_datestamp, "2026-11-04T08:00:00Z")
        self.assertEqual(len(self._titles()), 3)
        # A changed record comes with a newer datestamp: the next harvest
        # asks from the last one and gets only what changed.
        self.repository.records[1]["dc"]["title"] = ["源新书2（修订版）"]
        self.repository.records[1]["datestamp"] = datetime.datetime(2026, 11, 10, 8, 0)
        second = source._run()
        self.assertEqual(
            (second.state, second.created_count, second.updated_count), ("done", 0, 1)
        )
        self.assertEqual(source.oai_datestamp, "2026-11-10T08:00:00Z")
        # The server drops the connection on the second page: the run fails
        # with its reason, the first page is kept, the next run completes.
        for number in (4, 5, 6):
            record = _dc(number, f"源新书{number}", stamp=datetime.datetime(2026, 11, 12, number))
            record["identifier"] = f"oai:source.example.com:{number}"
            self.repository.records.append(record)
        self.server.drop_at = {self.server.requests + 2}
        third = source._run()
        self.assertEqual(third.state, "failed")
        self.assertIn("stopped before the end", third.error)
        self.assertEqual(source.oai_datestamp, "2026-11-10T08:00:00Z", "not advanced")
        # The first page of that list: record 2 again (unchanged) and record 4.
        self.assertEqual(len(self._titles()), 4)
        fourth = source._run()
        self.assertEqual(fourth.state, "done", fourth.error)
        self.assertEqual(len(self._titles()), 6, "nothing duplicated")
        self.assertEqual(source.oai_datestamp, "2026-11-12T06:00:00Z")


class _FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        feed = self.server.feed
        feed["requests"].append(dict(self.headers))
        etag = '"' + hashlib.sha256(feed["body"]).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(feed.get("status", 200))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", "Wed, 18 Nov 2026 08:00:00 GMT")
        self.send_header("Content-Length", str(len(feed["body"])))
        self.end_headers()
        self.wfile.write(feed["body"])

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestUrlSource(ImportSourceCase):
    def setUp(self):
        super().setUp()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
        self.server.feed = {"body": USAGE_CSV, "requests": []}
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def test_conditional_requests(self):
        port = self.server.server_address[1]
        source = self._source(
            "url", location="url", url=f"http://127.0.0.1:{port}/export/loans.csv"
        )
        run = source._run()
        self.assertEqual((run.state, run.created_count, run.file_name), ("done", 2, "loans.csv"))
        self.assertTrue(source.http_etag)
        self.assertEqual(source.http_last_modified, "Wed, 18 Nov 2026 08:00:00 GMT")
        # Unchanged: the server answers 304, nothing is run.
        self.assertFalse(source._run())
        last = self.server.feed["requests"][-1]
        self.assertEqual(last["If-None-Match"], source.http_etag)
        self.assertEqual(last["If-Modified-Since"], "Wed, 18 Nov 2026 08:00:00 GMT")
        self.assertEqual(source.run_count, 1)
        # A new export: imported, the rows already there are not duplicated.
        self.server.feed["body"] = USAGE_CSV + "\n2024000001,借阅,2026-11-05 10:00,S5".encode()
        run = source._run()
        self.assertEqual((run.created_count, run.unchanged_count), (1, 2))
        self.assertEqual(len(self._usage(source)), 3)

    def test_server_error_fails_the_run(self):
        port = self.server.server_address[1]
        self.server.feed["status"] = 503
        source = self._source("url2", location="url", url=f"http://127.0.0.1:{port}/loans.csv")
        run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("HTTP status 503", run.error)
        self.assertFalse(source.http_etag)


@tagged("post_install", "-at_install")
class TestSourceMonitoring(ImportSourceCase):
    def test_silent_source_gets_one_activity(self):
        with freeze_time(NOW):
            source = self._source("quiet", silent_days=3)
            source.last_data_at = NOW - datetime.timedelta(days=2)
            source._check_silent()
            self.assertFalse(source.activity_ids)
        with freeze_time(NOW + datetime.timedelta(days=2)):
            source._check_silent()
            source._check_silent()
            self.assertEqual(len(source.activity_ids), 1)
            self.assertIn("for more than 3 days", source.activity_ids.note)
            self.assertEqual(source.activity_ids.user_id, self.user_manager)
            # 0 days: never silent.
            source.activity_ids.unlink()
            source.silent_days = 0
            source._check_silent()
            self.assertFalse(source.activity_ids)

    def test_cron_runs_due_sources_only(self):
        with freeze_time(NOW):
            due = self._source("due", interval_number=2, interval_type="hours")
            later = self._source("later")
            later.next_run_at = NOW + datetime.timedelta(hours=1)
            self._drop(due, "a.csv", USAGE_CSV)
            self._drop(later, "a.csv", USAGE_CSV)
            self.env["library.import.source"]._cron_run_due(commit=False)
            self.assertEqual(due.run_count, 1)
            self.assertEqual(due.next_run_at, NOW + datetime.timedelta(hours=2))
            self.assertFalse(later.run_count)


@tagged("post_install", "-at_install")
class TestSourceRunsOnceAtATime(TransactionCase):
    """Two real transactions: while one worker runs a source, another does
    not start it; a worker that dies leaves the lock free."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            source = env["library.import.source"].create(
                {"name": "Concurrent feed", "location": "folder", "folder_path": "none"}
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.source_id = source.id
        self.cursors = [self.registry.cursor(), self.registry.cursor()]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for cr in self.cursors:
            cr.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["library.import.source"].browse(self.source_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def test_second_worker_does_not_start_a_running_source(self):
        first, second = (
            api.Environment(cr, SUPERUSER_ID, {})["library.import.source"].browse(self.source_id)
            for cr in self.cursors
        )
        with first._exclusive() as locked:
            self.assertTrue(locked)
            self.assertFalse(second._run(commit=True))
            self.assertFalse(second.run_ids)
        # Once the first is done (or dead), the second runs it.
        run = second._run(commit=True)
        self.assertEqual(len(run), 1)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            runs = env["library.import.run"].search([("source_id", "=", self.source_id)])
            self.assertEqual(runs.ids, run.ids, "the run and its outcome are committed")
            self.assertEqual(runs.state, "failed")
