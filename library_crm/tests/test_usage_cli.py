# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import csv
import io
import os
import tempfile
from unittest.mock import patch

from odoo.cli.command import find_command
from odoo.tests import tagged
from odoo.tools import config

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestUsageCli(LibraryCrmCase):
    """odoo-bin library_usage_import, run in the test's transaction: the
    registry's cursors are the test cursor, so its commits stay inside."""

    def setUp(self):
        super().setUp()
        self.registry_enter_test_mode()
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def _path(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as out:
            out.write(data)
        return path

    def _run(self, *args, code=0):
        command = find_command("library_usage_import")
        stdout, stderr = io.StringIO(), io.StringIO()
        with (
            patch("odoo.modules.registry.Registry", return_value=self.registry),
            patch.object(config, "parse_config"),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            try:
                returned = command().run(["-d", self.env.cr.dbname, *args])
            except SystemExit as exit_:
                returned = exit_.code
        self.assertEqual(returned, code)
        return stdout.getvalue(), stderr.getvalue()

    def test_bad_cells_rejected_to_file_good_rows_kept_rerun_idempotent(self):
        good = [f"2024000001,借阅,2026-03-01 10:00,1,C{n},{'题' * 10}" for n in range(400)]
        bad = [
            "2024000001,借阅,0000-01-01,1,B1,",
            "2024000001,借阅,2026-03-01 10:00:61,1,B2,",
            "2024000001,借阅,2026-03-01,99999999999,B3,",
            "2024000001,借阅,2026-03-01,1,B4,a\x00b",
            '2024000001,借阅,2026-03-01,1,B6,"open',
            "NOBODY,借阅,2026-03-01,1,B7,@SUM(A1)",
        ]
        header = "读者证号,类型,时间,数量,流水号,资源"
        # GBK with CR-only line ends; the first non-ASCII text comes after 8 KB.
        text = "\r".join(["card number,kind,date,quantity,id,title", *bad, *good, ""])
        text = text.replace("题", "x").replace("借阅", "loan")
        text += '2024000001,借阅,2026-03-02,1,G1,"a ""b"" c"\r'
        gbk = self._path("gbk.csv", text.encode("gbk"))
        self.assertGreater(text.encode("gbk").index("借".encode("gbk")), 8192)
        utf8 = self._path(
            "utf8.csv",
            "\n".join([header, *good[:3], "2024000001,借阅,2026-03-01,²,B5,", ""]).encode(
                "utf-8-sig"
            ),
        )
        rejected = os.path.join(self.tmp.name, "rejected.csv")

        out, _err = self._run("--source", "ils", "--rejected", rejected, gbk, utf8)
        self.assertIn(f"{gbk}: 401 imported, 0 already there, 6 rejected", out)
        self.assertIn(f"{utf8}: 0 imported, 3 already there, 1 rejected", out)
        usage = self.env["library.usage"].search([("partner_id", "=", self.reader.id)])
        self.assertEqual(len(usage), 401)
        self.assertEqual(usage.filtered(lambda u: u.external_ref == "G1").resource_ref, 'a "b" c')
        with open(rejected, encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.reader(stream))
        self.assertEqual(
            rows[0],
            ["File", "Row", "Reason", "card number", "kind", "date", "quantity", "id", "title"],
        )
        self.assertEqual([row[1] for row in rows[1:7]], ["2", "3", "4", "5", "6", "7"])
        self.assertEqual(rows[6][-1], "'@SUM(A1)")
        self.assertEqual(rows[4][-1], "ab")
        quantity = "Quantity is not a whole number from 0 to 999999999."
        # Each file's rows come under that file's own column names.
        self.assertEqual(
            rows[7:],
            [
                ["File", "Row", "Reason", "读者证号", "类型", "时间", "数量", "流水号", "资源"],
                [utf8, "5", quantity, "2024000001", "借阅", "2026-03-01", "²", "B5", ""],
            ],
        )

        out, err = self._run("--source", "ils", gbk)
        self.assertIn(f"{gbk}: 0 imported, 401 already there, 6 rejected", out)
        self.assertIn(f"{gbk}:2: Not a date and time", err)
        self.assertEqual(
            self.env["library.usage"].search_count([("partner_id", "=", self.reader.id)]), 401
        )

    def test_unreadable_file_stops_only_itself(self):
        no_columns = self._path("no_columns.csv", b"a,b\n1,2\n")
        binary = self._path("binary.csv", b"card number,kind,date\n\x80\xff\xfe\x81\n")
        good = self._path("good.csv", b"card number,kind,date\n2024000001,loan,2026-03-01\n")
        missing = os.path.join(self.tmp.name, "missing.csv")
        out, err = self._run("--source", "ils", no_columns, binary, missing, good, code=1)
        self.assertIn(f"{no_columns}: not imported: The first row must name the columns", err)
        self.assertIn(f"{binary}: not imported: The file is neither UTF-8 nor GBK", err)
        self.assertIn(f"{missing}: not imported:", err)
        self.assertIn(f"{good}: 1 imported, 0 already there, 0 rejected", out)
        self.assertEqual(
            self.env["library.usage"].search_count([("partner_id", "=", self.reader.id)]), 1
        )
