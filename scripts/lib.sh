#!/usr/bin/env bash
# Shared by run.sh and test.sh: prepare the machine, idempotently.
# Every step checks before it acts, so a second run only costs the checks.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo-19.0}"
ODOO_REPO_URL="${ODOO_REPO_URL:-https://github.com/odoo/odoo.git}"
VENV="${LIBRARY_CRM_VENV:-$REPO/.venv}"
LINT_VENV="${LIBRARY_CRM_LINT_VENV:-$REPO/.venv-lint}"
STATE_DIR="$REPO/.odoo"
PGDATA_LOCAL="${LIBRARY_CRM_PGDATA:-$REPO/.pgdata}"
PYTHON="${PYTHON:-python3}"
# The addons of this repository: library_crm, its bridge to Odoo's
# Dashboards app (spreadsheet_dashboard, which it brings along) and the
# campus login (auth_ldap, which it brings along).
ADDON_DIRS=(library_crm spreadsheet_dashboard_library_crm library_crm_ldap)
ADDONS="library_crm,spreadsheet_dashboard_library_crm,library_crm_ldap"

# Debian packages: what Odoo's Python requirements build against, what the
# product uses (PDF, Chinese fonts, browser tours), PostgreSQL, and the
# OpenLDAP server the campus login tests start (slapd, ldap-utils).
SYSTEM_PACKAGES=(
    git python3-venv python3-dev build-essential
    libpq-dev libldap2-dev libsasl2-dev libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev
    postgresql postgresql-client
    wkhtmltopdf chromium fonts-noto-cjk poppler-utils
    faketime
    slapd ldap-utils
)

log() { printf '\033[1;34m[library_crm]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[library_crm] %s\033[0m\n' "$*" >&2; exit 1; }

