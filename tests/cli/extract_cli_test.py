"""`featx extract` and `featx rewrite` as users run them, checked against
torchvision's create_feature_extractor run here on the same weights, and the
rewritten models loaded by plain Python torch (no featx) where the mode allows.

Arguments: the featx binary, libfeatx.so, then the directory of the test models.
"""
import json
import os
import sys
import tempfile

import torch
import torchvision
from torchvision.models import feature_extraction as fe

import bazel_unittest
from cli_case import CliTestCase, run

FEATX = None
PLUGIN = None
MODELS = None

# Not overwritten in place after their node, so torchvision's extractor
# returns them as they were; layer1.0.bn1 is (by layer1.0.relu), so its
# reference is the value cloned at the node (make_models.py).
NODES = ["layer1", "layer2.0.conv1:l2c1", "fc:logits"]


def path(name):
    return os.path.join(MODELS, name)


def featx(*args):
    return run(FEATX, *args)


def torchvision_resnet18():
    """torchvision's resnet18 with the weights of the scripted test model."""
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(torch.jit.load(path("resnet18.pt")).state_dict())
    return model.eval()


class ExtractCliTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.input = torch.load(path("resnet18.input.pt"))
        extractor = fe.create_feature_extractor(
            torchvision_resnet18(), return_nodes={n.split(":")[0]: n.split(":")[-1] for n in NODES})
        with torch.no_grad():
            cls.expected = extractor(cls.input)
            cls.plain_output = torch.jit.load(path("resnet18.pt"))(cls.input)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.tmp.name, name)

    def assertMatchesTorchvision(self, got):
        self.assertEqual(list(got), list(self.expected))
        for name, value in self.expected.items():
            torch.testing.assert_close(got[name], value, rtol=1e-4, atol=1e-5, msg=name)

    def test_extract_writes_the_same_torch_loadable_dict_in_every_mode(self):
        for mode in ("dict", "tuple", "tap"):
            with self.subTest(mode=mode):
                f = self.out(f"features_{mode}.pt")
                result = featx("extract", "--model=" + path("resnet18.pt"), "--input=" + path("resnet18.input.pt"),
                               "--return_nodes=" + ",".join(NODES), "--output=" + f, "--mode=" + mode)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("logits\t[1, 1000]", result.stdout)
                # weights_only: torch.load's default since torch 2.6, and the safe way
                # to read a file from a server.
                self.assertMatchesTorchvision(torch.load(f, weights_only=True))

    def test_extract_takes_overwritten_values_at_their_node(self):
        f = self.out("bn1.pt")
        result = featx("extract", "--model=" + path("resnet18.pt"), "--input=" + path("resnet18.input.pt"),
                       "--return_nodes=layer1.0.bn1", "--output=" + f)
        self.assertEqual(result.returncode, 0, result.stderr)
        at_node = torch.load(path("resnet18.values.pt"))["layer1.0.bn1"]
        torch.testing.assert_close(torch.load(f, weights_only=True)["layer1.0.bn1"], at_node, rtol=1e-4, atol=1e-5)
        self.assertTrue((at_node < 0).any(), "the value before the in-place ReLU has negatives")

    # This process never loads libfeatx.so (the tap test loads it in a
    # child process), so dict and tuple models run on plain torch here.
    def test_dict_rewrite_runs_in_plain_python_torch(self):
        r = self.out("resnet18_dict.pt")
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=" + ",".join(NODES),
                       "--mode=dict", "--output=" + r)
        self.assertEqual(result.returncode, 0, result.stderr)
        with torch.no_grad():
            self.assertMatchesTorchvision(torch.jit.load(r)(self.input))

    def test_tuple_rewrite_runs_in_plain_python_torch_with_its_manifest(self):
        r, m = self.out("resnet18_tuple.pt"), self.out("resnet18_tuple.json")
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=" + ",".join(NODES),
                       "--mode=tuple", "--output=" + r, "--manifest=" + m)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(m) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["mode"], "tuple")
        self.assertEqual([s["triton_name"] for s in manifest["eval"]], [f"OUTPUT__{i}" for i in range(4)])
        self.assertEqual([s["name"] for s in manifest["eval"]], ["output", "layer1", "l2c1", "logits"])
        with torch.no_grad():
            out = torch.jit.load(r)(self.input)
        self.assertIsInstance(out, tuple)
        torch.testing.assert_close(out[0], self.plain_output)
        self.assertMatchesTorchvision({s["name"]: out[s["index"]] for s in manifest["eval"][1:]})

    def test_tap_rewrite_keeps_the_output_and_records_with_the_plugin_loaded(self):
        r = self.out("resnet18_tap.pt")
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=" + ",".join(NODES),
                       "--mode=tap", "--output=" + r)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("needs libfeatx.so", result.stdout)
        # A fresh process: loading needs the plugin's ops, and then the output
        # is the model's and the capture holds the chosen nodes.
        script = f"""
import torch
try:
    torch.jit.load({r!r})
    raise SystemExit("loaded without the plugin")
except RuntimeError as e:
    assert "featx::tap" in str(e) or "featx" in str(e), e
torch.ops.load_library({PLUGIN!r})
m = torch.jit.load({r!r})
x = torch.load({path("resnet18.input.pt")!r})
with torch.no_grad():
    torch.ops.featx.capture_begin()
    out = m(x)
    acts = torch.ops.featx.capture_end()
torch.save({{"out": out, **acts}}, {self.out("tap_acts.pt")!r})
"""
        ran = run(sys.executable, "-c", script)
        self.assertEqual(ran.returncode, 0, ran.stderr)
        got = torch.load(self.out("tap_acts.pt"))
        torch.testing.assert_close(got.pop("out"), self.plain_output)
        self.assertMatchesTorchvision(got)

    def test_demo_shows_names_dict_extraction_and_tap_capture(self):
        result = featx("demo")
        self.assertEqual(result.returncode, 0, result.stderr)
        for shown in ("1. Node names", "layer1.0.conv1", "2. Dict mode", "logits        [1, 10]", "3. Tap mode",
                      "its output unchanged (equal)", "same activations as dict mode (equal)", "4. Timings"):
            self.assertIn(shown, result.stdout)

    def test_unknown_node_suggests_the_closest(self):
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=layer1.0.rleu",
                       "--output=" + self.out("x.pt"))
        self.assertCleanError(result, "node 'layer1.0.rleu' is not in the model's", "did you mean 'layer1.0.relu'")
        self.assertEqual(result.returncode, 2)

    def test_unknown_mode_suggests_the_closest(self):
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=fc", "--mode=tupel",
                       "--output=" + self.out("x.pt"))
        self.assertCleanError(result, "unknown mode 'tupel'; did you mean 'tuple'")

    def test_tuple_mode_refuses_a_node_inside_control_flow(self):
        result = featx("rewrite", "--model=" + path("control_flow.pt"), "--return_nodes=relu", "--mode=tuple",
                       "--output=" + self.out("x.pt"))
        self.assertCleanError(result, "tuple mode cannot return node 'relu': it is inside control flow")
        self.assertFalse(os.path.exists(self.out("x.pt")))

    def test_unknown_pass_suggests_the_closest_and_writes_nothing(self):
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=fc",
                       "--featx_passes=featx.inline_non_leaf,featx.prun", "--output=" + self.out("p.pt"))
        self.assertCleanError(result, "no featx pass named 'featx.prun'; did you mean 'featx.prune'")
        self.assertFalse(os.path.exists(self.out("p.pt")))

    # The model used to be saved before the manifest failed: a half-done
    # rewrite left behind, and an earlier output replaced.
    def test_rewrite_writes_both_files_or_neither(self):
        model = self.out("whole.pt")
        with open(model, "w") as f:
            f.write("an earlier output")
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=fc",
                       "--output=" + model, "--manifest=" + self.out("no-such-dir/whole.json"))
        self.assertCleanError(result, "cannot write '" + self.out("no-such-dir/whole.json") + "'")
        with open(model) as f:
            self.assertEqual(f.read(), "an earlier output")
        self.assertEqual([f for f in os.listdir(self.tmp.name) if ".featx-" in f], [], "temporary files left")

    # Exit codes say whose the error is: 2 for a request that is wrong (a
    # misspelt flag, a file that is not there), 1 for one that could not be
    # done (sysfs takes no new file, even from root).
    def test_exit_codes_tell_a_wrong_request_from_a_failed_one(self):
        model = "--model=" + path("resnet18.pt")
        self.assertCleanError(featx("rewrite", model, "--return_nodes=fc", "--output=" + self.out("a.pt"),
                                    "--featx_mdoe=tap"),
                              "unknown flag '--featx_mdoe'; did you mean '--featx_mode'", code=2)
        self.assertCleanError(featx("rewrite", "--model=/nonexistent/m.pt", "--return_nodes=fc",
                                    "--output=" + self.out("b.pt")), "does not exist", code=2)
        self.assertCleanError(featx("rewrite", model, "--return_nodes=fc", "--output=/sys/featx-test.pt"),
                              "cannot write '/sys/featx-test.pt'", code=1)

    # --mode and --return_nodes are featx's --featx_mode and
    # --featx_return_nodes under short names: either spelling writes the same
    # model, and a host's spelling is never silently ignored.
    def test_featx_flag_names_choose_the_same_rewrite_as_the_short_ones(self):
        r, m = self.out("long.pt"), self.out("long.json")
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--featx_return_nodes=layer1,fc:logits",
                       "--featx_mode=tuple", "--output=" + r, "--manifest=" + m)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(m) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["mode"], "tuple")
        self.assertEqual([e["name"] for e in manifest["eval"]], ["output", "layer1", "logits"])

    def test_one_flag_under_both_names_is_an_error(self):
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=fc", "--mode=dict",
                       "--featx_mode=tap", "--output=" + self.out("both.pt"))
        self.assertCleanError(result, "--mode and --featx_mode are the same flag; give it once")
        self.assertFalse(os.path.exists(self.out("both.pt")))

    def test_the_command_lines_mode_defaults_to_torchvisions_dict(self):
        r = self.out("default.pt")
        result = featx("rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=fc", "--output=" + r)
        self.assertEqual(result.returncode, 0, result.stderr)
        with torch.no_grad():
            self.assertEqual(list(torch.jit.load(r)(self.input)), ["fc"])

    def test_missing_output(self):
        self.assertCleanError(featx("extract", "--model=" + path("resnet18.pt"), "--return_nodes=fc"),
                              "give --output=F.pt")

    def test_no_return_nodes(self):
        self.assertCleanError(featx("rewrite", "--model=" + path("resnet18.pt"), "--output=" + self.out("x.pt")),
                              "no return nodes given")


if __name__ == "__main__":
    FEATX = os.path.abspath(sys.argv.pop(1))
    PLUGIN = os.path.abspath(sys.argv.pop(1))
    MODELS = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
