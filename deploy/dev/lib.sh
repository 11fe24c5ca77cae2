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
