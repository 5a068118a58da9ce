#!/usr/bin/env bash
# Reader import benchmark: library_crm's wizard against Odoo's generic import
# (base_import) on the same rows, in one run, on a dedicated database.
#   benchmarks/run_reader_import.sh [--rows N]     (default 100000)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DB="${LIBRARY_CRM_BENCH_DB:-library_crm_bench}"
CONF="$STATE_DIR/bench.conf"
prepare
write_odoo_config "$CONF" "$DB" 8269
install_or_update "$CONF" "$DB"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" "$REPO/benchmarks/bench_reader_import.py" \
    --config "$CONF" --database "$DB" "$@"
