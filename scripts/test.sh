#!/usr/bin/env bash
# The whole test suite: static checks first (fast failures), then unit, simulation and
# integration tests. System packages the tests need are installed by scripts/system-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
echo "== type-check" && npx tsc -p tsconfig.json --noEmit
echo "== lint" && npx eslint . --max-warnings=0
echo "== format" && npx prettier --check . --log-level warn
echo "== build" && npm run --silent build
echo "== tests"
# Node 20's test runner takes no glob patterns: the shell expands them.
shopt -s globstar nullglob
test_files=(test/**/*.test.ts)
echo "${#test_files[@]} test files"
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${test_files[@]}"
