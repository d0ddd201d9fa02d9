#!/usr/bin/env bash
# Runs a Python test with Debian's /usr/bin/python3, which has torch and
# torchvision (another python3 may be first on PATH and have neither).
# Usage: run_python_test.sh TEST.py [ARGS...]
set -euo pipefail
test_py="$1"
shift
# The test's own directory and the shared helpers (bazel_unittest.py).
export PYTHONPATH="$(dirname "$test_py"):tests/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$test_py" "$@"
