#!/usr/bin/env bash
# featx against torchvision on resnet50, side by side in one run: node names
# (GetGraphNodeNames vs get_graph_node_names) and rewriting into a feature
# extractor (CreateFeatureExtractor vs create_feature_extractor, same nodes).
#   bazel run //bench:vs_torchvision
set -euo pipefail
names_bench="$1"
extract_bench="$2"
model="$3"
torchvision_times="$4"
python="$5"  # the Python whose torch featx is built against (@libtorch//:defs.bzl)
nodes="layer1,layer3,fc"  # extract_bench's BM_CreateFeatureExtractor chooses these too
aggregate=(--benchmark_format=json --benchmark_repetitions=5 --benchmark_report_aggregates_only=true)
names_json=$("$names_bench" --model="$model" "${aggregate[@]}" 2>/dev/null)
extract_json=$("$extract_bench" --model="$model" --benchmark_filter=BM_CreateFeatureExtractor --benchmark_format=json \
  2>/dev/null)
torchvision_json=$(PYTHONDONTWRITEBYTECODE=1 "$python" "$torchvision_times" resnet50 "$nodes" 2>/dev/null)
/usr/bin/python3 - "$names_json" "$extract_json" "$torchvision_json" "$nodes" <<'PY'
import json, sys

def ms(report, suffix=""):
    runs = json.loads(report)["benchmarks"]
    run = next(b for b in runs if b["name"].endswith(suffix))
    return run["real_time"]  # milliseconds

names_ms, extract_ms = ms(sys.argv[1], "_median"), ms(sys.argv[2])
tv = json.loads(sys.argv[3])
rows = [
    (f"node names ({tv['eval_names']} in eval mode)", tv["names_seconds"] * 1e3, names_ms),
    (f"feature extractor of {sys.argv[4]}", tv["extractor_seconds"] * 1e3, extract_ms),
]
print(f"resnet50, this machine, one run, torch {tv.get('torch', '?')} / torchvision {tv.get('torchvision', '?')}")
print(f"                                           torchvision      featx    featx is")
for what, tv_ms, featx_ms in rows:
    print(f"  {what:38} {tv_ms:8.1f} ms {featx_ms:7.1f} ms  {tv_ms / featx_ms:5.1f}x faster")
PY
