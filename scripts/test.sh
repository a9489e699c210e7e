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
exit "$status"
