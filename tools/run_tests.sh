#!/usr/bin/env bash
# Runs every featx test: installs what is missing, builds, tests, and ends with
# one line "N passed, N failed" counting test cases (gtest and unittest cases
# from each target's JUnit XML; a target that failed to build or left no XML
# counts as one failed case).
# Usage: tools/run_tests.sh [extra bazel test flags]
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel test //... --keep_going "$@" 2>&1 | tee "$log"
bazel_rc=${PIPESTATUS[0]}

/usr/bin/python3 tools/test_summary.py --log "$log" --testlogs "$(bazel info bazel-testlogs 2>/dev/null)" \
  --bazel_exit_code "$bazel_rc"
summary_rc=$?
if ((bazel_rc != 0)); then exit "$bazel_rc"; fi
exit "$summary_rc"
