#!/usr/bin/env bash
# Runs each featx fuzzer (fuzz/) for a fixed number of inputs, starting from
# its checked-in corpus, built with clang under ASan+UBSan (--config=fuzz,
# the same objects as --config=asan; Debian's 1.13 libtorch). A crash fails the run and leaves the input in
# fuzz/findings/; add it to fuzz/corpus/NAME/ with the fix, and it becomes
# part of //fuzz:NAME_regression.
#   tools/fuzz.sh                    # CI: every fuzzer, FEATX_FUZZ_RUNS inputs each
#   FEATX_FUZZ_RUNS=1000000 tools/fuzz.sh flags_fuzzer
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Inputs per fuzzer: about half a minute each here.
# Longest input: a program's JSON needs more than a flag line.
declare -A MAX_LEN=([program_fuzzer]=2048)
declare -A RUNS=([flags_fuzzer]=100000 [return_nodes_fuzzer]=100000 [program_fuzzer]=50000 [instrument_fuzzer]=1500)
fuzzers=("$@")
((${#fuzzers[@]} == 0)) && fuzzers=(flags_fuzzer return_nodes_fuzzer program_fuzzer instrument_fuzzer)

command -v clang-14 >/dev/null || { echo "tools/fuzz.sh: needs clang-14 (tools/setup.sh installs it)" >&2; exit 1; }
FEATX_LIBTORCH=debian tools/bazel.sh build --config=fuzz "${fuzzers[@]/#/\/\/fuzz:}" || exit 1
bin="$(FEATX_LIBTORCH=debian tools/bazel.sh info --config=fuzz bazel-bin 2>/dev/null)/fuzz"

mkdir -p fuzz/findings
rc=0
for fuzzer in "${fuzzers[@]}"; do
  runs="${FEATX_FUZZ_RUNS:-${RUNS[$fuzzer]:-10000}}"
  work=$(mktemp -d)  # new inputs found on the way; the checked-in corpus stays as it is
  echo "=== $fuzzer: $runs inputs"
  if ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OMP_NUM_THREADS=1 \
    "$bin/$fuzzer" -runs="$runs" -seed=1 -max_len="${MAX_LEN[$fuzzer]:-512}" -print_final_stats=1 \
    -artifact_prefix="fuzz/findings/$fuzzer-" "$work" "fuzz/corpus/$fuzzer" 2>"$work.log"; then
    echo "//fuzz:$fuzzer PASSED ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$') inputs)"
  else
    rc=1
    tail -40 "$work.log"
    echo "//fuzz:$fuzzer FAILED (input in fuzz/findings/)"
  fi
  rm -rf "$work" "$work.log"
done
exit $rc
