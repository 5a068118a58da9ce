# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Whole-system checks: a real Odoo server on the test database, driven from
outside over JSON-RPC like any external client. scripts/test.sh sets the
environment; the server is started here and stopped after the session.

The server runs as in production: prefork HTTP workers and the evented
process (websocket bus) on its own port."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_command(conf, database, port, gevent_port, *extra):
    """Odoo as production runs it, on loopback: prefork workers, the evented
    process on its own port, no cron thread (a test runs what it needs)."""
    return [
        os.environ.get("LIBRARY_CRM_PYTHON", sys.executable),
        str(Path(os.environ["ODOO_SRC"]) / "odoo-bin"),
        "-c",
        conf,
        "-d",
        database,
        f"--db-filter=^{database}$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        "--workers=2",
        f"--gevent-port={gevent_port}",
        # A worker is killed past these; a shared 2-core machine is slow.
        "--limit-time-cpu=600",
        "--limit-time-real=1200",
        "--max-cron-threads=0",
        "--log-level=warn",
        # Which processes started (HTTP workers, evented process).
        "--log-handler=odoo.service.server:INFO",
        *extra,
    ]


@contextlib.contextmanager
def running_odoo(log_path, *extra):
    """Start Odoo on the test database (scripts/test.sh's environment), wait
    until its workers and its evented process answer, stop it afterwards."""
    conf = os.environ.get("LIBRARY_CRM_ODOO_CONF")
    database = os.environ.get("LIBRARY_CRM_TEST_DB")
    if not conf or not database:
        pytest.fail("run through scripts/test.sh: LIBRARY_CRM_ODOO_CONF/_TEST_DB unset")
    port = _free_port()
    gevent_port = _free_port()
    command = odoo_command(conf, database, port, gevent_port, *extra)
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"Odoo exited early:\n{log_path.read_text()[-3000:]}")
            try:
                if (
                    requests.get(f"{url}/web/health", timeout=10).ok
                    and requests.get(
                        f"http://127.0.0.1:{gevent_port}/websocket/health", timeout=10
                    ).ok
                ):
                    break
            except requests.RequestException:
                # Not listening yet, or a worker still loading the registry.
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "Odoo's workers or its evented process did not answer within 120 s:\n"
                    f"{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield {
            "url": url,
            "db": database,
            "gevent_url": f"http://127.0.0.1:{gevent_port}",
            "log": log_path,
            "process": server,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def odoo_server(tmp_path_factory):
    with running_odoo(tmp_path_factory.mktemp("odoo") / "server.log") as server:
        yield server


class RpcError(Exception):
    def __init__(self, error):
        data = error.get("data", {})
        self.name = data.get("name", "")
        self.message = data.get("message", error.get("message", ""))
        super().__init__(f"{self.name}: {self.message}")


class OdooClient:
    """Minimal JSON-RPC client (the /jsonrpc endpoint every Odoo client uses)."""

    def __init__(self, server, login, password):
        self.url = f"{server['url']}/jsonrpc"
        self.db = server["db"]
        self.password = password
        self.uid = self._call("common", "login", self.db, login, password)
        assert self.uid, f"login {login} refused"

    def _call(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": 1,
        }
        response = requests.post(self.url, json=payload, timeout=120).json()
        if "error" in response:
            raise RpcError(response["error"])
        # Methods returning None come back with neither result nor error.
        return response.get("result")

    def execute(self, model, method, *args, **kwargs):
        return self._call(
            "object", "execute_kw", self.db, self.uid, self.password, model, method, args, kwargs
        )


@pytest.fixture(scope="session")
def admin(odoo_server):
    return OdooClient(odoo_server, "admin", "admin")
