#!/usr/bin/env bash
# Checks that style, docs and layering do not drift: clang-format on every
# C++ file, buildifier on every BUILD and .bzl file, ruff on every Python file
# (pyproject.toml's [tool.ruff]), the docs (tools/check_docs.py), and that
# each C++ target includes only headers of its direct deps
# (tools/check_header_deps.py, Bazel's layering_check for gcc). Installs
# what it needs when missing: clang-format-14 from Debian (tools/setup.sh with
# FEATX_LINT=1), ruff into .venv-lint/ (tools/requirements-lint.txt), and
# buildifier built by the Go toolchain into .venv-lint/bin.
#
#   tools/lint.sh [RESULTS_DIR]     # each check's JUnit XML lands there
#
# Each check prints a status line as Bazel's ("//lint:NAME PASSED"), which
# tools/test_summary.py counts. To fix what it finds:
#   clang-format-14 -i FILE; .venv-lint/bin/buildifier --lint=off FILE;
#   .venv-lint/bin/ruff check --fix FILE
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
results="${1:-$(mktemp -d)}"
venv="$root/.venv-lint"
# Pinned to one commit of buildtools (2026-09-04), as the Go proxy serves it.
BUILDIFIER="github.com/bazelbuild/buildtools/buildifier@v0.0.0-20260904073137-eaa4d125b423"

install() {
  [[ -x "$venv/bin/ruff" ]] || {
    /usr/bin/python3 -m venv "$venv" && "$venv/bin/pip" install --quiet -r tools/requirements-lint.txt
  } || return 1
  [[ -x "$venv/bin/buildifier" ]] || {
    command -v go >/dev/null || { echo "tools/lint.sh: buildifier is built with Go; install the Go toolchain" >&2; return 1; }
    GOBIN="$venv/bin" go install "$BUILDIFIER"
  }
}

# Runs one check; its output becomes the failure message of its JUnit case.
check() {
  local name="$1" out status=PASSED failures=0 start=$SECONDS
  shift
  out=$("$@" 2>&1) || { status=FAILED; failures=1; }
  mkdir -p "$results/lint/$name"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites tests=\"1\" failures=\"$failures\"><testsuite name=\"lint\" tests=\"1\" failures=\"$failures\">"
    echo "<testcase name=\"$name\">"
    ((failures)) && printf '<failure message="%s"/>\n' "$(head -c 2000 <<<"$out" | python3 -c 'import html, sys; print(html.escape(sys.stdin.read()))')"
    echo "</testcase></testsuite></testsuites>"
  } >"$results/lint/$name/test.xml"
  [[ "$status" == PASSED ]] || echo "$out" | head -40
  echo "//lint:$name $status in $((SECONDS - start)) s"
  [[ "$status" == PASSED ]]
}

install || { echo "//lint:install FAILED"; exit 1; }
mapfile -t cpp < <(git ls-files '*.cc' '*.h')
mapfile -t starlark < <(git ls-files 'WORKSPACE' 'BUILD.bazel' '*/BUILD.bazel' '*/BUILD' '*.BUILD' '*.bzl')
mapfile -t python < <(git ls-files '*.py')
rc=0
check clang_format clang-format-14 --dry-run -Werror "${cpp[@]}" || rc=1
check buildifier "$venv/bin/buildifier" --mode=check --lint=off "${starlark[@]}" || rc=1
check ruff "$venv/bin/ruff" check --quiet "${python[@]}" || rc=1
check docs /usr/bin/python3 tools/check_docs.py "$root" || rc=1
header_deps() {
  local query errors
  query=$(mktemp)
  errors=$(mktemp)
  # The first libtorch of a list (tools/run_tests.sh's FEATX_LIBTORCH=debian,pip):
  # the build graph is the same for each.
  FEATX_LIBTORCH="${FEATX_LIBTORCH:+${FEATX_LIBTORCH%%,*}}" tools/bazel.sh query \
    'kind("cc_(library|binary|test)", //... + @com_google_absl//absl/...)' --output=xml >"$query" 2>"$errors" || {
    echo "bazel query failed:"
    tail -5 "$errors"
    rm -f "$query" "$errors"
    return 1
  }
  rm -f "$errors"
  /usr/bin/python3 tools/check_header_deps.py "$query" "$root"
  local status=$?
  rm -f "$query"
  return $status
}
check header_deps header_deps || rc=1
exit $rc
