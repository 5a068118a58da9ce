# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Sum pytest JUnit reports into one closing line; exit 1 on any failure,
error or skipped test, or when no test ran at all."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(paths):
    passed = failed = skipped = 0
    skipped_names = []
    for path in paths:
        run = [0, 0, 0]
        for case in ET.parse(path).iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                run[1] += 1
            elif case.find("skipped") is not None:
                run[2] += 1
                skipped_names.append(f"{case.get('classname')}.{case.get('name')}")
            else:
                run[0] += 1
        print(f"  {Path(path).stem} run: {run[0]} passed / {run[1]} failed / {run[2]} skipped")
        passed, failed, skipped = passed + run[0], failed + run[1], skipped + run[2]
    for name in skipped_names:
        print(f"SKIPPED (not allowed): {name}")
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or skipped or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
