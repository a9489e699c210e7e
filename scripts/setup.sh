#!/usr/bin/env bash
# One idempotent set-up: npm dependencies, the build, and the real NATS tools the tests drive.
# Tools land in .tools/bin (git-ignored); tests find them there, or through NATS_SERVER_BIN,
# NATS_CLI_BIN and NSC_BIN.
set -euo pipefail

NATS_SERVER_VERSION=v2.15.2
# Older server lines the scenario catalogue is also judged on (docs/servers.md): the oldest and a
# middle supported line. Each lands in .tools/servers/<version>/nats-server.
OLDER_SERVER_VERSIONS="v2.10.29 v2.12.15"
NATSCLI_VERSION=v0.5.0
NSC_VERSION=v2.12.2   # pinned in tools/nsc/go.mod, with its go.sum

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"
cd "$root"

echo "==> npm ci"
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

echo "==> tools in $bin"
"$bin/nats-server" --version
for d in "$root"/.tools/servers/*/; do [ -x "$d/nats-server" ] && "$d/nats-server" --version; done
[ -x "$bin/nats" ] && echo "nats $("$bin/nats" --version)"
[ -x "$bin/nsc" ] && "$bin/nsc" --version
echo "set-up done"
