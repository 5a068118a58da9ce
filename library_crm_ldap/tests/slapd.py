# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real OpenLDAP server (Debian's slapd) for the tests: generated
slapd.conf with an mdb database in a temporary folder, entries loaded with
slapadd, listening on a free loopback port, stopped and removed after."""

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time

import ldap

SUFFIX = "dc=campus,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "campus-admin-pw"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = "/etc/ldap/schema"
MODULE_DIR = "/usr/lib/ldap"

CONFIG = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath {modules}
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {folder}/db
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by * read
"""


def ssha(password):
    """An {SSHA} userPassword value, as slappasswd makes it."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def person_ldif(uid, name, password, ou="people", **attributes):
    lines = [
        f"dn: uid={uid},ou={ou},{SUFFIX}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn:: {base64.b64encode(name.encode()).decode()}",
        f"sn: {uid}",
        f"userPassword: {ssha(password)}",
    ]
    lines += [f"{key}: {value}" for key, value in attributes.items()]
    return "\n".join(lines)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SlapdServer:
    """Start with start(entries), stop with stop(); `port` and `uri` tell
    where it listens."""

    def __init__(self):
        self.folder = None
        self.process = None
        self.port = None

    @property
    def uri(self):
        return f"ldap://127.0.0.1:{self.port}"

    def start(self, entries):
        for binary in (SLAPD, SLAPADD):
            if not os.access(binary, os.X_OK):
                raise RuntimeError(
                    f"{binary} is missing: install the Debian packages slapd and ldap-utils "
                    "(scripts/lib.sh SYSTEM_PACKAGES)"
                )
        self.folder = tempfile.mkdtemp(prefix="library-crm-slapd-")
        os.mkdir(os.path.join(self.folder, "db"))
        config = os.path.join(self.folder, "slapd.conf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(
                CONFIG.format(
                    schema=SCHEMA_DIR,
                    modules=MODULE_DIR,
                    folder=self.folder,
                    suffix=SUFFIX,
                    rootdn=ROOT_DN,
                    rootpw=ROOT_PASSWORD,
                )
            )
        base = [
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
            "o: Campus\ndc: campus",
            f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people",
            f"dn: ou=staff,{SUFFIX}\nobjectClass: organizationalUnit\nou: staff",
        ]
        ldif = os.path.join(self.folder, "entries.ldif")
        with open(ldif, "w", encoding="utf-8") as handle:
            handle.write("\n\n".join(base + list(entries)) + "\n")
        loaded = subprocess.run(
            [SLAPADD, "-f", config, "-l", ldif],
            check=False,
            capture_output=True,
            timeout=60,
        )
        if loaded.returncode:
            message = loaded.stderr.decode(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"slapadd refused the entries: {message}")
        self.port = free_port()
        # -d keeps slapd in the foreground, so that this process owns it.
        self.process = subprocess.Popen(
            [SLAPD, "-f", config, "-h", self.uri, "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.folder, "slapd.log"), "wb"),
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                connection = ldap.initialize(self.uri)
                connection.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
                connection.unbind_s()
                return self
            except ldap.SERVER_DOWN:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log()
                    self.stop()
                    raise RuntimeError(f"slapd did not start: {log}") from None
                time.sleep(0.1)

    def log(self):
        path = os.path.join(self.folder or "", "slapd.log")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-2000:]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process and self.process.stderr:
            self.process.stderr.close()
        self.process = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
