# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""odoo-bin library_usage_import: load a usage export for scheduled jobs.

odoo-bin --addons-path=ADDONS library_usage_import -c odoo.conf -d DB --source ils loans.csv

The addons path (with library_crm on it) goes before the command name: Odoo
looks for addon commands there before it reads the configuration file.
"""

import argparse
import csv
import sys

from odoo.cli.command import Command
from odoo.tools import config


class LibraryUsageImport(Command):
    """Import reader usage (loans, visits, e-resources...) from CSV files."""

    name = "library_usage_import"

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(prog=self.prog, description=self.__doc__)
        parser.add_argument("-c", "--config", dest="config")
        parser.add_argument("-d", "--database", dest="database", required=True)
        parser.add_argument("--source", required=True, help="ils, gate, eresources...")
        parser.add_argument("--rejected", help="write rejected rows to this CSV file")
        parser.add_argument("--recompute", action="store_true", help="recompute segments after")
        parser.add_argument("files", nargs="+")
        args = parser.parse_args(cmdargs)
        config.parse_config([*(["-c", args.config] if args.config else []), "-d", args.database])

        # Imported once the configuration is parsed.
        from odoo import SUPERUSER_ID, api
        from odoo.modules.registry import Registry

        registry = Registry(args.database)
        rejected = []
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Import = env["library.usage.import"]
            for path in args.files:
                with open(path, "rb") as stream:
                    result = Import._import_stream(stream, args.source)
                cr.commit()
                rejected += [(path, *row) for row in result["rejected"]]
                print(
                    f"{path}: {result['imported']} imported, {result['duplicates']} already "
                    f"there, {len(result['rejected'])} rejected"
                )
            if args.recompute:
                count = env["library.segmentation"]._recompute(full=False)
                cr.commit()
                print(f"segments recomputed for {count} readers")
        if args.rejected and rejected:
            with open(args.rejected, "w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                for path, line, reason, cells in rejected:
                    writer.writerow([path, line, reason, *cells])
        elif rejected:
            for path, line, reason, _cells in rejected[:20]:
                print(f"{path}:{line}: {reason}", file=sys.stderr)
        return 0
