#!/usr/bin/env bash
# Writes featx's C++ package for the libtorch FEATX_LIBTORCH names (debian,
# pip or a directory; tools/bazel.sh) into the current directory:
#   FEATX_LIBTORCH=pip tools/dist.sh
#   # -> ./featx-0.1.0-torch2.15.0-linux-x86_64.tar.gz
# What it holds and how a CMake server uses it: docs/packaging.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
FEATX_LIBTORCH="${FEATX_LIBTORCH:-debian}" bash "$root/tools/setup.sh"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
(cd "$root" && tools/bazel.sh build //dist 2>&1 | tee "$log" >&2)
# Bazel names the file it built: "  bazel-bin/dist/featx-....tar.gz".
built="$(grep -oE 'bazel-bin/dist/featx-[^ ]+\.tar\.gz' "$log" | tail -1)"
[[ -n "$built" ]] || { echo "tools/dist.sh: the build named no package; see above" >&2; exit 1; }
cp -f "$root/$built" .
echo "$(basename "$built")"
