#!/usr/bin/env bash
# bazel run //bench:scaling [-- --sizes 1000,10000 --families deep]
# (bench/scaling.py says what it measures.)
set -euo pipefail
python="$1"  # the Python whose torch featx is built against (@libtorch//:defs.bzl)
shift
exec env PYTHONDONTWRITEBYTECODE=1 "$python" "$@"
