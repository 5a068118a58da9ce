#!/usr/bin/env bash
# Annual reading report benchmark on a dedicated, throw-away database.
#   benchmarks/run_reading_report.sh                              100k readers, 2.5M usage rows
#   benchmarks/run_reading_report.sh --readers 10000 --usage 250000   (quick)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DB="${LIBRARY_CRM_BENCH_DB:-library_crm_bench_reading}"
CONF="$STATE_DIR/bench-reading.conf"
prepare
write_odoo_config "$CONF" "$DB" 8271
install_or_update "$CONF" "$DB"
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" "$REPO/benchmarks/bench_reading_report.py" \
    --config "$CONF" --database "$DB" "$@"
