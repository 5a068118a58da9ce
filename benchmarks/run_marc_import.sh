#!/usr/bin/env bash
# New-title benchmark: the MARC import against Odoo's generic import of the same
# titles as CSV, and an OAI-PMH harvest against the server alone, in one run, on a
# dedicated database.
#   benchmarks/run_marc_import.sh [--records N] [--oai-records N]   (default 100000)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DB="${LIBRARY_CRM_BENCH_DB:-library_crm_bench}"
CONF="$STATE_DIR/bench.conf"
prepare
write_odoo_config "$CONF" "$DB" 8269
install_or_update "$CONF" "$DB"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" "$REPO/benchmarks/bench_marc_import.py" \
    --config "$CONF" --database "$DB" "$@"
