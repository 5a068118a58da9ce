# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Import sources: the feeds the library system sends (reader roster, usage,
new titles), fetched on a schedule from a server folder, an HTTP(S) URL, an
OAI-PMH endpoint or straight from the library system's database, each run
logged with its counts and rejected rows.

A run goes through the same checks as the import wizards (their model-level
methods are called), so a row rejected by a wizard is rejected here for the
same translated reason, and a rerun never duplicates: usage rows are merged
with ON CONFLICT on their external reference, readers are upserted by card
number, titles by ISBN, and a folder or URL file is recorded by its content
hash."""

import base64
import contextlib
import csv
import datetime
import hashlib
import io
import ipaddress
import logging
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import uuid

import requests
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, config

from odoo.addons.base.models.res_partner import _tz_get

from ..wizards.import_columns import MAX_LINE_CHARS, rejected_writer
from .library_rights import MANAGER_GROUP, check_manager

_logger = logging.getLogger(__name__)

# pg advisory lock (with the source id): one run of a source at a time.
SOURCE_LOCK_KEY = 7_190_003
# The system parameter naming the server folder under which import folders
# must lie: set by the administrator, not by a library manager.
FOLDER_ROOT_PARAM = "library_crm.import_folder_root"
# The system parameter that lets a PostgreSQL source reach the server Odoo's
# own database runs on: without it, a library manager could read Odoo's
# database (users, keys) through a mapping query.
SQL_ODOO_SERVER_PARAM = "library_crm.import_sql_allow_odoo_server"
LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")
# Files a sender is still writing by convention (renamed when complete).
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".filepart", ".crdownload")
HTTP_TIMEOUT = 120  # seconds to connect, and between two reads
SQL_TIMEOUT = 30
# Seconds a streaming SQL source and its server wait for each other: the
# server between two reads of its result while a batch is imported, this
# side for the next rows.
SQL_STREAM_WAIT = 3600
HASH_CHUNK = 1024 * 1024
QUERY_START_RE = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
# A read-only transaction does not stop MariaDB's SELECT from writing or
# reading files on the database host (INTO OUTFILE / DUMPFILE, LOAD_FILE).
QUERY_FILE_RE = re.compile(r"\b(outfile|dumpfile|load_file)\b", re.IGNORECASE)

KINDS = [
    ("readers", "Reader Roster"),
    ("usage", "Usage"),
    ("new_titles", "New Titles"),
    ("departments", "Departments"),
    ("majors", "Majors"),
]
LOCATIONS = [
    ("folder", "Server Folder"),
    ("url", "HTTP(S) URL"),
    ("oai", "OAI-PMH Endpoint"),
    ("sql", "Library System Database (SQL)"),
]
FORMATS = [
    ("csv", "CSV"),
    ("xlsx", "XLSX"),
    ("marc", "MARC (ISO 2709)"),
    ("marcxml", "MARCXML"),
    ("oai_dc", "Dublin Core (oai_dc)"),
]
SQL_ENGINES = [("mysql", "MariaDB / MySQL"), ("postgresql", "PostgreSQL")]
SQL_DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432}


def _sql_text(value):
    """A value read from the library system's database as CSV cell text."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _sql_records(rows):
    """The rows of a query as the CSV reader gives a file's records: (line
    number, cells, error), line 2 the first row; a row longer than a file's
    line may be is rejected as such a line is."""
    for line_no, row in enumerate(rows, start=2):
        cells = [_sql_text(value) for value in row]
        if sum(len(cell) for cell in cells) > MAX_LINE_CHARS:
            yield line_no, [], "long"
        else:
            yield line_no, cells, None


