#!/usr/bin/env bash
# Runs bazel against the libtorch FEATX_LIBTORCH names (debian, the default;
# pip; or a directory), as ./featx, tools/run_tests.sh and the benchmarks do.
#   tools/bazel.sh build //plugin:libfeatx.so
#   FEATX_LIBTORCH=pip tools/bazel.sh test //tests/names:all
#   FEATX_LIBTORCH=/opt/libtorch tools/bazel.sh build //plugin:libfeatx.so
#
# The choice reaches the repository rule (third_party/libtorch/repository.bzl)
# as --repo_env, with a stamp of .venv/ so that installing it later is
# noticed; a relative directory is taken from where you run this. Switching
# choices rebuilds what depends on libtorch; .bazelrc's disk cache makes
# switching back a cache hit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

choice="${FEATX_LIBTORCH:-debian}"
case "$choice" in
  debian | pip) ;;
  *,*) echo "tools/bazel.sh: FEATX_LIBTORCH=$choice names several; run one at a time" >&2; exit 2 ;;
  *)
    [[ -d "$choice" ]] || { echo "FEATX_LIBTORCH=$choice: not debian, pip or a directory" >&2; exit 2; }
    choice="$(cd "$choice" && pwd)"
    ;;
esac

venv="${FEATX_VENV:-$root/.venv}"
stamp="none"
[[ -f "$venv/featx-requirements.txt" ]] && stamp="$(md5sum <"$venv/featx-requirements.txt" | cut -c1-12)"

command="$1"
shift
case "$command" in
  build | test | run | query | cquery | aquery | fetch | sync | coverage)
    exec bazel "$command" --repo_env=FEATX_LIBTORCH="$choice" --repo_env=FEATX_VENV_STAMP="$stamp" \
      ${FEATX_PYTHON:+--repo_env=FEATX_PYTHON="$FEATX_PYTHON"} ${FEATX_VENV:+--repo_env=FEATX_VENV="$FEATX_VENV"} \
      ${FEATX_LIBTORCH_INCLUDE:+--repo_env=FEATX_LIBTORCH_INCLUDE="$FEATX_LIBTORCH_INCLUDE"} "$@"
    ;;
  *) exec bazel "$command" "$@" ;;
esac
