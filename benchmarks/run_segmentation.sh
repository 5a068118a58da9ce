#!/usr/bin/env bash
# Segmentation and usage-import benchmark on a dedicated database.
#   benchmarks/run_segmentation.sh                       100k readers, 5M usage rows, 1M import rows
#   benchmarks/run_segmentation.sh --readers 10000 --usage 500000 --import-rows 100000   (quick)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DB="${LIBRARY_CRM_BENCH_DB:-library_crm_bench}"
CONF="$STATE_DIR/bench.conf"
prepare
write_odoo_config "$CONF" "$DB" 8269
install_or_update "$CONF" "$DB"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" "$REPO/benchmarks/bench_segmentation.py" \
    --config "$CONF" --database "$DB" "$@"
