"""Times torchvision's get_graph_node_names on an architecture; prints JSON
{"model": ..., "seconds_per_call": ..., "eval_names": ...}."""
import json
import sys
import time
import warnings

import torchvision
from torchvision.models.feature_extraction import get_graph_node_names

name = sys.argv[1] if len(sys.argv) > 1 else "resnet50"
model = getattr(torchvision.models, name)(weights=None).eval()
warnings.simplefilter("ignore")
get_graph_node_names(model)  # warm-up
times = []
for _ in range(5):
    start = time.perf_counter()
    _, eval_names = get_graph_node_names(model, suppress_diff_warning=True)
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"model": name, "seconds_per_call": times[len(times) // 2], "eval_names": len(eval_names)}))
