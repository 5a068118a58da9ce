# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""odoo-bin library_usage_import: load a usage export for scheduled jobs.

Files of any size are streamed (read in pieces, checked in PostgreSQL), and
rejected rows are written to the --rejected file as they are read back.

odoo-bin --addons-path=ADDONS library_usage_import -c odoo.conf -d DB --source ils loans.csv

The addons path (with library_crm on it) goes before the command name: Odoo
looks for addon commands there before it reads the configuration file.
"""

import argparse
import contextlib
import sys

from odoo.cli.command import Command
from odoo.tools import config


class LibraryUsageImport(Command):
    """Import reader usage (loans, visits, e-resources...) from CSV files."""

    name = "library_usage_import"

    def run(self, cmdargs):
        """Odoo's command runner ignores what run() returns: a scheduled
        job learns that a file was not imported from the exit status only."""
        code = self._import_files(cmdargs)
        if code:
            sys.exit(code)
        return code

    def _import_files(self, cmdargs):
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
        from odoo.exceptions import UserError
        from odoo.modules.registry import Registry

        registry = Registry(args.database)
        # The addon's own code, loaded with the registry.
        from odoo.addons.library_crm.wizards.import_columns import rejected_writer

        shown = []
        failed = []
        with contextlib.ExitStack() as stack:
            write = None
            if args.rejected:
                out = stack.enter_context(
                    open(args.rejected, "w", newline="", encoding="utf-8-sig")
                )
                write = rejected_writer(out)
            cr = stack.enter_context(registry.cursor())
            env = api.Environment(cr, SUPERUSER_ID, {})
            Import = env["library.usage.import"]
            for path in args.files:
                # Rejected rows go to the file as they are read back, never
                # all held in memory.
                started = []

                def on_rejected(header, batch, path=path, started=started):
                    if write:
                        if not started:
                            started.append(path)
                            write(["File", "Row", "Reason", *header])
                        for line, reason, cells in batch:
                            write([path, line, reason, *cells])
                    elif len(shown) < 20:
                        shown.extend((path, line, reason) for line, reason, _c in batch[:20])

                try:
                    with open(path, "rb") as stream:
                        result = Import._import_stream(
                            stream, args.source, on_rejected=on_rejected
                        )
                except (UserError, OSError) as exc:
                    # A file that cannot be read at all stops only itself.
                    cr.rollback()
                    failed.append(path)
                    print(f"{path}: not imported: {exc}", file=sys.stderr)
                    continue
                cr.commit()
                print(
                    f"{path}: {result['imported']} imported, {result['duplicates']} already "
                    f"there, {result['rejected_count']} rejected"
                )
            if args.recompute:
                count = env["library.segmentation"]._recompute(full=False)
                cr.commit()
                print(f"segments recomputed for {count} readers")
        for path, line, reason in shown[:20]:
            print(f"{path}:{line}: {reason}", file=sys.stderr)
        return 1 if failed else 0
