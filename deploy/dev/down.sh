#!/usr/bin/env bash
# Stop every server up.sh started. Each is tried even if one fails; the exit code reports any failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

rc=0
"$DEV_DIR/consul.sh" down || rc=1
"$DEV_DIR/jaeger.sh" down || rc=1
"$DEV_DIR/redis.sh" down || rc=1
"$DEV_DIR/clickhouse.sh" down || rc=1
"$DEV_DIR/elasticsearch.sh" down || rc=1
"$DEV_DIR/opensearch.sh" down || rc=1
"$DEV_DIR/keycloak.sh" down || rc=1
"$DEV_DIR/kafka.sh" down || rc=1
"$DEV_DIR/postgres.sh" down || rc=1
[ $rc = 0 ] || die "could not stop every server (see above)"
