#!/usr/bin/env bash
# ClickHouse for tests (the analytics projection): a private server in $SOC_DEV_HOME/clickhouse on
# 127.0.0.1:$SOC_CLICKHOUSE_PORT (native protocol; HTTP on $SOC_CLICKHOUSE_HTTP_PORT), from
# Debian's clickhouse-server package (18.16; installed when missing, with clickhouse-client for the
# readiness check). The package's own service (ports 8123/9000, /etc/clickhouse-server) is left
# alone: ours is a separate process with its own config, users, data, tmp and log dirs.
# Usage: clickhouse.sh up|down|status|url
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT="${SOC_CLICKHOUSE_PORT:-59000}"
HTTP_PORT="${SOC_CLICKHOUSE_HTTP_PORT:-58123}"
CROOT="$SOC_DEV_HOME/clickhouse"
CONF="$CROOT/config.xml"
PIDF="$CROOT/clickhouse.pid"
CLOG="$CROOT/log/clickhouse-server.log"
# The server refuses nothing as root, but its files in a root-owned tree would keep a later
# non-root run out; when we are root we run it as the package's `clickhouse` user, like the
# Debian service does, on a tree it owns.
RUN_AS=()
[ "$(id -u)" = 0 ] && id clickhouse >/dev/null 2>&1 && RUN_AS=(runuser -u clickhouse --)

# clickhouse-go's DSN: native protocol, database default, user default without a password.
url() { echo "clickhouse://127.0.0.1:$PORT/default"; }

install_server() {
  command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null && return
  apt_install clickhouse-server clickhouse-client
}

# Rewritten on every `up`, so a change here reaches an existing data dir too. <yandex> is the
# root element 18.16 reads (newer servers accept it beside <clickhouse>).
write_conf() {
  mkdir -p "$CROOT/data" "$CROOT/tmp" "$CROOT/user_files" "$CROOT/log" "$CROOT/format_schemas"
  cat >"$CONF" <<CONF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$CROOT/log/clickhouse-server.log</log>
        <errorlog>$CROOT/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$PORT</tcp_port>
    <http_port>$HTTP_PORT</http_port>
    <max_connections>256</max_connections>
    <max_concurrent_queries>64</max_concurrent_queries>
    <!-- A test server on a small shared machine: caches far below the package's 8 GB / 5 GB. -->
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$CROOT/data/</path>
    <tmp_path>$CROOT/tmp/</tmp_path>
    <user_files_path>$CROOT/user_files/</user_files_path>
    <format_schema_path>$CROOT/format_schemas/</format_schema_path>
    <users_config>$CROOT/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
CONF
  # Test data only: user default, no password, reachable from 127.0.0.1 alone.
  cat >"$CROOT/users.xml" <<CONF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval><duration>3600</duration><queries>0</queries><errors>0</errors>
                <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
        </default>
    </quotas>
</yandex>
CONF
  [ ${#RUN_AS[@]} = 0 ] || chown -R clickhouse: "$CROOT"
}

# Our server is alive: the pid file names a live clickhouse-server on our config.
running() { server_cmdline | grep -qF -- "--config-file=$CONF"; }

serving() { [ "$(timeout 5 clickhouse-client --host 127.0.0.1 --port "$PORT" --query 'SELECT 1' 2>/dev/null)" = 1 ]; }

start() {
  need_free_port "$PORT" SOC_CLICKHOUSE_PORT
  need_free_port "$HTTP_PORT" SOC_CLICKHOUSE_HTTP_PORT
  log "starting ClickHouse $(clickhouse-client --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1) on $(url) (log $CLOG)"
  # Not daemonized: $! is the server's pid, or runuser's, which passes SIGTERM on to it and
  # exits with it (stop_server works on either).
  launch "$CROOT/log/stdout.log" "${RUN_AS[@]}" clickhouse-server --config-file="$CONF"
}

up() {
  install_server
  write_conf
  reserve_port "$PORT" "$HTTP_PORT"
  up_server 60 "$CLOG" "$(url)"
}

down() { stop_server; }

status() { server_status "$(url)"; }

run_verb "up|down|status|url" "$@"
