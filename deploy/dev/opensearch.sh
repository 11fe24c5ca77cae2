#!/usr/bin/env bash
# OpenSearch (the Apache-licensed search server) for tests: one single-node cluster on
# 127.0.0.1:$SOC_OPENSEARCH_PORT, without the security plugin, built from Maven Central jars the
# way its tar distribution is laid out (deploy/dev/opensearch/pom.xml: lib/ plus one dir per module
# under modules/), fetched once into $SOC_DEV_HOME/opensearch/<version>.
# Usage: opensearch.sh up|down|status|url|env
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT="${SOC_OPENSEARCH_PORT:-59201}"
TPORT="${SOC_OPENSEARCH_TRANSPORT_PORT:-59301}"
SRC="$DEV_DIR/opensearch"
POM="$SRC/pom.xml"
VERSION="$(sed -n 's:.*<opensearch.version>\(.*\)</opensearch.version>.*:\1:p' "$POM")"
OSROOT="$SOC_DEV_HOME/opensearch"
OSHOME="$OSROOT/$VERSION"   # lib/, modules/, empty bin/ and plugins/: read-only once installed
CONF="$OSROOT/config"       # the node writes its keystore here
DATA="$OSROOT/data"
LOGS="$OSROOT/logs"
TMP="$OSROOT/tmp"
OSLOG="$OSROOT/opensearch.log"
PIDF="$OSROOT/opensearch.pid"

# Modules: the pom profile (= dir under modules/) | plugin class | plugins it extends.
# analysis-common extends lang-painless (it ships a PainlessExtension), so painless loads first.
MODULES="transport-netty4|org.opensearch.transport.Netty4Plugin|
lang-painless|org.opensearch.painless.PainlessPlugin|
analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|lang-painless
reindex|org.opensearch.index.reindex.ReindexPlugin|
mapper-extras|org.opensearch.index.mapper.MapperExtrasPlugin|"

# OpenSearch refuses to run as root: as root we run it as `nobody` on dirs that user owns.
# setpriv execs (runuser forks, and on SIGTERM kills its child 2 s later, mid-shutdown), so the
# pid we keep is java's own and stop_server's SIGTERM reaches the node itself.
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)

url() { echo "http://127.0.0.1:$PORT"; }
env_lines() { echo "export SOC_TEST_OPENSEARCH_URL='$(url)'"; }

# OpenSearch 2.19 runs on Java 11 to 21 (it still installs a security manager, which Java 24
# removed); 17 is Debian's and is preferred. SOC_OPENSEARCH_JAVA_HOME overrides the search.
find_java() { java_home 17 21 java ${SOC_OPENSEARCH_JAVA_HOME:-} /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/*; }
install_java() {
  JAVA_HOME_OS="$(find_java)" && return
  apt_install openjdk-17-jre-headless
  JAVA_HOME_OS="$(find_java)" || die "OpenSearch $VERSION needs Java 17 to 21; none under /usr/lib/jvm (set SOC_OPENSEARCH_JAVA_HOME)"
}

# The inputs of an install: a change to any of them lays the node out anew.
install_sum() { cat "$POM" "$SRC"/modules/*/* <(echo "$MODULES") | sha256sum | cut -d' ' -f1; }

# Laid out in $OSHOME.tmp and moved into place whole, so a half-finished download is never taken
# for a done one; Maven's local repository keeps the jars, so a re-install downloads nothing new.
install_node() {
  local sum; sum="$(install_sum)"
  [ "$(cat "$OSHOME/.installed" 2>/dev/null)" = "$sum" ] && return
  command -v mvn >/dev/null || apt_install maven
  log "fetching OpenSearch $VERSION jars from Maven Central into $OSHOME"
  rm -rf "$OSHOME.tmp"
  mkdir -p "$OSHOME.tmp/bin" "$OSHOME.tmp/plugins" "$OSHOME.tmp/modules"
  local name class extends dir
  fetch_profile server "$OSHOME.tmp/lib"
  while IFS='|' read -r name class extends; do
    dir="$OSHOME.tmp/modules/$name"
    fetch_profile "$name" "$dir"
    cat >"$dir/plugin-descriptor.properties" <<EOF
name=$name
description=OpenSearch module $name (laid out by deploy/dev/opensearch.sh)
version=$VERSION
opensearch.version=$VERSION
java.version=11
classname=$class
extended.plugins=$extends
EOF
    # Only modules that need more than OpenSearch's default grants have a policy.
    if [ -f "$SRC/modules/$name/plugin-security.policy" ]; then cp "$SRC/modules/$name/plugin-security.policy" "$dir/"; fi
  done <<<"$MODULES"
  ls "$OSHOME.tmp/lib/opensearch-$VERSION.jar" >/dev/null || die "no opensearch-$VERSION.jar after mvn"
  echo "$sum" >"$OSHOME.tmp/.installed"
  rm -rf "$OSHOME" && mv "$OSHOME.tmp" "$OSHOME"
}

