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
reserve_one_port() {
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

# Reserve each port "$@" (see reserve_one_port).
reserve_port() { local p; for p; do reserve_one_port "$p"; done; }

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
# $2, and what the caller's startup_errors prints, if it has one) as soon as its running() says
# the process has exited. For servers started in the background by a script of ours.
wait_serving() {
  local deadline=$((SECONDS + $1))
  until serving; do
    starting || {
      show_tail "$2"
      if declare -F startup_errors >/dev/null; then startup_errors >&2; fi
      die "the server exited during startup"
    }
    [ $SECONDS -lt $deadline ] || { show_tail "$2"; die "not serving within $1 s"; }
    sleep 0.2
  done
}

# Die when something else already listens on port $1; $2 names what the user can set instead.
need_free_port() { ! port_open "$1" || die "port $1 is taken by another process; set $2"; }

# Keep the previous start's log beside the new one ($1.prev).
rotate_log() { [ ! -f "$1" ] || mv -f "$1" "$1.prev"; }

# Start "${@:2}" in the background as our server, its output appended to $1, its pid in $PIDF.
# setsid + no inherited fds: the server outlives this shell and never holds the stdout pipe of
# `eval "$(up.sh)"` open.
launch() {
  local out=$1; shift
  setsid "$@" </dev/null >>"$out" 2>&1 &
  echo $! >"$PIDF"
}

# The end of `up` for a server we run in the background: the caller's start() (which checks its
# ports and calls launch) unless running() says it is already up, then wait_serving $1 $2 and
# report it ready at address $3.
up_server() {
  if running; then
    log "already running (pid $(cat "$PIDF"))"
  else
    start
  fi
  wait_serving "$1" "$2"
  log "ready: $3"
}

# `status` of a server we run in the background; $1 is its address.
server_status() {
  if running && serving; then log "running (pid $(cat "$PIDF")): $1"; else log "not running"; return 1; fi
}

# The major Java version of the JDK or JRE in dir $1.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p'; }

# Print the first of dirs "${@:4}" holding bin/java of major version $1 to $2 and bin/$3 (java, or
# javac where a JDK is needed); fail when none does.
java_home() {
  local min=$1 max=$2 tool=$3 d v; shift 3
  for d; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/$tool" ] || continue
    v="$(java_major "$d")"
    [ "${v%%.*}" -ge "$min" ] 2>/dev/null && [ "${v%%.*}" -le "$max" ] && { echo "$d"; return; }
  done
  return 1
}

# A script's command line. $1 is its usage ("up|down|status|url [DB]"): the verb, $2, must be one
# of the |-separated words before the first space, and runs the function of that name with the
# arguments after it (env runs env_lines: `env` is also a command the scripts run).
run_verb() {
  local usage=$1 verb=${2:-}
  [ -n "$verb" ] && [[ "|${usage%% *}|" == *"|$verb|"* ]] || die "usage: $0 $usage"
  shift 2
  [ "$verb" != env ] || verb=env_lines
  "$verb" "$@"
}

# The command line of the process whose pid is in $PIDF, its arguments joined by spaces (nothing,
# and failure, without a pid file): each script's running() looks in it for what only its own
# server's has, since a pid can be reused.
server_cmdline() {
  local pid; pid="$(cat "$PIDF" 2>/dev/null)" || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline"
}

# `up` of a script that only makes sure Debian package $1 is installed (tools, not servers): the
# commands "${@:2}" are there, or apt-get installs the package where it can (root, apt-get; it
# dies on failure: a CI run that cannot get them should say so plainly), or a warning says how
# (the tests that need them then skip, or fail under SOC_REQUIRE_SERVERS=1). The caller's
# version() prints the line logged.
ensure_package() {
  local pkg=$1 c have=1; shift
  for c; do command -v "$c" >/dev/null || have=; done
  if [ -n "$have" ]; then
    log "$(version) at $(command -v "$1")"
  elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "WARNING: $pkg is not installed and cannot be installed here (need root and apt-get): apt-get install $pkg"
  else
    apt_install "$pkg"
    log "$(version) installed"
  fi
}
