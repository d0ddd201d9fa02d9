#!/usr/bin/env bash
# featx against torchvision, side by side in one run, on resnet50,
# convnext_tiny, efficientnet_b0, inception_v3 and densenet121: node names
# (GetGraphNodeNames vs get_graph_node_names) and rewriting into a feature
# extractor (CreateFeatureExtractor vs create_feature_extractor, same nodes).
# Both sides are in-process CPU time, the median of repeated warm calls.
#   bazel run //bench:vs_torchvision
set -euo pipefail
names_bench="$1"
extract_bench="$2"
torchvision_times="$3"
python="$4"  # the Python whose torch featx is built against (@libtorch//:defs.bzl)
shift 4
rows=()
for spec in "$@"; do  # name=path=nodes
  IFS='=' read -r name model nodes <<<"$spec"
  aggregate=(--benchmark_format=json --benchmark_repetitions=5 --benchmark_report_aggregates_only=true)
  names_json=$("$names_bench" --model="$model" "${aggregate[@]}" 2>/dev/null)
  extract_json=$("$extract_bench" --model="$model" --return_nodes="$nodes" --benchmark_filter=BM_CreateFeatureExtractor \
    --benchmark_format=json 2>/dev/null)
  torchvision_json=$(PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 "$python" "$torchvision_times" "$name" "$nodes" \
    2>/dev/null)
  rows+=("$(printf '%s\t%s\t%s\t%s' "$name" "$names_json" "$extract_json" "$torchvision_json" | base64 -w0)")
done
/usr/bin/python3 - "${rows[@]}" <<'PY'
import base64, json, sys

def cpu_ms(report, suffix=""):
    runs = json.loads(report)["benchmarks"]
    run = next(b for b in runs if b["name"].endswith(suffix))
    return run["cpu_time"]  # milliseconds

print("this machine, one run; in-process CPU time, median of warm calls")
print(f"{'':18} {'':>5}  {'names: torchvision':>18} {'featx':>8} {'':>7}   {'extractor: torchvision':>22} {'featx':>8}")
for row in sys.argv[1:]:
    name, names_json, extract_json, tv_json = base64.b64decode(row).decode().split("\t")
    tv = json.loads(tv_json)
    names_ms, extract_ms = cpu_ms(names_json, "_median"), cpu_ms(extract_json)
    tv_names, tv_extract = tv["names_seconds"] * 1e3, tv["extractor_seconds"] * 1e3
    print(f"{name:18} {tv['eval_names']:5}  {tv_names:15.1f} ms {names_ms:5.2f} ms {tv_names / names_ms:6.1f}x   "
          f"{tv_extract:19.1f} ms {extract_ms:5.2f} ms {tv_extract / extract_ms:6.1f}x")
print(f"torch {tv.get('torch', '?')} / torchvision {tv.get('torchvision', '?')}; the second number is eval nodes")
PY
