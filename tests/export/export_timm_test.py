"""featx names and rewrite on timm's models exported with torch.export, against timm's own feature extraction
(timm.models.get_graph_node_names / create_feature_extractor: FX with timm's registries) on the eager model.

featx gets `--featx_tracer=timm` (timm's registry of leaf module classes; export has inlined its leaf
functions). Every name featx gives is timm's, in timm's order; every name timm gives and featx does not is of
a kind docs/export.md lists (a module that is the identity in eval, a value that is not a tensor, a tuple
item), checked on timm's own FX graph. Runs where timm is installed (the torch 2.x run).
"""
import os
import sys
import unittest
import warnings

import torch

import bazel_unittest

sys.path.insert(0, "tests/cli")
sys.path.insert(0, "tests/export")
sys.path.insert(0, "tests/models")
from cli_case import CliTestCase, run  # noqa: E402
from export_models import HAS_EXPORT, ExportedOnce, fx_kinds, unexplained_differences  # noqa: E402
from export_rewrite_test import sample  # noqa: E402

try:
    import timm
    from timm.layers import get_notrace_functions, get_notrace_modules
except ImportError:
    timm = None

# CNNs with timm's BatchNormAct2d leaves, a ViT, GhostNet, DLA, ConvNeXt, RegNet, DenseNet, DPN; 96x96 inputs.
MODELS = ["resnet10t", "efficientnet_b0", "mobilenetv3_small_050", "vit_tiny_patch16_224", "ghostnet_050",
          "dla34", "convnext_atto", "regnetx_002", "densenet121", "dpn68"]
# Equal lists, order included.
EQUAL = ["densenet121"]


def build(name):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = {"img_size": 96} if name.startswith("vit") else {}
        return timm.create_model(name, pretrained=False, **kwargs).eval(), torch.randn(1, 3, 96, 96)


def timm_tracer_kwargs():
    return {"leaf_modules": get_notrace_modules(), "autowrap_functions": get_notrace_functions()}


@unittest.skipUnless(HAS_EXPORT and timm is not None, "needs torch.export and timm (the torch 2 run)")
class ExportTimmTest(ExportedOnce, CliTestCase):
    def make_program(self, name):
        model, x = build(name)
        path = os.path.join(self.tmp.name, name + ".pt2")
        torch.export.save(torch.export.export(model, (x,)), path)
        return model, x, path

    def names(self, path, *flags):
        result = run(FEATX, "names", "--model=" + path, *flags)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.split()

    def test_names_are_timms_less_the_nodes_export_cannot_have(self):
        from timm.models import get_graph_node_names
        for name in MODELS:
            with self.subTest(model=name):
                model, x, path = self.export(name)
                got, want = self.names(path, "--featx_tracer=timm"), get_graph_node_names(model)[1]
                if name in EQUAL:
                    self.assertEqual(got, want)
                    continue
                self.assertTrue([n for n in want if n not in set(got)], "now equal: move it to EQUAL")
                self.assertEqual(unexplained_differences(got, want, fx_kinds(model, x, timm_tracer_kwargs())), {})

    def test_timm_tracer_keeps_timms_leaf_modules_whole(self):
        _, _, path = self.export("efficientnet_b0")
        plain, timms = self.names(path), self.names(path, "--featx_tracer=timm")
        # BatchNormAct2d: one node with timm's registry, its parameter reads and ops without.
        self.assertIn("bn1", timms)
        self.assertNotIn("bn1", plain)
        self.assertIn("bn1.bn1_weight", plain)
        result = run(FEATX, "names", "--model=" + path, "--featx_tracer=tim")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown tracer 'tim'", result.stderr)
        self.assertIn("did you mean 'timm'", result.stderr)

    def test_rewritten_program_returns_timms_features(self):
        from make_models import clone_outputs_at_their_nodes
        from timm.models import create_feature_extractor
        for name in ["resnet10t", "vit_tiny_patch16_224", "convnext_atto"]:
            with self.subTest(model=name):
                model, x, path = self.export(name)
                kinds = fx_kinds(model, x, timm_tracer_kwargs())
                nodes = sample([n for n in self.names(path, "--featx_tracer=timm") if kinds[n][2]])
                out = path.replace(".pt2", "_features.pt2")
                result = run(FEATX, "rewrite", "--model=" + path, "--featx_tracer=timm",
                             "--return_nodes=" + ",".join(nodes), "--output=" + out)
                self.assertEqual(result.returncode, 0, result.stderr)
                with torch.no_grad():
                    got = torch.export.load(out).module()(x.clone())
                    extractor = create_feature_extractor(model, nodes).eval()
                    clone_outputs_at_their_nodes(extractor)
                    want = extractor(x.clone())
                self.assertEqual(list(got), list(want))
                for node in want:
                    torch.testing.assert_close(got[node], want[node], rtol=1e-5, atol=1e-5, msg=node)


if __name__ == "__main__":
    FEATX = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
