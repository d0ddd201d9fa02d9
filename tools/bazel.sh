#!/usr/bin/env bash
# Runs bazel against the libtorch FEATX_LIBTORCH names (debian, the default;
# pip; or a directory), as ./featx, tools/run_tests.sh and the benchmarks do.
#   tools/bazel.sh build //plugin:libfeatx.so
#   FEATX_LIBTORCH=pip tools/bazel.sh test //tests/names:all
#   FEATX_LIBTORCH=/opt/libtorch tools/bazel.sh build //plugin:libfeatx.so
#
# Each choice gets an output base of its own, so switching between them does
# not rebuild everything; bazel-bin/ points at the last one built. A relative
# directory is taken from where you run this. The choice reaches the
# repository rule (third_party/libtorch/repository.bzl) as --repo_env, with a
# stamp of .venv/ so that installing it later is noticed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

choice="${FEATX_LIBTORCH:-debian}"
case "$choice" in
  debian | pip) slug="$choice" ;;
  *,*) echo "tools/bazel.sh: FEATX_LIBTORCH=$choice names several; run one at a time" >&2; exit 2 ;;
  *)
    [[ -d "$choice" ]] || { echo "FEATX_LIBTORCH=$choice: not debian, pip or a directory" >&2; exit 2; }
    choice="$(cd "$choice" && pwd)"
    slug="dir-$(printf '%s' "$choice" | md5sum | cut -c1-12)"
    ;;
esac

venv="${FEATX_VENV:-$root/.venv}"
stamp="none"
[[ -f "$venv/featx-requirements.txt" ]] && stamp="$(md5sum <"$venv/featx-requirements.txt" | cut -c1-12)"

command="$1"
shift
output_base="${FEATX_BAZEL_CACHE:-$HOME/.cache/featx-bazel}/$(printf '%s' "$root" | md5sum | cut -c1-8)/$slug"
startup=(--output_base="$output_base")
case "$command" in
  build | test | run | query | cquery | aquery | fetch | sync | coverage)
    exec bazel "${startup[@]}" "$command" --repo_env=FEATX_LIBTORCH="$choice" --repo_env=FEATX_VENV_STAMP="$stamp" \
      ${FEATX_PYTHON:+--repo_env=FEATX_PYTHON="$FEATX_PYTHON"} ${FEATX_VENV:+--repo_env=FEATX_VENV="$FEATX_VENV"} \
      ${FEATX_LIBTORCH_INCLUDE:+--repo_env=FEATX_LIBTORCH_INCLUDE="$FEATX_LIBTORCH_INCLUDE"} "$@"
    ;;
  *) exec bazel "${startup[@]}" "$command" "$@" ;;
esac