def _rows_csv(header, rows):
    """UTF-8 CSV bytes of a header and rows, as the file imports read them."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_sql_text(value) for value in row])
    return output.getvalue().encode("utf-8")


class LibraryImportSource(models.Model):
    _name = "library.import.source"
    _description = "Import Source"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    kind = fields.Selection(KINDS, string="Carries", required=True, default="usage", tracking=True)
    location = fields.Selection(LOCATIONS, required=True, default="folder", tracking=True)
    file_format = fields.Selection(FORMATS, string="Format", required=True, default="csv")
    folder_path = fields.Char(
        string="Folder",
        help="The server folder the files arrive in, inside the folder the administrator "
        "allowed (system parameter library_crm.import_folder_root). Imported files are "
        "moved to its processed/ subfolder, files that failed to failed/.",
    )
    stable_seconds = fields.Integer(
        string="Wait Before Reading (s)",
        default=60,
        help="A file changed less than this many seconds ago is still being written: it is "
        "left for the next run.",
    )
    url = fields.Char(
        string="URL",
        help="HTTP(S) address of the file or of the OAI-PMH endpoint. The file is fetched "
        "again only when the server says it changed (ETag / Last-Modified).",
    )
    oai_set = fields.Char(string="OAI Set")
    oai_datestamp = fields.Char(
        string="Harvested Up To",
        readonly=True,
        copy=False,
        help="The newest OAI-PMH datestamp of the last complete harvest: the next harvest "
        "asks for the records changed from then on.",
    )
    http_etag = fields.Char(string="ETag", readonly=True, copy=False)
    http_last_modified = fields.Char(string="Last-Modified", readonly=True, copy=False)
    sql_engine = fields.Selection(SQL_ENGINES, string="Database Engine", default="mysql")
    sql_host = fields.Char(string="Host", default="127.0.0.1")
    sql_port = fields.Integer(string="Port")
    sql_database = fields.Char(string="Database")
    login = fields.Char(
        groups=MANAGER_GROUP,
        copy=False,
        help="Database user, or HTTP user for a protected URL. Give the library system's "
        "database a user allowed to read only.",
    )
    password = fields.Char(groups=MANAGER_GROUP, copy=False)
    query = fields.Text(
        string="Mapping Query",
        help="A SELECT whose columns are named like the import's columns (card_number, kind, "
        "occurred_at...), ending with ORDER BY a unique key: it is read in batches. "
        "%(since)s, if present, is the start of the last successful run. Write %% for a "
        "literal %.",
    )
    usage_source = fields.Char(
        string="Usage Source Code",
        default="ils",
        help="Recorded on the usage rows (ils, gate, eresources...); external references are "
        "unique per source code.",
    )
    tz = fields.Selection(
        _tz_get,
        string="Time Zone",
        default=lambda self: self.env.user.tz or "UTC",
        help="The time zone of the dates and times in the feed.",
    )
    batch_size = fields.Integer(default=1000, help="Rows read and committed at a time.")
    interval_number = fields.Integer(string="Every", default=1)
    interval_type = fields.Selection(
        [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days"), ("weeks", "Weeks")],
        string="Interval Unit",
        default="hours",
        required=True,
    )
    next_run_at = fields.Datetime(
        string="Next Run", default=fields.Datetime.now, copy=False, tracking=True
    )
    silent_days = fields.Integer(
        string="Silent After (days)",
        default=7,
        help="When nothing new arrived for this many days, the responsible manager gets an "
        "activity. 0: never.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=lambda self: [("all_group_ids", "in", self.env.ref(MANAGER_GROUP).id)],
        help="The library manager who is told when the source fails or falls silent.",
    )
    last_data_at = fields.Datetime(
        string="Last New Data", readonly=True, copy=False, help="The last run that changed data."
    )
    last_check_at = fields.Datetime(string="Last Checked", readonly=True, copy=False)
    run_ids = fields.One2many("library.import.run", "source_id", string="Runs")
    run_count = fields.Integer(compute="_compute_run_count")
    last_run_state = fields.Selection(
        related="last_run_id.state", string="Last Run", readonly=True
    )
    last_run_id = fields.Many2one(
        "library.import.run", string="Latest Run", readonly=True, copy=False
    )

    _batch_size_positive = models.Constraint(
        "CHECK (batch_size > 0)", "The batch size must be at least 1."
    )
    _interval_positive = models.Constraint(
        "CHECK (interval_number > 0)", "The interval must be at least 1."
    )
    _silent_days_positive = models.Constraint(
        "CHECK (silent_days >= 0 AND stable_seconds >= 0)",
        "Days and seconds cannot be negative.",
    )

    def _compute_run_count(self):
        counts = dict(
            self.env["library.import.run"]._read_group(
                [("source_id", "in", self.ids)], ["source_id"], ["__count"]
            )
        )
        for source in self:
            source.run_count = counts.get(source, 0)

    @api.constrains("location", "kind", "file_format", "query", "folder_path", "url")
    def _check_location(self):
        for source in self:
            if source.location == "sql":
                if source.kind == "new_titles":
                    raise ValidationError(
                        self.env._(
                            "A database source carries readers, usage, departments or majors."
                        )
                    )
                if source.query and not QUERY_START_RE.match(source.query):
                    raise ValidationError(
                        self.env._("The mapping query must be a single SELECT (or WITH).")
                    )
                if source.query and ";" in source.query.strip().rstrip(";"):
                    raise ValidationError(
                        self.env._("The mapping query must be a single statement.")
                    )
                if source.query and QUERY_FILE_RE.search(source.query):
                    raise ValidationError(
                        self.env._(
                            "The mapping query may not write or read files on the database "
                            "server (INTO OUTFILE, INTO DUMPFILE, LOAD_FILE)."
                        )
                    )
            if source.url and not source.url.lower().startswith(("http://", "https://")):
                raise ValidationError(self.env._("The URL must start with http:// or https://."))
            if source.file_format in ("marc", "marcxml", "oai_dc") and source.kind != "new_titles":
                raise ValidationError(self.env._("MARC and Dublin Core carry new titles only."))
            if source.location == "oai" and source.kind != "new_titles":
                raise ValidationError(self.env._("An OAI-PMH endpoint carries new titles only."))
            if source.kind == "usage" and source.file_format == "xlsx":
                raise ValidationError(self.env._("Usage is read from CSV files only."))

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_run(self):
        """Run now, in the background: the scheduler runs the source at once,
        never twice at the same time."""
        check_manager(self.env)
        self.check_access("write")
        self.sudo().write({"next_run_at": fields.Datetime.now()})
        self.env.ref("library_crm.ir_cron_library_import_sources").sudo()._trigger()
        return self._notify(
            self.env._("The import starts in a moment; its run appears in the run log."), "info"
        )

    def action_test_connection(self):
        """Reach the source without importing anything."""
        check_manager(self.env)
        self.check_access("write")
        self.ensure_one()
        source = self.sudo()
        try:
            message = source._test_connection()
        except Exception as exc:  # every fault is shown, none is fatal here
            return self._notify(source._fault_reason(exc), "danger")
        return self._notify(message, "success")

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_import_run"
        )
        action["domain"] = [("source_id", "=", self.id)]
        action["context"] = {"default_source_id": self.id}
        return action

    def _notify(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": kind == "danger"},
        }

    def _test_connection(self):
        self.ensure_one()
        if self.location == "sql":
            with self._sql_connection() as (_connection, cursor):
                columns = self._sql_columns(cursor)
            return self.env._(
                "Connected. The mapping query gives the columns: %(columns)s",
                columns=", ".join(columns) or "-",
            )
        if self.location in ("url", "oai"):
            response = requests.get(
                self.url, timeout=HTTP_TIMEOUT, stream=True, auth=self._http_auth()
            )
            response.close()
            response.raise_for_status()
            return self.env._("Reached: HTTP status %(status)s.", status=response.status_code)
        folder = self._folder()
        return self.env._("The folder %(folder)s can be read.", folder=folder)

    # ------------------------------------------------------------------
    # Scheduling and locking
    # ------------------------------------------------------------------

    @api.model
    def _cron_run_due(self, commit=True):
        """Run every active source whose next run is due, each under its own
        lock; then tell the managers of the sources that fell silent."""
        now = fields.Datetime.now()
        due = self.sudo().search(["|", ("next_run_at", "<=", now), ("next_run_at", "=", False)])
        for index, source in enumerate(due):
            try:
                source.with_company(source.company_id)._run(commit=commit)
            except Exception:  # one source's fault never stops the others
                _logger.exception("Import source %s could not be run.", source.id)
                if not commit:
                    raise
                self.env.cr.rollback()
            if commit:
                self.env["ir.cron"]._commit_progress(1, remaining=len(due) - index - 1)
        self.sudo().search([("silent_days", ">", 0)])._check_silent()

    @contextlib.contextmanager
    def _exclusive(self):
        """Yield whether this worker holds the source's lock. The lock is a
        transaction advisory lock on a cursor of its own, held while the run
        commits its batches, and released by PostgreSQL when the worker dies."""
        self.ensure_one()
        lock_cr = self.env.registry.cursor()
        try:
            lock_cr.execute(
                SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", SOURCE_LOCK_KEY, self.id)
            )
            yield lock_cr.fetchone()[0]
        finally:
            lock_cr.rollback()
            lock_cr.close()

    def _run(self, commit=False):
        """Run the source once. Returns the runs made (empty when another
        worker is running it, or when nothing new arrived). With commit, each
        file and each batch is committed as soon as it is imported."""
        self.ensure_one()
        Run = self.env["library.import.run"]
        with self._exclusive() as locked:
            if not locked:
                _logger.info("Import source %s is being run by another worker.", self.id)
                return Run
            self._close_interrupted_runs()
            self.sudo().write(
                {
                    "next_run_at": fields.Datetime.now()
                    + relativedelta(**{self.interval_type: self.interval_number}),
                    "last_check_at": fields.Datetime.now(),
                }
            )
            self._commit(commit)
            runs = getattr(self, f"_run_{self.location}")(commit)
        return runs

    def _commit(self, commit):
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _close_interrupted_runs(self):
        """A run still "running" while this worker holds the lock was cut
        short (the server stopped): it is closed, and its file is read again
        by this run; nothing it imported is duplicated."""
        stale = (
            self.env["library.import.run"]
            .sudo()
            .search([("source_id", "=", self.id), ("state", "=", "running")])
        )
        stale.write(
            {
                "state": "failed",
                "finished_at": fields.Datetime.now(),
                "error": self.env._(
                    "Interrupted: the server stopped during the run. The next run reads the "
                    "same data again without duplicating what was already imported."
                ),
            }
        )

    # ------------------------------------------------------------------
    # Runs
    # ------------------------------------------------------------------

    def _start_run(self, commit, run=None, **values):
        values.update(state="running", started_at=fields.Datetime.now(), error=False)
        if run:
            run.write(values)
        else:
            run = self.env["library.import.run"].sudo().create({"source_id": self.id, **values})
        self.sudo().last_run_id = run
        self._commit(commit)
        return run

    def _execute(self, run, work, commit):
        """Run work(run, totals), which imports batch by batch and adds to
        totals; record the outcome on the run. A fault fails the run with its
        reason and undoes only the batch it happened in: the batches before
        are kept (and committed, with commit). Returns whether it succeeded."""
        totals = _Totals()
        try:
            work(run, totals)
        except Exception as exc:  # the reason goes to the run log, the cron goes on
            if commit:
                self.env.cr.rollback()
                self.env.invalidate_all(flush=False)
            reason = self._fault_reason(exc)
            _logger.warning("Import source %s: run %s failed: %s", self.id, run.id, reason)
            run.write(dict(totals.values(self.env), state="failed", error=reason))
            self._commit(commit)
            self._alert(reason)
            return False
        run.write(dict(totals.values(self.env), state="done"))
        if totals.created or totals.updated:
            self.sudo().last_data_at = run.finished_at
        self._commit(commit)
        return True

    def _fault_reason(self, exc):
        """A translated reason for the run log, without credentials."""
        if isinstance(exc, UserError | ValidationError):
            return str(exc.args[0] if exc.args else exc)
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            return self.env._(
                "The server answered with HTTP status %(status)s: nothing was imported.",
                status=exc.response.status_code,
            )
        if isinstance(exc, requests.RequestException):
            return self.env._(
                "The URL could not be reached (%(error)s): nothing was imported.",
                error=exc.__class__.__name__,
            )
        if isinstance(exc, OSError):
            return self.env._("The file could not be read or moved: %(error)s", error=exc)
        module = type(exc).__module__.split(".")[0]
        if module in ("pymysql", "psycopg2"):
            detail = str(exc)
            if self.password:
                detail = detail.replace(self.password, "***")
            return self.env._(
                "The library system's database failed or went away during the run (%(error)s). "
                "The batches read before are kept; the next run goes on without duplicates.",
                error=detail,
            )
        return self.env._("Unexpected error: %(error)s", error=repr(exc))

    def _import_data(self, data, totals, offset=None, header=None):
        """Import bytes in the source's kind and format with the wizards'
        model-level methods, or with header, the rows of a query. Rejected
        rows keep their file line numbers, or for a batch of a query (offset
        given) their row number in the whole result. The batch is undone as
        a whole if it fails."""
        mark = totals.mark()
        try:
            with self.env.cr.savepoint():
                self._import_batch(data, totals, offset, header)
        except Exception:
            totals.restore(mark)
            raise

    def _import_batch(self, data, totals, offset, header=None):
        kind, fmt = self.kind, self.file_format
        if kind == "usage":
            Import = self.env["library.usage.import"].with_context(tz=self.tz)
            source = (self.usage_source or "ils").strip()

            def on_rejected(header, rows):
                totals.reject(header, rows, offset)

            if header is None:
                result = Import._import_stream(
                    io.BytesIO(data), source, tz=self.tz or "UTC", on_rejected=on_rejected
                )
            else:
                # The rows of a query are staged as they are, without
                # the detour through CSV text.
                result = Import._import_records(
                    header, _sql_records(data), source, self.tz or "UTC", on_rejected
                )
            totals.read += result["imported"] + result["duplicates"] + result["rejected_count"]
            totals.created += result["imported"]
            totals.unchanged += result["duplicates"]
            return
        if kind == "new_titles" and fmt in ("marc", "marcxml"):
            totals.add_marc(
                self.env["library.new.title"]._import_marc_records(
                    data, "iso2709" if fmt == "marc" else "marcxml"
                )
            )
            return
        if header is not None:
            data = _rows_csv(header, data)
        if kind == "readers":
            result = self.env["library.reader.import"]._import_content(data)
        else:
            model = {
                "new_titles": "library.new.title",
                "departments": "library.department",
                "majors": "library.major",
            }[kind]
            result = self.env[model]._import_table_content(data)
        totals.read += (
            result["created"] + result["updated"] + result["unchanged"] + len(result["rejected"])
        )
        totals.created += result["created"]
        totals.updated += result["updated"]
        totals.unchanged += result["unchanged"]
        totals.reject(
            result["header"],
            [(line, reason, row) for line, row, reason in result["rejected_raw"]],
            offset,
        )

    # ------------------------------------------------------------------
    # Server folder
    # ------------------------------------------------------------------

    def _folder(self):
        """The source's folder, checked to lie inside the folder the
        administrator allowed."""
        root = self.env["ir.config_parameter"].sudo().get_param(FOLDER_ROOT_PARAM)
        if not root:
            raise UserError(
                self.env._(
                    "The administrator has not allowed any server folder: set the system "
                    "parameter %(param)s to the folder the feeds arrive under.",
                    param=FOLDER_ROOT_PARAM,
                )
            )
        root = os.path.realpath(root)
        folder = os.path.realpath(os.path.join(root, self.folder_path or ""))
        if os.path.commonpath([root, folder]) != root:
            raise UserError(self.env._("The folder must lie inside %(root)s.", root=root))
        if not os.path.isdir(folder):
            raise UserError(self.env._("The folder %(folder)s does not exist.", folder=folder))
        return folder

    def _run_folder(self, commit):
        """Import each complete file of the folder once: a file recorded by
        its content hash is never imported again, and moves to processed/
        (or failed/). A file changed less than stable_seconds ago, or whose
        size changes while it is read, waits for the next run."""
        Run = self.env["library.import.run"].sudo()
        runs = Run
        try:
            folder = self._folder()
        except UserError as exc:
            run = self._start_run(commit)
            self._execute(run, lambda run, totals, error=exc: _raise(error), commit)
            return run
        entries = []
        with os.scandir(folder) as scan:
            for entry in scan:
                if (
                    entry.name.startswith(".")
                    or entry.name.lower().endswith(PARTIAL_SUFFIXES)
                    or not entry.is_file(follow_symlinks=False)
                ):
                    continue
                entries.append((entry.stat().st_mtime, entry.name))
        for _mtime, name in sorted(entries):
            runs |= self._folder_file(folder, name, commit)
        return runs

    def _folder_file(self, folder, name, commit):
        Run = self.env["library.import.run"].sudo()
        path = os.path.join(folder, name)
        try:
            before = os.lstat(path)
        except FileNotFoundError:  # taken away since the folder was listed
            return Run
        if not stat.S_ISREG(before.st_mode):
            # Replaced by a link (or else) since the folder was listed.
            _logger.warning("Import source %s: %s is not a plain file, left.", self.id, name)
            return Run
        waiting = Run.search(
            [("source_id", "=", self.id), ("state", "=", "waiting"), ("file_name", "=", name)],
            limit=1,
        )
        digest = None
        if time.time() - before.st_mtime >= self.stable_seconds:
            try:
                digest = _sha256(path)
            except OSError as exc:  # swapped for a link since, or taken away
                _logger.warning("Import source %s: %s not read: %s", self.id, name, exc)
                return Run
            after = os.lstat(path)
            if (after.st_size, after.st_mtime) != (before.st_size, before.st_mtime):
                digest = None
        if not digest:
            values = {
                "state": "waiting",
                "started_at": fields.Datetime.now(),
                "finished_at": fields.Datetime.now(),
                "error": self.env._(
                    "The file is still being written (it changed less than %(seconds)s seconds "
                    "ago): it is imported by a later run.",
                    seconds=self.stable_seconds,
                ),
            }
            if waiting:
                waiting.write(values)
            else:
                waiting = Run.create({"source_id": self.id, "file_name": name, **values})
            self._commit(commit)
            return waiting
        done = Run.search(
            [("source_id", "=", self.id), ("state", "=", "done"), ("file_sha256", "=", digest)],
            limit=1,
        )
        if done:
            # Imported already (maybe the server stopped before the move).
            waiting.unlink()
            _logger.info("Import source %s: %s was imported by run %s.", self.id, name, done.id)
            self._move(folder, name, "processed")
            self._commit(commit)
            return Run
        run = self._start_run(commit, run=waiting or None, file_name=name, file_sha256=digest)

        def work(run, totals):
            with _open_plain(path) as handle:
                data = handle.read()
            if hashlib.sha256(data).hexdigest() != digest:
                raise UserError(
                    self.env._("The file changed while it was read: it is read again later.")
                )
            self._import_data(data, totals)

        ok = self._execute(run, work, commit)
        if ok or "changed while it was read" not in (run.error or ""):
            try:
                self._move(folder, name, "processed" if ok else "failed")
            except OSError as exc:
                _logger.warning("Import source %s: %s not moved: %s", self.id, name, exc)
        return run

    def _move(self, folder, name, subfolder):
        target_dir = os.path.join(folder, subfolder)
        os.makedirs(target_dir, exist_ok=True)
        target = os.path.join(target_dir, name)
        if os.path.exists(target):
            stem, dot, ext = name.rpartition(".")
            stamp = fields.Datetime.now().strftime("%Y%m%d%H%M%S")
            target = os.path.join(
                target_dir, f"{stem}-{stamp}.{ext}" if dot else f"{name}-{stamp}"
            )
        shutil.move(os.path.join(folder, name), target)

    # ------------------------------------------------------------------
    # HTTP(S) URL
    # ------------------------------------------------------------------

    def _http_auth(self):
        source = self.sudo()
        return (source.login, source.password or "") if source.login else None

    def _run_url(self, commit):
        """Fetch the URL with a conditional request: 304 (or content already
        imported) means nothing new and makes no run."""
        Run = self.env["library.import.run"].sudo()
        headers = {}
        if self.http_etag:
            headers["If-None-Match"] = self.http_etag
        if self.http_last_modified:
            headers["If-Modified-Since"] = self.http_last_modified
        name = (self.url or "").rstrip("/").rsplit("/", 1)[-1].split("?")[0] or self.url
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
        fetched = {}

        def fetch():
            with requests.get(
                self.url,
                headers=headers,
                timeout=HTTP_TIMEOUT,
                stream=True,
                auth=self._http_auth(),
            ) as response:
                fetched["status"] = response.status_code
                if response.status_code == 304:
                    return
                response.raise_for_status()
                digest = hashlib.sha256()
                for chunk in response.iter_content(HASH_CHUNK):
                    digest.update(chunk)
                    spool.write(chunk)
                fetched["sha"] = digest.hexdigest()
                fetched["etag"] = response.headers.get("ETag") or False
                fetched["last_modified"] = response.headers.get("Last-Modified") or False

        with spool:
            # The fetch itself: a failure is a failed run; a 304 is no run.
            try:
                fetch()
            except Exception as exc:  # recorded on a failed run
                run = self._start_run(commit, file_name=name)
                self._execute(run, lambda run, totals, error=exc: _raise(error), commit)
                return run
            if fetched["status"] == 304:
                return Run
            validators = {
                "http_etag": fetched["etag"],
                "http_last_modified": fetched["last_modified"],
            }
            if Run.search_count(
                [
                    ("source_id", "=", self.id),
                    ("state", "=", "done"),
                    ("file_sha256", "=", fetched["sha"]),
                ]
            ):
                self.sudo().write(validators)
                self._commit(commit)
                return Run
            run = self._start_run(commit, file_name=name, file_sha256=fetched["sha"])

            def work(run, totals):
                spool.seek(0)
                self._import_data(spool.read(), totals)

            if self._execute(run, work, commit):
                self.sudo().write(validators)
                self._commit(commit)
        return run

    # ------------------------------------------------------------------
    # OAI-PMH
    # ------------------------------------------------------------------

    def _run_oai(self, commit):
        """Harvest the endpoint with the new-title harvester, from the last
        harvest on."""
        run = self._start_run(commit, file_name=self.url)

        def work(run, totals):
            result = self.env["library.new.title"]._harvest_oai(
                self.url,
                metadata_prefix="oai_dc" if self.file_format == "oai_dc" else "marc21",
                from_datestamp=self.sudo().oai_datestamp or None,
                set_spec=self.oai_set or None,
            )
            totals.add_marc(result)
            totals.updated += result.get("archived", 0)
            if not result["complete"]:
                # The pages read are kept; the next harvest asks again from
                # the same datestamp and duplicates nothing.
                self._commit(commit)
                raise UserError(
                    self.env._(
                        "The harvest stopped before the end of the list: %(reason)s",
                        reason=result["rejected"][-1][1]
                        if result["rejected"]
                        else self.env._("the server did not answer"),
                    )
                )
            if result.get("last_datestamp"):
                self.sudo().oai_datestamp = result["last_datestamp"]

        self._execute(run, work, commit)
        return run

    # ------------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------------

    @contextlib.contextmanager
    def _sql_connection(self, stream=False):
        """(connection, cursor) on the library system's database, in a
        read-only transaction that sees one snapshot for the whole run. With
        stream, the cursor reads the result as it comes (MariaDB's
        unbuffered result, a PostgreSQL server-side cursor): memory holds one
        batch, and the query runs once whatever the size of its result."""
        source = self.sudo()
        if not source.sql_database or not source.query:
            raise UserError(self.env._("Give the database name and the mapping query."))
        port = source.sql_port or SQL_DEFAULT_PORTS[source.sql_engine]
        source._check_sql_target(port)
        if source.sql_engine == "mysql":
            import pymysql
            import pymysql.cursors

            connection = pymysql.connect(
                host=source.sql_host or "127.0.0.1",
                port=port,
                user=source.login or "",
                password=source.password or "",
                database=source.sql_database,
                charset="utf8mb4",
                connect_timeout=SQL_TIMEOUT,
                read_timeout=SQL_STREAM_WAIT,
                autocommit=False,
            )
            cursor = connection.cursor(pymysql.cursors.SSCursor if stream else None)
            try:
                if stream:
                    # The server waits while a batch is imported here: by
                    # default it gives up on a client after 60 seconds.
                    with contextlib.suppress(pymysql.err.MySQLError):
                        cursor.execute("SET SESSION net_write_timeout = %s", (SQL_STREAM_WAIT,))
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
                cursor.execute("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
                yield connection, cursor
            finally:
                # An unbuffered result still open would be read to its end
                # on close: the connection is closed under it instead.
                result = getattr(cursor, "_result", None)
                if result is not None:
                    result.unbuffered_active = False
                with contextlib.suppress(Exception):
                    connection.close()
                cursor.connection = None
        else:
            import psycopg2

            # A name of its own, to recognise this connection on Odoo's server.
            application_name = f"library_crm import {uuid.uuid4().hex}"
            connection = psycopg2.connect(
                host=source.sql_host or None,
                port=port,
                user=source.login or None,
                password=source.password or None,
                dbname=source.sql_database,
                connect_timeout=SQL_TIMEOUT,
                application_name=application_name,
            )
            try:
                source._check_sql_connection_target(application_name)
                connection.set_session(readonly=True, isolation_level="REPEATABLE READ")
                cursor = connection.cursor("library_crm_import") if stream else connection.cursor()
                yield connection, cursor
            finally:
                with contextlib.suppress(Exception):
                    connection.close()

    def _check_sql_target(self, port):
        """Refuse a PostgreSQL source on the server of Odoo's own database,
        unless the administrator allowed it."""
        if self.sql_engine != "postgresql":
            return
        if self.env["ir.config_parameter"].sudo().get_param(SQL_ODOO_SERVER_PARAM):
            return
        host = (self.sql_host or "").strip().lower()
        odoo_host = (config["db_host"] or "").strip().lower()
        odoo_port = int(config["db_port"] or 5432)
        with contextlib.suppress(OSError, UnicodeError):
            if host and ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
                host = "localhost"
        local = host in LOCAL_HOSTS or host.startswith("/")
        odoo_local = odoo_host in LOCAL_HOSTS or odoo_host.startswith("/")
        if port == odoo_port and (host == odoo_host or (local and odoo_local)):
            raise UserError(
                self.env._(
                    "This is the server of Odoo's own database: a source may read it only "
                    "when the administrator sets the system parameter %(param)s.",
                    param=SQL_ODOO_SERVER_PARAM,
                )
            )

    def _check_sql_connection_target(self, application_name):
        """Refuse a connection that landed on the server of Odoo's own
        database, however its host was spelled (0.0.0.0, another address of
        this machine, a libpq host list): Odoo's server lists the session."""
        if self.env["ir.config_parameter"].sudo().get_param(SQL_ODOO_SERVER_PARAM):
            return
        cr = self.env.cr
        # The activity view is a snapshot per transaction: take a fresh one.
        cr.execute(SQL("SELECT pg_stat_clear_snapshot()"))
        cr.execute(
            SQL(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = %s LIMIT 1",
                application_name,
            )
        )
        if cr.fetchone():
            raise UserError(
                self.env._(
                    "This is the server of Odoo's own database: a source may read it only "
                    "when the administrator sets the system parameter %(param)s.",
                    param=SQL_ODOO_SERVER_PARAM,
                )
            )

    def _sql_statement(self, limit=None):
        """The mapping query with its parameters; limit for a look at its
        first rows (the connection test)."""
        query = self.query.strip().rstrip(";").rstrip()
        params = {}
        if "%(since)s" in query:
            params["since"] = self._since() or datetime.datetime(1900, 1, 1)
        else:
            # Without %(since)s, a % is a literal % as written.
            query = query.replace("%", "%%")
        if limit is not None:
            query = f"{query}\nLIMIT %(limit)s"
            params["limit"] = limit
        return query, params

    def _since(self):
        """The start of the last successful run, None before the first."""
        last = (
            self.env["library.import.run"]
            .sudo()
            .search(
                [("source_id", "=", self.id), ("state", "=", "done")],
                order="started_at desc",
                limit=1,
            )
        )
        return last.started_at or None

    def _sql_columns(self, cursor):
        cursor.execute(*self._sql_statement(1))
        cursor.fetchall()
        return [column[0] for column in cursor.description or ()]

    def _run_sql(self, commit):
        """Run the mapping query once, in one read-only snapshot, and read
        its result as it streams, batch by batch, each batch checked like a
        file and committed. A database that goes away fails the run with
        the batches read kept."""
        run = self._start_run(commit, file_name=self.sql_database)

        def work(run, totals):
            with self._sql_connection(stream=True) as (connection, cursor):
                cursor.execute(*self._sql_statement())
                offset = 0
                while True:
                    self._before_sql_batch(connection, offset)
                    rows = cursor.fetchmany(self.batch_size)
                    if not rows:
                        break
                    # A server-side cursor describes its result once read.
                    header = [column[0] for column in cursor.description]
                    self._import_data(rows, totals, offset=offset, header=header)
                    offset += len(rows)
                    if commit:
                        run.write(totals.values(self.env, finished=False))
                        self._commit(commit)
                    if len(rows) < self.batch_size:
                        break

        self._execute(run, work, commit)
        return run

    def _before_sql_batch(self, connection, offset):
        """Called before each batch is read (a hook for tests of a database
        that goes away mid-run)."""

    # ------------------------------------------------------------------
    # Monitoring
    # ------------------------------------------------------------------

    def _responsible(self):
        user = self.user_id
        if user and user.active and user.has_group(MANAGER_GROUP):
            return user
        return (
            self.env.ref(MANAGER_GROUP)
            .sudo()
            .user_ids.filtered(lambda u: u.active and self.company_id in u.company_ids)[:1]
        )

    def _alert(self, reason):
        """One open activity per source for its responsible manager, however
        many runs fail or cron ticks find it silent."""
        source = self.sudo()
        todo = self.env.ref("mail.mail_activity_data_todo")
        if source.activity_ids.filtered(lambda a: a.activity_type_id == todo):
            return
        user = source._responsible()
        if not user:
            return
        source.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Import source needs attention"),
            note=reason,
            user_id=user.id,
        )

    def _check_silent(self):
        now = fields.Datetime.now()
        for source in self.filtered("silent_days"):
            since = source.last_data_at or source.create_date
            if since and now - since > datetime.timedelta(days=source.silent_days):
                source._alert(
                    self.env._(
                        "Nothing new arrived from %(name)s for more than %(days)s days.",
                        name=source.name,
                        days=source.silent_days,
                    )
                )


