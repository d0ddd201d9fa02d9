#!/usr/bin/env bash
# featx's Python package as users get it. A fresh virtualenv gets PyPI's torch
# (tools/requirements-torch2.txt) and the servers (tools/requirements-hosts.txt),
# then `pip wheel` and `pip install` of this checkout (setup.py builds the
# plugin with Bazel against that torch; Bazel's disk cache makes it a cache
# hit after FEATX_LIBTORCH=pip). From that environment, outside the checkout,
# run: the README's Python quick start verbatim and the installed package's
# checks (tests/package/python_package_test.py), the API against torchvision
# (tests/python/api_test.py) and the host tests (tests/servers: TorchServe, Ray
# Serve, Ray Data).
#
#   tools/package_tests.sh [RESULTS_DIR]   # each test's JUnit XML lands there
#
# Prints the wheel's name and size and the build and install times. The
# virtualenv (.venv-package, or FEATX_PACKAGE_VENV) is made anew each run and
# removed after, unless FEATX_KEEP_PACKAGE_VENV=1. Run tools/setup.sh with
# FEATX_LIBTORCH=pip first (tools/run_tests.sh does).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
results="${1:-$(mktemp -d)}"
mkdir -p "$results"
venv="${FEATX_PACKAGE_VENV:-$root/.venv-package}"
work="$(mktemp -d)"
cleanup() {
  rm -rf "$work"
  [[ "${FEATX_KEEP_PACKAGE_VENV:-0}" == 1 ]] || rm -rf "$venv"
}
trap cleanup EXIT

step() { echo "featx package: $*" >&2; }

step "a fresh virtualenv at $venv with $(grep -hv '^#' tools/requirements-torch2.txt tools/requirements-hosts.txt tools/requirements-build.txt | xargs)"
rm -rf "$venv"
start=$SECONDS
/usr/bin/python3 -m venv "$venv" || exit 1
"$venv/bin/pip" install --quiet --progress-bar off -r tools/requirements-torch2.txt -r tools/requirements-hosts.txt \
  -r tools/requirements-build.txt >&2 || exit 1
step "the virtualenv took $((SECONDS - start)) s"

start=$SECONDS
step "pip wheel --no-build-isolation . (Bazel builds the plugin against this environment's torch)"
"$venv/bin/pip" wheel --no-build-isolation --no-deps --wheel-dir "$work/dist" . >"$work/wheel.log" 2>&1 || {
  tail -50 "$work/wheel.log" >&2
  exit 1
}
built=$((SECONDS - start))
wheel="$(ls "$work"/dist/featx-*.whl)"
start=$SECONDS
"$venv/bin/pip" install --quiet --progress-bar off "$wheel" >&2 || exit 1
installed=$((SECONDS - start))
echo "featx package: $(basename "$wheel"), $(stat -c %s "$wheel") bytes; built in ${built} s, installed in ${installed} s"

# The model whose train and eval graphs differ, for the TorchServe test.
FEATX_LIBTORCH=pip tools/bazel.sh build //tests/models:train_eval_branch >/dev/null 2>&1 || exit 1
branchy="$(FEATX_LIBTORCH=pip tools/bazel.sh info bazel-bin 2>/dev/null)/tests/models/train_eval_branch.pt"

# Each test from a directory outside the checkout, so that only the
# installed featx is importable; the helpers come from tests/python and
# tests/servers. A test's cases go to its JUnit XML, and its status line reads
# as Bazel's ("//installed:NAME PASSED"), which tools/test_summary.py counts.
rc=0
run() {
  local name="$1" timeout="$2"
  shift 2
  local xml="$results/installed/$name/test.xml" status=PASSED start=$SECONDS
  mkdir -p "$(dirname "$xml")" "$work/$name"
  step "$name"
  (cd "$work/$name" && env -u FEATX_PLUGIN XML_OUTPUT_FILE="$xml" OMP_NUM_THREADS=1 \
    PYTHONPATH="$root/tests/python:$root/tests/servers" PYTHONDONTWRITEBYTECODE=1 \
    timeout "$timeout" "$venv/bin/python" "$@") || status=FAILED
  [[ -f "$xml" ]] || status=FAILED
  [[ "$status" == PASSED ]] || rc=1
  echo "//installed:$name $status in $((SECONDS - start)) s"
}
run python_package_test 600 "$root/tests/package/python_package_test.py" "$root/README.md" "$wheel"
run api_test 600 "$root/tests/python/api_test.py"
run torchserve_test 900 "$root/tests/servers/torchserve_test.py" "$branchy"
run ray_serve_test 900 "$root/tests/servers/ray_serve_test.py"
run ray_data_test 900 "$root/tests/servers/ray_data_test.py"
exit $rc
