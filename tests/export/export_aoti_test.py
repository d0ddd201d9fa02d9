"""A rewritten program served from C++: featx rewrite (tuple mode), AOTInductor's compile on the CPU, and
a small C++ program (aoti_runner.cc) running the package through torch::inductor::AOTIModelPackageLoader.
Its outputs are the model's own, then torchvision's create_feature_extractor values on the eager model.
"""
import os
import sys
import tempfile
import unittest

import torch

import bazel_unittest

sys.path.insert(0, "tests/cli")
sys.path.insert(0, "tests/export")
sys.path.insert(0, "tests/models")
from cli_case import CliTestCase, run  # noqa: E402
from export_models import HAS_EXPORT, export  # noqa: E402
from export_rewrite_test import reference  # noqa: E402

# A classifier, a video model and a transformer; small ones, as compiling takes 10-30 s each here.
MODELS = {
    "squeezenet1_0": ["features.3.expand3x3", "classifier.3"],
    "r3d_18": ["layer2.0.conv2.1", "avgpool"],
    "vit": ["encoder.layers.encoder_layer_0.add", "encoder.ln"],
}
# Exported with a dynamic batch and served at another batch size than export's example, as a server
# batches requests.
DYNAMIC = {"vit": 3}


def compile_package(program_path, package_path):
    program = torch.export.load(program_path)
    # The wrapper's C++ at -O0: it only calls the kernels, and compiles in half the time.
    torch._inductor.aoti_compile_and_package(program, package_path=package_path,
                                             inductor_configs={"aot_inductor.compile_wrapper_opt_level": "O0"})


class ExportAotiTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_compiled_rewritten_program_returns_torchvisions_features_in_cpp(self):
        from torch.utils._pytree import tree_leaves
        for name, nodes in MODELS.items():
            with self.subTest(model=name):
                model, x, path = export(name, self.tmp.name, dynamic_batch=name in DYNAMIC)
                if name in DYNAMIC:
                    x = torch.randn(DYNAMIC[name], *x.shape[1:])
                rewritten, package = path.replace(".pt2", "_features.pt2"), path.replace(".pt2", "_aoti.pt2")
                result = run(FEATX, "rewrite", "--model=" + path, "--return_nodes=" + ",".join(nodes), "--mode=tuple",
                             "--output=" + rewritten)
                self.assertEqual(result.returncode, 0, result.stderr)
                compile_package(rewritten, package)
                inputs, outputs = os.path.join(self.tmp.name, "x.pt"), os.path.join(self.tmp.name, name + "_out.pt")
                torch.save(x, inputs)
                result = run(RUNNER, package, inputs, outputs)
                self.assertEqual(result.returncode, 0, result.stderr)
                got = torch.load(outputs)
                with torch.no_grad():
                    own = tree_leaves(model(x.clone()))
                want = own + list(reference(model, x, nodes).values())
                self.assertEqual(len(got), len(want))
                for i, (mine, theirs) in enumerate(zip(got, want)):
                    # Inductor's kernels fuse and vectorise by CPU: float32 rounding, not a wrong node.
                    torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-4, msg=f"output {i}")

    @unittest.skipUnless(HAS_EXPORT, "torch.export needs torch 2")
    def test_runner_names_a_missing_package(self):
        missing = os.path.join(self.tmp.name, "missing.pt2")
        inputs = os.path.join(self.tmp.name, "x.pt")
        torch.save(torch.zeros(1), inputs)
        result = run(RUNNER, missing, inputs, os.path.join(self.tmp.name, "out.pt"))
        self.assertCleanError(result, f"package '{missing}' does not exist")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "out.pt")))

    @unittest.skipIf(HAS_EXPORT, "torch 2 has AOTInductor")
    def test_torch_1_runner_says_it_has_no_loader(self):
        result = run(RUNNER, "p.pt2", "x.pt", "out.pt")
        self.assertCleanError(result, "has no AOTInductor package loader")


if __name__ == "__main__":
    RUNNER = os.path.abspath(sys.argv.pop(2))
    FEATX = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