def _raise(exc):
    raise exc


def _open_plain(path):
    """The file for reading, never through a symbolic link (a sender may
    swap a feed file for one after the folder was listed)."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def _sha256(path):
    digest = hashlib.sha256()
    with _open_plain(path) as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Totals:
    """What a run read, created, updated and rejected, and its rejected rows
    (written to CSV as they come, numbered in the whole run)."""

    def __init__(self):
        self.read = self.created = self.updated = self.unchanged = 0
        self.rejected = 0
        self.header = None
        self.output = io.StringIO()
        self.write = rejected_writer(self.output)

    def reject(self, header, rows, offset=None):
        for line, reason, cells in rows:
            if self.header is None:
                self.header = list(header)
            self.rejected += 1
            # A batch of a query is a CSV whose line 2 is the batch's first
            # row: rows are numbered in the whole result.
            self.write([line if offset is None else line - 1 + offset, reason, *cells])

    def mark(self):
        return (
            self.read,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected,
            self.header,
            self.output.tell(),
        )

    def restore(self, mark):
        (
            self.read,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected,
            self.header,
            position,
        ) = mark
        self.output.seek(position)
        self.output.truncate()

    def add_marc(self, result):
        self.read += result.get("read", 0)
        self.created += result.get("created", 0)
        self.updated += result.get("updated", 0)
        self.unchanged += result.get("unchanged", 0)
        self.reject((), [(no, reason, ()) for no, reason in result.get("rejected", ())])

    def values(self, env, finished=True):
        values = {
            "read_count": self.read,
            "created_count": self.created,
            "updated_count": self.updated,
            "unchanged_count": self.unchanged,
            "rejected_count": self.rejected,
        }
        if finished:
            values["finished_at"] = fields.Datetime.now()
        if self.rejected:
            head = io.StringIO()
            rejected_writer(head)([env._("Row"), env._("Reason"), *(self.header or ())])
            content = (head.getvalue() + self.output.getvalue()).encode("utf-8-sig")
            values["rejected_file"] = base64.b64encode(content)
            values["rejected_filename"] = "rejected.csv"
        return values


class LibraryImportRun(models.Model):
    _name = "library.import.run"
    _description = "Import Run"
    _order = "started_at desc, id desc"
    _rec_name = "source_id"

    source_id = fields.Many2one(
        "library.import.source", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="source_id.company_id", store=True, index=True)
    kind = fields.Selection(related="source_id.kind")
    started_at = fields.Datetime(string="Started", readonly=True)
    finished_at = fields.Datetime(string="Finished", readonly=True)
    state = fields.Selection(
        [
            ("waiting", "Waiting"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        required=True,
        default="running",
        readonly=True,
    )
    file_name = fields.Char(string="File", readonly=True)
    file_sha256 = fields.Char(string="SHA-256", readonly=True, index="btree_not_null")
    read_count = fields.Integer(string="Read", readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(
        string="Unchanged", readonly=True, help="Rows already imported, left as they were."
    )
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    rejected_file = fields.Binary(string="Rejected Rows", attachment=True, readonly=True)
    rejected_filename = fields.Char(readonly=True)
    error = fields.Text(string="Reason", readonly=True)

    # A file's content is imported once per source.
    _file_done_unique = models.UniqueIndex(
        "(source_id, file_sha256) WHERE state = 'done' AND file_sha256 IS NOT NULL",
        "This file was already imported from this source.",
    )
