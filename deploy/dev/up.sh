#!/usr/bin/env bash
# Start every real server the tests use, then print their addresses as `export` lines:
#   eval "$(deploy/dev/up.sh)"
# The same lines go to $SOC_DEV_HOME/env for the Makefile. Progress goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Consul and Jaeger are built from source when not cached (CPU-bound, minutes on a cold cache):
# in the background while the other servers start, awaited before each starts.
"$DEV_DIR/consul.sh" build >&2 &
consul_build=$!
"$DEV_DIR/jaeger.sh" build >&2 &
jaeger_build=$!

"$DEV_DIR/postgres.sh" up
"$DEV_DIR/kafka.sh" up
"$DEV_DIR/nmap.sh" up
"$DEV_DIR/tools.sh" up
"$DEV_DIR/keycloak.sh" up
"$DEV_DIR/redis.sh" up
"$DEV_DIR/clickhouse.sh" up
"$DEV_DIR/elasticsearch.sh" up
"$DEV_DIR/opensearch.sh" up
wait "$consul_build" || die "building Consul failed (see above)"
"$DEV_DIR/consul.sh" up
wait "$jaeger_build" || die "building Jaeger failed (see above)"
"$DEV_DIR/jaeger.sh" up

env_lines="export SOC_TEST_POSTGRES_URL='$("$DEV_DIR/postgres.sh" url soc_test)'
export SOC_TEST_KAFKA_BROKERS='$("$DEV_DIR/kafka.sh" brokers)'
export SOC_TEST_REDIS_URL='$("$DEV_DIR/redis.sh" url)'
export SOC_TEST_CLICKHOUSE_URL='$("$DEV_DIR/clickhouse.sh" url)'
export SOC_TEST_CONSUL_ADDR='$("$DEV_DIR/consul.sh" addr)'
$("$DEV_DIR/elasticsearch.sh" env)
$("$DEV_DIR/opensearch.sh" env)
$("$DEV_DIR/keycloak.sh" env)
$("$DEV_DIR/jaeger.sh" env)"
mkdir -p "$SOC_DEV_HOME"
echo "$env_lines" >"$SOC_DEV_HOME/env"
echo "$env_lines"
