"""featx's Python API (python/featx) against torchvision's own
feature_extraction, run in the same process on the same models.

featx is the checkout's with the plugin Bazel built (--featx_plugin, under
bazel test) or the installed package (tools/package_tests.sh); see
featx_under_test.py. Run by the Python whose torch the plugin was built
against.
"""
import io
import logging
import math
import os
import subprocess
import sys
import tempfile
import inspect
import unittest
import warnings
from typing import Optional

import bazel_unittest
import featx_under_test

import torch
import torchvision
from torchvision.models import feature_extraction as tv

featx = None  # imported once featx_under_test has chosen which

# A residual network, one with stochastic depth and squeeze-excitation, one
# with hardswish and torchvision's default leaf modules (torchvision.ops),
# and one whose train and eval graphs differ (auxiliary classifiers).
MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(), (1, 3, 64, 64)),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(), (1, 3, 64, 64)),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(), (1, 3, 64, 64)),
    "googlenet": (lambda: torchvision.models.googlenet(aux_logits=True, init_weights=False), (1, 3, 64, 64)),
}
DIFF_WARNING = "The nodes obtained by tracing the model in"


def scaled(x):
    return x * 2 + 1


def _shifted(x):  # FX autowraps no function whose name starts with "_"
    return x - 1


class WithHelpers(torch.nn.Module):
    """Calls two plain functions, which FX traces through unless wrapped."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return _shifted(scaled(self.conv(x))).relu()


class Masked(torch.nn.Module):
    """Branches on forward arguments: FX takes `mask is not None` as True (a
    Proxy is never None) and cannot trace `if scale_first:` at all, unless
    concrete_args fixes them."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x, mask: Optional[torch.Tensor] = None, scale_first: bool = False):
        if mask is not None:
            x = x * mask
        y = self.conv(x)
        if scale_first:
            y = y * 2
        return self.fc(y.relu().mean([2, 3]))


TORCHVISION_TAKES_CONCRETE_ARGS = "concrete_args" in inspect.signature(tv.get_graph_node_names).parameters


def _model(name):
    torch.manual_seed(0)
    ctor, shape = MODELS[name]
    model = ctor().eval()
    return model, torch.jit.script(model), torch.randn(shape)


def _warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if DIFF_WARNING in str(w.message)]


