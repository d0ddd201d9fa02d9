#!/usr/bin/env bash
# Runs a Python benchmark by the Python whose torch featx was built against
# (TORCH_PYTHON, @libtorch//:defs.bzl). Usage: run_python.sh PYTHON SCRIPT ARGS...
set -euo pipefail
python="$1"
shift
exec "$python" "$@"
