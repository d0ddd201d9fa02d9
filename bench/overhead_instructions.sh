#!/usr/bin/env bash
# Instructions per request of featx's rewritten models against the plain one,
# counted by callgrind (exact and repeatable, unlike time on these VMs):
#   bazel run //bench:overhead_instructions
# Takes about 30 minutes on 2 cores (valgrind runs ~50x slower). Prints
# each variant's instructions per request and its ratio to the plain model
# (tap mode in a capture against the plain model in a capture) and the
# difference in instructions (explain one with callgrind_annotate on its dump).
set -euo pipefail
binary="$1"
model="$2"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
requests=3
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out/cg" \
  "$binary" --model="$model" --requests="$requests" >"$out/stdout" 2>"$out/valgrind.log" ||
  { cat "$out/valgrind.log" >&2; exit 1; }
/usr/bin/python3 - "$out" "$requests" <<'PY'
import glob, os, re, subprocess, sys

out, requests = sys.argv[1], int(sys.argv[2])
counts, files = {}, {}
for path in glob.glob(os.path.join(out, "cg.*")):
    text = open(path, errors="replace").read()
    trigger = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.M)
    total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if trigger and total:
        counts[trigger.group(1)] = int(total.group(1)) / requests
        files[trigger.group(1)] = path
print("resnet50, 1x3x128x128, one intra-op thread; instructions per request (callgrind), "
      f"mean of {requests} after warm-up")
rows = [("plain model", "plain", "plain"),
        ("dict mode, the last node", "dict_last_node", "plain"),
        ("dict mode, 5 nodes", "dict_5_nodes", "plain"),
        ("tap mode, 20 nodes, no capture open", "tap_20_no_capture", "plain"),
        ("plain model in a capture", "plain_in_capture", "plain"),
        ("tap mode, 20 nodes, capture open", "tap_20_capture", "plain_in_capture")]
for label, name, base in rows:
    print(f"  {label:<40} {counts[name]:>15,.0f}  {counts[name] / counts[base]:.6f}x  ({counts[name] - counts[base]:+,.0f})")
PY
