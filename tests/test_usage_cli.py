# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The command-line entry for scheduled usage loads, against the test database."""

import configparser
import os
import subprocess
import sys
import uuid
from pathlib import Path


def _addons_path():
    parser = configparser.ConfigParser()
    parser.read(os.environ["LIBRARY_CRM_ODOO_CONF"])
    return parser["options"]["addons_path"]


def _run_cli(*args):
    # Odoo finds addon commands on the addons path given before the command.
    command = [
        os.environ.get("LIBRARY_CRM_PYTHON", sys.executable),
        str(Path(os.environ["ODOO_SRC"]) / "odoo-bin"),
        f"--addons-path={_addons_path()}",
        "library_usage_import",
        "-c",
        os.environ["LIBRARY_CRM_ODOO_CONF"],
        "-d",
        os.environ["LIBRARY_CRM_TEST_DB"],
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_scheduled_load_is_idempotent(admin, tmp_path):
    card = f"CLI{uuid.uuid4().hex[:8].upper()}"
    reader = admin.execute(
        "res.partner",
        "create",
        {"name": "CLI Reader", "is_reader": True, "reader_card_number": card},
    )
    export = tmp_path / "loans.csv"
    export.write_text(
        "card number,kind,date,external ref\n"
        f"{card},loan,2026-10-01 09:30,{card}-1\n"
        f"{card},借阅,2026-10-02 09:30,{card}-2\n"
        "NOBODY,loan,2026-10-02 09:30,X-1\n",
        encoding="utf-8",
    )
    rejected = tmp_path / "rejected.csv"
    first = _run_cli(
        "--source", "ils-nightly", "--rejected", str(rejected), "--recompute", str(export)
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "2 imported, 0 already there, 1 rejected" in first.stdout
    assert "NOBODY" in rejected.read_text(encoding="utf-8-sig")
    second = _run_cli("--source", "ils-nightly", str(export))
    assert "0 imported, 2 already there" in second.stdout
    assert admin.execute("library.usage", "search_count", [("partner_id", "=", reader)]) == 2
    [values] = admin.execute(
        "res.partner", "read", [reader], ["reader_segment", "usage_count_12m"]
    )
    assert values["reader_segment"]
