#!/usr/bin/env bash
# PostgreSQL for tests: a private cluster in $SOC_DEV_HOME/pg on 127.0.0.1:$SOC_PG_PORT.
# Usage: postgres.sh up|down|status|url [DB]     (DB defaults to soc; soc_test also exists)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT="${SOC_PG_PORT:-55432}"
PGROOT="$SOC_DEV_HOME/pg"
DATA="$PGROOT/data"
PGLOG="$PGROOT/postgres.log"
DATABASES="soc soc_test"

url() { echo "postgres://postgres@127.0.0.1:$PORT/${1:-soc}?sslmode=disable"; }

# Newest installed server; Debian puts each major version under /usr/lib/postgresql/N/bin.
find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { echo "$d"; return; }
  done
  return 0   # none: empty answer, install_server takes over
}
PGBIN="$(find_bin)"

# initdb and postgres refuse to run as root: run them as the `postgres` OS user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
ready() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres; }

install_server() {
  [ -n "$PGBIN" ] && return
  apt_install postgresql
  PGBIN="$(find_bin)"
  [ -n "$PGBIN" ] || die "postgresql installed but no initdb/postgres under /usr/lib/postgresql/*/bin"
}

init_cluster() {
  mkdir -p "$PGROOT"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (the postgresql package creates it)"
    chown postgres: "$PGROOT"
    let_reach postgres "$PGROOT"
    runuser -u postgres -- test -w "$PGROOT" || die "the postgres user cannot write $PGROOT"
  fi
  if [ -f "$DATA/PG_VERSION" ]; then
    local have; have="$(cat "$DATA/PG_VERSION")"
    [ "$have" = "$(basename "$(dirname "$PGBIN")")" ] \
      || die "$DATA was made by PostgreSQL $have but the server is $("$PGBIN/postgres" -V); remove $DATA to start over"
    return
  fi
  log "initdb $DATA ($("$PGBIN/postgres" -V))"
  # trust auth: a loopback-only throwaway test server, no passwords to manage.
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-locale >"$PGROOT/initdb.log" 2>&1 \
    || { show_tail "$PGROOT/initdb.log"; die "initdb failed"; }
  echo "include_if_exists = 'soc-dev.conf'" >>"$DATA/postgresql.conf"
}

# Rewritten on every `up`, so a change here reaches existing clusters too.
write_conf() {
  cat >"$DATA/soc-dev.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''   # TCP only: no socket path/permission issues
max_connections = 200
shared_buffers = 256MB
fsync = on                     # kept on: benchmarks against this server must be honest
EOF
  [ "$(id -u)" = 0 ] && chown postgres: "$DATA/soc-dev.conf"
  return 0
}

# Live (non-zombie) processes working in $DATA: the postmaster and its children chdir there.
pg_procs() {
  local p real; real="$(readlink -f "$DATA")"
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$real" ] && ! grep -q '^State:.*Z' "$p/status" 2>/dev/null && echo "${p#/proc/}"
  done
  return 0
}

# After a hard kill the postmaster can linger as a zombie (postgres then refuses its
# postmaster.pid) and its children take a moment to notice: wait for them, then clear the lock.
clear_stale_server() {
  local i
  for i in $(seq 15); do [ -z "$(pg_procs)" ] && break; ready && return; sleep 1; done
  [ -z "$(pg_procs)" ] || die "processes $(pg_procs | xargs) still use $DATA but nothing answers on $PORT; stop them"
  [ ! -f "$DATA/postmaster.pid" ] || { log "removing stale postmaster.pid"; rm -f "$DATA/postmaster.pid"; }
}

up() {
  install_server
  init_cluster
  write_conf
  reserve_port "$PORT"
  ready || clear_stale_server
  if ready; then
    log "already running on 127.0.0.1:$PORT"
  else
    need_free_port "$PORT" SOC_PG_PORT
    log "starting on 127.0.0.1:$PORT (log $PGLOG)"
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$PGLOG" -w -t 60 start >&2 \
      || { show_tail "$PGLOG"; die "pg_ctl start failed"; }
    local i
    for i in $(seq 60); do ready && break; sleep 1; done
    ready || { show_tail "$PGLOG"; die "postgres did not answer pg_isready within 60 s"; }
  fi
  local db
  for db in $DATABASES; do
    [ "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] \
      || { log "creating database $db"; psql_ -d postgres -c "CREATE DATABASE $db" >&2; }
  done
  log "ready: $(url)"
}

down() {
  [ -n "$PGBIN" ] && [ -f "$DATA/postmaster.pid" ] || { log "not running"; return; }
  [ -n "$(pg_procs)" ] || { log "not running (removing stale postmaster.pid)"; rm -f "$DATA/postmaster.pid"; return; }
  log "stopping"
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2 || { show_tail "$PGLOG"; die "pg_ctl stop failed"; }
}

status() {
  if [ -n "$PGBIN" ] && ready; then log "running: $(url)"; else log "not running"; return 1; fi
}

run_verb "up|down|status|url [DB]" "$@"
