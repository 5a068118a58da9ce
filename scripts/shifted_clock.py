# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Run a Python program with its clock shifted ahead, ticking.

    python scripts/shifted_clock.py DAYS odoo-bin ARGS...
    python scripts/shifted_clock.py DAYS -m pytest ARGS...

Python's date and time functions (datetime, date, time.time, ...) answer
DAYS days ahead of the real clock and go on ticking, so timeouts still
work; ``time.sleep`` and the sockets are untouched. Odoo's own
``freeze_time`` nests inside this shift: a test that freezes the clock sees
its frozen date, a test that does not sees the shifted one. The database
server runs under the same shift (libfaketime, see scripts/lib.sh), so
``now()`` in SQL agrees with Python.

libfaketime is not used for Python itself: with Python 3.11 its
``clock_nanosleep`` interposition makes ``time.sleep`` fail with EINVAL.
"""

import datetime

# logging before the clock is shifted: its Formatter keeps the real
# time.localtime as a class attribute; imported under freezegun it would take
# freezegun's Python function, which becomes a method and breaks every log
# line's timestamp ("fake_localtime() takes from 0 to 1 positional arguments").
import logging  # noqa: F401
import os
import runpy
import sys

import freezegun


def main():
    days = int(sys.argv[1].lstrip("+").rstrip("d"))
    target = sys.argv[2]
    freezegun.freeze_time(
        datetime.datetime.now() + datetime.timedelta(days=days), tick=True
    ).start()
    if target == "-m":
        module, args = sys.argv[3], sys.argv[4:]
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [target, *sys.argv[3:]]
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")


if __name__ == "__main__":
    main()
