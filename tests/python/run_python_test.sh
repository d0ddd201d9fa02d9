#!/usr/bin/env bash
# Runs a Python test with Debian's /usr/bin/python3, which has torch and
# torchvision (another python3 may be first on PATH and have neither).
# Usage: run_python_test.sh TEST.py [ARGS...]
set -euo pipefail
test_py="$1"
shift
export PYTHONPATH="$(dirname "$test_py")${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$test_py" "$@"
