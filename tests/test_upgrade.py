# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Upgrade and uninstall, on a database of its own: the previous release of
the addon (exported from git) is installed with demo data, a library edits a
cron and a mail template, then `-u library_crm` runs with this tree. Every
record of the library's tables is still there, unchanged; the edits are
kept; every view of the addon loads. Uninstalling leaves Odoo usable.

Runs through scripts/test.sh (LIBRARY_CRM_ODOO_CONF, LIBRARY_CRM_TEST_DB,
ODOO_SRC, LIBRARY_CRM_PYTHON); takes a few minutes (two installs' worth).
The temporary database is dropped at the end."""

import configparser
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from io import BytesIO
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parent.parent
# main at the start of this round: the release databases are upgraded from.
PREVIOUS_RELEASE = "436d871"

# Table: the rows a library would lose if an upgrade went wrong.
TABLES = {
    "res_partner": "is_reader",
    # The new release's demo adds a suggestion (a rejection pending a
    # leader's confirmation): the library's rows are the others.
    "library_suggestion": "id NOT IN (SELECT res_id FROM ir_model_data WHERE module = "
    "'library_crm' AND name = 'suggestion_demo_reject_pending')",
    "library_usage": "TRUE",
    "library_points_transaction": "TRUE",
    "library_reader_metrics": "TRUE",
    "library_segment_history": "TRUE",
    "library_interaction": "TRUE",
}
# Written by any write, and by the recompute of a stored field the new
# release computes differently: not the library's data.
SKIPPED_COLUMNS = {"write_date", "write_uid"}
# Changed on purpose by a migration, checked on its own below: a suggestion
# published before the public texts existed leaves the public page.
CHANGED_BY_MIGRATION = {"library_suggestion": {"is_published"}}
# Recomputed by the 19.0.1.3.0 migration under the new lifecycle and value
# rules (a new baseline): only which reader a row belongs to must survive;
# the stage keys are checked on their own below ("occasional" is gone).
RECOMPUTED_BY_MIGRATION = {"library_reader_metrics": {"id", "partner_id"}}

SHELL_MARK = "@@RESULT@@"


def _python():
    return os.environ.get("LIBRARY_CRM_PYTHON", sys.executable)


def _odoo_bin():
    return str(Path(os.environ["ODOO_SRC"]) / "odoo-bin")


def _write_conf(path, database, addons_dir, data_dir):
    """A copy of the test configuration on another database, whose addons
    path takes library_crm from addons_dir."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.environ["LIBRARY_CRM_ODOO_CONF"])
    options = parser["options"]
    paths = [
        str(addons_dir) if (Path(entry.strip()) / "library_crm").is_dir() else entry.strip()
        for entry in options["addons_path"].split(",")
    ]
    if str(addons_dir) not in paths:
        paths.append(str(addons_dir))
    options["addons_path"] = ",".join(paths)
    options["db_name"] = database
    options["dbfilter"] = f"^{database}$"
    options["data_dir"] = str(data_dir)
    options["list_db"] = "False"
    with open(path, "w", encoding="utf-8") as handle:
        parser.write(handle)
    return path


def _odoo(*args, timeout=900):
    result = subprocess.run(
        [_python(), _odoo_bin(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"odoo-bin {' '.join(args)}:\n{result.stderr[-4000:]}"
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert not errors, "\n".join(errors[:20])
    return result


def _shell(conf, database, code):
    """Run code in `odoo-bin shell`; it sets `result`, returned as JSON."""
    script = f"{code}\nprint({SHELL_MARK!r} + json.dumps(result))\n"
    result = subprocess.run(
        [_python(), _odoo_bin(), "shell", "-c", conf, "-d", database, "--log-level=warn"],
        input=f"import json\n{script}",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(SHELL_MARK)]
    assert lines, f"odoo shell failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return json.loads(lines[-1][len(SHELL_MARK) :])


def _columns(cr, table):
    cr.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = %s ORDER BY column_name""",
        [table],
    )
    skipped = SKIPPED_COLUMNS | CHANGED_BY_MIGRATION.get(table, set())
    kept = RECOMPUTED_BY_MIGRATION.get(table)
    return [
        name for (name,) in cr.fetchall() if name not in skipped and (kept is None or name in kept)
    ]


def _published(cr):
    cr.execute("SELECT count(*) FROM library_suggestion WHERE is_published")
    return cr.fetchone()[0]


def _snapshot(cr, columns):
    """Per table: the number of rows and a checksum of the given columns."""
    snapshot = {}
    for table, where in TABLES.items():
        quoted = ", ".join(f'"{column}"' for column in columns[table])
        cr.execute(
            f"""SELECT count(*), md5(string_agg(row_text, '|' ORDER BY id))
                  FROM (SELECT id, ROW({quoted})::text AS row_text
                          FROM {table} WHERE {where}) t"""
        )
        snapshot[table] = cr.fetchone()
    return snapshot


@pytest.fixture
def upgrade_db(tmp_path):
    if not os.environ.get("LIBRARY_CRM_ODOO_CONF") or not os.environ.get("ODOO_SRC"):
        pytest.fail("run through scripts/test.sh: LIBRARY_CRM_ODOO_CONF/ODOO_SRC unset")
    base = os.environ.get("LIBRARY_CRM_TEST_DB", "library_crm_test")
    database = f"{base}_upgrade_{uuid.uuid4().hex[:6]}"
    try:
        yield database
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", database], check=False)
        shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_upgrade_keeps_every_record_and_uninstall_leaves_odoo_usable(upgrade_db, tmp_path):
    database = upgrade_db
    old_addons = tmp_path / "previous"
    old_addons.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS_RELEASE, "library_crm"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(old_addons, filter="data")
    data_dir = tmp_path / "data"
    old_conf = _write_conf(tmp_path / "previous.conf", database, old_addons, data_dir)
    new_conf = _write_conf(tmp_path / "current.conf", database, REPO, data_dir)

    # The previous release, with demo data, used for a while.
    _odoo(
        "-c", old_conf, "-d", database, "-i", "library_crm", "--with-demo",
        "--stop-after-init", "--log-level=warn",
    )  # fmt: skip
    edits = _shell(
        old_conf,
        database,
        """
from datetime import timedelta
from odoo import fields
readers = env["res.partner"].search([("is_reader", "=", True)], limit=20)
env["library.usage"].create([
    {
        "partner_id": reader.id,
        "kind": ("loan", "visit", "eresource")[index % 3],
        "occurred_at": fields.Datetime.now() - timedelta(days=7 * index),
        "source": "upgrade-test",
    }
    for index, reader in enumerate(readers)
])
env["library.segmentation"]._recompute(full=True)
cron = env.ref("library_crm.ir_cron_segmentation_recompute")
cron.interval_number = 3
template = env.ref("library_crm.mail_template_suggestion_acknowledgement")
template.subject = "Edited by the library"
env.cr.commit()
result = {"cron": cron.id, "template": template.id}
""",
    )
    with psycopg2.connect(dbname=database) as connection, connection.cursor() as cr:
        columns = {table: _columns(cr, table) for table in TABLES}
        before = _snapshot(cr, columns)
        published_before = _published(cr)
    connection.close()
    assert published_before > 0, "the demo data publishes a suggestion"
    assert before["res_partner"][0] > 0 and before["library_usage"][0] > 0, before

    # The upgrade.
    _odoo("-c", new_conf, "-d", database, "-u", "library_crm", "--stop-after-init",
          "--log-level=warn")  # fmt: skip
    with psycopg2.connect(dbname=database) as connection, connection.cursor() as cr:
        for table, names in columns.items():
            missing = set(names) - set(_columns(cr, table))
            assert not missing, f"{table} lost columns {missing}"
        after = _snapshot(cr, columns)
        # The previous release had no public texts: nothing stays published.
        published_after = _published(cr)
        # The stage "occasional" is "short_term" now, and every reader has a
        # value tier from the migration's new baseline.
        cr.execute(
            """SELECT (SELECT count(*) FROM library_reader_metrics
                        WHERE reader_segment = 'occasional' OR value_tier IS NULL)
                    + (SELECT count(*) FROM library_segment_history
                        WHERE 'occasional' IN (from_segment, to_segment))"""
        )
        stale_stages = cr.fetchone()[0]
    connection.close()
    assert after == before
    assert published_after == 0, "published without public texts"
    assert stale_stages == 0, "stages not migrated"

    checks = _shell(
        new_conf,
        database,
        f"""
cron = env["ir.cron"].browse({edits["cron"]})
template = env["mail.template"].browse({edits["template"]})
failed = []
views = env["ir.ui.view"].search(
    [("model_data_id.module", "=", "library_crm"), ("mode", "=", "primary")]
)
for view in views:
    try:
        if view.type == "qweb":
            view._get_combined_arch()
        else:
            env[view.model].get_views([(view.id, view.type)])
    except Exception as error:
        failed.append(f"{{view.xml_id}}: {{error}}")
readers = env["res.partner"].search_read([("is_reader", "=", True)], ["name"], limit=5)
result = {{
    "interval": cron.interval_number,
    "subject": template.subject,
    "views": len(views),
    "failed": failed,
    "readers": len(readers),
}}
""",
    )
    assert checks["interval"] == 3, "the library's cron was overwritten"
    assert checks["subject"] == "Edited by the library", "the library's template was overwritten"
    assert checks["views"] > 20 and not checks["failed"], checks["failed"]
    assert checks["readers"] == 5

    # Uninstall: Odoo starts again and partners work without the addon.
    _odoo("module", "uninstall", "-c", new_conf, "-d", database, "library_crm")
    after_uninstall = _shell(
        new_conf,
        database,
        """
module = env["ir.module.module"].search([("name", "=", "library_crm")])
partner = env["res.partner"].create({"name": "After uninstall", "email": "after@example.com"})
partner.write({"phone": "123"})
env.cr.execute("SELECT to_regclass('library_usage') IS NULL")
table_gone = env.cr.fetchone()[0]
result = {
    "state": module.state,
    "library_models": [name for name in env.registry if name.startswith("library.")],
    "partners": env["res.partner"].search_count([("id", "=", partner.id)]),
    "table_gone": table_gone,
}
env.cr.rollback()
""",
    )
    assert after_uninstall == {
        "state": "uninstalled",
        "library_models": [],
        "partners": 1,
        "table_gone": True,
    }
    _odoo("-c", new_conf, "-d", database, "--stop-after-init", "--log-level=warn")
