#!/usr/bin/env bash
# Jaeger (trace backend) for tests: the all-in-one `jaeger` binary (Jaeger v2, an OpenTelemetry
# Collector distribution) with in-memory storage, OTLP/HTTP on 127.0.0.1:$SOC_JAEGER_OTLP_PORT
# and the query API on 127.0.0.1:$SOC_JAEGER_QUERY_PORT. There is no release binary for every
# platform on a proxy we may use, so it is built once from the Go module proxy, in a throwaway
# module under $SOC_DEV_HOME/jaeger/build, and cached at $SOC_DEV_HOME/jaeger/$VERSION/jaeger.
# Usage: jaeger.sh build|up|down|status|env
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VERSION="${SOC_JAEGER_VERSION:-v1.75.0}"   # v1.76.0 is skipped on purpose: stay on v1.75.0
# Below the ephemeral range: with the query ports at 56685/56686 (reserved, nothing listening)
# Jaeger v1.75.0's query server failed to bind its HTTP port ("address already in use") every
# time, while 26685/26686 bind at once.
OTLP_PORT="${SOC_JAEGER_OTLP_PORT:-24318}"
OTLP_GRPC_PORT="${SOC_JAEGER_OTLP_GRPC_PORT:-24317}"
QUERY_PORT="${SOC_JAEGER_QUERY_PORT:-26686}"
QUERY_GRPC_PORT="${SOC_JAEGER_QUERY_GRPC_PORT:-26685}"
HEALTH_PORT="${SOC_JAEGER_HEALTH_PORT:-23133}"
JROOT="$SOC_DEV_HOME/jaeger"
BIN="$JROOT/$VERSION/jaeger"
CONF="$JROOT/config.yaml"
PIDF="$JROOT/jaeger.pid"
JLOG="$JROOT/jaeger.log"

env_lines() {
  echo "export SOC_TEST_OTLP_ENDPOINT='http://127.0.0.1:$OTLP_PORT'"
  echo "export SOC_TEST_JAEGER_QUERY_URL='http://127.0.0.1:$QUERY_PORT'"
}

# build compiles cmd/jaeger at $VERSION unless cached. The binary is written beside and renamed,
# so an interrupted build never leaves a truncated binary in the cache.
build() {
  [ -x "$BIN" ] && return
  command -v go >/dev/null || die "go is needed to build Jaeger"
  local dir="$JROOT/build" t=$SECONDS
  mkdir -p "$dir" "$(dirname "$BIN")"
  log "building Jaeger $VERSION from the Go module proxy (cold: several minutes; log in $dir)"
  (
    cd "$dir"
    [ -f go.mod ] || go mod init jaegerbuild >&2
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$VERSION" >&2
    go build -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger >&2
  ) || die "building Jaeger $VERSION failed"
  mv "$BIN.tmp" "$BIN"
  log "built $BIN in $((SECONDS - t)) s"
}

# The embedded all-in-one configuration (memory storage, the otlp receiver, the batch processor,
# the query extension) with every listener on 127.0.0.1 and our ports, and none of the extra
# listeners (jaeger/zipkin receivers, sampling, zpages, expvar, the collector's own :8888
# metrics) that would collide with other servers on fixed default ports. Rewritten on every `up`.
write_conf() {
  mkdir -p "$JROOT"
  cat >"$CONF" <<CONF
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:$QUERY_PORT
    grpc:
      endpoint: 127.0.0.1:$QUERY_GRPC_PORT
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:$HEALTH_PORT
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$OTLP_PORT
      grpc:
        endpoint: 127.0.0.1:$OTLP_GRPC_PORT
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
CONF
}

running() { server_cmdline | grep -qF "$BIN --config $CONF"; }

# Serving: the query API answers and the OTLP/HTTP receiver accepts connections.
serving() {
  curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$QUERY_PORT/api/services" 2>/dev/null && port_open "$OTLP_PORT"
}

PORTS=("$OTLP_PORT" "$OTLP_GRPC_PORT" "$QUERY_PORT" "$QUERY_GRPC_PORT" "$HEALTH_PORT")

start() {
  local p
  for p in "${PORTS[@]}"; do need_free_port "$p" "the SOC_JAEGER_*_PORT variables"; done
  log "starting Jaeger $VERSION: OTLP/HTTP 127.0.0.1:$OTLP_PORT, query http://127.0.0.1:$QUERY_PORT (log $JLOG)"
  launch "$JLOG" "$BIN" --config "$CONF"
}

up() {
  build
  write_conf
  reserve_port "${PORTS[@]}"
  up_server 60 "$JLOG" "OTLP http://127.0.0.1:$OTLP_PORT, query http://127.0.0.1:$QUERY_PORT"
}

down() { stop_server; }

status() { server_status "query http://127.0.0.1:$QUERY_PORT"; }

run_verb "build|up|down|status|env" "$@"
