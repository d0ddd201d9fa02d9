#!/usr/bin/env bash
# Runs bench/startup_bench.py by the Python whose torch featx was built
# against. Usage: startup_bench.sh PYTHON ARGS...
set -euo pipefail
python="$1"
shift
exec "$python" bench/startup_bench.py "$@"
