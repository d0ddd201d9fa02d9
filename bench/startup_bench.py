"""A server's model start-up with featx against the plain load, side by side
in one run: resnet50, densenet121 and a 10k-node model (bench/scaling_models.py,
family deep), featx in tap mode on three nodes.

  Python     torch.jit.load(path)  vs  featx.load(path, flags) (load + rewrite, in memory)
  C++ host   featx_host's torch::jit::load  vs  that + featx_instrument, as it reports them

Rounds alternate plain / featx, ROUNDS of each (a fresh featx_host process
per C++ round); the ratios are of the medians. TorchServe and Ray Serve load
through the same featx.load (featx.torchserve, featx.ray), so their
start-up adds these figures to the server's own.

    bazel run //bench:startup_bench
Arguments: Python (the one whose torch featx was built against), featx_host,
libfeatx.so, the checkout's python/, bench/scaling_models.py.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

# torch 2.x's deprecation notes for torch.jit.*, once per call site: noise here.
warnings.filterwarnings("ignore", category=FutureWarning)
FEATX_HOST, PLUGIN, PACKAGE, SCALING_MODELS = (os.path.abspath(a) for a in sys.argv[1:5])
os.environ["FEATX_PLUGIN"] = PLUGIN
sys.path.insert(0, PACKAGE)

import torch  # noqa: E402
import torchvision  # noqa: E402

import featx  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "7"))
MODELS = {
    "resnet50": ("layer1,layer4,fc", (1, 3, 224, 224)),
    "densenet121": ("features.denseblock1,features.norm5,classifier", (1, 3, 224, 224)),
    "deep_10000": (None, None),  # nodes: its first, middle and last, from featx's names
}


def make(name, work):
    path = os.path.join(work, name + ".pt")
    nodes, shape = MODELS[name]
    if name.startswith("deep_"):
        subprocess.run([sys.executable, SCALING_MODELS, "--family", "deep", "--nodes", name.split("_")[1], "--out",
                        path], check=True, capture_output=True, timeout=1800)
        eval_nodes = featx.get_graph_node_names(torch.jit.load(path), suppress_diff_warning=True)[1]
        nodes = ",".join(eval_nodes[i] for i in (1, len(eval_nodes) // 2, -1))
        return path, path + ".input.pt", nodes
    torch.jit.script(getattr(torchvision.models, name)().eval()).save(path)
    torch.save(torch.randn(shape), path + ".input.pt")
    return path, path + ".input.pt", nodes


def python_rounds(path, flags):
    plain, with_featx = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        torch.jit.load(path)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        featx.load(path, flags)
        with_featx.append(time.perf_counter() - start)
    return statistics.median(plain) * 1e3, statistics.median(with_featx) * 1e3


def host_rounds(path, input_path, flags):
    load, total = [], []
    for _ in range(ROUNDS):
        result = subprocess.run([FEATX_HOST, "--model=" + path, "--plugin=" + PLUGIN, "--input=" + input_path,
                                 "--requests=1", "--quiet", "--featx=" + flags], capture_output=True, text=True,
                                timeout=1800)
        found = re.search(r"loaded the model in ([0-9.]+) ms, featx_instrument took ([0-9.]+) ms", result.stderr)
        if result.returncode != 0 or not found:
            raise RuntimeError(f"featx_host failed: {result.stderr[-2000:]}")
        load.append(float(found.group(1)))
        total.append(float(found.group(1)) + float(found.group(2)))
    return statistics.median(load), statistics.median(total)


def main():
    torch.set_num_threads(1)
    print(f"Model start-up, plain load vs load + featx rewrite (tap mode, 3 nodes); median of {ROUNDS} rounds each, "
          f"torch {torch.__version__}")
    print(f"{'model':<12} {'host':<8} {'plain ms':>9} {'featx ms':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as work:
        for name in MODELS:
            path, input_path, nodes = make(name, work)
            flags = "--featx_mode=tap --featx_suppress_diff_warning --featx_return_nodes=" + nodes
            for host, (plain, with_featx) in (("Python", python_rounds(path, flags)),
                                              ("C++", host_rounds(path, input_path, flags))):
                print(f"{name:<12} {host:<8} {plain:9.1f} {with_featx:9.1f} {with_featx / plain:6.3f}x", flush=True)


if __name__ == "__main__":
    main()
