#!/usr/bin/env bash
# featx::GetGraphNodeNames vs torchvision's get_graph_node_names on resnet50,
# side by side in one run, and the ratio.
#   bazel run //bench:names_vs_torchvision
set -euo pipefail
bench="$1"
model="$2"
featx_json=$("$bench" --model="$model" --benchmark_format=json --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>/dev/null)
torchvision_json=$(PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$3" resnet50 2>/dev/null)
/usr/bin/python3 - "$featx_json" "$torchvision_json" <<'PY'
import json, sys
featx = json.loads(sys.argv[1])
median = next(b for b in featx["benchmarks"] if b["name"].endswith("_median"))
featx_s = median["real_time"] / 1e3  # milliseconds
tv = json.loads(sys.argv[2])
print(f"resnet50 node names ({tv['eval_names']} in eval mode)")
print(f"  torchvision get_graph_node_names  {tv['seconds_per_call'] * 1e3:8.1f} ms")
print(f"  featx GetGraphNodeNames           {featx_s * 1e3:8.1f} ms")
print(f"  featx is {tv['seconds_per_call'] / featx_s:.1f}x faster")
PY
