"""featx's names and values on timm's models, against timm's own feature
extraction (timm.models.get_graph_node_names / create_feature_extractor: FX
with timm's registries of leaf modules and functions) run in the same test.

Each model is built by timm.create_model(name, scriptable=True) and scripted;
featx gets timm's registries of leaf module classes and functions as timm
gives them to torchvision, as tracer_kwargs. Where featx's answer differs,
KNOWN_DIFFERENCES says why, and the test asserts the difference still
stands: a fix or a new difference fails it, so the list stays true. Runs where timm is installed (the torch 2.x
run: tools/requirements-torch2.txt); elsewhere its cases are skipped.
"""
import re
import sys
import unittest
import warnings

import bazel_unittest
import featx_under_test

sys.path.insert(0, "tests/models")
from make_models import clone_outputs_at_their_nodes  # noqa: E402  (the same clones as torchvision's references)

import torch

try:
    import timm
    from timm.layers import get_notrace_functions, get_notrace_modules
    from timm.models import _features_fx as timm_fx
    from torchvision.models import feature_extraction as tv
except ImportError:
    timm = None

featx = None  # imported once featx_under_test has chosen which

# Two or more of each family: CNNs with timm's BatchNormAct2d leaves, ViT and
# DeiT, Swin, MLP-Mixer and ResMLP, GhostNet, RexNet, DLA, VoVNet, EdgeNeXt,
# MobileViT, FastViT, NF-ResNet, ConvNeXt, RegNet, DenseNet, CSPNet, LeViT,
# PiT, PoolFormer, EfficientViT, ResNeSt, DPN, MobileOne.
MODELS = [
    "resnet10t", "ecaresnet26t", "efficientnet_b0", "tinynet_e", "mobilenetv3_small_050", "lcnet_050",
    "vit_tiny_patch16_224", "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224", "mixer_s32_224",
    "resmlp_12_224", "ghostnet_050", "rexnet_100", "dla34", "ese_vovnet19b_dw", "edgenext_xx_small",
    "mobilevit_xxs", "fastvit_t8", "nf_resnet26", "convnext_atto", "regnetx_002", "densenet121", "cspresnet50",
    "levit_128s", "pit_ti_224", "poolformer_s12", "efficientvit_b0", "resnest14d", "dpn68", "mobileone_s0",
]

# Model -> why featx's names differ from timm's (issue 27 works these down).
KNOWN_DIFFERENCES = {
    # timm's Linear casts its weights when scripted (`if torch.jit.is_scripting():`); TorchScript compiles
    # only that side, so the scripted model has reads and casts FX never traces.
    "mobilenetv3_small_050": "timm.layers.Linear's scripted side: classifier.to, classifier.to_1 and a getattr",
    "lcnet_050": "as mobilenetv3_small_050",
    "ghostnet_050": "as mobilenetv3_small_050",
    # FX's placeholders are Proxies, never None: `if attn_mask is not None or is_causal:` takes its per-block
    # side. featx keeps the model's own answer for a call without a mask, so it names both sides; with
    # concrete_args={"attn_mask": None, "is_causal": False} both name the other side alike (tested below).
    "vit_tiny_patch16_224": "both sides of `if attn_mask is not None` (FX: the per-block side only)",
    "deit_tiny_patch16_224": "as vit_tiny_patch16_224",
    "swin_tiny_patch4_window7_224": "`if any(self.shift_size)` and the attention's `if mask is not None` named both "
                                    "ways; drop_path's `(1,) * (x.ndim - 1)`, which FX records (getattr, sub, mul, "
                                    "add)",
}

# Forward arguments a user fixes (torchvision's concrete_args; timm's own
# functions take none, so the reference is torchvision's with timm's
# registries, as timm's functions call it): then names and values are FX's.
CONCRETE_ARGS = {
    "vit_tiny_patch16_224": {"attn_mask": None, "is_causal": False},
    "deit_tiny_patch16_224": {"attn_mask": None, "is_causal": False},
}


def _build(name):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = timm.create_model(name, pretrained=False, scriptable=True).eval()
        return model, torch.jit.script(model)


def _tracer_kwargs():
    return {"leaf_modules": get_notrace_modules(), "autowrap_functions": get_notrace_functions()}


