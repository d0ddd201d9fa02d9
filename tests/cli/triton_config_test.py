"""`featx rewrite --mode=tuple --triton_config=config.pbtxt`: the config a
Triton user would otherwise write by hand, read back and checked against the
manifest and the rewritten model's real outputs at other batch sizes, as
Triton's PyTorch backend runs it (eval, no grad, outputs by position).

Arguments: the featx command line, the models directory.
"""
import json
import os
import re
import sys
import tempfile

import torch

import bazel_unittest
from cli_case import CliTestCase, run

FEATX = MODELS = None
TYPES = {"TYPE_FP32": torch.float32, "TYPE_FP64": torch.float64, "TYPE_INT64": torch.int64,
         "TYPE_BOOL": torch.bool, "TYPE_UINT8": torch.uint8}


def parse_pbtxt(text):
    """The subset featx writes: top-level scalars, and input/output lists of
    {name, data_type, dims}. Comments dropped."""
    text = re.sub(r"#[^\n]*", "", text)
    config = {k: v for k, v in re.findall(r"^(platform|max_batch_size):\s*(\S+)", text, re.M)}
    for section in ("input", "output"):
        body = re.search(section + r"\s*\[(.*?)\n\]", text, re.S)
        config[section] = [
            {"name": m.group(1), "data_type": m.group(2), "dims": [int(d) for d in m.group(3).split(",")]}
            for m in re.finditer(r'\{\s*name:\s*"([^"]+)"\s*data_type:\s*(\w+)\s*dims:\s*\[([^\]]*)\]\s*\}',
                                 body.group(1))
        ]
    return config


class Heads(torch.nn.Module):
    """A batch-following output, a fixed-size one (a buffer's sum over the
    batch) and integer and bool outputs."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.register_buffer("scale", torch.ones(4))

    def forward(self, x):
        y = self.conv(x)
        pooled = y.mean([2, 3]) * self.scale
        return pooled, pooled.sum(0), pooled.argmax(1), pooled > 0


class BatchOfOne(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x.view(1, 12))


class TritonConfigTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        torch.manual_seed(0)
        torch.jit.script(Heads().eval()).save(cls.file("heads.pt"))
        torch.jit.script(BatchOfOne()).save(cls.file("batch_of_one.pt"))
        torch.save(torch.randn(1, 3, 8, 8), cls.file("x.pt"))
        torch.save(torch.randn(1, 12), cls.file("x12.pt"))

    @classmethod
    def file(cls, name):
        return os.path.join(cls.tmp.name, name)

    def rewrite(self, model, nodes, x, name):
        result = run(FEATX, "rewrite", "--model=" + model, "--mode=tuple", "--return_nodes=" + nodes,
                     "--output=" + self.file(name + ".pt"), "--manifest=" + self.file(name + ".json"),
                     "--triton_config=" + self.file(name + ".pbtxt"), "--input=" + x)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.file(name + ".pbtxt")) as f:
            text = f.read()
        with open(self.file(name + ".json")) as f:
            manifest = json.load(f)
        return text, parse_pbtxt(text), manifest

    def assertDescribes(self, outputs, config_outputs):
        self.assertEqual(len(outputs), len(config_outputs))
        for value, entry in zip(outputs, config_outputs):
            self.assertEqual(TYPES[entry["data_type"]], value.dtype, entry["name"])
            self.assertEqual(len(entry["dims"]), value.dim(), entry["name"])
            for want, got in zip(entry["dims"], value.shape):
                if want != -1:
                    self.assertEqual(want, got, f"{entry['name']}: dims {entry['dims']}, shape {list(value.shape)}")

    def test_resnet18_outputs_match_the_manifest_and_real_runs_at_other_batch_sizes(self):
        text, config, manifest = self.rewrite(os.path.join(MODELS, "resnet18.pt"), "layer1,flatten:embedding",
                                              os.path.join(MODELS, "resnet18.input.pt"), "resnet18")
        self.assertEqual(config["platform"], '"pytorch_libtorch"')
        self.assertEqual(config["max_batch_size"], "0")
        x = torch.load(os.path.join(MODELS, "resnet18.input.pt"))
        self.assertEqual(config["input"], [{"name": "INPUT__0", "data_type": "TYPE_FP32", "dims": [-1, *x.shape[1:]]}])
        self.assertEqual([o["name"] for o in config["output"]], [e["triton_name"] for e in manifest["eval"]])
        self.assertEqual([o["dims"][0] for o in config["output"]], [-1, -1, -1])
        # Each output's comment names it as the manifest does.
        for entry in manifest["eval"]:
            self.assertRegex(text, rf'name: "{entry["triton_name"]}"  # {re.escape(entry["name"])}\b')
        model = torch.jit.load(self.file("resnet18.pt")).eval()
        for batch in (1, 3, 5):
            with torch.inference_mode():
                outputs = model(torch.randn(batch, *x.shape[1:]))
            self.assertIsInstance(outputs, tuple)
            self.assertDescribes(outputs, config["output"])

    def test_fixed_dims_stay_fixed_and_each_dtype_gets_tritons_type(self):
        _, config, _ = self.rewrite(self.file("heads.pt"), "conv", self.file("x.pt"), "heads")
        self.assertEqual([(o["data_type"], o["dims"]) for o in config["output"]],
                         [("TYPE_FP32", [-1, 4]), ("TYPE_FP32", [4]), ("TYPE_INT64", [-1]), ("TYPE_BOOL", [-1, 4]),
                          ("TYPE_FP32", [-1, 4, 6, 6])])
        model = torch.jit.load(self.file("heads.pt")).eval()
        with torch.inference_mode():
            self.assertDescribes(model(torch.randn(4, 3, 8, 8)), config["output"])

    def test_a_model_that_only_runs_at_batch_1_gets_fixed_dims_and_says_why(self):
        text, config, _ = self.rewrite(self.file("batch_of_one.pt"), "relu:act", self.file("x12.pt"), "one")
        self.assertEqual(config["input"][0]["dims"], [1, 12])
        self.assertEqual([o["dims"] for o in config["output"]], [[1, 12], [1, 12]])
        self.assertIn("# dims: one run at the input's shape [1, 12]; all fixed, because the model did not run at "
                      "batch 2: ", text)

    def test_refusals_name_the_fix_and_write_nothing(self):
        model = os.path.join(MODELS, "resnet18.pt")
        x = os.path.join(MODELS, "resnet18.input.pt")
        cases = [
            (["--mode=dict", "--input=" + x], "--triton_config needs --mode=tuple, not --mode=dict"),
            (["--mode=tuple"], "--triton_config needs --input=X.pt"),
            (["--mode=tuple", "--input=" + self.file("missing.pt")], "missing.pt"),
        ]
        for flags, message in cases:
            with self.subTest(flags=flags):
                out, pbtxt = self.file("refused.pt"), self.file("refused.pbtxt")
                result = run(FEATX, "rewrite", "--model=" + model, "--return_nodes=layer1", "--output=" + out,
                             "--triton_config=" + pbtxt, *flags)
                self.assertCleanError(result, message)
                self.assertFalse(os.path.exists(out))
                self.assertFalse(os.path.exists(pbtxt))


if __name__ == "__main__":
    FEATX, MODELS = (os.path.abspath(a) for a in sys.argv[1:3])
    del sys.argv[1:3]
    bazel_unittest.main()
