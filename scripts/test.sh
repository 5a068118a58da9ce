#!/usr/bin/env bash
# Lint, then run the whole test suite on a fresh database.
#   scripts/test.sh            lint + addon tests (tours included) + system tests
#   scripts/test.sh --no-lint  skip lint (quicker while iterating)
# Extra arguments after -- go to both pytest runs (e.g. -- -k import).
# Environment: ODOO_SRC, LIBRARY_CRM_TEST_DB (library_crm_test),
# PGHOST/PGPORT/PGUSER; see README.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB="${LIBRARY_CRM_TEST_DB:-library_crm_test}"
CONF="$STATE_DIR/test.conf"
REPORTS="$STATE_DIR/test-reports"
lint=1
pytest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-lint) lint=0 ;;
        --) shift; pytest_args=("$@"); break ;;
        *) die "unknown argument $1" ;;
    esac
    shift
done

prepare

if [ $lint -eq 1 ]; then
    log "lint: ruff, ruff format, pylint-odoo, OCA checks"
    cd "$REPO"
    "$LINT_VENV/bin/ruff" check .
    "$LINT_VENV/bin/ruff" format --check .
    "$LINT_VENV/bin/pylint" --rcfile=.pylintrc library_crm
    "$LINT_VENV/bin/oca-checks-odoo-module" library_crm
    "$LINT_VENV/bin/oca-checks-po" library_crm/i18n/*.po library_crm/i18n/*.pot
fi

write_odoo_config "$CONF" "$DB" "${LIBRARY_CRM_TEST_PORT:-8169}"
log "building a fresh test database $DB"
dropdb --if-exists --force "$DB"
rm -rf "$STATE_DIR/data/filestore/$DB"
odoo_bin -c "$CONF" -d "$DB" -i library_crm --load-language=zh_CN --stop-after-init --log-level=warn

rm -rf "$REPORTS" && mkdir -p "$REPORTS"
cd "$REPO"
status=0
log "addon tests (pytest-odoo, HTTP server on for tours)"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/pytest" library_crm/tests \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http --odoo-log-level=warn \
    --junitxml="$REPORTS/addon.xml" -p no:cacheprovider "${pytest_args[@]}" || status=$?

log "system tests (a real Odoo server driven over JSON-RPC)"
LIBRARY_CRM_ODOO_CONF="$CONF" LIBRARY_CRM_TEST_DB="$DB" ODOO_SRC="$ODOO_SRC" \
    LIBRARY_CRM_PYTHON="$VENV/bin/python" \
    "$VENV/bin/pytest" tests -p no:odoo -p no:cacheprovider \
    --junitxml="$REPORTS/system.xml" "${pytest_args[@]}" || status=$?

# One closing line for both runs; a skipped test (a tour without a browser,
# an HttpCase without a server) proves nothing, so it fails the run.
"$VENV/bin/python" "$REPO/scripts/junit_summary.py" "$REPORTS"/*.xml || status=1
exit $status
