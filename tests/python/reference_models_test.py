"""featx's Python API on every test model FX can trace (//tests/models:all_models)
against torchvision's answers for it: get_graph_node_names in both modes, and
create_feature_extractor's values in dict, tuple and tap mode.

The references are torchvision's, made at build time by tests/models/make_models.py
with the torch this test runs (names.json; values.pt, each value cloned at its
node). tests/names/names_parity_test and tests/extract/modes_test check the same
through the C++ API; this checks what a Python user calls, module in memory.
"""
import glob
import json
import os
import sys
import unittest

import bazel_unittest
import featx_under_test

import torch

featx = None  # imported once featx_under_test has chosen which
MODEL_DIR = "tests/models"
TUPLE_NEEDS_TENSORS = "tuple mode returns the model's own outputs as tensors"


def traceable_models():
    names = []
    for path in sorted(glob.glob(os.path.join(MODEL_DIR, "*.names.json"))):
        with open(path) as f:
            if "error" not in json.load(f):
                names.append(os.path.basename(path)[:-len(".names.json")])
    return names


def _load_pickled(path):
    # Quantized references are not plain weights.
    return torch.load(path, weights_only=False)


class Reference:
    def __init__(self, name):
        prefix = os.path.join(MODEL_DIR, name)
        with open(prefix + ".names.json") as f:
            names = json.load(f)
        self.train_names, self.eval_names = names["train"], names["eval"]
        self.input = _load_pickled(prefix + ".input.pt")
        self.values = _load_pickled(prefix + ".values.pt")
        self.path = prefix + ".pt"

    def module(self):
        return torch.jit.load(self.path)

    def train_choice(self):
        # Values are eval-mode; train mode only needs a valid choice.
        return [n for n in self.values if n in self.train_names] or self.train_names[-1:]


def _all_tensors(value):
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, tuple) and all(_all_tensors(v) for v in value)


class ReferenceModelsTest(unittest.TestCase):
    def assertCloseToReference(self, got, want, msg):
        # tests/testing/mode_values.cc's CloseToReference.
        self.assertIsInstance(got, torch.Tensor, msg)
        self.assertEqual((got.shape, got.dtype), (want.shape, want.dtype), msg)
        if want.is_quantized:
            self.assertTrue(got.is_quantized, msg)
            self.assertEqual(got.qscheme(), want.qscheme(), msg)
            if want.qscheme() == torch.per_tensor_affine:
                self.assertEqual((got.q_scale(), got.q_zero_point()), (want.q_scale(), want.q_zero_point()), msg)
            got, want = got.dequantize(), want.dequantize()
        scale = max(1.0, want.abs().max().item()) if want.numel() else 1.0
        self.assertTrue(torch.allclose(got, want, rtol=1e-4, atol=1e-5 * scale), msg)

    def assertSameOutput(self, got, want, msg):
        if isinstance(want, torch.Tensor):
            self.assertTrue(torch.allclose(got, want, rtol=1e-4, atol=1e-5), msg)
        elif isinstance(want, dict):
            self.assertEqual(sorted(got), sorted(want), msg)
            for key in want:
                self.assertSameOutput(got[key], want[key], f"{msg}: {key}")
        elif isinstance(want, (tuple, list)):
            self.assertEqual(len(got), len(want), msg)
            for g, w in zip(got, want):
                self.assertSameOutput(g, w, msg)
        else:
            self.assertEqual(got, want, msg)

    def names_equal_torchvisions_in_both_modes(self, ref):
        train, eval_ = featx.get_graph_node_names(ref.module(), suppress_diff_warning=True)
        self.assertEqual(train, ref.train_names)
        self.assertEqual(eval_, ref.eval_names)

    def dict_values_equal_torchvisions_at_their_nodes(self, ref):
        with torch.no_grad():
            got = self._extractor(ref, "dict")(ref.input.clone())
        self.assertEqual(list(got), list(ref.values))
        for node, want in ref.values.items():
            self.assertCloseToReference(got[node], want, node)

    def tuple_values_follow_the_models_own_outputs(self, ref):
        with torch.no_grad():
            plain = ref.module()(ref.input.clone())
        if not _all_tensors(plain):
            with self.assertRaisesRegex(ValueError, TUPLE_NEEDS_TENSORS):
                self._extractor(ref, "tuple")
            return
        if len(ref.train_choice()) != len(ref.values):
            self.skipTest("one tuple type for both modes needs train and eval choices of one length")
        extractor = self._extractor(ref, "tuple")
        with torch.no_grad():
            got = extractor(ref.input.clone())
        entries = featx.manifest(extractor)["eval"]
        slots = {e["name"]: e["index"] for e in entries if e["node"] != "output"}
        outputs = [got[e["index"]] for e in entries if e["node"] == "output"]
        self.assertSameOutput(outputs[0] if isinstance(plain, torch.Tensor) else tuple(outputs), plain, "output")
        self.assertEqual(sorted(slots), sorted(ref.values))
        for node, want in ref.values.items():
            self.assertCloseToReference(got[slots[node]], want, node)

    def tap_values_are_captured_and_the_output_unchanged(self, ref):
        with torch.no_grad():
            plain = ref.module()(ref.input.clone())
        extractor = self._extractor(ref, "tap")
        with torch.no_grad(), featx.capture() as got:
            output = extractor(ref.input.clone())
        self.assertSameOutput(output, plain, "output")
        self.assertEqual(sorted(got), sorted(ref.values))
        for node, want in ref.values.items():
            self.assertCloseToReference(got[node], want, node)

    def _extractor(self, ref, mode):
        return featx.create_feature_extractor(ref.module(), train_return_nodes=ref.train_choice(),
                                              eval_return_nodes=list(ref.values), suppress_diff_warning=True,
                                              mode=mode).eval()


CHECKS = ("names_equal_torchvisions_in_both_modes", "dict_values_equal_torchvisions_at_their_nodes",
          "tuple_values_follow_the_models_own_outputs", "tap_values_are_captured_and_the_output_unchanged")


def _add_cases():
    """One test case per model and check: test_<model>_<check>."""
    models = traceable_models()
    for model in models:
        for check in CHECKS:
            setattr(ReferenceModelsTest, f"test_{model}_{check}",
                    lambda self, model=model, check=check: getattr(self, check)(Reference(model)))

    def test_the_runfiles_hold_the_test_models(self):
        self.assertGreaterEqual(len(models), 20, models)

    ReferenceModelsTest.test_the_runfiles_hold_the_test_models = test_the_runfiles_hold_the_test_models


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    import featx  # noqa: E402  (loads its plugin)

    _add_cases()

    bazel_unittest.main()
