#!/usr/bin/env bash
# Screenshots of the main screens and page 1 of each PDF from the running demo
# database (start it first: scripts/run.sh), into library_crm/static/description/.
#   scripts/screenshots.sh [--url http://localhost:8069] [--db library_crm] [--password admin]
# Playwright lives in its own venv (.venv-shots): its greenlet would not suit
# Odoo's gevent in .venv. The browser is Debian's chromium (scripts/lib.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SHOTS_VENV="$REPO/.venv-shots"
if [ ! -x "$SHOTS_VENV/bin/python" ]; then
    log "installing playwright into $SHOTS_VENV"
    "$PYTHON" -m venv "$SHOTS_VENV"
    "$SHOTS_VENV/bin/pip" install -q --disable-pip-version-check playwright==1.65.2
fi
"$SHOTS_VENV/bin/python" "$REPO/scripts/screenshots.py" "$@"
