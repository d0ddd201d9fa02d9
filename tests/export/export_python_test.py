"""featx's Python API on exported programs: get_graph_node_names and create_feature_extractor take an
ExportedProgram or a .pt2 path, rewrite_file takes a .pt2 path; names are torchvision's, values
create_feature_extractor's on the eager model, errors ValueErrors naming the problem.
"""
import os
import sys
import tempfile
import unittest

import torch

import bazel_unittest
import featx_under_test

sys.path.insert(0, "tests/export")
sys.path.insert(0, "tests/models")
from export_models import HAS_EXPORT, export  # noqa: E402


@unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
class ExportPythonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model, cls.x, cls.path = export("resnet18", cls.tmp.name)
        cls.program = torch.export.load(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_names_of_a_program_are_torchvisions(self):
        from torchvision.models.feature_extraction import get_graph_node_names
        want = get_graph_node_names(self.model)
        self.assertEqual(featx.get_graph_node_names(self.program), want)
        self.assertEqual(featx.get_graph_node_names(self.path), want)

    def test_leaf_modules_by_class_or_name(self):
        from torchvision.models.resnet import BasicBlock
        for leaf in (BasicBlock, "BasicBlock"):
            train, _ = featx.get_graph_node_names(self.program, tracer_kwargs={"leaf_modules": [leaf]})
            self.assertIn("layer1.0", train)
            self.assertNotIn("layer1.0.conv1", train)
        # A registry's class the program has not (timm's list all its models') is dropped, as
        # torchvision drops it; a name is the user's own, and one the program lacks is an error.
        leaves = [BasicBlock, torch.nn.LSTM]
        for program in (self.program, self.path):
            train, _ = featx.get_graph_node_names(program, tracer_kwargs={"leaf_modules": leaves})
            self.assertIn("layer1.0", train)
        with self.assertRaisesRegex(ValueError, "'LSTM' is not a module class"):
            featx.get_graph_node_names(self.program, tracer_kwargs={"leaf_modules": ["LSTM"]})

    def test_feature_extractor_of_a_program_is_a_program_with_torchvisions_values(self):
        from export_rewrite_test import reference
        nodes = {"layer1.0.bn1": "bn1", "layer3": "feat3", "layer4.1.relu_1": "feat4"}
        extractor = featx.create_feature_extractor(self.program, return_nodes=nodes)
        self.assertIsInstance(extractor, torch.export.ExportedProgram)
        with torch.no_grad():
            got = extractor.module()(self.x.clone())
        want = reference(self.model, self.x, nodes)
        self.assertEqual(list(got), list(want))
        for key in want:
            torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-5)
        self.assertEqual([(e["name"], e["node"]) for e in featx.manifest(extractor)["eval"]],
                         [("bn1", "layer1.0.bn1"), ("feat3", "layer3.1.relu_1"), ("feat4", "layer4.1.relu_1")])

    def test_tuple_mode_and_rewrite_file(self):
        extractor = featx.create_feature_extractor(self.path, return_nodes=["layer2"], mode="tuple")
        with torch.no_grad():
            logits, layer2 = extractor.module()(self.x.clone())
            self.assertTrue(torch.equal(logits, self.model(self.x.clone())))
        self.assertEqual(layer2.shape[1], 128)
        out = os.path.join(self.tmp.name, "rewritten.pt2")
        made = featx.rewrite_file(self.path, out, "--featx_mode=dict --featx_return_nodes=layer2:f")
        self.assertEqual([e["name"] for e in made["eval"]], ["f"])
        self.assertEqual(list(torch.export.load(out).module()(self.x.clone())), ["f"])

    def test_wrong_requests_are_value_errors(self):
        cases = [
            (dict(return_nodes=["layer1.0.rleu"]), "did you mean 'layer1.0.relu'"),
            (dict(return_nodes=["layer1"], mode="tap"), "takes --mode=dict or --mode=tuple"),
            (dict(return_nodes=["layer1"], tracer_kwargs={"autowrap_functions": [len]}), "leaf_modules'.*only"),
            (dict(train_return_nodes=["layer1"], eval_return_nodes=["layer1"]), "one graph"),
        ]
        before = set(os.listdir(tempfile.gettempdir()))
        for kwargs, said in cases:
            with self.subTest(**{k: str(v) for k, v in kwargs.items()}):
                with self.assertRaisesRegex(ValueError, said):
                    featx.create_feature_extractor(self.program, **kwargs)
        self.assertEqual(set(os.listdir(tempfile.gettempdir())) - before, set(), "a temporary file left")


class ExportPythonOnTorch1Test(unittest.TestCase):
    @unittest.skipIf(HAS_EXPORT, "torch 2 has torch.export")
    def test_torch_1_says_it_has_no_export(self):
        with self.assertRaisesRegex(RuntimeError, "which has no torch.export"):
            featx.get_graph_node_names("model.pt2")


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    import featx
    bazel_unittest.main()
