"""Times torchvision's get_graph_node_names and create_feature_extractor on
an architecture (the median CPU time of 5 calls after a warm-up, in this
process); prints JSON
{"model": ..., "torch": ..., "torchvision": ..., "eval_names": N, "names_seconds": ..., "extractor_seconds": ...}.

Usage: torchvision_times.py MODEL RETURN_NODES (comma-separated)."""
import json
import sys
import time
import warnings

import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names


def median_seconds(fn):
    fn()  # warm-up
    times = []
    for _ in range(5):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return sorted(times)[len(times) // 2]


def main():
    name, return_nodes = sys.argv[1], sys.argv[2].split(",")
    kwargs = {"aux_logits": False, "init_weights": False} if name == "inception_v3" else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    warnings.simplefilter("ignore")
    _, eval_names = get_graph_node_names(model, suppress_diff_warning=True)
    print(json.dumps({
        "model": name,
        "torch": torch.__version__.split("+")[0],
        "torchvision": torchvision.__version__.split("+")[0],
        "eval_names": len(eval_names),
        "names_seconds": median_seconds(lambda: get_graph_node_names(model, suppress_diff_warning=True)),
        "extractor_seconds": median_seconds(lambda: create_feature_extractor(model, return_nodes=return_nodes)),
    }))


if __name__ == "__main__":
    main()
