#!/usr/bin/env bash
# Consul for tests (service discovery, health checks, KV configuration): a dev-mode agent
# (in-memory state, its own single-node cluster) on 127.0.0.1:$SOC_CONSUL_PORT.
# The binary is built from the Go module proxy once and cached in $SOC_DEV_HOME/consul/<version>.
# Usage: consul.sh up|down|status|addr|build
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# v1.16.3 is the last release under the MPL-2.0 (later ones are BUSL): never raise it.
VERSION=v1.16.3
PORT="${SOC_CONSUL_PORT:-58500}"
# The agent's other listeners. Its defaults (8300-8302, 8502, 8503, 8600) are other programs'
# (or another Consul's) ports on a shared machine: ours sit beside the HTTP port in the 585xx
# range, each overridable. DNS is off: nothing here resolves through Consul.
GRPC_PORT="${SOC_CONSUL_GRPC_PORT:-58502}"
GRPC_TLS_PORT="${SOC_CONSUL_GRPC_TLS_PORT:-58503}"
SERVER_PORT="${SOC_CONSUL_SERVER_PORT:-58504}"
SERF_LAN_PORT="${SOC_CONSUL_SERF_LAN_PORT:-58505}"
SERF_WAN_PORT="${SOC_CONSUL_SERF_WAN_PORT:-58506}"
CROOT="$SOC_DEV_HOME/consul"
BIN="$CROOT/$VERSION/consul"
BUILD="$CROOT/build"
PIDF="$CROOT/consul.pid"
CLOG="$CROOT/consul.log"

addr() { echo "127.0.0.1:$PORT"; }

# Built once per version in a throwaway module (Consul's own go.mod, not ours, picks the
# dependency versions). Two of its modules are not in the checksum database: GONOSUMDB lets
# go get take them from the proxy unchecked. The binary is moved into place only once the build
# succeeded, so a half-finished build is never taken for a done one.
build() {
  [ -x "$BIN" ] && return
  command -v go >/dev/null || die "Go is needed to build Consul $VERSION"
  mkdir -p "$BUILD" "$(dirname "$BIN")"
  log "building Consul $VERSION from the Go module proxy (5 to 20 minutes on 2 cores, once; log $BUILD/build.log)"
  local t=$SECONDS
  (
    cd "$BUILD"
    export GOWORK=off GOFLAGS=-mod=mod GONOSUMDB=github.com/hashicorp/consul/envoyextensions,github.com/hashicorp/hcp-sdk-go
    [ -f go.mod ] || go mod init socdev/consulbuild
    go get "github.com/hashicorp/consul@$VERSION"
    go build -o "$BIN.tmp" github.com/hashicorp/consul
  ) >"$BUILD/build.log" 2>&1 || { show_tail "$BUILD/build.log"; die "building Consul $VERSION failed"; }
  mv -f "$BIN.tmp" "$BIN"
  log "built $("$BIN" version | head -n1) in $((SECONDS - t)) s"
}

# Our agent is alive: the pid file names a live process of our binary on our HTTP port.
running() { server_cmdline | grep -qF -e "$BIN agent" && server_cmdline | grep -qF -e "-http-port $PORT"; }

# Serving once a leader is elected (an empty "" answer means none yet): before that,
# registrations and KV writes fail.
serving() {
  local leader; leader="$(curl -fsS --max-time 5 "http://$(addr)/v1/status/leader" 2>/dev/null)" || return 1
  [ -n "$leader" ] && [ "$leader" != '""' ]
}

PORTS=("$PORT" "$GRPC_PORT" "$GRPC_TLS_PORT" "$SERVER_PORT" "$SERF_LAN_PORT" "$SERF_WAN_PORT")

start() {
  local p
  for p in "${PORTS[@]}"; do need_free_port "$p" "the SOC_CONSUL_*PORT variables (see $0)"; done
  rotate_log "$CLOG"
  log "starting Consul $VERSION (dev mode) on $(addr) (log $CLOG)"
  # -dev keeps its state in memory: every start is a clean cluster.
  launch "$CLOG" "$BIN" agent -dev -node soc-dev -bind 127.0.0.1 -client 127.0.0.1 \
    -http-port "$PORT" -dns-port -1 -grpc-port "$GRPC_PORT" -grpc-tls-port "$GRPC_TLS_PORT" \
    -server-port "$SERVER_PORT" -serf-lan-port "$SERF_LAN_PORT" -serf-wan-port "$SERF_WAN_PORT"
}

up() {
  build
  reserve_port "${PORTS[@]}"
  up_server 60 "$CLOG" "$(addr)"
}

down() { stop_server; }

status() { server_status "$(addr)"; }

run_verb "up|down|status|addr|build" "$@"
