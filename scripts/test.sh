#!/usr/bin/env bash
# `npm test`: the linters (npm run lint), the whole suite on Node 24, then the unit tests and the live-service,
# metrics and CLI tests on Node 22 (docs/decisions.md, "Node"). Each Node comes from .tools/node/v<major>
# (scripts/setup.sh). Arguments go to the first run alone: `npm test -- test/unit` runs the unit tests on
# Node 24, without the linters.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vitest="$root/node_modules/.bin/vitest"

on_node() {
  local major=$1 bin="$root/.tools/node/v$1/bin"
  shift
  if [ ! -x "$bin/node" ]; then
    echo "!! no Node $major in .tools/node/v$major: run bash scripts/setup.sh (it fetches Node on Linux x64) or install Node $major" >&2
    return 1
  fi
  echo "==> Node $("$bin/node" --version): vitest run $*"
  # vitest's launcher and its workers are whatever `node` is first on PATH.
  PATH="$bin:$PATH" INSIGHTS_TEST_NODE_LINE=$major "$vitest" run "$@"
}

# Every step, whatever the ones before give; the status is the first failure's.
status=0
if [ $# -eq 0 ]; then
  echo "==> npm run lint"
  PATH="$root/.tools/node/v24/bin:$PATH" npm run --silent --prefix "$root" lint || status=$?
fi
on_node 24 "$@" || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
if [ $# -eq 0 ]; then
  on_node 22 test/unit test/integration/service.test.ts test/integration/metrics.test.ts test/integration/check-cli.test.ts test/integration/cli.test.ts || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
fi

# Then a few of the real-server tests again with nats-server in containers (testcontainers), where
# scripts/setup.sh --with-docker (or CI) made the static nats-server and an engine can run: one
# answers, or dockerd is installed and we are root (the tests start and stop their own).
CONTAINER_TESTS="test/integration/harness.test.ts test/integration/cluster-harness.test.ts test/integration/cluster-views.test.ts"
if [ $# -eq 0 ]; then
  engine=false
  if [ -n "${DOCKER_HOST:-}" ] || [ -S /var/run/docker.sock ]; then engine=true
  elif { command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ]; } && [ "$(id -u)" = 0 ]; then engine=true
  fi
  if $engine && [ -x "$root/.tools/static/nats-server" ]; then
    echo "==> the container harness: $CONTAINER_TESTS"
    # One file at a time: a JetStream cluster forms more slowly beside other containers on 2 cores.
    INSIGHTS_NATS_HARNESS=containers on_node 24 --no-file-parallelism $CONTAINER_TESTS || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
  else
    echo "==> the container harness: skipped (no Docker engine or no static nats-server here: bash scripts/setup.sh --with-docker); the binary harness ran every test"
  fi
fi
exit "$status"
