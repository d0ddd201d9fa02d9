#!/usr/bin/env bash
# Runs featx's host, ops, C API, threads and pipeline tests (targets.txt) under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the multithreaded ones
# (tsan_targets.txt) under ThreadSanitizer
# (.bazelrc's asan and tsan configs), against FEATX_LIBTORCH (debian by
# default). libtorch itself is not instrumented: the suppression files here
# name libtorch's frames only, never featx's.
#   tools/sanitizers/run.sh                 # both
#   tools/sanitizers/run.sh asan            # one
#   tools/sanitizers/run.sh tsan --test_output=streamed
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

configs=(asan tsan)
if [[ $# -gt 0 && "$1" != -* ]]; then configs=("$1"); shift; fi

rc=0
for config in "${configs[@]}"; do
  case "$config" in
    asan)
      env=(--test_env=ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_init_order=1:detect_stack_use_after_return=1
           --test_env=LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0
           --test_env=UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$here/ubsan.supp) ;;
    tsan)
      env=(--test_env=TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tsan.supp) ;;
    *) echo "tools/sanitizers/run.sh: unknown config '$config' (asan or tsan)" >&2; exit 2 ;;
  esac
  # TSan: the multithreaded tests only (tsan_targets.txt).
  list="$here/targets.txt"
  [[ "$config" == tsan ]] && list="$here/tsan_targets.txt"
  mapfile -t targets < <(grep -v '^#' "$list" | grep .)
  echo "=== featx under --config=$config"
  # Not cached: the suppression files are not inputs Bazel knows of.
  tools/bazel.sh test --config="$config" "${env[@]}" --nocache_test_results --keep_going "$@" -- "${targets[@]}" || rc=1
done
exit $rc
