"""featx rewrite on exported programs (.pt2): the rewritten archive loads in torch.export.load and returns
what torchvision's create_feature_extractor returns on the eager model, each value cloned at its node
(tests/models/make_models.py's reference: featx protects a value from later in-place ops, torchvision
does not). Nodes are sampled from the names featx and torchvision both give.
"""
import os
import sys
import tempfile
import unittest
import zipfile

import torch

import bazel_unittest

sys.path.insert(0, "tests/cli")
sys.path.insert(0, "tests/export")
sys.path.insert(0, "tests/models")
from cli_case import CliTestCase, run  # noqa: E402
from export_models import HAS_EXPORT, ExportedOnce, export, fx_kinds, models  # noqa: E402

# Nodes chosen per model: spread over the graph, the last included.
SAMPLED = 6
# Models whose own output is not one tensor (deeplabv3's OrderedDict) or is a transformer's.
TUPLE_MODELS = ["resnet18", "deeplabv3_mobilenet_v3_large", "vit"]


def sample(names):
    step = max(1, len(names) // SAMPLED)
    return sorted(set(names[::step]) | {names[-1]}, key=names.index)


def reference(model, x, nodes):
    """torchvision's create_feature_extractor on the eager model, each output cloned at its node."""
    from make_models import clone_outputs_at_their_nodes
    from torchvision.models.feature_extraction import create_feature_extractor
    extractor = create_feature_extractor(model, return_nodes=nodes).eval()
    clone_outputs_at_their_nodes(extractor)
    with torch.no_grad():
        return extractor(x.clone())


@unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
class ExportRewriteTest(ExportedOnce, CliTestCase):
    def featx(self, *args):
        result = run(FEATX, *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def chosen(self, model, x, path):
        # A leaf call returning a tuple (MultiheadAttention) is a tensor to featx, its first item.
        theirs = {name for name, (_, _, tensor) in fx_kinds(model, x).items() if tensor}
        return sample([n for n in self.featx("names", "--model=" + path).split() if n in theirs])

    def rewrite(self, path, nodes, mode):
        out = path.replace(".pt2", f"_{mode}.pt2")
        self.featx("rewrite", "--model=" + path, "--return_nodes=" + ",".join(nodes), "--mode=" + mode,
                   "--output=" + out)
        return out

    def assertValuesEqual(self, got, want):
        self.assertEqual(list(got), list(want))
        for key in want:
            with self.subTest(node=key):
                # torchvision's FX graph and export's ATen graph make the same ATen calls on the
                # same CPU; a tolerance of float32 rounding allows a decomposition's order.
                torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-5)

    def test_dict_mode_returns_torchvisions_features(self):
        for name in models():
            with self.subTest(model=name):
                model, x, path = self.export(name)
                nodes = self.chosen(model, x, path)
                want = reference(model, x, nodes)
                program = torch.export.load(self.rewrite(path, nodes, "dict"))
                with torch.no_grad():
                    got = program.module()(x.clone())
                self.assertValuesEqual(got, want)

    def test_tuple_mode_returns_the_models_outputs_then_the_features(self):
        from torch.utils._pytree import tree_leaves
        for name in TUPLE_MODELS:
            with self.subTest(model=name):
                model, x, path = self.export(name)
                nodes = self.chosen(model, x, path)
                want = reference(model, x, nodes)
                program = torch.export.load(self.rewrite(path, nodes, "tuple"))
                with torch.no_grad():
                    got = program.module()(x.clone())
                    own = tree_leaves(model(x.clone()))
                self.assertIsInstance(got, tuple)
                self.assertEqual(len(got), len(own) + len(nodes))
                for mine, theirs in zip(got, own):
                    torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)
                self.assertValuesEqual(dict(zip(want, got[len(own):])), want)

    def test_dynamic_batch_program_returns_features_at_other_batch_sizes(self):
        for name in ["shufflenet_v2_x0_5", "vit"]:
            with self.subTest(model=name):
                model, x, path = export(name, self.tmp.name, dynamic_batch=True)
                nodes = self.chosen(model, x, path)
                program = torch.export.load(self.rewrite(path, nodes, "dict")).module()
                for batch in (1, 5):
                    x = torch.randn(batch, *x.shape[1:])
                    with torch.no_grad():
                        got = program(x.clone())
                    self.assertValuesEqual(got, reference(model, x, nodes))

    def test_core_aten_program_returns_torchvisions_features(self):
        for name in ["efficientnet_b0", "vit"]:
            with self.subTest(model=name):
                model, x, path = export(name, self.tmp.name, core_aten=True)
                nodes = self.chosen(model, x, path)
                program = torch.export.load(self.rewrite(path, nodes, "dict")).module()
                with torch.no_grad():
                    got = program(x.clone())
                self.assertValuesEqual(got, reference(model, x, nodes))

    def test_rewritten_program_keeps_its_names_and_weights(self):
        model, _, path = self.export("resnet18")
        out = self.rewrite(path, ["layer2", "fc"], "tuple")
        self.assertEqual(self.featx("names", "--model=" + out), self.featx("names", "--model=" + path))
        before, after = zipfile.ZipFile(path), zipfile.ZipFile(out)
        weights = lambda z: {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if "/data/" in n}  # noqa: E731
        self.assertEqual(weights(after), weights(before))
        names = after.namelist()
        self.assertEqual(len(names), len(set(names)), "a record written twice")

    def test_installed_cpp_api_names_and_rewrites_as_the_command_line(self):
        _, x, path = self.export("resnet18")
        flags = "--featx_leaf_modules=BasicBlock"
        api = run(PLUGIN_API_MAIN, "names", path, flags)
        self.assertEqual(api.returncode, 0, api.stderr)
        self.assertEqual(api.stdout, self.featx("names", "--model=" + path, flags))
        out = os.path.join(self.tmp.name, "api.pt2")
        api = run(PLUGIN_API_MAIN, "rewrite", path, out, "--featx_mode=dict --featx_return_nodes=layer1.1:f")
        self.assertEqual(api.returncode, 0, api.stderr)
        self.assertEqual(list(torch.export.load(out).module()(x)), ["f"])
        api = run(PLUGIN_API_MAIN, "rewrite", path, out + "x", "--featx_mode=dict --featx_return_nodes=layer9")
        self.assertCleanError(api, "node 'layer9' is not in the exported program", "(code 3)")
        self.assertFalse(os.path.exists(out + "x"))

    def test_output_names_and_the_manifest(self):
        _, _, path = self.export("resnet18")
        out, manifest = os.path.join(self.tmp.name, "named.pt2"), os.path.join(self.tmp.name, "named.json")
        printed = self.featx("rewrite", "--model=" + path, "--return_nodes=layer1:feat1,layer4:feat4", "--mode=tuple",
                             "--output=" + out, "--manifest=" + manifest)
        self.assertIn("torch.export.load", printed)
        import json
        with open(manifest) as f:
            entries = json.load(f)["eval"]
        self.assertEqual([(e["name"], e["node"]) for e in entries],
                         [("output", "output"), ("feat1", "layer1.1.relu_1"), ("feat4", "layer4.1.relu_1")])
        signature = torch.export.load(out).graph_signature
        self.assertEqual(len(signature.user_outputs), 3)

    def test_bad_requests_are_named_and_nothing_is_written(self):
        _, _, path = self.export("resnet18")
        out = os.path.join(self.tmp.name, "kept.pt2")
        with open(out, "w") as f:
            f.write("an earlier output")
        text = os.path.join(self.tmp.name, "notes.pt2")
        with open(text, "w") as f:
            f.write("not an archive")
        newer = os.path.join(self.tmp.name, "newer.pt2")
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(newer, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename.endswith("models/model.json"):
                    data = data.replace(b'"schema_version": {"major": 8', b'"schema_version": {"major": 9')
                target.writestr(info, data)
        cases = [
            ((path, "layer1.0.rleu", "dict"), ["node 'layer1.0.rleu' is not in the exported program",
                                               "did you mean 'layer1.0.relu'"]),
            ((path, "layer1", "tap"), ["takes --mode=dict or --mode=tuple"]),
            ((text, "layer1", "dict"), ["is not a .pt2 archive"]),
            ((newer, "layer1", "dict"), ["has torch.export schema version 9.", "featx reads version 8.x"]),
        ]
        for (model, nodes, mode), said in cases:
            with self.subTest(nodes=nodes, mode=mode, model=os.path.basename(model)):
                self.assertCleanError(run(FEATX, "rewrite", "--model=" + model, "--return_nodes=" + nodes,
                                          "--mode=" + mode, "--output=" + out), *said)
        self.assertCleanError(run(FEATX, "rewrite", "--model=" + path, "--train_return_nodes=layer1",
                                  "--eval_return_nodes=layer1", "--output=" + out), "has one graph")
        self.assertCleanError(run(FEATX, "rewrite", "--model=" + path, "--return_nodes=layer1", "--mode=tuple",
                                  "--input=" + path, "--triton_config=" + out + ".pbtxt", "--output=" + out),
                              "--triton_config describes TorchScript models")
        with open(out) as f:
            self.assertEqual(f.read(), "an earlier output")
        _, _, convnext = self.export("convnext")
        dropped = "--return_nodes=features.1.0.stochastic_depth"
        self.assertCleanError(run(FEATX, "rewrite", "--model=" + convnext, dropped, "--output=" + out),
                              "export drops a module that is the identity in eval",
                              "choose the node before it")
        self.assertCleanError(run(FEATX, "rewrite", "--model=" + self.export("shufflenet_v2_x0_5")[2],
                                  "--return_nodes=stage2.1.chunk", "--output=" + out), "is not a tensor")
        self.assertEqual([f for f in os.listdir(self.tmp.name) if "featx-" in f], [], "a temporary file left")


class ExportRewriteOnTorch1Test(CliTestCase):
    @unittest.skipIf(HAS_EXPORT, "torch 2 has torch.export")
    def test_torch_1_says_it_has_no_export(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = run(FEATX, "rewrite", "--model=" + os.path.join(tmp, "m.pt2"), "--return_nodes=a", "--mode=dict",
                         "--output=" + os.path.join(tmp, "r.pt2"))
            self.assertCleanError(result, "which has no torch.export")
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "r.pt2")))


if __name__ == "__main__":
    PLUGIN_API_MAIN = os.path.abspath(sys.argv.pop(2))
    FEATX = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
