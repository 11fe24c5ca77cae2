#!/usr/bin/env bash
# Redis for tests (shared rate limits): a private server in $SOC_DEV_HOME/redis on
# 127.0.0.1:$SOC_REDIS_PORT, from Debian's redis-server package (installed when missing).
# Usage: redis.sh up|down|status|url
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT="${SOC_REDIS_PORT:-56379}"
RROOT="$SOC_DEV_HOME/redis"
CONF="$RROOT/redis.conf"
PIDF="$RROOT/redis.pid"
RLOG="$RROOT/redis.log"

url() { echo "redis://127.0.0.1:$PORT/0"; }

install_server() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  # redis-server brings redis-tools (redis-cli, used for the readiness check).
  apt_install redis-server
}

# Rewritten on every `up`, so a change here reaches an existing data dir too. The Debian
# package's own service (port 6379, /etc/redis) is left alone: ours is a separate process.
write_conf() {
  mkdir -p "$RROOT"
  cat >"$CONF" <<CONF
bind 127.0.0.1
port $PORT
protected-mode yes
dir $RROOT
pidfile $PIDF
logfile $RLOG
daemonize no
# Test data only: no snapshots or AOF to wait for on shutdown.
save ""
appendonly no
CONF
}

# Our server is alive: the pid file names a live redis-server on our config. Redis rewrites its
# command line to "redis-server 127.0.0.1:PORT" a moment after it starts: both forms count.
running() { server_cmdline | grep -qF -e "redis-server $CONF" -e "redis-server 127.0.0.1:$PORT"; }

serving() { [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; }

start() {
  need_free_port "$PORT" SOC_REDIS_PORT
  log "starting $(redis-server --version | cut -d' ' -f1-3) on $(url) (log $RLOG)"
  launch "$RLOG" redis-server "$CONF"
}

up() {
  install_server
  write_conf
  reserve_port "$PORT"
  up_server 30 "$RLOG" "$(url)"
}

down() { stop_server; }

status() { server_status "$(url)"; }

run_verb "up|down|status|url" "$@"
