#!/usr/bin/env bash
# Elasticsearch 7.17 for tests (search, issue 17): one node on 127.0.0.1:$SOC_ES_PORT, security off,
# run from Maven Central jars (deploy/dev/elasticsearch/pom.xml) laid out like Elastic's tar
# distribution in $SOC_DEV_HOME/elasticsearch/<version>/dist, with its config, data, logs and tmp
# beside it. Elastic ships no 7.17 tarball there, so the modules are the ones Maven Central serves
# as org.elasticsearch.plugin:*-client jars (see MODULES); analysis-common and lang-painless are not
# among them: the analyzers we use come from our own stand-in module (elasticsearch/soc-analysis,
# compiled here), and scripts (painless) are not available. Elasticsearch refuses to run as root:
# when we are root it runs as `nobody`.
# Usage: elasticsearch.sh up|down|status|url|env
# Env: SOC_ES_PORT (HTTP, 59200), SOC_ES_TRANSPORT_PORT (59230), SOC_ES_JAVA_HOME (a JDK 11-17).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT="${SOC_ES_PORT:-59200}"
TPORT="${SOC_ES_TRANSPORT_PORT:-59230}"
POM="$DEV_DIR/elasticsearch/pom.xml"
LOG4J="$DEV_DIR/elasticsearch/log4j2.properties"
NETTY_POLICY="$DEV_DIR/elasticsearch/transport-netty4.policy"
ANALYSIS_SRC="$DEV_DIR/elasticsearch/soc-analysis"
VERSION="$(sed -n 's:.*<elasticsearch.version>\(.*\)</elasticsearch.version>.*:\1:p' "$POM")"
EROOT="$SOC_DEV_HOME/elasticsearch/$VERSION"
DIST="$EROOT/dist"          # jars and module descriptors: written once, read-only afterwards
CONF="$EROOT/config"        # Elasticsearch writes its keystore here: owned by the server's user
DATA="$EROOT/data"
LOGS="$EROOT/logs"
TMP="$EROOT/tmp"
ELOG="$LOGS/elasticsearch.log"
PIDF="$EROOT/elasticsearch.pid"
MAIN=org.elasticsearch.bootstrap.Elasticsearch
# setpriv, not runuser: runuser stays as the parent and, on SIGTERM, SIGKILLs the node 2 s later,
# whether or not it has finished closing its shards; setpriv execs, so $! is java itself.
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env --)

# Modules: directory name, Maven artifact (group org.elasticsearch.plugin), plugin class.
# transport-netty4 is the HTTP layer itself; mapper-extras brings scaled_float, rank_feature,
# search_as_you_type and token_count; reindex brings _reindex, _update_by_query, _delete_by_query.
MODULES="transport-netty4 transport-netty4-client org.elasticsearch.transport.Netty4Plugin
mapper-extras mapper-extras-client org.elasticsearch.index.mapper.MapperExtrasPlugin
reindex reindex-client org.elasticsearch.reindex.ReindexPlugin"

url() { echo "http://127.0.0.1:$PORT"; }
env_lines() { echo "export SOC_TEST_ELASTICSEARCH_URL='$(url)'"; }

# 7.17 runs on Java 11 to 17 here: it installs a security manager, which Java 18+ refuses unless
# told to allow it and Java 24+ no longer has. A JDK, not a JRE: soc-analysis is compiled at
# install time. Debian's default JDK is 17 (installed when missing); SOC_ES_JAVA_HOME wins.
jdk_home() { java_home 11 17 javac ${SOC_ES_JAVA_HOME:-} /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/*; }
find_java() {
  jdk_home && return
  apt_install openjdk-17-jdk-headless
  jdk_home || die "Elasticsearch $VERSION needs a JDK 11 to 17; none under /usr/lib/jvm (set SOC_ES_JAVA_HOME)"
}

# The descriptor that makes dir $1 a module: plugin class $2, description $3.
describe_module() {
  cat >"$1/plugin-descriptor.properties" <<EOF
name=${1##*/}
description=$3
version=$VERSION
elasticsearch.version=$VERSION
java.version=11
classname=$2
EOF
}

# One piece of the server ($1 group, $2 artifact) with its runtime dependencies into dir $3.
copy_jars() {
  mvn -B -f "$POM" dependency:copy-dependencies -Des.groupId="$1" -Des.artifactId="$2" \
    -DincludeScope=runtime -DoutputDirectory="$3" >>"$SOC_DEV_HOME/elasticsearch/mvn.log" 2>&1 \
    || { show_tail "$SOC_DEV_HOME/elasticsearch/mvn.log"; die "mvn dependency:copy-dependencies failed for $1:$2:$VERSION"; }
}

