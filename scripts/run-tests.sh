#!/usr/bin/env bash
# Runs the tap suites and ends with one plain line, "N passed, N failed",
# counted from tap's TAP stream (one per test file and subtest verdict).
# Exits non-zero when anything failed or when no test ran at all.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

npx --no-install tap --reporter=tap "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# tap prints its own "# { total: N, pass: P, fail: F ... }"; take the counts from it.
summary=$(grep -E '^# \{ ?total' "$log" | tail -1)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
total=${total:-0}; pass=${pass:-0}; fail=${fail:-0}
if [ "$total" -eq 0 ]; then
  echo "no test ran"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
# CI keeps only the tail of the output: repeat every failed verdict (with the
# file it belongs to) just above the summary so the failure is never cut off.
if [ "$fail" -ne 0 ]; then
  echo "# failed:"
  grep -nE '^ *not ok ' "$log" | grep -v ' # TODO' | head -40 | sed 's/^/#   /'
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$status" -eq 0 ]
