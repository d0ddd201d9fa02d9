"""featx names on exported programs (.pt2) against torchvision's get_graph_node_names on the eager model.

Where export's ATen graph has a node for what FX records, the names are torchvision's, in order. Where
it cannot have one (docs/export.md, "Where the names differ"), each name torchvision gives and featx
does not is checked to be of a kind the docs list, using torchvision's own FX graph of the model: a
value that is not a tensor (shape arithmetic, asserts), a tuple item of a call, or a module that is
the identity in eval. Models export cannot name alike yet are asserted to still differ.
"""
import os
import sys
import tempfile
import unittest

import torch

import bazel_unittest

sys.path.insert(0, "tests/cli")
sys.path.insert(0, "tests/export")
from cli_case import CliTestCase, run  # noqa: E402
from export_models import HAS_EXPORT, export, fx_kinds, unexplained_differences  # noqa: E402


# Equal lists, order included.
EQUAL = ["resnet18", "mobilenet_v2", "densenet121", "regnet_y_400mf", "squeezenet1_0", "r3d_18"]
# torchvision's list less the nodes export cannot have (get_attr nodes may move).
FEWER = ["efficientnet_b0", "convnext", "shufflenet_v2_x0_5", "deeplabv3_mobilenet_v3_large", "vit"]
# Still different: torchvision's leaf functions (torch.fx.wrap) are inlined by export.
DIFFERENT = {"swin": "shifted_window_attention"}
# Exported again with a dynamic batch: the same names.
DYNAMIC = ["resnet18", "shufflenet_v2_x0_5", "vit", "swin"]
# Exported strictly (TorchDynamo) and decomposed to Core ATen: the same names, less dropout.
VARIANTS = ["resnet18", "efficientnet_b0", "vit"]


class ExportNamesTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, name):
        return export(name, self.tmp.name)

    def names(self, path, *flags):
        result = run(FEATX, "names", "--model=" + path, *flags)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.split()

    def reference(self, model):
        from torchvision.models.feature_extraction import get_graph_node_names
        train, evaluation = get_graph_node_names(model)
        return evaluation

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_names_equal_torchvisions_where_export_keeps_every_node(self):
        for name in EQUAL:
            with self.subTest(model=name):
                model, _, path = self.export(name)
                self.assertEqual(self.names(path), self.reference(model))

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_names_are_torchvisions_less_the_nodes_export_cannot_have(self):
        for name in FEWER:
            with self.subTest(model=name):
                model, x, path = self.export(name)
                got, want = self.names(path), self.reference(model)
                self.assertTrue([n for n in want if n not in set(got)], "now equal: move it to EQUAL")
                self.assertEqual(unexplained_differences(got, want, fx_kinds(model, x)), {})

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_a_dynamic_batch_keeps_the_static_programs_names(self):
        # With a dynamic batch, export reads sizes as symbolic ints (vit's `x.shape` in
        # _process_input, shufflenet's channel_shuffle) in nodes of its own; no new names.
        for name in DYNAMIC:
            with self.subTest(model=name):
                _, _, static = self.export(name)
                _, _, dynamic = export(name, self.tmp.name, dynamic_batch=True)
                self.assertEqual(self.names(dynamic), self.names(static))

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_every_forward_argument_is_named_as_fx_names_its_placeholder(self):
        import torchvision

        class TwoInputs(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.image = torchvision.models.resnet18(num_classes=8)
                self.meta = torch.nn.Linear(4, 8)

            def forward(self, image, meta, scale: float = 1.0):
                return {"logits": self.image(image) + self.meta(meta) * scale, "meta": self.meta(meta)}

        model = TwoInputs().eval()
        path = os.path.join(self.tmp.name, "two_inputs.pt2")
        # Export fixes `scale` (a constant input of the program); featx names it, not a tensor.
        program = torch.export.export(model, (torch.randn(1, 3, 64, 64), torch.randn(1, 4)), {"scale": 2.0})
        torch.export.save(program, path)
        names = self.names(path)
        self.assertEqual(names[:3], ["image", "meta", "scale"])
        self.assertEqual(names, self.reference(model))
        result = run(FEATX, "rewrite", "--model=" + path, "--return_nodes=scale",
                     "--output=" + os.path.join(self.tmp.name, "scale.pt2"))
        self.assertCleanError(result, "not a tensor")

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_strict_export_gives_the_same_names(self):
        for name in VARIANTS:
            with self.subTest(model=name):
                _, _, static = self.export(name)
                _, _, strict = export(name, self.tmp.name, strict=True)
                self.assertEqual(self.names(strict), self.names(static))

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_core_aten_program_drops_only_modules_that_are_the_identity_in_eval(self):
        # run_decompositions() removes eval-mode dropout, as export removes stochastic depth.
        for name in VARIANTS:
            with self.subTest(model=name):
                model, x, static = self.export(name)
                _, _, core = export(name, self.tmp.name, core_aten=True)
                got, want = self.names(core), self.names(static)
                kinds = fx_kinds(model, x)
                dropped = [n for n in want if n not in set(got)]
                self.assertEqual([n for n in dropped if kinds[n][1] != "identity in eval"], [])
                self.assertEqual(got, [n for n in want if n not in set(dropped)])

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_leaf_functions_are_not_yet_single_nodes(self):
        for name, function in DIFFERENT.items():
            with self.subTest(model=name):
                model, _, path = self.export(name)
                got, want = self.names(path), self.reference(model)
                self.assertIn(function, " ".join(want))
                self.assertNotIn(function, " ".join(got))

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_leaf_modules_flag_keeps_a_class_whole(self):
        model, _, path = self.export("resnet18")
        names = self.names(path, "--featx_leaf_modules=BasicBlock")
        self.assertIn("layer1.0", names)
        self.assertNotIn("layer1.0.conv1", names)
        self.assertCleanError(run(FEATX, "names", "--model=" + path, "--featx_leaf_modules=BasicBlok"),
                              "leaf module class 'BasicBlok' is not a module class of this model",
                              "did you mean 'BasicBlock'")

    # On torch 1.13 (no torch.export), featx says so, whatever the file.
    def test_files_that_are_not_programs_are_named(self):
        text = os.path.join(self.tmp.name, "notes.pt2")
        with open(text, "w") as f:
            f.write("not an archive")
        if not HAS_EXPORT:
            self.assertCleanError(run(FEATX, "names", "--model=" + text), "which has no torch.export")
            return
        scripted = os.path.join(self.tmp.name, "scripted.pt2")
        torch.jit.save(torch.jit.script(torch.nn.ReLU()), scripted)
        missing = os.path.join(self.tmp.name, "missing.pt2")
        for path, said in ((text, "is not a .pt2 archive"),
                           (scripted, "it is a TorchScript archive"),
                           (missing, f"program file '{missing}' does not exist")):
            self.assertCleanError(run(FEATX, "names", "--model=" + path), said)

if __name__ == "__main__":
    FEATX = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
