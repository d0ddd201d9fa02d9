#!/usr/bin/env bash
# Runs bench/serving_bench.py by the Python whose torch featx was built
# against (the servers live in its .venv). Usage: serving_bench.sh PYTHON ARGS...
set -euo pipefail
python="$1"
shift
exec "$python" bench/serving_bench.py "$@"
