#!/usr/bin/env bash
# Reader search, Readers list and Reader Analysis pivot at scale, on a dedicated database.
#   benchmarks/run_reader_search.sh                      1,000,000 readers
#   benchmarks/run_reader_search.sh --readers 100000     (quicker)
#   benchmarks/run_reader_search.sh --plans              also print the query plans
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DB="${LIBRARY_CRM_BENCH_DB:-library_crm_bench_search}"
CONF="$STATE_DIR/bench-search.conf"
prepare
write_odoo_config "$CONF" "$DB" 8270
install_or_update "$CONF" "$DB"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" "$REPO/benchmarks/bench_reader_search.py" \
    --config "$CONF" --database "$DB" "$@"
