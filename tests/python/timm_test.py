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
except ImportError:
    timm = None

featx = None  # imported once featx_under_test has chosen which

# Two or more of each family: CNNs with timm's BatchNormAct2d leaves, ViT and
# DeiT, Swin, MLP-Mixer and ResMLP, GhostNet, RexNet, DLA, VoVNet, EdgeNeXt,
# MobileViT, FastViT, NF-ResNet, ConvNeXt, RegNet, DenseNet, CSPNet, LeViT.
MODELS = [
    "resnet10t", "ecaresnet26t", "efficientnet_b0", "tinynet_e", "mobilenetv3_small_050", "lcnet_050",
    "vit_tiny_patch16_224", "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224", "mixer_s32_224",
    "resmlp_12_224", "ghostnet_050", "rexnet_100", "dla34", "ese_vovnet19b_dw", "edgenext_xx_small",
    "mobilevit_xxs", "fastvit_t8", "nf_resnet26", "convnext_atto", "regnetx_002", "densenet121", "cspresnet50",
    "levit_128s",
]

# Model -> why featx's names differ from timm's (issue 27 works these down).
KNOWN_DIFFERENCES = {
    "mobilenetv3_small_050": "featx names the classifier's dtype casts (classifier.to, classifier.to_1)",
    "lcnet_050": "featx names the classifier's dtype casts (classifier.to, classifier.to_1)",
    "vit_tiny_patch16_224": "code that runs only scripted or only traced (patch_embed.add vs patch_embed._assert, "
                            "both sides of `if attn_mask is not None`)",
    "deit_tiny_patch16_224": "as vit_tiny_patch16_224",
    "swin_tiny_patch4_window7_224": "branches FX decides on its placeholders (mask is not None) taken both ways; "
                                    "torch._assert",
    "mixer_s32_224": "torch._assert, which FX records as a call, is an `if` in TorchScript (stem.add vs stem._assert)",
    "resmlp_12_224": "as mixer_s32_224",
    "ghostnet_050": "getitem_N of tuple unpacking that FX does not record",
    "rexnet_100": "getitem_N of tuple unpacking that FX does not record",
    "dla34": "an add FX does not record (level2.add)",
    "levit_128s": "getitem_N of tuple unpacking, and a getattr FX records",
}


def _build(name):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = timm.create_model(name, pretrained=False, scriptable=True).eval()
        return model, torch.jit.script(model)


def _tracer_kwargs():
    return {"leaf_modules": get_notrace_modules(), "autowrap_functions": get_notrace_functions()}


@unittest.skipIf(timm is None, "timm is not installed for this torch (the torch 2.x run has it)")
class TimmTest(unittest.TestCase):
    def names_equal_timms_in_both_modes(self, name):
        model, scripted = _build(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = timm_fx.get_graph_node_names(model)
        got = featx.get_graph_node_names(scripted, tracer_kwargs=_tracer_kwargs(), suppress_diff_warning=True)
        if name in KNOWN_DIFFERENCES:
            self.assertNotEqual(got, tuple(want), f"{name} now names as timm does: take it off KNOWN_DIFFERENCES")
            return
        self.assertEqual(got[0], want[0])
        self.assertEqual(got[1], want[1])

    def values_equal_timms_at_their_nodes(self, name):
        if name in KNOWN_DIFFERENCES:
            self.skipTest(f"names differ: {KNOWN_DIFFERENCES[name]}")
        model, scripted = _build(name)
        size = model.pretrained_cfg.get("input_size", (3, 224, 224))
        x = torch.randn(1, *size)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            eval_names = timm_fx.get_graph_node_names(model)[1]
            every = timm_fx.create_feature_extractor(model, eval_names).eval()(x.clone())
        # Six tensor-valued nodes spread over the model, the last included.
        tensors = [n for n in eval_names if isinstance(every[n], torch.Tensor)]
        nodes = sorted({tensors[round(i * (len(tensors) - 1) / 5)] for i in range(6)}, key=tensors.index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = timm_fx.create_feature_extractor(model, nodes).eval()
            clone_outputs_at_their_nodes(reference)
        with torch.no_grad():
            want = reference(x.clone())
        for mode in ("dict", "tuple", "tap"):
            extractor = featx.create_feature_extractor(scripted, return_nodes=nodes, tracer_kwargs=_tracer_kwargs(),
                                                       suppress_diff_warning=True, mode=mode).eval()
            with torch.no_grad(), featx.capture() as tapped:
                out = extractor(x.clone())
            if mode == "tuple":
                out = {e["name"]: out[e["index"]] for e in featx.manifest(extractor)["eval"] if e["node"] != "output"}
            got = tapped if mode == "tap" else out
            self.assertEqual(sorted(got), sorted(want), mode)
            for node in nodes:
                scale = max(1.0, want[node].abs().max().item())
                self.assertTrue(torch.allclose(got[node], want[node], rtol=1e-4, atol=1e-5 * scale), f"{mode}: {node}")


def _add_cases():
    for name in MODELS:
        for check in ("names_equal_timms_in_both_modes", "values_equal_timms_at_their_nodes"):
            setattr(TimmTest, f"test_{name}_{check}", lambda self, name=name, check=check: getattr(self, check)(name))


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    import featx  # noqa: E402  (loads its plugin)

    _add_cases()
    bazel_unittest.main()
