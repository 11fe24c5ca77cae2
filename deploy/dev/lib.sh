# Shared helpers for deploy/dev/*.sh (sourced, not run).
# Human progress goes to stderr: stdout is kept for values a caller captures
# (URLs, `export` lines for `eval "$(deploy/dev/up.sh)"`).

SOC_DEV_HOME="${SOC_DEV_HOME:-$HOME/.cache/soc-dev}"   # downloads + data, never in the repo
DEV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# apt-get install, refusing loudly when we cannot (not root, no apt).
apt_install() {
  [ "$(id -u)" = 0 ] || die "need root to apt-get install $*; install it yourself"
  command -v apt-get >/dev/null || die "no apt-get: install $* yourself"
  log "installing $* with apt-get"
  apt-get update >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# True when something listens on 127.0.0.1:$1 (bash's /dev/tcp, no extra tools).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Print the last lines of a log file to stderr (used on every failed start).
show_tail() { log "last 50 lines of $1:"; tail -n 50 "$1" >&2 2>/dev/null || true; }

# Our default ports lie in Linux's ephemeral range (32768-60999): any client connection (psql, a
# test) can get one as its local port, and while that socket sits in TIME_WAIT the server's bind
# fails with "Address already in use" (seen here). Reserved ports are never handed out as ephemeral.
reserve_port() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports lo hi r rs
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
  { [ "$1" -ge "$lo" ] && [ "$1" -le "$hi" ]; } || return 0
  IFS=, read -ra rs <<<"$(cat "$f")"
  for r in "${rs[@]}"; do [ "$1" -ge "${r%-*}" ] && [ "$1" -le "${r#*-}" ] && return 0; done
  if [ "$(id -u)" = 0 ] && echo "$(cat "$f")${rs[*]:+,}$1" >"$f" 2>/dev/null; then
    log "reserved port $1 (net.ipv4.ip_local_reserved_ports) so clients never take it as a local port"
  else
    log "WARNING: port $1 is in the ephemeral range $lo-$hi and could not be reserved; a start may fail with 'Address already in use'"
  fi
}

# Servers that refuse root run as a system user (postgres, nobody) on a tree under $HOME, which
# is often mode 700: let user $1 walk down to dir $2 (o+x on each parent it cannot pass).
let_reach() {
  local d="" part parts
  IFS=/ read -ra parts <<<"${2#/}"
  for part in "${parts[@]}"; do
    d="$d/$part"
    runuser -u "$1" -- test -x "$d" || { log "chmod o+x $d so the $1 user can reach $2"; chmod o+x "$d"; }
  done
}

# The server we just started in the background is still ours: running() says so, or its pid is
# alive but has not exec'd the server yet (between fork and exec its command line is still this
# shell's, and on a loaded machine that window is long enough for running() to miss it: a CI
# run once failed on exactly that, with an empty server log).
starting() {
  running && return
  local pid; pid="$(cat "$PIDF" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# Stop the server whose pid is in $PIDF, as judged by the caller's running(): SIGTERM, up to
# 30 s for a clean shutdown (past that something is stuck), then SIGKILL.
stop_server() {
  running || { rm -f "$PIDF"; log "not running"; return; }
  local pid i; pid="$(cat "$PIDF")"
  log "stopping (pid $pid)"
  kill -TERM "$pid"
  for i in $(seq 30); do running || break; sleep 1; done
  if running; then log "still alive after 30 s, killing pid $pid"; kill -KILL "$pid"; sleep 1; fi
  rm -f "$PIDF"
}

# Wait up to $1 seconds for the caller's serving() to succeed, giving up (with the tail of log
# $2) as soon as its running() says the process has exited. For servers started in the
# background by a script of ours.
wait_serving() {
  local deadline=$((SECONDS + $1))
  until serving; do
    starting || { show_tail "$2"; die "the server exited during startup"; }
    [ $SECONDS -lt $deadline ] || { show_tail "$2"; die "not serving within $1 s"; }
    sleep 0.2
  done
}
