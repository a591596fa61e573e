#!/usr/bin/env bash
# Idempotent setup: npm packages, redis-server, FerretDB and the PostgreSQL it stores in, grpcurl, ghz,
# mongo-java-server (the change-stream tests' MongoDB, a jar built with Maven) and lincheck (the
# linearizability checker in tools/lincheck, on Porcupine).
# Built tools live in a cache outside the clone and are linked into .tools/bin.
# Usage: scripts/setup.sh [--npm] [--redis] [--ferretdb] [--grpcurl] [--grpc-tools] [--mongo-java-server]
#   [--lincheck]
#   no flags: everything. With flags: only the parts named. --ferretdb includes PostgreSQL
#   (apt's postgresql) unless FERRETDB_BACKEND=sqlite. --grpc-tools is grpcurl and ghz.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/node-env.sh"
CACHE="$TOOLS_CACHE"
BIN="$ROOT/.tools/bin"
FERRETDB_VERSION="v1.24.2"
GRPCURL_VERSION="v1.9.3"
GHZ_VERSION="v0.121.0"

want_npm=0 want_redis=0 want_ferret=0 want_grpcurl=0 want_ghz=0 want_mjs=0 want_lincheck=0
if [ $# -eq 0 ]; then want_npm=1 want_redis=1 want_ferret=1 want_grpcurl=1 want_ghz=1 want_mjs=1 want_lincheck=1; fi
for arg in "$@"; do
  case "$arg" in
    --npm) want_npm=1 ;;
    --redis) want_redis=1 ;;
    --ferretdb) want_ferret=1 ;;
    --grpcurl) want_grpcurl=1 ;;
    --grpc-tools) want_grpcurl=1 want_ghz=1 ;;
    --mongo-java-server) want_mjs=1 ;;
    --lincheck) want_lincheck=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

did_work=0
log() { did_work=1; printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
mkdir -p "$BIN" "$CACHE/bin"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=0
apt_install() {
  [ $apt_updated -eq 1 ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

have_postgres() {
  [ -n "${POSTGRES_BIN_DIR:-}" ] && [ -x "$POSTGRES_BIN_DIR/postgres" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && return 0
  command -v postgres >/dev/null 2>&1
}

if [ $want_npm -eq 1 ]; then
  stamp="$ROOT/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    log "installing npm packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund)
  fi
fi

if [ $want_redis -eq 1 ] && ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server with apt"
  apt_install redis-server
  # The Debian service is not used: the stack starts its own redis-server.
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

if [ $want_ferret -eq 1 ] && [ "${FERRETDB_BACKEND:-postgresql}" = postgresql ] && ! have_postgres; then
  log "installing PostgreSQL with apt (the embedded FerretDB stores its data in it)"
  apt_install postgresql
  # The Debian cluster is not used: the stack runs a private cluster in its data dir.
  $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
  for version in /usr/lib/postgresql/*; do
    $SUDO pg_ctlcluster "$(basename "$version")" main stop >/dev/null 2>&1 || true
  done
fi

if [ $want_ferret -eq 1 ]; then
  if [ ! -x "$CACHE/bin/ferretdb-$FERRETDB_VERSION" ]; then
    log "building FerretDB $FERRETDB_VERSION from its Go module (one time, cached in $CACHE)"
    moddir=$(cd /tmp && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$moddir" ] || { echo "setup: go mod download of FerretDB failed" >&2; exit 1; }
    src=$(mktemp -d)
    cp -r "$moddir/." "$src/"
    chmod -R u+w "$src"
    # Without this file the binary panics at start.
    echo "$FERRETDB_VERSION" > "$src/build/version/version.txt"
    (cd "$src" && go build -o "$CACHE/bin/ferretdb-$FERRETDB_VERSION" ./cmd/ferretdb)
    rm -rf "$src"
  fi
  ln -sf "$CACHE/bin/ferretdb-$FERRETDB_VERSION" "$BIN/ferretdb"
fi

if [ $want_grpcurl -eq 1 ]; then
  if [ ! -x "$CACHE/bin/grpcurl-$GRPCURL_VERSION" ]; then
    log "installing grpcurl $GRPCURL_VERSION"
    GOBIN="$CACHE/gobin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
    mv "$CACHE/gobin/grpcurl" "$CACHE/bin/grpcurl-$GRPCURL_VERSION"
  fi
  ln -sf "$CACHE/bin/grpcurl-$GRPCURL_VERSION" "$BIN/grpcurl"
fi

if [ $want_ghz -eq 1 ]; then
  if [ ! -x "$CACHE/bin/ghz-$GHZ_VERSION" ]; then
    log "installing ghz $GHZ_VERSION"
    GOBIN="$CACHE/gobin" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
    mv "$CACHE/gobin/ghz" "$CACHE/bin/ghz-$GHZ_VERSION"
  fi
  ln -sf "$CACHE/bin/ghz-$GHZ_VERSION" "$BIN/ghz"
fi

if [ $want_mjs -eq 1 ]; then
  # Keyed by the launcher's sources (every file's name and content), so an edit to any of them, or a
  # new one, builds a new jar; npm test runs this part each time, so an existing machine rebuilds too.
  mjs_src="$ROOT/third_party/mongo-java-server"
  mjs_key=$(cd "$mjs_src" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
  mjs="$CACHE/bin/mongo-java-server-$mjs_key"
  if [ ! -x "$mjs" ]; then
    { command -v mvn && command -v javac; } >/dev/null 2>&1 || { log "installing Maven and a JDK with apt"; apt_install maven default-jdk-headless; }
    log "building mongo-java-server with Maven (one time, cached in $CACHE)"
    src=$(mktemp -d)
    cp -r "$mjs_src/." "$src/"
    # Maven's quiet mode still prints colour codes: its output is shown only when it fails.
    mvn -B -q -f "$src/pom.xml" -DskipTests package >"$src/build.log" 2>&1 ||
      { cat "$src/build.log" >&2; exit 1; }
    mkdir -p "$CACHE/lib"
    mv "$src/target/mongo-java-server.jar" "$CACHE/lib/mongo-java-server-$mjs_key.jar"
    rm -rf "$src"
    printf '#!/bin/sh\nexec java -jar "%s" "$@"\n' "$CACHE/lib/mongo-java-server-$mjs_key.jar" > "$mjs.tmp"
    chmod +x "$mjs.tmp" && mv "$mjs.tmp" "$mjs"
  fi
  ln -sf "$mjs" "$BIN/mongo-java-server"
fi
if [ $want_lincheck -eq 1 ]; then
  # Keyed like mongo-java-server: by every file of its sources, so an edit builds a new binary.
  lc_src="$ROOT/tools/lincheck"
  lc_key=$(cd "$lc_src" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
  lc="$CACHE/bin/lincheck-$lc_key"
  if [ ! -x "$lc" ]; then
    log "building lincheck (Porcupine, from the Go module proxy; one time, cached in $CACHE)"
    (cd "$lc_src" && go build -trimpath -buildvcs=false -o "$lc.tmp" .)
    mv "$lc.tmp" "$lc"
  fi
  ln -sf "$lc" "$BIN/lincheck"
fi
[ $did_work -eq 0 ] || log "ready"
