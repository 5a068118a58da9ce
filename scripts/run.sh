#!/usr/bin/env bash
# Prepare everything and serve Odoo 19 with library_crm and demo data.
#   scripts/run.sh               prepare, then serve on http://localhost:8069
#   scripts/run.sh --setup-only  prepare and build the database, don't serve
# Environment: ODOO_SRC, LIBRARY_CRM_DB (library_crm), LIBRARY_CRM_PORT (8069),
# PGHOST/PGPORT/PGUSER; see README.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB="${LIBRARY_CRM_DB:-library_crm}"
PORT="${LIBRARY_CRM_PORT:-8069}"
CONF="$STATE_DIR/run.conf"

prepare
write_odoo_config "$CONF" "$DB" "$PORT"

# Update the database only when the addon changed since the last run.
addon_hash="$(cd "$REPO" && find "${ADDON_DIRS[@]}" -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
stamp="$STATE_DIR/$DB.installed"
arguments="$(addon_arguments "$DB")"
if [ "$(addon_state "$DB" library_crm)" != "installed" ]; then
    log "installing $ADDONS in $DB with demo data and Chinese (zh_CN)"
    # shellcheck disable=SC2086
    odoo_bin -c "$CONF" -d "$DB" $arguments --with-demo --load-language=zh_CN \
        --stop-after-init --log-level=warn
    echo "$addon_hash" >"$stamp"
elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$addon_hash" ] \
    || [ -n "$(missing_addons "$DB")" ]; then
    log "updating $DB: odoo $arguments"
    # shellcheck disable=SC2086
    odoo_bin -c "$CONF" -d "$DB" $arguments --stop-after-init --log-level=warn
    echo "$addon_hash" >"$stamp"
fi

if [ "${1:-}" = "--setup-only" ]; then
    log "ready: database $DB; serve it with scripts/run.sh"
    exit 0
fi
log "serving http://localhost:$PORT - log in as admin / admin (librarian / librarian for a librarian)"
exec "$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB"
