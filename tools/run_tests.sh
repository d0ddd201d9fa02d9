#!/usr/bin/env bash
# Runs every featx test: installs what is missing, builds, tests, and ends with
# one line "N passed, N failed" counting test cases (gtest and unittest cases
# from each target's JUnit XML; a target that failed to build or left no XML
# counts as one failed case).
#
# FEATX_LIBTORCH picks the libtorch to build and test against (debian, the
# default; pip; a directory), or several, comma-separated, each run in turn
# and counted together (what CI does):
#   tools/run_tests.sh
#   FEATX_LIBTORCH=pip tools/run_tests.sh
#   FEATX_LIBTORCH=debian,pip tools/run_tests.sh
# Usage: tools/run_tests.sh [extra bazel test flags]
set -uo pipefail
cd "$(dirname "$0")/.."

FEATX_LIBTORCH="${FEATX_LIBTORCH:-debian}" bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

IFS=',' read -r -a choices <<<"${FEATX_LIBTORCH:-debian}"
logs=()
trap 'rm -f "${logs[@]}"' EXIT
runs=()
worst=0
for choice in "${choices[@]}"; do
  log=$(mktemp)
  logs+=("$log")
  echo "=== featx tests against FEATX_LIBTORCH=$choice" | tee "$log"
  FEATX_LIBTORCH="$choice" tools/bazel.sh test //... --keep_going "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  ((rc > worst)) && worst=$rc
  info="$(FEATX_LIBTORCH="$choice" tools/bazel.sh info output_base 2>/dev/null)/external/libtorch/info.txt"
  label="FEATX_LIBTORCH=$choice: $(cut -d';' -f1 "$info" 2>/dev/null || echo "libtorch not found")"
  runs+=(--run "$label" "$log" "$(FEATX_LIBTORCH="$choice" tools/bazel.sh info bazel-testlogs 2>/dev/null)" "$rc")
done

/usr/bin/python3 tools/test_summary.py "${runs[@]}"
summary_rc=$?
if ((worst != 0)); then exit "$worst"; fi
exit "$summary_rc"
