#!/usr/bin/env bash
# A PostgreSQL server on 127.0.0.1 for the sink tests and benchmarks.
#
#   eval "$(bash .ci/postgres.sh)"     # exports SNAKE_PIPE_TEST_PG=postgresql://...
#
# Installs PostgreSQL from Debian's packages when it is missing (apt-get, as root), creates a
# cluster of its own in $SNAKE_PIPE_PG_DIR (default /tmp/snake-pipe-pg-$UID) listening on
# 127.0.0.1 only, on a free port, with a role and a database for the tests, and starts it.
# Idempotent: a cluster already there is reused and started if it is down. Only the export
# line goes to standard output (the DSN holds the test role's password, so it is never
# printed elsewhere); progress goes to standard error.
#
#   bash .ci/postgres.sh stop          # stops the server (the cluster stays for next time)
set -euo pipefail

DIR="${SNAKE_PIPE_PG_DIR:-/tmp/snake-pipe-pg-$(id -u)}"
DATA="$DIR/data"
SOCK="$DIR/sock"
ROLE=snake_pipe
DB=snake_pipe_test

say() { echo "postgres.sh: $*" >&2; }

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    fi
}

install_postgres() {
    if [ "$(id -u)" != 0 ]; then
        say "PostgreSQL is not installed and this is not root: apt-get install postgresql"
        exit 1
    fi
    say "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    # The package's post-install tries to start a service; there may be no init system.
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

# Commands run as the cluster's owner: postgres when we are root (initdb refuses root).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port
    for port in $(seq 54329 54429); do
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    say "no free port in 54329-54429"
    exit 1
}

create_cluster() {
    local bin=$1 port password
    port=$(free_port)
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
    say "creating a cluster in $DATA (port $port)"
    mkdir -p "$DIR"
    chmod 0700 "$DIR"
    mkdir -p "$SOCK"
    printf '%s\n' "$port" >"$DIR/port"
    printf '%s\n' "$password" >"$DIR/password"
    chmod 0600 "$DIR/port" "$DIR/password"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres:postgres "$DIR"
        chown root:root "$DIR/password"
    fi
    as_owner "$bin/initdb" -D "$DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >&2
    cat >>"$DATA/postgresql.conf" <<EOF
# snake-pipe test cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$SOCK'
max_connections = 200
EOF
}

ensure_running() {
    local bin=$1 port
    port=$(cat "$DIR/port")
    if as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        return 0
    fi
    if port_in_use "$port"; then
        say "port $port is taken by another program; remove $DIR to start over"
        exit 1
    fi
    say "starting the server on 127.0.0.1:$port"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >&2
}

# Role and database, created once; the password is set again so the file stays the truth.
ensure_role_and_db() {
    local bin=$1 port password
    port=$(cat "$DIR/port")
    password=$(cat "$DIR/password")
    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres -d postgres)
    as_owner "${psql[@]}" >&2 <<EOF
SELECT 'CREATE ROLE $ROLE LOGIN CREATEDB' WHERE NOT EXISTS
    (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE $ROLE WITH LOGIN CREATEDB PASSWORD '$password';
SELECT 'CREATE DATABASE $DB OWNER $ROLE' WHERE NOT EXISTS
    (SELECT 1 FROM pg_database WHERE datname = '$DB') \gexec
EOF
}

main() {
    local bin
    bin=$(pg_bindir)
    if [ "${1:-}" = stop ]; then
        if [ -n "$bin" ] && [ -d "$DATA" ]; then
            as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
        fi
        return 0
    fi
    if [ -z "$bin" ]; then
        install_postgres
        bin=$(pg_bindir)
    fi
    if [ -z "$bin" ]; then
        say "PostgreSQL binaries not found after installing"
        exit 1
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf "$DIR"
        create_cluster "$bin"
    fi
    ensure_running "$bin"
    ensure_role_and_db "$bin"
    local port password
    port=$(cat "$DIR/port")
    password=$(cat "$DIR/password")
    say "ready: postgresql://$ROLE:***@127.0.0.1:$port/$DB (data in $DATA)"
    echo "export SNAKE_PIPE_TEST_PG=postgresql://$ROLE:$password@127.0.0.1:$port/$DB"
    echo "export SNAKE_PIPE_TEST_PG_DATA=$DATA"
}

main "$@"