# Built in dist.tmp and renamed into place, stamped with what it was built from: a half-finished
# download is never taken for a done one, and a change to the pom, the module list or the
# policy or soc-analysis rebuilds it on the next `up`. $1: the JDK.
install_dist() {
  local sum name artifact class jar d
  sum="$( { cat "$POM" "$NETTY_POLICY" "$ANALYSIS_SRC"/*.java; echo "$MODULES"; } | sha256sum | cut -d' ' -f1)"
  [ "$(cat "$DIST/.installed" 2>/dev/null)" = "$sum" ] && return
  command -v mvn >/dev/null || apt_install maven
  log "fetching Elasticsearch $VERSION jars from Maven Central into $DIST"
  mkdir -p "$EROOT"
  rm -rf "$DIST.tmp"
  : >"$SOC_DEV_HOME/elasticsearch/mvn.log"
  copy_jars org.elasticsearch elasticsearch "$DIST.tmp/lib"
  ls "$DIST.tmp/lib/elasticsearch-$VERSION.jar" >/dev/null || die "no elasticsearch-$VERSION.jar after mvn"
  while read -r name artifact class; do
    d="$DIST.tmp/modules/$name"
    copy_jars org.elasticsearch.plugin "$artifact" "$d"
    # A module holds only what the server lacks: a jar in both places is jar hell at start-up.
    for jar in "$d"/*.jar; do [ ! -e "$DIST.tmp/lib/${jar##*/}" ] || rm "$jar"; done
    describe_module "$d" "$class" "$artifact from Maven Central"
  done <<<"$MODULES"
  d="$DIST.tmp/modules/soc-analysis"
  mkdir -p "$d/classes"
  "$1/bin/javac" --release 11 -nowarn -cp "$DIST.tmp/lib/*" -d "$d/classes" "$ANALYSIS_SRC"/*.java \
    || die "compiling $ANALYSIS_SRC failed"
  "$1/bin/jar" cf "$d/soc-analysis.jar" -C "$d/classes" . && rm -rf "$d/classes"
  describe_module "$d" soc.dev.es.SocAnalysisPlugin "stand-in for the analysis-common analyzers we use"
  cp "$NETTY_POLICY" "$DIST.tmp/modules/transport-netty4/plugin-security.policy"
  mkdir -p "$DIST.tmp/bin" "$DIST.tmp/plugins"   # the server checks that both exist
  echo "$sum" >"$DIST.tmp/.installed"
  rm -rf "$DIST" && mv "$DIST.tmp" "$DIST"
}

# Rewritten on every `up`, so a change here reaches an existing data dir too.
write_conf() {
  mkdir -p "$CONF" "$DATA" "$LOGS" "$TMP"
  cp "$LOG4J" "$CONF/log4j2.properties"
  cat >"$CONF/elasticsearch.yml" <<EOF
cluster.name: soc-dev
node.name: soc-dev-es
path.data: $DATA
path.logs: $LOGS
network.host: 127.0.0.1
http.port: $PORT
transport.port: $TPORT
discovery.type: single-node
# Test machines' disks are often fuller than the 85/90/95 % watermarks: without this, shards go
# unassigned or indices turn read-only, and tests fail for reasons of the host.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  if [ ${#RUN_AS[@]} != 0 ]; then
    chown -R nobody: "$CONF" "$DATA" "$LOGS" "$TMP"
    let_reach nobody "$DIST"
    runuser -u nobody -- test -r "$DIST/lib/elasticsearch-$VERSION.jar" || die "the nobody user cannot read $DIST"
  fi
}

# Our server is alive: the pid file names a live java running Elasticsearch on our config dir.
running() { server_cmdline | grep -qF -- "-Des.path.conf=$CONF "; }

# Serving: the cluster answers health, at least yellow (a single node never gets replicas).
serving() { curl -fsS -o /dev/null --max-time 5 "$(url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null; }

start() {
  need_free_port "$PORT" SOC_ES_PORT
  need_free_port "$TPORT" SOC_ES_TRANSPORT_PORT
  rotate_log "$ELOG"
  log "starting Elasticsearch $VERSION on $(url) with $JAVA (log $ELOG)"
  # The -D flags are those Elastic's launcher adds for 7.17 (JNA and Netty without tricks
  # that need more permissions, log4j without lookups or JMX). Not BasicContextSelector (which
  # OpenSearch needs against a 30 s hang at SIGTERM): 7.17 stops in about a second without it,
  # and with it log4j's StackLocator is first loaded under the security manager, from a module,
  # which lacks getStackWalkerWithClassReference, and the node dies at start-up.
  # LIBFFI_TMPDIR/jna.tmpdir: JNA unpacks its native stub into a dir the server's user owns.
  launch "$ELOG" "${RUN_AS[@]}" env LIBFFI_TMPDIR="$TMP" "$JAVA/bin/java" \
    -Xms256m -Xmx512m -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.locale.providers=SPI,COMPAT \
    -Djava.io.tmpdir="$TMP" -Djna.tmpdir="$TMP" -Djna.nosys=true \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 -Dio.netty.allocator.numDirectArenas=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
    -Des.networkaddress.cache.ttl=60 -Des.path.home="$DIST" -Des.path.conf="$CONF" \
    -Des.distribution.flavor=default -Des.distribution.type=tar -Des.bundled_jdk=false \
    -cp "$DIST/lib/*" "$MAIN"
}

up() {
  JAVA="$(find_java)"
  install_dist "$JAVA"
  write_conf
  reserve_port "$PORT" "$TPORT"
  up_server 180 "$ELOG" "$(url)"
}

# SIGTERM: the node closes its indices cleanly (a few seconds).
down() { stop_server; }

status() { server_status "$(url)"; }

run_verb "up|down|status|url|env" "$@"
