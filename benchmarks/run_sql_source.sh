#!/usr/bin/env bash
# SQL usage source against the CSV usage import on a dedicated database.
#   benchmarks/run_sql_source.sh                        100k readers, 1M rows
#   benchmarks/run_sql_source.sh --readers 10000 --rows 100000   (quick)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DB="${LIBRARY_CRM_BENCH_DB:-library_crm_bench}"
CONF="$STATE_DIR/bench.conf"
prepare
write_odoo_config "$CONF" "$DB" 8269
install_or_update "$CONF" "$DB"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" "$REPO/benchmarks/bench_sql_source.py" \
    --config "$CONF" --database "$DB" "$@"