class GraphNodeNamesTest(unittest.TestCase):
    def test_names_equal_torchvisions_in_both_modes(self):
        for name in MODELS:
            with self.subTest(model=name):
                model, scripted, _ = _model(name)
                (want_train, want_eval), _ = _warnings(lambda model=model: tv.get_graph_node_names(model))
                got_train, got_eval = featx.get_graph_node_names(scripted)
                self.assertEqual(got_train, want_train)
                self.assertEqual(got_eval, want_eval)

    def test_train_eval_difference_warns_through_python_warnings_as_torchvision(self):
        model, scripted, _ = _model("googlenet")
        _, want = _warnings(lambda model=model: tv.get_graph_node_names(model))
        _, got = _warnings(lambda: featx.get_graph_node_names(scripted))
        self.assertEqual(len(want), 1)
        self.assertEqual(len(got), 1, got)
        self.assertTrue(got[0].startswith(want[0]), (got[0], want[0]))
        self.assertNotIn("Triggered internally", got[0])
        _, quiet = _warnings(lambda: featx.get_graph_node_names(scripted, suppress_diff_warning=True))
        self.assertEqual(quiet, [])

    def test_warnings_to_sends_featx_warnings_to_a_log_and_passes_others_on(self):
        _, scripted, _ = _model("googlenet")
        with self.assertLogs("featx.test", level="WARNING") as logged, \
                warnings.catch_warnings(record=True) as passed:
            warnings.simplefilter("always")
            with featx.warnings_to(logging.getLogger("featx.test")):
                featx.get_graph_node_names(scripted)
                warnings.warn("not featx's", DeprecationWarning, stacklevel=1)
        self.assertEqual(len(logged.output), 1)
        self.assertIn("featx: NOTE: The nodes obtained by tracing the model in", logged.output[0])
        self.assertEqual([str(w.message) for w in passed], ["not featx's"])

    def test_leaf_modules_by_class_or_name_are_single_nodes_as_in_torchvision(self):
        model, scripted, _ = _model("resnet18")
        block = torchvision.models.resnet.BasicBlock
        want = tv.get_graph_node_names(model, tracer_kwargs={"leaf_modules": [block]})
        self.assertIn("layer1.0", want[1])
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs={"leaf_modules": [block]}), want)
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs={"leaf_modules": ["BasicBlock"]}), want)

    def test_leaf_classes_the_model_lacks_are_ignored_as_by_torchvision_but_names_are_checked(self):
        # A library's registry (timm's) lists classes of all its models.
        model, scripted, _ = _model("resnet18")
        absent = torchvision.models.densenet._DenseLayer
        want = tv.get_graph_node_names(model, tracer_kwargs={"leaf_modules": [absent]})
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs={"leaf_modules": [absent]}), want)
        with self.assertRaisesRegex(ValueError, "did you mean 'BasicBlock'"):
            featx.get_graph_node_names(scripted, tracer_kwargs={"leaf_modules": ["BasicBlok"]})

    def test_autowrap_functions_are_single_nodes_as_in_torchvision(self):
        model = WithHelpers().eval()
        scripted = torch.jit.script(model)
        traced_through = tv.get_graph_node_names(model)
        self.assertIn("mul", traced_through[1])
        self.assertEqual(featx.get_graph_node_names(scripted), traced_through)
        wrapped = tv.get_graph_node_names(model, tracer_kwargs={"autowrap_functions": [scaled, _shifted]})
        self.assertEqual(wrapped[1], ["x", "conv", "scaled", "sub", "relu"])
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs={"autowrap_functions": [scaled, _shifted]}),
                         wrapped)
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs={"autowrap_functions": ["scaled"]}),
                         wrapped)
        # Functions the model does not call are ignored, as by torchvision.
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs={"autowrap_functions": [scaled, _model]}),
                         wrapped)
        with self.assertRaisesRegex(ValueError, "did you mean 'scaled'"):
            featx.get_graph_node_names(scripted, tracer_kwargs={"autowrap_functions": ["scaed"]})

    def test_autowrap_modules_wrap_their_public_functions_as_in_torchvision(self):
        model = WithHelpers().eval()
        scripted = torch.jit.script(model)
        # This file's module: `scaled` is public, `_shifted` is not.
        kwargs = {"autowrap_modules": (math, sys.modules[__name__])}
        wrapped = tv.get_graph_node_names(model, tracer_kwargs=kwargs)
        self.assertEqual(wrapped[1], ["x", "conv", "scaled", "sub", "relu"])
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs=kwargs), wrapped)
        both = {**kwargs, "autowrap_functions": [scaled]}
        self.assertEqual(featx.get_graph_node_names(scripted, tracer_kwargs=both), wrapped)
        with self.assertRaisesRegex(TypeError, "takes Python modules"):
            featx.get_graph_node_names(scripted, tracer_kwargs={"autowrap_modules": ["math"]})

    def test_the_module_is_not_changed(self):
        _, scripted, x = _model("resnet18")
        before = scripted(x)
        graph = str(scripted.graph)
        featx.get_graph_node_names(scripted)
        self.assertEqual(str(scripted.graph), graph)
        self.assertTrue(torch.equal(scripted(x), before))


