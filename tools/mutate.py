"""Breaks, one at a time, behaviours featx's docs promise, and reports whether
a test notices: each mutation is applied to the source, the tests named for it
are run, and the source is restored. A mutation that leaves every one of its
tests green "survives": the promise is not checked, and needs a test.

    FEATX_LIBTORCH=pip /usr/bin/python3 tools/mutate.py        # all; a table at the end
    /usr/bin/python3 tools/mutate.py tap_tags spool_bound      # some, by name

Not part of CI (each mutation rebuilds and reruns tests: about 2-5 minutes
each). A mutation whose text is no longer in its file is reported as stale:
update it with the code. To add one, add a Mutation below: the promise in the
docs' words, the smallest edit that breaks it, and the tests that should fail.
"""
import dataclasses
import os
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


@dataclasses.dataclass
class Mutation:
    name: str
    promise: str
    path: str
    old: str
    new: str
    targets: list


MUTATIONS = [
    Mutation("repeat_suffix", "repeated names get _1, _2, ... as torchvision's (docs/names.md)",
             "plugin/naming/local_suffixes.cc", 'absl::StrCat(qualname, "_", latest->second)',
             'absl::StrCat(qualname, "_", latest->second + 1)',
             ["//tests/names:names_parity_test", "//tests/names:get_graph_node_names_test"]),
    Mutation("torch_nn_leaves", "torch.nn's modules are leaves (docs/design.md, Node names)",
             "plugin/naming/leaf_modules.cc",
             'if (absl::StartsWith(qualified, "torch.nn.") || absl::StartsWith(qualified, "torch.ao.nn.")) {',
             'if (absl::StartsWith(qualified, "torch.nn.modules.conv") ||\n'
             '    absl::StartsWith(qualified, "torch.ao.nn.")) {',
             ["//tests/names:names_parity_test"]),
    Mutation("alias_clone", "a value a later op overwrites is emitted as it was at its node (docs/extraction.md)",
             "plugin/passes/protect_aliases.cc", "if (!overwritten[k]) {", "if (true) {",
             ["//tests/extract:modes_test", "//tests/extract:dict_extractor_test"]),
    Mutation("prune", "dict mode prunes everything after the chosen nodes (docs/extraction.md)",
             "plugin/passes/prune.cc", "Prune(part.named.graph, rewrite.summaries.get());",
             "jit::EliminateDeadCode(part.named.graph);",
             ["//tests/extract:prune_test", "//tests/extract:dict_extractor_test"]),
    Mutation("tuple_order", "tuple mode returns the model's outputs, then the chosen nodes (docs/extraction.md)",
             "plugin/passes/return_tuple.cc",
             "  for (jit::Value* own : graph->outputs()) Flatten(*graph, own, &flat);\n"
             "  for (const EmittedOutput& out : outputs) flat.push_back(out.value);",
             "  for (const EmittedOutput& out : outputs) flat.push_back(out.value);\n"
             "  for (jit::Value* own : graph->outputs()) Flatten(*graph, own, &flat);",
             ["//tests/extract:emit_passes_test", "//tests/extract:modes_test"]),
    Mutation("tap_tags", "tap mode records each chosen value under its output name (docs/extraction.md)",
             "plugin/passes/insert_taps.cc", "graph->insertConstant(point.tag)}",
             'graph->insertConstant(point.tag + "_")}',
             ["//tests/extract:modes_test", "//tests/host:c_api_test"]),
    Mutation("did_you_mean", "a misspelt flag or node is an error naming the closest ones (docs/flags.md)",
             "plugin/did_you_mean.cc", 'if (close.empty()) return "";', 'return "";',
             ["//tests/host:flags_test", "//tests/extract:return_nodes_test"]),
    Mutation("spool_bound", "the spool keeps at most --featx_spool_max_files files (docs/flags.md)",
             "plugin/host/sinks.cc", "if (static_cast<int>(files.size()) <= max_files) return;",
             "if (static_cast<int>(files.size()) <= max_files + 1) return;", ["//tests/host:sinks_test"]),
    Mutation("diff_warning", "a train/eval difference warns through the host's logging (docs/design.md)",
             "plugin/naming/graph_diff_warning.cc",
             "if (std::optional<std::string> message = GraphDifferenceMessage(train, eval)) Log(*message);",
             "(void)GraphDifferenceMessage(train, eval);",
             ["//tests/names:get_graph_node_names_test", "//tests/host:c_api_test"]),
    Mutation("untouched_on_error", "a rewrite leaves the model as it was (docs/extraction.md): no pass changes it",
             "plugin/passes/specialize_training.cc", "  return TorchCall([&] {",
             "  rewrite.module.train(false);\n  return TorchCall([&] {",
             ["//tests/pipeline:pass_registry_test", "//tests/names:get_graph_node_names_test",
              "//tests/host:c_api_test"]),
    Mutation("concrete_args_check", "forward checks each call passes the concrete_args value (docs/python.md)",
             "plugin/passes/concrete_args.cc",
             "graph->insertNode(graph->create(c10::prim::RaiseException, {message, "
             "graph->insertConstant(c10::IValue())}, 0));",
             "(void)message;", ["//tests/python:api_test", "//tests/extract:dict_extractor_test"]),
    Mutation("per_thread_capture", "a capture holds its own thread's activations only (docs/design.md)",
             "ops/capture.cc", "thread_local Capture* innermost = nullptr;", "Capture* innermost = nullptr;",
             ["//tests/host:threads_test", "//tests/ops:capture_test"]),
]


def run(mutation):
    path = os.path.join(ROOT, mutation.path)
    with open(path) as f:
        original = f.read()
    if original.count(mutation.old) != 1:
        return "stale (its text is not in the file once)", 0
    start = time.time()
    try:
        with open(path, "w") as f:
            f.write(original.replace(mutation.old, mutation.new))
        result = subprocess.run([os.path.join(ROOT, "tools/bazel.sh"), "test", "--keep_going", *mutation.targets],
                                cwd=ROOT, capture_output=True, text=True)
    finally:
        with open(path, "w") as f:
            f.write(original)
    failed = [line.split()[0] for line in result.stdout.splitlines() + result.stderr.splitlines()
              if " FAILED" in line and line.startswith("//")]
    if result.returncode == 3 and failed:
        return "caught by " + ", ".join(failed), time.time() - start
    if result.returncode == 0:
        return "SURVIVED", time.time() - start
    return f"bazel exited {result.returncode} (the mutation does not build?)", time.time() - start


def main():
    chosen = [m for m in MUTATIONS if not sys.argv[1:] or m.name in sys.argv[1:]]
    rows = []
    for i, mutation in enumerate(chosen):
        print(f"[{i + 1}/{len(chosen)}] {mutation.name}: {mutation.promise}", flush=True)
        outcome, seconds = run(mutation)
        print(f"    {outcome} ({seconds:.0f} s)", flush=True)
        rows.append((mutation, outcome))
    print("\n| promise | mutation | result |\n|---|---|---|")
    for mutation, outcome in rows:
        print(f"| {mutation.promise} | `{mutation.name}` ({mutation.path}) | {outcome} |")
    return 1 if any(not outcome.startswith("caught") for _, outcome in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
