#!/usr/bin/env bash
# Runs a Python test with the Python whose torch matches the libtorch featx
# was built against (TORCH_PYTHON in @libtorch//:defs.bzl, which each test
# passes as FEATX_TEST_PYTHON): Debian's /usr/bin/python3 for 1.13, .venv's
# for pip. Another python3 may be first on PATH and have no torch at all.
# Usage: run_python_test.sh TEST.py [ARGS...]
set -euo pipefail
test_py="$1"
shift
# The test's own directory, the shared helpers (bazel_unittest.py) and the
# checkout's Python package (python/featx, for tests that take it as data).
export PYTHONPATH="$(dirname "$test_py"):tests/python:python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
exec "${FEATX_TEST_PYTHON:?no Python with the torch featx was built against; set FEATX_PYTHON (docs/libtorch.md)}" "$test_py" "$@"
