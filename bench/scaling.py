"""How featx's cost grows with the model: 1k, 10k and 100k FX nodes.

  bazel run //bench:scaling                       # deep, wide, transformer; 1k 10k 100k
  bazel run //bench:scaling -- --sizes 1000,10000 --families deep

For each family of bench/scaling_models.py and each size it prints, in CPU
seconds: featx's naming pipeline and the load-time rewrite in each mode
(pass by pass, bench/scaling_passes.cc, the fastest of 3 rounds), the
rewritten model's save and load time against the plain model's, the
`featx names`, `featx rewrite` and `featx extract` commands as a user runs
them (with their peak RSS), torch copying and freeing a graph that size (the
floor under every pass that builds one), and
torchvision's get_graph_node_names on the same model where it finishes in a
minute. Then the log-log slope of each between 10k nodes and the largest
size (1.0 is linear). Models are generated once (a 100k-node model takes a
few minutes to script) and kept in $FEATX_BENCH_CACHE (default
~/.cache/featx/scaling/torch-<version>).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TORCHVISION_LIMIT_SECONDS = 60


def run_measured(argv, **kwargs):
    """Runs argv; returns (stdout, CPU seconds, peak RSS in MB) of that process alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err, **kwargs)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}): {err.read().decode()[-2000:]}")
        return out.read().decode(), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def model_file(cache, family, nodes):
    path = os.path.join(cache, f"{family}_{nodes}.pt")
    if not os.path.exists(path) or not os.path.exists(path + ".input.pt"):
        started = time.time()
        print(f"  (scripting {family} with {nodes} nodes once; cached in {cache})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "scaling_models.py"), "--family", family, "--nodes",
                        str(nodes), "--out", path + ".tmp"], check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        os.replace(path + ".tmp.input.pt", path + ".input.pt")
        os.replace(path + ".tmp", path)
        print(f"  ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)
    return path


def torchvision_seconds(family, nodes):
    try:
        out = subprocess.run([sys.executable, os.path.join(HERE, "scaling_models.py"), "--family", family, "--nodes",
                              str(nodes), "--torchvision"], capture_output=True, text=True, check=True,
                             timeout=TORCHVISION_LIMIT_SECONDS, env=dict(os.environ, OMP_NUM_THREADS="1"))
        return float(out.stdout.split()[0])
    except subprocess.TimeoutExpired:
        return None


def measure(args, family, nodes):
    path = model_file(args.cache, family, nodes)
    row = {}
    names_out, row["cmd names"], row["cmd names rss"] = run_measured([args.featx, "names", f"--model={path}"])
    eval_names = names_out.split()
    row["nodes"] = len(eval_names)
    last = eval_names[-1]
    passes_out, _, row["library rss"] = run_measured([args.passes, f"--model={path}", f"--return_nodes={last}"])
    steps = {}
    for line in passes_out.splitlines():
        record = json.loads(line)
        if "step" in record:
            # The fastest of the rounds: the first also compiles the model's
            # methods (torch does it lazily, once per process).
            steps[record["step"]] = min(record["seconds"], steps.get(record["step"], math.inf))
    row["names"] = sum(s for k, s in steps.items() if k.startswith("names/"))
    worst_pass = max((k for k in steps if k.startswith("names/")), key=steps.get)
    row["slowest names pass"] = f"{worst_pass[len('names/'):]} {steps[worst_pass]:.3f}"
    row["graph copy"] = steps["floor/graph_copy"]
    for mode in ("dict", "tuple", "tap"):
        row[f"rewrite {mode}"] = sum(s for k, s in steps.items() if k.startswith(mode + "/featx.")) + \
            steps[f"{mode}/install"]
        row[f"save {mode}/plain"] = steps[f"{mode}/save"] / steps["save_plain"]
        row[f"load {mode}/plain"] = steps[f"{mode}/load"] / steps["load_plain_from_memory"]
    with tempfile.TemporaryDirectory() as tmp:
        _, row["cmd rewrite"], row["cmd rewrite rss"] = run_measured(
            [args.featx, "rewrite", f"--model={path}", f"--return_nodes={last}", "--mode=dict",
             f"--output={tmp}/r.pt"])
        _, row["cmd extract"], row["cmd extract rss"] = run_measured(
            [args.featx, "extract", f"--model={path}", f"--input={path}.input.pt", f"--return_nodes={last}",
             f"--output={tmp}/f.pt"])
    _, row["plain load+save"], _ = run_measured([sys.executable, "-c", (
        "import sys, torch; torch.jit.load(sys.argv[1]).save(sys.argv[2])"), path, os.devnull])
    row["torchvision names"] = torchvision_seconds(family, nodes) if not args.no_torchvision else None
    return row


def slope(rows, key):
    points = [(r["nodes"], r[key]) for r in rows if r["nodes"] >= 9000 and r.get(key)]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


COLUMNS = [
    ("names", "featx names (library)", "{:.3f} s"),
    ("rewrite dict", "rewrite, dict", "{:.3f} s"),
    ("rewrite tuple", "rewrite, tuple", "{:.3f} s"),
    ("rewrite tap", "rewrite, tap", "{:.3f} s"),
    ("graph copy", "torch Graph::copy + free, same graph (floor)", "{:.3f} s"),
    ("cmd names", "`featx names`", "{:.2f} s"),
    ("cmd rewrite", "`featx rewrite`", "{:.2f} s"),
    ("cmd extract", "`featx extract`", "{:.2f} s"),
    ("plain load+save", "plain load + save (python)", "{:.2f} s"),
    ("torchvision names", "torchvision names", "{:.2f} s"),
    ("save dict/plain", "save, dict / plain", "{:.2f}x"),
    ("save tap/plain", "save, tap / plain", "{:.2f}x"),
    ("load dict/plain", "load, dict / plain", "{:.2f}x"),
    ("load tap/plain", "load, tap / plain", "{:.2f}x"),
    ("library rss", "peak RSS, library run", "{:.0f} MB"),
    ("cmd rewrite rss", "peak RSS, `featx rewrite`", "{:.0f} MB"),
]
SLOPES = ["names", "graph copy", "rewrite dict", "rewrite tuple", "rewrite tap", "cmd names", "cmd rewrite",
          "cmd extract",
          "library rss", "cmd rewrite rss"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--featx", required=True, help="the featx command line binary")
    parser.add_argument("--passes", required=True, help="bench/scaling_passes")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--families", default="deep,wide,transformer")
    parser.add_argument("--no_torchvision", action="store_true")
    parser.add_argument("--cache")
    args = parser.parse_args()
    # Not imported here: a forked child starts with its parent's peak RSS,
    # and torch's would hide the commands' own.
    torch_version = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    args.cache = args.cache or os.environ.get("FEATX_BENCH_CACHE") or os.path.expanduser(
        f"~/.cache/featx/scaling/torch-{torch_version.split('+')[0]}")
    os.makedirs(args.cache, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"featx scaling, torch {torch_version}, CPU seconds (2-core shared machine): library steps the fastest "
          "of 3 rounds in one process, commands one run each")
    for family in args.families.split(","):
        rows = []
        for nodes in sizes:
            print(f"  measuring {family} {nodes} ...", file=sys.stderr, flush=True)
            rows.append(measure(args, family, nodes))
        print(f"\n{family}")
        print("| | " + " | ".join(f"{r['nodes']:,} nodes" for r in rows) + " | slope |")
        print("|---|" + "---|" * (len(rows) + 1))
        for key, label, fmt in COLUMNS:
            cells = [("> 60 s" if key == "torchvision names" else "-") if r.get(key) is None else fmt.format(r[key])
                     for r in rows]
            s = slope(rows, key) if key in SLOPES else None
            print(f"| {label} | " + " | ".join(cells) + f" | {'' if s is None else f'{s:.2f}'} |")
        print("| slowest naming pass | " + " | ".join(r["slowest names pass"] + " s" for r in rows) + " | |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