def _reference_names(model, concrete_args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if concrete_args is None:
            return timm_fx.get_graph_node_names(model)
        return tv.get_graph_node_names(model, tracer_kwargs=_tracer_kwargs(), concrete_args=concrete_args)


def _reference_extractor(model, nodes, concrete_args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if concrete_args is None:
            return timm_fx.create_feature_extractor(model, nodes).eval()
        return tv.create_feature_extractor(model, nodes, tracer_kwargs=_tracer_kwargs(),
                                           concrete_args=concrete_args).eval()


@unittest.skipIf(timm is None, "timm is not installed for this torch (the torch 2.x run has it)")
class TimmTest(unittest.TestCase):
    def names_equal_timms_in_both_modes(self, name):
        model, scripted = _build(name)
        want = _reference_names(model, None)
        got = featx.get_graph_node_names(scripted, tracer_kwargs=_tracer_kwargs(), suppress_diff_warning=True)
        if name in KNOWN_DIFFERENCES:
            self.assertNotEqual(got, tuple(want), f"{name} now names as timm does: take it off KNOWN_DIFFERENCES")
            return
        self.assertEqual(got[0], want[0])
        self.assertEqual(got[1], want[1])

    def names_equal_with_concrete_args(self, name):
        model, scripted = _build(name)
        want = _reference_names(model, CONCRETE_ARGS[name])
        got = featx.get_graph_node_names(scripted, tracer_kwargs=_tracer_kwargs(), suppress_diff_warning=True,
                                         concrete_args=CONCRETE_ARGS[name])
        self.assertEqual(got[0], want[0])
        self.assertEqual(got[1], want[1])

    def values_equal_timms_at_their_nodes(self, name):
        concrete_args = CONCRETE_ARGS.get(name)
        if name in KNOWN_DIFFERENCES and concrete_args is None:
            self.skipTest(f"names differ: {KNOWN_DIFFERENCES[name]}")
        model, scripted = _build(name)
        size = model.pretrained_cfg.get("input_size", (3, 224, 224))
        x = torch.randn(1, *size)
        with torch.no_grad():
            train_names, eval_names = _reference_names(model, concrete_args)
            # timm's extractor takes one list for both modes.
            eval_names = [n for n in eval_names if n in set(train_names)]
            every = _reference_extractor(model, eval_names, concrete_args)(x.clone())
        # Six tensor-valued nodes spread over the model, the last included.
        tensors = [n for n in eval_names if isinstance(every[n], torch.Tensor)]
        nodes = sorted({tensors[round(i * (len(tensors) - 1) / 5)] for i in range(6)}, key=tensors.index)
        reference = _reference_extractor(model, nodes, concrete_args)
        clone_outputs_at_their_nodes(reference)
        with torch.no_grad():
            want = reference(x.clone())
        for mode in ("dict", "tuple", "tap"):
            extractor = featx.create_feature_extractor(scripted, return_nodes=nodes, tracer_kwargs=_tracer_kwargs(),
                                                       suppress_diff_warning=True, mode=mode,
                                                       concrete_args=concrete_args).eval()
            with torch.no_grad(), featx.capture() as tapped:
                out = extractor(x.clone())
            if mode == "tuple":
                out = {e["name"]: out[e["index"]] for e in featx.manifest(extractor)["eval"] if e["node"] != "output"}
            got = tapped if mode == "tap" else out
            self.assertEqual(sorted(got), sorted(want), mode)
            for node in nodes:
                scale = max(1.0, want[node].abs().max().item())
                self.assertTrue(torch.allclose(got[node], want[node], rtol=1e-4, atol=1e-5 * scale), f"{mode}: {node}")


def _preset(kind):
    """The timm preset's names in plugin/naming/tracer_presets.cc (kind:
    "timm.layers.norm_act.BatchNormAct2d" classes start with a capital)."""
    with open("plugin/naming/tracer_presets.cc") as f:
        names = re.findall(r'"(timm\.[\w.]+)"', f.read())
    return sorted(n for n in names if n.rsplit(".", 1)[1][0].isupper() == (kind == "modules"))


@unittest.skipIf(timm is None, "timm is not installed for this torch (the torch 2.x run has it)")
class TimmTracerTest(unittest.TestCase):
    def test_the_timm_preset_is_timms_registry(self):
        import timm.models  # noqa: F401  (its modules register their leaves on import)
        # FX autowraps no function whose name starts with "_".
        functions = [f for f in get_notrace_functions() if not f.__name__.startswith("_")]
        self.assertEqual(_preset("modules"), sorted(f"{c.__module__}.{c.__qualname__}" for c in get_notrace_modules()))
        self.assertEqual(_preset("functions"), sorted(f"{f.__module__}.{f.__qualname__}" for f in functions))

    def test_the_timm_tracer_flag_names_as_timms_registries(self):
        for name in ("swin_tiny_patch4_window7_224", "ese_vovnet19b_dw", "nf_resnet26", "mobilevit_xxs"):
            _, scripted = _build(name)
            want = featx.get_graph_node_names(scripted, tracer_kwargs=_tracer_kwargs(), suppress_diff_warning=True)
            flags = ["--featx_tracer=timm", "--featx_suppress_diff_warning"]
            train, eval_ = featx._api._call(torch.ops.featx.graph_node_names, scripted, flags)
            self.assertEqual((list(train), list(eval_)), want, name)

    def test_an_unknown_tracer_is_an_error_listing_them(self):
        _, scripted = _build("resnet10t")
        with self.assertRaisesRegex(ValueError, "unknown tracer 'tim'.*did you mean 'timm'"):
            featx._api._call(torch.ops.featx.graph_node_names, scripted, ["--featx_tracer=tim"])


def _add_cases():
    for name in MODELS:
        for check in ("names_equal_timms_in_both_modes", "values_equal_timms_at_their_nodes"):
            setattr(TimmTest, f"test_{name}_{check}", lambda self, name=name, check=check: getattr(self, check)(name))
    for name in CONCRETE_ARGS:
        check = "names_equal_with_concrete_args"
        setattr(TimmTest, f"test_{name}_{check}", lambda self, name=name, check=check: getattr(self, check)(name))


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    import featx  # noqa: E402  (loads its plugin)

    _add_cases()
    bazel_unittest.main()
