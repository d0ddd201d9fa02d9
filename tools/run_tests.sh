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
# With pip among them, the Python package is also installed into a fresh
# virtualenv and tested from there (tools/package_tests.sh), one more run.
# FEATX_SANITIZERS=1 adds the host, ops, C API, threads and pipeline tests under
# ASan+UBSan and TSan against the first libtorch (tools/sanitizers/run.sh),
# counted as two more runs; FEATX_FUZZ=1 runs the fuzzers for a fixed number
# of inputs each (tools/fuzz.sh), one more run. CI does both, and
# FEATX_LINT=1: formatting (C++, BUILD, Python) and the docs (tools/lint.sh).
# Usage: tools/run_tests.sh [extra bazel test flags]
set -uo pipefail
cd "$(dirname "$0")/.."

FEATX_LIBTORCH="${FEATX_LIBTORCH:-debian}" bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
echo "=== setup: done after $SECONDS s"

# Each run's JUnit XML files, copied before the next run (same output
# directory) overwrites them, with their times (tools/test_summary.py tells
# this run's shards from an earlier run's file by them); prints the copy's
# directory.
snapshot_testlogs() {
  local testlogs snap
  testlogs="$(FEATX_LIBTORCH="$1" tools/bazel.sh info bazel-testlogs 2>/dev/null)"
  snap=$(mktemp -d -p "$snapshots")
  (cd "$testlogs" 2>/dev/null && find -L . -name test.xml) | while read -r xml; do
    mkdir -p "$snap/$(dirname "$xml")" && cp -p "$testlogs/$xml" "$snap/$xml"
  done
  echo "$snap"
}

IFS=',' read -r -a choices <<<"${FEATX_LIBTORCH:-debian}"
snapshots=$(mktemp -d)
logs=("$snapshots")
trap 'rm -rf "${logs[@]}"' EXIT
runs=()
worst=0

# Runs a command with its output teed into a new log; sets `log` and `rc`.
run_logged() {
  local title="$1"
  shift
  log=$(mktemp)
  logs+=("$log")
  local start=$SECONDS
  echo "=== $title" | tee "$log"
  "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  # CI's budget is per run; each stage's share shows where it goes.
  echo "=== $title: exit $rc after $((SECONDS - start)) s"
  ((rc > worst)) && worst=$rc
  return 0
}

# The first libtorch builds everything (benchmarks and fuzzers must build);
# each later one builds only what its tests need.
only_tests=()
for choice in "${choices[@]}"; do
  run_logged "featx tests against FEATX_LIBTORCH=$choice" \
    env FEATX_LIBTORCH="$choice" tools/bazel.sh test //... --keep_going "${only_tests[@]}" "$@"
  only_tests=(--build_tests_only)
  info="$(FEATX_LIBTORCH="$choice" tools/bazel.sh info output_base 2>/dev/null)/external/libtorch/info.txt"
  label="FEATX_LIBTORCH=$choice: $(cut -d';' -f1 "$info" 2>/dev/null || echo "libtorch not found")"
  runs+=(--run "$label" "$log" "$(snapshot_testlogs "$choice")" "$rc")
done

# The Python package as users install it, with PyPI's torch; its tests
# include the host tests (TorchServe, Ray Serve, Ray Data).
if [[ ",${FEATX_LIBTORCH:-debian}," == *,pip,* ]]; then
  results=$(mktemp -d -p "$snapshots")
  run_logged "featx Python package: pip install into a fresh virtualenv (tools/package_tests.sh)" \
    tools/package_tests.sh "$results"
  runs+=(--run "Python package (PyPI torch)" "$log" "$results" "$rc")
fi

if [[ "${FEATX_SANITIZERS:-0}" == 1 ]]; then
  for config in asan tsan; do
    run_logged "featx host tests under --config=$config (FEATX_LIBTORCH=${choices[0]})" \
      env FEATX_LIBTORCH="${choices[0]}" tools/sanitizers/run.sh "$config" "$@"
    runs+=(--run "FEATX_LIBTORCH=${choices[0]} under $config" "$log" "$(snapshot_testlogs "${choices[0]}")" "$rc")
  done
fi

if [[ "${FEATX_LINT:-0}" == 1 ]]; then
  results=$(mktemp -d -p "$snapshots")
  run_logged "featx style and docs (tools/lint.sh)" tools/lint.sh "$results"
  runs+=(--run "style and docs" "$log" "$results" "$rc")
fi

if [[ "${FEATX_FUZZ:-0}" == 1 ]]; then
  run_logged "featx fuzzers (tools/fuzz.sh)" tools/fuzz.sh
  runs+=(--run "fuzzers, ASan+UBSan" "$log" "" "$rc")
fi

/usr/bin/python3 tools/test_summary.py "${runs[@]}"
summary_rc=$?
if ((worst != 0)); then exit "$worst"; fi
exit "$summary_rc"
