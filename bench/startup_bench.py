"""A server's model start-up with featx against the plain load, side by side
in one run: resnet50, densenet121 and a 10k-node model (bench/scaling_models.py,
family deep), featx in tap mode on three nodes.

  Python     torch.jit.load(path)  vs  featx.load(path, flags) (load + rewrite, in memory)
  C++ host   featx_host's torch::jit::load  vs  that + featx_instrument, as it reports them

Rounds alternate plain / featx, ROUNDS of each (a fresh featx_host process
per C++ round); the ratios are of the medians. TorchServe and Ray Serve load
through the same featx.load (featx.torchserve, featx.ray), so their
start-up adds these figures to the server's own.

Wall time on a shared 2-core machine varies by 30% between rounds of the same
load, more than the ratios measured; INSTRUCTIONS=1 also counts instructions
under callgrind, one load each, which does not vary: Python as three
processes (imports only, + torch.jit.load, + featx.load; the loads are the
differences), the C++ host as featx_host's torch::jit::load and
featx_instrument, inclusive. About 25 minutes.

    bazel run //bench:startup_bench
    INSTRUCTIONS=1 bazel run //bench:startup_bench
Arguments: Python (the one whose torch featx was built against), featx_host,
libfeatx.so, the checkout's python/, bench/scaling_models.py.
"""
import os
import re
import shutil
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


def callgrind(command, work):
    """Runs `command` under callgrind; (total instructions, profile path)."""
    out = os.path.join(work, "callgrind.out")
    result = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + command,
                            capture_output=True, text=True, timeout=7200,
                            # A fixed hash seed: Python's dicts and sets otherwise
                            # differ between the processes compared.
                            env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0"))
    found = re.search(r"I\s+refs:\s+([0-9,]+)", result.stderr)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"{command[0]} under callgrind failed: {result.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), out


def inclusive(profile, function):
    """Instructions in `function` and what it calls (callgrind_annotate)."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", profile], capture_output=True,
                          text=True, timeout=600, check=True).stdout
    for line in text.splitlines():
        found = re.match(r"\s*([0-9,]+) \([^)]*\)\s+\S*:" + re.escape(function) + r"[(< ]", line)
        if found:
            return int(found.group(1).replace(",", ""))
    raise RuntimeError(f"{function} is not in {profile}")


def load_once_command(how, path="", flags=""):
    return [sys.executable, os.path.abspath(__file__), FEATX_HOST, PLUGIN, PACKAGE, SCALING_MODELS, "--load-once", how,
            path, flags]


def python_instructions(path, flags, work, imports):
    """Instructions of torch.jit.load and of featx.load: each process's count
    less that of a process that only imports."""
    plain, _ = callgrind(load_once_command("plain", path, flags), work)
    with_featx, _ = callgrind(load_once_command("featx", path, flags), work)
    return plain - imports, with_featx - imports


def host_instructions(path, input_path, flags, work):
    _, profile = callgrind([FEATX_HOST, "--model=" + path, "--plugin=" + PLUGIN, "--input=" + input_path,
                            "--requests=1", "--quiet", "--featx=" + flags], work)
    load = inclusive(profile, "torch::jit::load")
    return load, load + inclusive(profile, "featx_instrument")


def load_once(how, path, flags):
    """One load in this process (under callgrind): nothing, plain or featx."""
    torch.set_num_threads(1)
    if how == "plain":
        torch.jit.load(path)
    elif how == "featx":
        featx.load(path, flags)


def main():
    if "--load-once" in sys.argv:
        how, path, flags = sys.argv[sys.argv.index("--load-once") + 1:][:3]
        return load_once(how, path, flags)
    count = os.environ.get("INSTRUCTIONS") == "1"
    if count and not (shutil.which("valgrind") and shutil.which("callgrind_annotate")):
        sys.exit("INSTRUCTIONS=1 needs valgrind (apt install valgrind)")
    torch.set_num_threads(1)
    print(f"Model start-up, plain load vs load + featx rewrite (tap mode, 3 nodes); median of {ROUNDS} rounds each, "
          f"torch {torch.__version__}")
    print(f"{'model':<12} {'host':<8} {'plain ms':>9} {'featx ms':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as work:
        imports = callgrind(load_once_command("nothing"), work)[0] if count else 0
        for name in MODELS:
            path, input_path, nodes = make(name, work)
            flags = "--featx_mode=tap --featx_suppress_diff_warning --featx_return_nodes=" + nodes
            for host, (plain, with_featx) in (("Python", python_rounds(path, flags)),
                                              ("C++", host_rounds(path, input_path, flags))):
                print(f"{name:<12} {host:<8} {plain:9.1f} {with_featx:9.1f} {with_featx / plain:6.3f}x", flush=True)
            if count:
                for host, (plain, with_featx) in (("Python", python_instructions(path, flags, work, imports)),
                                                  ("C++", host_instructions(path, input_path, flags, work))):
                    print(f"{name:<12} {host:<8} {plain / 1e6:9.0f} {with_featx / 1e6:9.0f} {with_featx / plain:6.3f}x"
                          "  (million instructions)", flush=True)


if __name__ == "__main__":
    main()
