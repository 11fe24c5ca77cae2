#!/usr/bin/env bash
# Keycloak (OIDC provider) for tests: `start-dev` on 127.0.0.1:$SOC_KEYCLOAK_PORT with the test realm
# soc-test imported from deploy/dev/keycloak/soc-test-realm.json (TEST-ONLY users and secrets).
# The distribution zip comes from Maven Central and is unpacked once into $SOC_DEV_HOME/keycloak.
# Usage: keycloak.sh up|down|status|issuer|env
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VERSION="${SOC_KEYCLOAK_VERSION:-26.5.6}"
PORT="${SOC_KEYCLOAK_PORT:-58180}"
# Keycloak's management interface (health, metrics) defaults to :9000, ClickHouse's native port.
MPORT="${SOC_KEYCLOAK_MANAGEMENT_PORT:-58181}"
REALM_JSON="$DEV_DIR/keycloak/soc-test-realm.json"
REALM="soc-test"
KROOT="$SOC_DEV_HOME/keycloak"
KCHOME="$KROOT/keycloak-$VERSION"
KLOG="$KROOT/keycloak.log"
PIDF="$KROOT/keycloak.pid"
# Test-only: the realm file's confidential client and the master realm's bootstrap admin.
CLIENT_ID=soc
CLIENT_SECRET="$(sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p' "$REALM_JSON" | head -n1)"
ADMIN_PASSWORD=admin-test-password

issuer() { echo "http://127.0.0.1:$PORT/realms/$REALM"; }

env_lines() {
  echo "export SOC_TEST_OIDC_ISSUER='$(issuer)'"
  echo "export SOC_TEST_OIDC_CLIENT_ID='$CLIENT_ID'"
  echo "export SOC_TEST_OIDC_CLIENT_SECRET='$CLIENT_SECRET'"
}

# Keycloak 26 needs Java 21+. Debian's openjdk is 17, so a newer JDK is looked for where this
# machine kind has one (Temurin 25), or taken from SOC_KEYCLOAK_JAVA_HOME.
find_java() {
  java_home 21 999 java ${SOC_KEYCLOAK_JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/* \
    || die "Keycloak $VERSION needs Java 21+; none under /usr/lib/jvm (set SOC_KEYCLOAK_JAVA_HOME)"
}

# Downloaded and unpacked once per version; a half-finished unpack is never taken for a done one.
install_dist() {
  [ -f "$KCHOME/.unpacked" ] && return
  command -v mvn >/dev/null || apt_install maven
  command -v unzip >/dev/null || apt_install unzip
  mkdir -p "$KROOT"
  log "fetching keycloak-quarkus-dist $VERSION from Maven Central (about 165 MB, once)"
  rm -rf "$KROOT/dl" "$KCHOME.tmp"
  mvn -B dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip" \
    -DoutputDirectory="$KROOT/dl" >"$KROOT/mvn.log" 2>&1 \
    || { show_tail "$KROOT/mvn.log"; die "mvn dependency:copy of keycloak-quarkus-dist $VERSION failed"; }
  log "unpacking into $KCHOME"
  mkdir -p "$KCHOME.tmp"
  unzip -q "$KROOT/dl/keycloak-quarkus-dist-$VERSION.zip" -d "$KCHOME.tmp" || die "unzip failed"
  rm -rf "$KCHOME"
  mv "$KCHOME.tmp/keycloak-$VERSION" "$KCHOME"
  rm -rf "$KCHOME.tmp" "$KROOT/dl"   # Maven's local repository keeps the zip
  touch "$KCHOME/.unpacked"
}

# Our server is alive: the pid file names a live process of $KCHOME (bin/kc.sh, which forwards
# SIGTERM to its java child, or that java once kc.sh has exec'ed it after a re-augmentation).
running() { server_cmdline | grep -qF -- "$KCHOME/"; }

# Serving the test realm, not just listening.
serving() { curl -fsS -o /dev/null --max-time 5 "$(issuer)/.well-known/openid-configuration" 2>/dev/null; }

# --import-realm skips a realm that exists: when the realm file changes, the dev database
# (H2 under data/) is dropped so the new file is imported on the next start.
stage_realm() {
  local sum; sum="$(sha256sum "$REALM_JSON" | cut -d' ' -f1)"
  mkdir -p "$KCHOME/data/import"
  [ "$(cat "$KCHOME/data/.realm.sha256" 2>/dev/null)" = "$sum" ] && return
  if running; then log "realm file changed: restarting to re-import it"; down; fi
  log "realm file changed or first start: resetting the dev database"
  rm -rf "$KCHOME/data/h2"
  cp "$REALM_JSON" "$KCHOME/data/import/$REALM-realm.json"
  echo "$sum" >"$KCHOME/data/.realm.sha256"
}

start() {
  need_free_port "$PORT" SOC_KEYCLOAK_PORT
  need_free_port "$MPORT" SOC_KEYCLOAK_MANAGEMENT_PORT
  rotate_log "$KLOG"
  log "starting Keycloak $VERSION on 127.0.0.1:$PORT with $JAVA (log $KLOG)"
  # Heap bounded: CI runs it beside everything else on 2 cores.
  # C1 only (TieredStopAtLevel=1): a test IdP serves a few sign-ins, so peak speed matters less
  # than the CPU the C2 compiler would take from the tests during start-up.
  launch "$KLOG" env JAVA_HOME="$JAVA" JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m" \
    JAVA_OPTS_APPEND="-XX:TieredStopAtLevel=1 ${SOC_KEYCLOAK_JAVA_OPTS:-}" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    bash "$KCHOME/bin/kc.sh" start-dev --import-realm \
    --http-host 127.0.0.1 --http-port "$PORT" --http-management-port "$MPORT"
}

up() {
  JAVA="$(find_java)"
  install_dist
  stage_realm
  reserve_port "$PORT" "$MPORT"
  # Cold start (first build of the dev profile, schema, realm import) took 128 s here, on 2 cores
  # shared with a load average of 20; the bound only stops a start that will never finish.
  up_server 600 "$KLOG" "$(issuer)"
}

down() { stop_server; }

status() { server_status "$(issuer)"; }

run_verb "up|down|status|issuer|env" "$@"
