#!/usr/bin/env bash
# featx_host throughput with and without taps, side by side in one run:
# resnet18 (1x3x64x64), REQUESTS requests on 2 threads, each request in a
# capture; "with taps" rewrites the model in tap mode on 20 nodes; "executor
# hook" leaves the model alone and lets the opt-in hook tap the 17 of them
# that are leaf module calls (plugin/host/executor_hook.h). Runs alternate, 5 of
# each; the ratios are of the median times.
#   bazel run //bench:host_bench
set -euo pipefail
host="$1" plugin="$2" model="$3" input="$4"
requests="${REQUESTS:-200}"
nodes="x,conv1,bn1,relu,maxpool,layer1.0.conv1,layer1.0.bn1,layer1.0.relu,layer1.0.add,layer1,layer2.0.conv1,\
layer2.0.bn1,layer2.0.add,layer2,layer3.0.conv1,layer3,layer4.0.bn1,layer4,avgpool,fc"
run() {
  "$host" --model="$model" --plugin="$plugin" --input="$input" --requests="$requests" --threads=2 --quiet "$@" 2>&1 |
    sed -n 's/.* in \([0-9.]*\) ms$/\1/p'
}
leaf_calls="conv1,bn1,relu,maxpool,layer1.0.conv1,layer1.0.bn1,layer1.0.relu,layer1,layer2.0.conv1,layer2.0.bn1,\
layer2,layer3.0.conv1,layer3,layer4.0.bn1,layer4,avgpool,fc"
plain=() taps=() hook=()
for _ in 1 2 3 4 5; do
  plain+=("$(run --rewrite=false)")
  taps+=("$(run --featx_mode=tap --featx_return_nodes="$nodes")")
  hook+=("$(FEATX_FLAGS="--featx_executor_hook --featx_return_nodes=$leaf_calls" run --rewrite=false)")
done
/usr/bin/python3 - "$requests" "${plain[*]}" "${taps[*]}" "${hook[*]}" <<'PY'
import statistics, sys
requests = int(sys.argv[1])
plain = [float(x) for x in sys.argv[2].split()]
taps = [float(x) for x in sys.argv[3].split()]
hook = [float(x) for x in sys.argv[4].split()]
p, t, h = statistics.median(plain), statistics.median(taps), statistics.median(hook)
print(f"featx_host, resnet18 1x3x64x64, {requests} requests on 2 threads, each in a capture; median of 5 runs:")
print(f"  plain model             {p:8.1f} ms  ({requests / p * 1e3:6.1f} requests/s)")
print(f"  tap mode on 20 nodes    {t:8.1f} ms  ({requests / t * 1e3:6.1f} requests/s)")
print(f"  executor hook, 17 calls {h:8.1f} ms  ({requests / h * 1e3:6.1f} requests/s)")
print(f"  with taps / without:    {t / p:.3f}x")
print(f"  executor hook / without: {h / p:.3f}x")
PY
