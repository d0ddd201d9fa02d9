"""`featx names` as a user runs it: formats, flags, shapes, and errors.

Arguments: the featx binary, then the directory of the test models.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import torch

import bazel_unittest
from cli_case import CliTestCase, run
from deep_models import save_deep_model, small_stack

FEATX = None
MODELS = None


def model(name):
    return os.path.join(MODELS, name + ".pt")


def reference(name):
    with open(os.path.join(MODELS, name + ".names.json")) as f:
        return json.load(f)


def featx(*args):
    return run(FEATX, *args)


class NamesCliTest(CliTestCase):
    def test_a_deeply_nested_model_loads_and_names_on_a_small_stack(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "deep.pt")
            save_deep_model(path, 300)
            result = subprocess.run([FEATX, "names", "--model=" + path], capture_output=True, text=True, timeout=300,
                                    preexec_fn=small_stack)
            self.assertEqual(result.returncode, 0, result.stderr[-2000:])
            self.assertEqual(result.stdout.splitlines(), ["x", ".".join(["inner"] * 300 + ["add"])])

    def test_text_is_torchvisions_eval_list(self):
        result = featx("names", "--model=" + model("resnet18"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), reference("resnet18")["eval"])

    def test_json_has_torchvisions_train_and_eval_lists(self):
        result = featx("names", "--model=" + model("train_eval_branch"), "--format=json",
                       "--featx_suppress_diff_warning")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), reference("train_eval_branch"))
        self.assertEqual(result.stderr, "")

    def test_differing_lists_print_both_and_warn(self):
        result = featx("names", "--model=" + model("train_eval_branch"))
        self.assertEqual(result.returncode, 0, result.stderr)
        ref = reference("train_eval_branch")
        self.assertEqual(result.stdout.splitlines(), ["# train", *ref["train"], "# eval", *ref["eval"]])
        self.assertIn("featx: warning: The nodes obtained by tracing the model in train mode are different",
                      result.stderr)

    def test_leaf_modules_flag_keeps_a_class_whole(self):
        result = featx("names", "--model=" + model("nested"), "--featx_leaf_modules=Inner")
        self.assertEqual(result.returncode, 0, result.stderr)
        names = result.stdout.splitlines()
        self.assertIn("middle.inner", names)
        self.assertFalse(any(n.startswith("middle.inner.") for n in names))

    def test_shapes_match_torchvisions_activations(self):
        result = featx("names", "--model=" + model("resnet18"), "--input=" + os.path.join(MODELS, "resnet18.input.pt"),
                       "--shapes")
        self.assertEqual(result.returncode, 0, result.stderr)
        shapes = dict(line.split(None, 1) for line in result.stdout.splitlines())
        self.assertEqual(list(shapes), reference("resnet18")["eval"])
        values = torch.load(os.path.join(MODELS, "resnet18.values.pt"))
        for name, value in values.items():
            dims = ", ".join(str(d) for d in value.shape)
            self.assertEqual(shapes[name], f"[{dims}] float32", name)

    def test_dot_renders_with_graphviz(self):
        result = featx("names", "--model=" + model("resnet18"), "--format=dot")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('subgraph "cluster_layer1.0"', result.stdout)
        self.assertIn('"layer1.0.bn2" -> "layer1.0.add";', result.stdout)
        self.assertIn('"x" -> "conv1";', result.stdout)
        svg = subprocess.run(["dot", "-Tsvg"], input=result.stdout, capture_output=True, text=True, timeout=120)
        self.assertEqual(svg.returncode, 0, svg.stderr)
        self.assertIn("layer1.0.conv1", svg.stdout)

    def test_missing_model_file(self):
        self.assertCleanError(featx("names", "--model=/nonexistent/m.pt"),
                              "model file '/nonexistent/m.pt' does not exist")

    def test_file_that_is_not_an_archive(self):
        with tempfile.NamedTemporaryFile("w", suffix=".pt") as f:
            f.write("not a model")
            f.flush()
            self.assertCleanError(featx("names", "--model=" + f.name), "is not a TorchScript archive")

    def test_tensor_file_given_as_model(self):
        self.assertCleanError(featx("names", "--model=" + os.path.join(MODELS, "resnet18.input.pt")),
                              "is not a TorchScript archive")

    def test_module_without_forward(self):
        class NoForward(torch.nn.Module):
            @torch.jit.export
            def other(self, x):
                return x

        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "noforward.pt")
            torch.jit.script(NoForward()).save(path)
            self.assertCleanError(featx("names", "--model=" + path), "has no forward method")

    def test_unknown_leaf_module_suggests_the_closest(self):
        result = featx("names", "--model=" + model("nested"), "--featx_leaf_modules=Midle")
        self.assertCleanError(result, "leaf module class 'Midle' is not a module class of this model",
                              "did you mean 'Middle'")
        self.assertEqual(result.returncode, 2)

    def test_bad_format(self):
        self.assertCleanError(featx("names", "--model=" + model("golden"), "--format=xml"),
                              "--format=xml is not one of")

    def test_shapes_without_input(self):
        self.assertCleanError(featx("names", "--model=" + model("golden"), "--shapes"), "give it an input with --input")

    # --format was read by names only, and silently ignored by extract.
    def test_a_flag_the_command_does_not_read_is_an_error(self):
        result = featx("extract", "--model=" + model("golden"), "--format=json")
        self.assertCleanError(result, "featx extract does not read --format (it reads ")
        result = featx("names", "--model=" + model("golden"), "--return_nodes=fc")
        self.assertCleanError(result, "featx names does not read --featx_return_nodes")
        result = featx("demo", "--featx_mode=dict")
        self.assertCleanError(result, "featx demo does not read --featx_mode (it reads no flags)")

    def test_unknown_command_suggests_the_closest(self):
        self.assertCleanError(featx("nmaes"), "unknown command 'nmaes'", "did you mean 'names'")

    # The help text is made from the command table: each command, then how it is called.
    def test_help_lists_every_command_with_its_usage(self):
        for args in (("help",), ()):
            result = featx(*args)
            self.assertEqual(result.returncode, 0, result.stderr)
            listed = re.findall(r"^  (\w+) +(.*)$", result.stdout, re.M)
            self.assertEqual([name for name, _ in listed], ["names", "extract", "rewrite", "demo", "passes", "help"])
            self.assertIn("  rewrite   rewrite a model to emit chosen activations, and save it\n"
                          "            --model=M.pt --return_nodes=... --mode=dict|tuple|tap --output=R.pt\n",
                          result.stdout)


if __name__ == "__main__":
    FEATX = os.path.abspath(sys.argv.pop(1))
    MODELS = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