# One pom profile's runtime jars into dir $2.
fetch_profile() {
  mvn -B -f "$POM" -P "$1" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$2" \
    >"$OSROOT/mvn.log" 2>&1 || { show_tail "$OSROOT/mvn.log"; die "mvn dependency:copy-dependencies -P $1 failed for $POM"; }
}

# Rewritten on every `up`, so a change here reaches an existing data dir too.
write_conf() {
  mkdir -p "$CONF" "$DATA" "$LOGS" "$TMP"
  cp "$SRC/log4j2.properties" "$CONF/log4j2.properties"
  cat >"$CONF/opensearch.yml" <<EOF
cluster.name: soc-dev
node.name: soc-dev-1
network.host: 127.0.0.1
http.port: $PORT
transport.port: $TPORT
discovery.type: single-node
path.data: $DATA
path.logs: $LOGS
# A test node on a shared machine whose disk may be more than 90 % full: the disk watermarks would
# stop shard allocation (yellow never comes) or make every index read-only.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  if [ ${#RUN_AS[@]} != 0 ]; then
    chown -R nobody: "$CONF" "$DATA" "$LOGS" "$TMP"
    let_reach nobody "$OSROOT"
  fi
}

# Our node is alive: the pid file names a live java running OpenSearch on our config dir.
running() { server_cmdline | grep -qF -- "-Dopensearch.path.conf=$CONF "; }

# Serving: the cluster reached yellow (every primary shard allocated), not just listening.
serving() { curl -fsS -o /dev/null --max-time 5 "$(url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null; }

start() {
  need_free_port "$PORT" SOC_OPENSEARCH_PORT
  need_free_port "$TPORT" SOC_OPENSEARCH_TRANSPORT_PORT
  rotate_log "$OSLOG"
  log "starting OpenSearch $VERSION on $(url) with $JAVA_HOME_OS (log $OSLOG)"
  # setsid, setpriv and env all exec: $! is java's pid.
  # The JVM flags are those of the tar distribution's jvm.options that matter here, plus:
  #  - BasicContextSelector: with log4j's default selector the shutdown hook hangs ~30 s on SIGTERM;
  #  - java.security.manager=allow: OpenSearch installs its own (Java 18+ refuse it otherwise).
  launch "$OSLOG" "${RUN_AS[@]}" env LIBFFI_TMPDIR="$TMP" "$JAVA_HOME_OS/bin/java" \
    -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -Djava.io.tmpdir="$TMP" -Djna.tmpdir="$TMP" -Djna.nosys=true -Dfile.encoding=UTF-8 \
    -Djava.awt.headless=true -Djava.locale.providers=SPI,COMPAT -Djava.security.manager=allow \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
    -Dlog4j2.contextSelector=org.apache.logging.log4j.core.selector.BasicContextSelector \
    -Dopensearch.path.home="$OSHOME" -Dopensearch.path.conf="$CONF" -Dopensearch.distribution.type=tar \
    -cp "$OSHOME/lib/*" org.opensearch.bootstrap.OpenSearch
}

up() {
  install_java
  install_node
  write_conf
  reserve_port "$PORT" "$TPORT"
  # Ready in 16 s here warm (30 s with the 2 cores busy); the bound only stops a start that never ends.
  up_server 180 "$OSLOG" "$(url)"
}

down() { stop_server; }

status() { server_status "$(url)"; }

run_verb "up|down|status|url|env" "$@"