ensure_system_packages() {
    command -v dpkg-query >/dev/null || { log "not Debian/Ubuntu: install by hand: ${SYSTEM_PACKAGES[*]}"; return; }
    local missing=() pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" -ne 0 ]; then
        die "missing system packages; run as root or install them: sudo apt-get install ${missing[*]}"
    fi
    log "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A local git directory holding branch 19.0 (a mirror of upstream, or of a
# fork that only adds translations) is used when upstream cannot be reached.
ODOO_GIT_DIR="${ODOO_GIT_DIR:-}"

ensure_odoo_source() {
    [ -f "$ODOO_SRC/odoo-bin" ] && return
    local gitdir="$ODOO_GIT_DIR" candidate
    if [ -z "$gitdir" ]; then
        for candidate in /work/.mirror/*odoo*/repo; do
            if [ -d "$candidate" ] && git --git-dir="$candidate" rev-parse --verify -q 19.0 >/dev/null; then
                gitdir="$candidate"
                break
            fi
        done
    fi
    if [ -n "$gitdir" ]; then
        log "unpacking Odoo 19.0 from $gitdir into $ODOO_SRC (set ODOO_SRC to use another checkout)"
        mkdir -p "$ODOO_SRC"
        git --git-dir="$gitdir" archive 19.0 | tar -x -C "$ODOO_SRC"
    else
        log "cloning Odoo 19.0 into $ODOO_SRC (set ODOO_SRC to use another checkout)"
        git clone --quiet --depth 1 --branch 19.0 "$ODOO_REPO_URL" "$ODOO_SRC" \
            || die "no Odoo 19.0 source: $ODOO_REPO_URL is unreachable; set ODOO_SRC to a checkout or ODOO_GIT_DIR to a git directory holding branch 19.0"
    fi
    [ -f "$ODOO_SRC/odoo-bin" ] || die "$ODOO_SRC holds no odoo-bin after unpacking"
}

ensure_venvs() {
    local stamp want
    want="$(cat "$ODOO_SRC/requirements.txt" "$REPO/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
    stamp="$VENV/.library_crm-requirements"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "installing Odoo's requirements and dev tools into $VENV"
        [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
        # Some pinned sdists import pkg_resources at build time.
        local constraint
        constraint="$(mktemp)"
        echo 'setuptools<72' >"$constraint"
        PIP_CONSTRAINT="$constraint" "$VENV/bin/pip" install -q --disable-pip-version-check \
            -r "$ODOO_SRC/requirements.txt" -r "$REPO/requirements-dev.txt"
        rm -f "$constraint"
        echo "$want" >"$stamp"
    fi
    want="$(sha256sum "$REPO/requirements-lint.txt" | cut -d' ' -f1)"
    stamp="$LINT_VENV/.library_crm-requirements"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "installing lint tools into $LINT_VENV"
        [ -x "$LINT_VENV/bin/python" ] || "$PYTHON" -m venv "$LINT_VENV"
        "$LINT_VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/requirements-lint.txt"
        echo "$want" >"$stamp"
    fi
}

# Use the PostgreSQL server that libpq's defaults reach (PGHOST, PGPORT,
# PGUSER...). When none answers, start a project-local cluster.
ensure_postgres() {
    if pg_isready -q 2>/dev/null; then
        if ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
            # A fresh Debian server knows only the postgres role, which Odoo refuses.
            log "creating PostgreSQL role $(id -un)"
            runuser -u postgres -- createuser --superuser "$(id -un)"
        fi
        psql -d postgres -Atqc 'select 1' >/dev/null \
            || die "PostgreSQL answers but refuses user ${PGUSER:-$(id -un)}: set PGUSER/PGPASSWORD"
        return
    fi
    local pgbin
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$pgbin" ] || die "no PostgreSQL server answers and none is installed (apt-get install postgresql)"
    local run_as=() owner
    owner="$(id -un)"
    if [ "$(id -u)" -eq 0 ]; then
        # initdb and postgres refuse to run as root.
        owner=postgres
        run_as=(runuser -u postgres --)
    fi
    local sockets="$PGDATA_LOCAL/run"
    if [ ! -f "$PGDATA_LOCAL/data/PG_VERSION" ]; then
        log "no PostgreSQL answers: creating a local cluster in $PGDATA_LOCAL"
        mkdir -p "$PGDATA_LOCAL/data" "$sockets"
        chown -R "$owner" "$PGDATA_LOCAL"
        "${run_as[@]}" test -w "$PGDATA_LOCAL/data" \
            || die "user $owner cannot write $PGDATA_LOCAL; set LIBRARY_CRM_PGDATA to a folder it can reach"
        "${run_as[@]}" "$pgbin/initdb" -D "$PGDATA_LOCAL/data" -U odoo --auth=trust -E UTF8 >/dev/null
    fi
    export PGHOST="$sockets" PGPORT="${LIBRARY_CRM_PGPORT:-5433}" PGUSER=odoo PGDATABASE=postgres
    if ! pg_isready -q; then
        log "starting the local PostgreSQL cluster (socket in $sockets, port $PGPORT)"
        "${run_as[@]}" "$pgbin/pg_ctl" -D "$PGDATA_LOCAL/data" -l "$PGDATA_LOCAL/postgres.log" -w \
            -o "-k $sockets -p $PGPORT -c listen_addresses=''" start >/dev/null
    fi
}

# A throw-away PostgreSQL cluster whose clock, like the tests' own, runs
# LIBRARY_CRM_CLOCK_SHIFT (days, +400d) ahead (libfaketime): the shifted test run needs the
# database's now() (create_date, write_date, SQL date arithmetic) to agree
# with Python's today. It lives in $STATE_DIR/pg-shifted and is stopped by
# stop_shifted_postgres.
CLOCK_SHIFT="${LIBRARY_CRM_CLOCK_SHIFT:-+400d}"
SHIFTED_PGDATA="$STATE_DIR/pg-shifted"
SHIFTED_PGPORT="${LIBRARY_CRM_SHIFTED_PGPORT:-5434}"

faketime_env() {  # sets FAKETIME_ENV: the env prefix that shifts a server's clock
    local lib
    lib="$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketimeMT\.so\.1$' || true)"
    [ -n "$lib" ] || die "the shifted-clock run needs libfaketime (apt-get install faketime)"
    # Monotonic clocks stay real: the server's timeouts keep working.
    FAKETIME_ENV=(env LD_PRELOAD="$lib" FAKETIME="$CLOCK_SHIFT" FAKETIME_DONT_FAKE_MONOTONIC=1)
}

shifted_python() {  # the venv's Python with its clock shifted (scripts/shifted_clock.py)
    "$VENV/bin/python" "$REPO/scripts/shifted_clock.py" "$CLOCK_SHIFT" "$@"
}

start_shifted_postgres() {
    local pgbin run_as=() owner
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$pgbin" ] || die "the shifted-clock run needs PostgreSQL's server binaries (apt-get install postgresql)"
    owner="$(id -un)"
    if [ "$(id -u)" -eq 0 ]; then
        owner=postgres
        run_as=(runuser -u postgres --)
    fi
    stop_shifted_postgres
    rm -rf "$SHIFTED_PGDATA"
    mkdir -p "$SHIFTED_PGDATA/data" "$SHIFTED_PGDATA/run"
    chown -R "$owner" "$SHIFTED_PGDATA"
    "${run_as[@]}" "$pgbin/initdb" -D "$SHIFTED_PGDATA/data" -U odoo --auth=trust -E UTF8 >/dev/null
    # pg_ctl's own wait compares the pid file's start time with its clock:
    # start without it and wait for the socket instead.
    faketime_env
    "${run_as[@]}" "${FAKETIME_ENV[@]}" "$pgbin/pg_ctl" -D "$SHIFTED_PGDATA/data" -l "$SHIFTED_PGDATA/postgres.log" -W \
        -o "-k $SHIFTED_PGDATA/run -p $SHIFTED_PGPORT -c listen_addresses='' -c fsync=off" start >/dev/null
    local tries=0
    until pg_isready -q -h "$SHIFTED_PGDATA/run" -p "$SHIFTED_PGPORT"; do
        tries=$((tries + 1))
        [ $tries -lt 60 ] || die "the shifted-clock PostgreSQL did not start: see $SHIFTED_PGDATA/postgres.log"
        sleep 1
    done
}

stop_shifted_postgres() {
    local pgbin run_as=()
    [ -f "$SHIFTED_PGDATA/data/postmaster.pid" ] || return 0
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
    "${run_as[@]}" "$pgbin/pg_ctl" -D "$SHIFTED_PGDATA/data" -m fast -w stop >/dev/null 2>&1 || true
}

# Odoo configuration for one database; db connection comes from libpq's
# environment, so it follows ensure_postgres.
write_odoo_config() {  # $1 = file, $2 = database, $3 = http port
    mkdir -p "$STATE_DIR/data"
    cat >"$1" <<CONF
[options]
addons_path = $ODOO_SRC/addons,$REPO
data_dir = $STATE_DIR/data
db_name = $2
dbfilter = ^$2\$
http_port = $3
http_interface = ${LIBRARY_CRM_HTTP_INTERFACE:-127.0.0.1}
list_db = False
CONF
}

# Whether an addon is installed on a database: "installed" or "".
addon_state() {  # $1 = database, $2 = addon
    psql -d "$1" -Atqc "select state from ir_module_module where name = '$2'" 2>/dev/null || true
}

# The addons of this repository not installed on a database, comma-separated.
missing_addons() {  # $1 = database
    local missing=() addon
    for addon in "${ADDON_DIRS[@]}"; do
        [ "$(addon_state "$1" "$addon")" = "installed" ] || missing+=("$addon")
    done
    (IFS=,; echo "${missing[*]}")
}

# Odoo arguments that bring a database to this tree: install everything on a
# new one; else update library_crm and install the addons that are missing
# (-i alone would leave an installed library_crm as it was).
addon_arguments() {  # $1 = database
    local missing
    if [ "$(addon_state "$1" library_crm)" != "installed" ]; then
        echo "-i $ADDONS"
        return
    fi
    missing="$(missing_addons "$1")"
    if [ -n "$missing" ]; then
        echo "-u $ADDONS -i $missing"
    else
        echo "-u $ADDONS"
    fi
}

# Install the addons on a database (without demo data), or update them.
install_or_update() {  # $1 = config file, $2 = database
    local arguments
    arguments="$(addon_arguments "$2")"
    log "odoo $arguments on $2"
    # shellcheck disable=SC2086
    odoo_bin -c "$1" -d "$2" $arguments --stop-after-init --log-level=warn
}

odoo_bin() {
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "$@"
}

prepare() {
    ensure_system_packages
    ensure_odoo_source
    ensure_venvs
    ensure_postgres
}