class CreateFeatureExtractorTest(unittest.TestCase):
    def test_dict_values_equal_torchvisions(self):
        # Nodes whose output no later op overwrites in place: torchvision
        # returns such a node's tensor as the overwrite left it, featx as it
        # was at the node (tests/extract/modes_test compares those).
        picks = {
            "resnet18": {"layer1.0.conv2": "early", "layer2.1.relu_1": "mid", "flatten": "embedding", "fc": "logits"},
            "efficientnet_b0": {"features.2.0.block.1": "block", "avgpool": "pooled", "classifier.1": "logits"},
            "mobilenet_v3_small": ["features.1.block.1", "features.12", "classifier.3"],
            "googlenet": {"inception3a": "mixed", "avgpool": "pooled", "fc": "logits"},
        }
        for name, nodes in picks.items():
            with self.subTest(model=name):
                model, scripted, x = _model(name)
                want = tv.create_feature_extractor(model, return_nodes=nodes).eval()(x)
                extractor = featx.create_feature_extractor(scripted, return_nodes=nodes)
                self.assertIsInstance(extractor, torch.jit.ScriptModule)
                got = extractor.eval()(x)
                self.assertEqual(sorted(got), sorted(want))
                for key in want:
                    torch.testing.assert_close(got[key], want[key], rtol=1e-4, atol=1e-5, msg=f"{name}: {key}")

    def test_train_and_eval_return_nodes_follow_the_modules_mode_as_torchvisions(self):
        model, scripted, x = _model("resnet18")
        kwargs = dict(train_return_nodes={"layer1": "a"}, eval_return_nodes={"layer2": "b"})
        extractor = featx.create_feature_extractor(scripted, **kwargs)
        self.assertEqual(list(extractor.eval()(x)), ["b"])
        self.assertEqual(list(extractor.train()(x)), ["a"])

    def test_an_extractor_saves_and_serves_without_featx(self):
        _, scripted, x = _model("resnet18")
        extractor = featx.create_feature_extractor(scripted, return_nodes={"layer4": "feat"}).eval()
        buffer = io.BytesIO()
        torch.jit.save(extractor, buffer)
        script = ("import io, sys, torch\n"
                  "m = torch.jit.load(io.BytesIO(sys.stdin.buffer.read()))\n"
                  "print(sorted(m(torch.zeros(1, 3, 64, 64))))\n")
        env = {k: v for k, v in os.environ.items() if k not in ("FEATX_PLUGIN", "LD_PRELOAD")}
        result = subprocess.run([sys.executable, "-c", script], input=buffer.getvalue(), capture_output=True, env=env,
                                timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(result.stdout.decode().strip(), "['feat']")

    def test_tuple_mode_puts_the_models_output_first_and_says_which_slot_is_which(self):
        _, scripted, x = _model("resnet18")
        extractor = featx.create_feature_extractor(scripted, return_nodes={"layer4": "feat"}, mode="tuple").eval()
        out = extractor(x)
        self.assertTrue(torch.allclose(out[0], scripted(x), rtol=1e-4, atol=1e-5))
        slots = [(e["index"], e["name"]) for e in featx.manifest(extractor)["eval"]]
        self.assertEqual(slots, [(0, "output"), (1, "feat")])

    def test_extractors_in_memory_equal_the_file_rewrites(self):
        _, scripted, x = _model("efficientnet_b0")
        nodes = {"features.2.0.block.1": "block", "avgpool": "pooled"}
        flags = "--featx_return_nodes=features.2.0.block.1:block,avgpool:pooled"
        with tempfile.TemporaryDirectory() as d:
            torch.jit.save(scripted, os.path.join(d, "m.pt"))
            for mode in ("dict", "tuple"):
                with self.subTest(mode=mode):
                    out = os.path.join(d, mode + ".pt")
                    file_manifest = featx.rewrite_file(os.path.join(d, "m.pt"), out, f"{flags} --featx_mode={mode}")
                    extractor = featx.create_feature_extractor(torch.jit.load(os.path.join(d, "m.pt")),
                                                               return_nodes=nodes, mode=mode).eval()
                    self.assertEqual(featx.manifest(extractor), file_manifest)
                    # Compared as saved: value names are the printer's, not the graph's.
                    buffer = io.BytesIO()
                    torch.jit.save(extractor, buffer)
                    buffer.seek(0)
                    self.assertEqual(torch.jit.load(buffer).code, torch.jit.load(out).code)
                    got, want = extractor(x), torch.jit.load(out)(x)
                    for key in (want if mode == "dict" else range(len(want))):
                        self.assertTrue(torch.equal(got[key], want[key]), key)

    def test_an_unknown_node_is_a_value_error_with_the_closest_names(self):
        _, scripted, _ = _model("resnet18")
        with self.assertRaisesRegex(ValueError, r"layer1\.0\.bn1"):
            featx.create_feature_extractor(scripted, return_nodes=["layer1.0.bn"])

    def test_what_featx_cannot_honour_is_an_error_naming_it(self):
        _, scripted, _ = _model("resnet18")
        with self.assertRaisesRegex(ValueError, "param_shapes_constant"):
            featx.get_graph_node_names(scripted, tracer_kwargs={"param_shapes_constant": True})
        with self.assertRaisesRegex(ValueError, "concrete_args: 'x' is a Tensor and cannot be None"):
            featx.create_feature_extractor(scripted, return_nodes=["fc"], concrete_args={"x": None})
        with self.assertRaisesRegex(ValueError, "mode"):
            featx.create_feature_extractor(scripted, return_nodes=["fc"], mode="list")
        with self.assertRaisesRegex(TypeError, "torchvision.models.feature_extraction"):
            featx.get_graph_node_names(torchvision.models.resnet18())


@unittest.skipUnless(TORCHVISION_TAKES_CONCRETE_ARGS, "this torchvision has no concrete_args (0.29 has)")
class ConcreteArgsTest(unittest.TestCase):
    FIXED = {"mask": None, "scale_first": False}

    def test_names_equal_torchvisions_with_the_arguments_fixed(self):
        model = Masked().eval()
        want = tv.get_graph_node_names(model, concrete_args=self.FIXED)
        self.assertIn("_assert_is_none", want[1])  # FX's checks are nodes
        self.assertEqual(featx.get_graph_node_names(torch.jit.script(model), concrete_args=self.FIXED), want)

    def test_values_equal_torchvisions_and_another_value_is_fxs_error(self):
        torch.manual_seed(0)
        model = Masked().eval()
        x = torch.randn(1, 3, 8, 8)
        nodes = ["conv", "relu", "fc"]
        want = tv.create_feature_extractor(model, nodes, concrete_args=self.FIXED)(x)
        for mode in ("dict", "tap"):
            extractor = featx.create_feature_extractor(torch.jit.script(model), nodes, concrete_args=self.FIXED,
                                                       mode=mode)
            with featx.capture() as tapped:
                out = extractor(x)
            got = out if mode == "dict" else tapped
            for node in nodes:
                self.assertTrue(torch.allclose(got[node], want[node]), f"{mode}: {node}")
            with self.assertRaisesRegex(Exception, "mask has been specialized to have value None"):
                extractor(x, torch.ones(1, 3, 8, 8))
            with self.assertRaisesRegex(Exception, "scale_first has been specialized to have value False"):
                extractor(x, None, True)

    def test_a_bad_concrete_arg_is_a_value_error_naming_it(self):
        scripted = torch.jit.script(Masked())
        with self.assertRaisesRegex(ValueError, "forward has no argument 'msk'.*did you mean 'mask'"):
            featx.get_graph_node_names(scripted, concrete_args={"msk": None})
        with self.assertRaisesRegex(ValueError, "'scale_first' is a bool and cannot be 2"):
            featx.get_graph_node_names(scripted, concrete_args={"scale_first": 2})
        with self.assertRaisesRegex(ValueError, "fixes an argument to None, a bool, an int or a float, got Tensor"):
            featx.get_graph_node_names(scripted, concrete_args={"mask": torch.ones(1)})


class InstrumentTest(unittest.TestCase):
    FLAGS = "--featx_mode=tap --featx_return_nodes=layer1.0.bn1,fc:logits"

    def test_instrument_in_memory_equals_the_file_rewrite(self):
        _, scripted, x = _model("resnet18")
        plain = scripted(x)
        with tempfile.TemporaryDirectory() as d:
            torch.jit.save(scripted, os.path.join(d, "m.pt"))
            loaded = torch.jit.load(os.path.join(d, "m.pt"))
            file_manifest = featx.rewrite_file(os.path.join(d, "m.pt"), os.path.join(d, "tap.pt"), self.FLAGS)
            from_file = torch.jit.load(os.path.join(d, "tap.pt"))
        manifest = featx.instrument(loaded, self.FLAGS)
        self.assertEqual(manifest, file_manifest)
        self.assertIs(featx.manifest(loaded), manifest)
        with featx.capture() as in_memory:
            y = loaded(x)
        with featx.capture() as on_file:
            from_file(x)
        self.assertTrue(torch.equal(y, plain))  # the model's own answer, unchanged
        self.assertEqual(sorted(in_memory), ["layer1.0.bn1", "logits"])
        for key in on_file:
            self.assertTrue(torch.equal(in_memory[key], on_file[key]), key)

    def test_load_equals_jit_load_then_instrument(self):
        _, scripted, x = _model("resnet18")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.pt")
            torch.jit.save(scripted, path)
            loaded = featx.load(path, self.FLAGS, map_location="cpu")
            by_hand = torch.jit.load(path)
            featx.instrument(by_hand, self.FLAGS)
            with self.assertRaisesRegex(ValueError, "does not exist"):
                featx.load(os.path.join(d, "missing.pt"), self.FLAGS)
            with self.assertRaisesRegex(ValueError, "no.such.node"):
                featx.load(path, "--featx_return_nodes=no.such.node")
        self.assertIsInstance(loaded, torch.jit.ScriptModule)
        self.assertEqual(featx.manifest(loaded), featx.manifest(by_hand))
        with featx.capture() as got:
            y = loaded(x)
        with featx.capture() as want:
            by_hand(x)
        self.assertTrue(torch.equal(y, scripted(x)))
        self.assertEqual(sorted(got), sorted(want))
        for key in want:
            self.assertTrue(torch.equal(got[key], want[key]), key)

    def test_bad_flags_leave_the_module_as_it_was(self):
        _, scripted, x = _model("resnet18")
        graph = str(scripted.graph)
        with self.assertRaisesRegex(ValueError, "no.such.node"):
            featx.instrument(scripted, "--featx_return_nodes=no.such.node")
        with self.assertRaisesRegex(ValueError, "featx_mdoe"):
            featx.instrument(scripted, "--featx_mdoe=tap")
        self.assertEqual(str(scripted.graph), graph)
        with featx.capture() as activations:
            scripted(x)
        self.assertEqual(activations, {})

    def test_list_passes_and_the_version_come_from_the_plugin(self):
        self.assertEqual(featx.list_passes()[0], "featx.inline_non_leaf")
        self.assertRegex(featx.__version__, r"^\d+\.\d+\.\d+")
        self.assertEqual(featx.built_against_torch.split("+")[0].split(".")[:2], torch.__version__.split(".")[:2])


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    import featx  # noqa: E402  (loads its plugin)

    bazel_unittest.main()
