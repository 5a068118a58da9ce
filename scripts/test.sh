#!/usr/bin/env bash
# Lint, then run the whole test suite, three times over, on fresh databases.
#   scripts/test.sh                   lint + the three runs + system tests
#   scripts/test.sh --no-lint         skip lint (quicker while iterating)
#   scripts/test.sh --only RUN        one run: plain, demo or shifted
# The runs (each one counts in the closing line):
#   plain    the addon suite (tours included) on a database without demo
#            data, then the system tests (a real server driven over JSON-RPC)
#   demo     the addon suite on a database with demo data
#   shifted  the addon suite with the clock LIBRARY_CRM_CLOCK_SHIFT (+400d)
#            ahead, for Odoo's Python (scripts/shifted_clock.py) and for a
#            throw-away PostgreSQL cluster (libfaketime) alike, so that no
#            test can depend on today's date
# Extra arguments after -- go to every pytest run (e.g. -- -k import).
# Environment: ODOO_SRC, LIBRARY_CRM_TEST_DB (library_crm_test),
# LIBRARY_CRM_CLOCK_SHIFT, PGHOST/PGPORT/PGUSER; see README.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB="${LIBRARY_CRM_TEST_DB:-library_crm_test}"
PORT="${LIBRARY_CRM_TEST_PORT:-8169}"
REPORTS="$STATE_DIR/test-reports"
lint=1
runs=(plain demo shifted)
pytest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-lint) lint=0 ;;
        --only)
            shift
            case "${1:-}" in plain | demo | shifted) runs=("$1") ;; *) die "--only takes plain, demo or shifted" ;; esac
            ;;
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
    "$LINT_VENV/bin/pylint" --rcfile=.pylintrc "${ADDON_DIRS[@]}"
    for addon in "${ADDON_DIRS[@]}"; do
        "$LINT_VENV/bin/oca-checks-odoo-module" "$addon"
        # An addon whose translations the lead has not generated yet has none.
        if compgen -G "$addon/i18n/*.po*" >/dev/null; then
            "$LINT_VENV/bin/oca-checks-po" "$addon"/i18n/*.po "$addon"/i18n/*.pot
        fi
    done
fi

rm -rf "$REPORTS" && mkdir -p "$REPORTS"
status=0

# $1 = run name. Builds a fresh database for the run and runs the addon
# suite on it; the shifted run's Python runs with the shifted clock.
addon_run() {
    local run="$1" db conf demo=()
    db="$DB"
    [ "$run" = demo ] && db="${DB}_demo" && demo=(--with-demo)
    conf="$STATE_DIR/test-$run.conf"
    write_odoo_config "$conf" "$db" "$PORT"
    log "[$run] building a fresh test database $db"
    dropdb --if-exists --force "$db"
    rm -rf "$STATE_DIR/data/filestore/$db"
    local python=("$VENV/bin/python") pytest=("$VENV/bin/pytest")
    if [ "$run" = shifted ]; then
        python=(shifted_python)
        pytest=(shifted_python -m pytest)
    fi
    if ! "${python[@]}" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -i "$ADDONS" "${demo[@]}" \
        --load-language=zh_CN --stop-after-init --log-level=warn; then
        log "[$run] installing $ADDONS failed"
        status=1
        return
    fi
    log "[$run] addon tests (pytest-odoo, HTTP server on for tours)"
    cd "$REPO"
    PYTHONPATH="$ODOO_SRC" "${pytest[@]}" "${ADDON_DIRS[@]/%//tests}" \
        --odoo-config="$conf" --odoo-database="$db" --odoo-http --odoo-log-level=warn \
        --junitxml="$REPORTS/addon-$run.xml" -o junit_suite_name="addon-$run" \
        -p no:cacheprovider "${pytest_args[@]}" || status=$?
    ADDON_CONF="$conf" ADDON_DB="$db"
}

for run in "${runs[@]}"; do
    case "$run" in
        plain)
            addon_run plain
            log "[plain] system tests (a real Odoo server driven over JSON-RPC)"
            LIBRARY_CRM_ODOO_CONF="$ADDON_CONF" LIBRARY_CRM_TEST_DB="$ADDON_DB" ODOO_SRC="$ODOO_SRC" \
                LIBRARY_CRM_PYTHON="$VENV/bin/python" \
                "$VENV/bin/pytest" tests -p no:odoo -p no:cacheprovider \
                --junitxml="$REPORTS/system.xml" "${pytest_args[@]}" || status=$?
            ;;
        demo)
            addon_run demo
            ;;
        shifted)
            log "[shifted] PostgreSQL and Odoo with the clock $CLOCK_SHIFT ahead"
            start_shifted_postgres
            trap stop_shifted_postgres EXIT
            (
                export PGHOST="$SHIFTED_PGDATA/run" PGPORT="$SHIFTED_PGPORT" PGUSER=odoo PGDATABASE=postgres
                status=0
                addon_run shifted
                exit $status
            ) || status=$?
            stop_shifted_postgres
            ;;
    esac
done

# One closing line for every run; a skipped test (a tour without a browser,
# an HttpCase without a server) proves nothing, so it fails the run.
"$VENV/bin/python" "$REPO/scripts/junit_summary.py" "$REPORTS"/*.xml || status=1
exit $status
