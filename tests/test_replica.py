# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo's own scale-out for reads: a PostgreSQL streaming replica behind
``db_replica_host`` / ``db_replica_port``.

The test builds both servers itself, in a temporary folder: a primary cluster
holding a copy of the test database, and a hot-standby replica made from it
with ``pg_basebackup``. Both log every statement. Odoo then runs in prefork
mode against the pair, and each read-heavy part of library_crm (the analysis
pivot, the Readers list and its search, a PDF, the dashboard, the reader's
portal pages) is requested once with a marker only that request carries:
the marker must be in the replica's statements and not in the primary's, the
werkzeug line must say the request kept its read-only cursor (``ro``, not
``ro->rw``), and a write must reach the primary only."""

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests
from conftest import _free_port, running_odoo

REQUEST_LINE = re.compile(
    r'"(?P<verb>GET|POST) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+) .* (?P<mode>\S+)$'
)


def _pgbin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        pytest.fail(
            "the replica test needs PostgreSQL's server binaries (apt-get install postgresql)"
        )
    return found[-1]


def _as_owner(command):
    """initdb and postgres refuse to run as root: the clusters belong to postgres."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode:
        pytest.fail(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _start(pgbin, data, port, sockets, log):
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on "
        "-c log_statement=all -c log_line_prefix='%m [%p] %a: '"
    )
    _run(
        _as_owner(
            [
                str(pgbin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ]
        )
    )


@contextlib.contextmanager
def _connect(port):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="odoo", dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cr:
            yield cr
    finally:
        connection.close()


@pytest.fixture(scope="module")
def clusters():
    database = os.environ.get("LIBRARY_CRM_TEST_DB")
    if not database:
        pytest.fail("run through scripts/test.sh: LIBRARY_CRM_TEST_DB unset")
    pgbin = _pgbin()
    # Not under pytest's own temporary folder: that one is private to root.
    base = Path(tempfile.mkdtemp(prefix="library_crm_replica_"))
    primary, replica, sockets = base / "primary", base / "replica", base / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    primary_port, replica_port = _free_port(), _free_port()
    started = []
    try:
        _run(
            _as_owner(
                [
                    str(pgbin / "initdb"),
                    "-D",
                    str(primary),
                    "-U",
                    "odoo",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ]
            )
        )
        _start(pgbin, primary, primary_port, sockets, base / "primary.log")
        started.append(primary)
        # The test database, copied from the machine's server as scripts/test.sh built it.
        dump = base / "test.dump"
        _run(
            [
                str(pgbin / "pg_dump"),
                "-Fc",
                "--no-owner",
                "--no-privileges",
                "-f",
                str(dump),
                database,
            ]
        )
        target = ["-h", "127.0.0.1", "-p", str(primary_port), "-U", "odoo"]
        _run([str(pgbin / "createdb"), *target, "-T", "template0", database])
        _run(
            [
                str(pgbin / "pg_restore"),
                *target,
                "--no-owner",
                "--no-privileges",
                "-d",
                database,
                str(dump),
            ]
        )
        # The replica: a base backup that streams from the primary and serves reads.
        _run(
            _as_owner(
                [
                    str(pgbin / "pg_basebackup"),
                    *target,
                    "-D",
                    str(replica),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ]
            )
        )
        _start(pgbin, replica, replica_port, sockets, base / "replica.log")
        started.append(replica)
        with _connect(replica_port) as cr:
            cr.execute("SELECT pg_is_in_recovery()")
            assert cr.fetchone()[0], "the second cluster is a standby"
        yield {
            "database": database,
            "primary_port": primary_port,
            "replica_port": replica_port,
            "primary_log": base / "primary.log",
            "replica_log": base / "replica.log",
        }
    finally:
        for data in reversed(started):
            subprocess.run(
                _as_owner(
                    [str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def replica_odoo(clusters, tmp_path_factory):
    log = tmp_path_factory.mktemp("odoo_replica") / "server.log"
    with running_odoo(
        log,
        "--db_host=127.0.0.1",
        f"--db_port={clusters['primary_port']}",
        "--db_user=odoo",
        "--db_replica_host=127.0.0.1",
        f"--db_replica_port={clusters['replica_port']}",
        # One line per request, ending with the cursor it was served with.
        "--log-handler=werkzeug:INFO",
    ) as server:
        yield server


def _caught_up(clusters):
    """Wait until the replica has replayed everything the primary wrote."""
    with _connect(clusters["primary_port"]) as cr:
        cr.execute("SELECT pg_current_wal_lsn()")
        target = cr.fetchone()[0]
    deadline = time.monotonic() + 30
    with _connect(clusters["replica_port"]) as cr:
        while True:
            cr.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cr.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the replica did not catch up within 30 s"
            time.sleep(0.2)


class _Web:
    """A web-client session: the routes the browser calls, cookie and all."""

    def __init__(self, server, login, password):
        self.url = server["url"]
        self.session = requests.Session()
        response = self.session.post(
            f"{self.url}/web/session/authenticate",
            json={"params": {"db": server["db"], "login": login, "password": password}},
            timeout=60,
        )
        assert response.json().get("result", {}).get("uid"), response.text

    def call(self, model, method, *args, **kwargs):
        response = self.session.post(
            f"{self.url}/web/dataset/call_kw/{model}.{method}",
            json={"params": {"model": model, "method": method, "args": args, "kwargs": kwargs}},
            timeout=120,
        ).json()
        assert "error" not in response, response["error"]
        return response.get("result")

    def get(self, path, status=200):
        response = self.session.get(f"{self.url}{path}", timeout=120)
        assert response.status_code == status, (path, response.status_code, response.text[:500])
        return response


def _served(log_path, path):
    """The cursor modes Odoo logged for the requests of a path."""
    modes = []
    for line in log_path.read_text(errors="replace").splitlines():
        found = REQUEST_LINE.search(line.rstrip())
        if found and found["path"].split("?")[0] == path:
            modes.append(found["mode"])
    return modes


def _statements(log_path, mark):
    return [line for line in log_path.read_text(errors="replace").splitlines() if mark in line]


def test_reads_are_served_by_the_replica_and_writes_by_the_primary(clusters, replica_odoo):
    admin = _Web(replica_odoo, "admin", "admin")
    mark = f"replica-{uuid.uuid4().hex[:12]}"

    # Writes: a reader with a portal account and a suggestion of theirs.
    password = uuid.uuid4().hex
    portal_group = admin.call("ir.model.data", "check_object_reference", "base", "group_portal")[1]
    reader = admin.call(
        "res.partner",
        "create",
        {
            "name": f"Reader {mark}",
            "is_reader": True,
            "reader_card_number": mark.upper(),
            "email": f"{mark}@example.edu",
        },
    )
    admin.call(
        "res.users",
        "create",
        {
            "name": f"Reader {mark}",
            "login": mark,
            "password": password,
            "partner_id": reader,
            "group_ids": [(6, 0, [portal_group])],
        },
    )
    category = admin.call("library.suggestion.category", "create", {"name": f"Space {mark}"})
    suggestion = admin.call(
        "library.suggestion",
        "create",
        {"subject": f"Quiet room {mark}", "partner_id": reader, "category_id": category},
    )
    _caught_up(clusters)

    # Reads, each with its own marker in the SQL it runs.
    probes = {}

    def probe(name):
        probes[name] = f"{mark}-{name}"
        return probes[name]

    pivot = admin.call(
        "res.partner",
        "formatted_read_grouping_sets",
        [("is_reader", "=", True), ("comment", "not ilike", probe("pivot"))],
        [[], ["reader_segment"], ["value_tier"], ["reader_segment", "value_tier"]],
        aggregates=["__count", "loyalty_score:avg"],
    )
    assert sum(group["__count"] for group in pivot[0]) >= 1
    page = admin.call(
        "res.partner",
        "web_search_read",
        [("is_reader", "=", True), ("display_name", "ilike", mark.upper())],
        {"display_name": {}, "reader_card_number": {}},
        limit=80,
    )
    assert [record["id"] for record in page["records"]] == [reader], (
        "the new reader is on the replica"
    )
    admin.call(
        "library.suggestion",
        "web_search_read",
        [("subject", "ilike", probe("kanban"))],
        {"subject": {}, "state": {}},
    )
    pdf = admin.get(f"/report/pdf/library_crm.report_suggestion/{suggestion}")
    assert pdf.content.startswith(b"%PDF")
    dashboard = admin.call(
        "ir.model.data",
        "check_object_reference",
        "spreadsheet_dashboard_library_crm",
        "spreadsheet_dashboard_reader_relations",
    )[1]
    assert admin.get(f"/spreadsheet/dashboard/data/{dashboard}").json()

    portal = _Web(replica_odoo, mark, password)
    assert f"Quiet room {mark}" in portal.get("/my/suggestions").text
    assert f"Quiet room {mark}" in portal.get(f"/my/suggestions/{suggestion}").text
    # Where a reader lands after submitting: the primary, which has what they just wrote.
    assert f"Quiet room {mark}" in portal.get(f"/my/suggestions/{suggestion}?created=1").text
    portal.get("/my/library-usage")
    portal.get("/my/points")
    portal.get("/my/liaison-reviews")
    portal.get("/library/you-said-we-did")
    # A new reader has no annual reading report yet: not found, from the replica.
    portal.get("/my/reading-report", status=404)

    time.sleep(1)  # the last werkzeug lines and statements reach their files
    odoo_log = replica_odoo["log"]
    for path in (
        "/web/dataset/call_kw/res.partner.formatted_read_grouping_sets",
        "/web/dataset/call_kw/res.partner.web_search_read",
        "/web/dataset/call_kw/library.suggestion.web_search_read",
        f"/report/pdf/library_crm.report_suggestion/{suggestion}",
        f"/spreadsheet/dashboard/data/{dashboard}",
        "/my/suggestions",
        "/my/library-usage",
        "/my/points",
        "/my/liaison-reviews",
        "/library/you-said-we-did",
        "/my/reading-report",
    ):
        assert _served(odoo_log, path) == ["ro"], (path, _served(odoo_log, path))
    assert _served(odoo_log, f"/my/suggestions/{suggestion}") == ["ro", "rw"]
    assert _served(odoo_log, "/web/dataset/call_kw/library.suggestion.create") == ["rw"]
    assert "retrying with a read/write cursor" not in odoo_log.read_text(errors="replace")

    primary, replica = clusters["primary_log"], clusters["replica_log"]
    for name, marker in probes.items():
        assert _statements(replica, marker), f"the {name} read ran on the replica"
        assert not _statements(primary, marker), f"the {name} read never touched the primary"
    # The writes went to the primary; the replica only ever read.
    assert any("INSERT INTO" in line for line in _statements(primary, f"Quiet room {mark}"))
    replica_text = replica.read_text(errors="replace")
    assert not re.search(r"statement: (INSERT|UPDATE|DELETE)\b", replica_text)
    assert "cannot execute" not in replica_text
