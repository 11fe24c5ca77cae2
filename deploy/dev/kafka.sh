#!/usr/bin/env bash
# Apache Kafka for tests: one KRaft node (broker+controller) on 127.0.0.1:$SOC_KAFKA_PORT,
# run from Maven Central jars (deploy/dev/kafka/pom.xml) kept in $SOC_DEV_HOME/kafka/lib.
# Usage: kafka.sh up|down|status|brokers
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT="${SOC_KAFKA_PORT:-59092}"
CPORT="${SOC_KAFKA_CONTROLLER_PORT:-59093}"
POM="$DEV_DIR/kafka/pom.xml"
LOG4J="$DEV_DIR/kafka/log4j2.properties"
KROOT="$SOC_DEV_HOME/kafka"
LIB="$KROOT/lib"
DATA="$KROOT/data"
CONF="$KROOT/server.properties"
KLOG="$KROOT/kafka.log"
PIDF="$KROOT/kafka.pid"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"

brokers() { echo "127.0.0.1:$PORT"; }

# Kafka's CLI classes from the broker's own classpath, quiet (WARN) logging.
TOOL=(java -Xmx256m -Dsoc.log.level=WARN -Dlog4j2.configurationFile="$LOG4J" -cp "$LIB/*")
tool() { "${TOOL[@]}" "$@"; }

install_java() {
  command -v java >/dev/null && command -v mvn >/dev/null || apt_install openjdk-17-jre-headless maven
  local v; v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')"
  [ "${v%%.*}" -ge 17 ] 2>/dev/null || die "Kafka $VERSION needs Java 17+, found '${v:-none}' at $(command -v java)"
}

# Re-fetched only when pom.xml changes (its hash is stamped into lib/).
fetch_jars() {
  local sum; sum="$(sha256sum "$POM" | cut -d' ' -f1)"
  [ "$(cat "$LIB/.pom.sha256" 2>/dev/null)" = "$sum" ] && return
  log "fetching Kafka $VERSION jars from Maven Central into $LIB"
  rm -rf "$LIB.tmp"
  mkdir -p "$KROOT"
  mvn -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB.tmp" \
    >"$KROOT/mvn.log" 2>&1 || { show_tail "$KROOT/mvn.log"; die "mvn dependency:copy-dependencies failed for $POM"; }
  ls "$LIB.tmp"/kafka_2.13-"$VERSION".jar >/dev/null || die "no kafka_2.13-$VERSION.jar after mvn"
  echo "$sum" >"$LIB.tmp/.pom.sha256"
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB"
}

# Rewritten on every `up`, so a change here reaches an existing data dir too.
write_conf() {
  cat >"$CONF" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=3
auto.create.topics.enable=true
# One node: every internal topic must fit on a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups constantly; don't wait 3 s for more members.
group.initial.rebalance.delay.ms=0
EOF
}

# Format once: a single-voter (--standalone) KRaft quorum with a fresh cluster id.
format_storage() {
  [ -f "$DATA/meta.properties" ] && return
  log "formatting KRaft storage in $DATA"
  local id; id="$(tool kafka.tools.StorageTool random-uuid)" || die "StorageTool random-uuid failed"
  tool kafka.tools.StorageTool format --standalone -t "$id" -c "$CONF" >&2 || die "StorageTool format failed"
}

# Our broker is alive: the pid file names a live java running kafka.Kafka on our config.
running() { server_cmdline | grep -qF "kafka.Kafka $CONF"; }

# Serving, not just listening: the admin client must get metadata back.
serving() { port_open "$PORT" && timeout 30 "${TOOL[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$(brokers)" --list >/dev/null 2>&1; }

# The first errors of a start that failed, for a log too long for show_tail to reach them.
startup_errors() { grep -E '^\[.*\] (ERROR|FATAL) ' "$KLOG" | head -5; }

start() {
  need_free_port "$PORT" SOC_KAFKA_PORT
  need_free_port "$CPORT" SOC_KAFKA_CONTROLLER_PORT
  rotate_log "$KLOG"
  log "starting Kafka $VERSION on $(brokers) (log $KLOG)"
  launch "$KLOG" java -Xms256m -Xmx512m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dsoc.log.level=INFO -Dlog4j2.configurationFile="$LOG4J" -cp "$LIB/*" \
    kafka.Kafka "$CONF"
}

up() {
  install_java
  fetch_jars
  mkdir -p "$DATA"
  write_conf
  format_storage
  reserve_port "$PORT" "$CPORT"
  up_server 90 "$KLOG" "$(brokers)"
}

# Controlled shutdown takes a few seconds.
down() { stop_server; }

status() { server_status "$(brokers)"; }

run_verb "up|down|status|brokers" "$@"
