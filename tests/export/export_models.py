"""The torchvision models the export tests export, and how (small configurations of the
transformers keep them fast)."""
import os
import re
import tempfile

import torch

HAS_EXPORT = hasattr(torch, "export") and hasattr(torch.export, "save")


def small_vit():
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)


def small_swin():
    from torchvision.models.swin_transformer import SwinTransformer
    return SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2], num_heads=[2, 2], window_size=[4, 4])


def small_convnext():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return ConvNeXt([CNBlockConfig(24, 48, 2), CNBlockConfig(48, None, 2)], stochastic_depth_prob=0.1)


def models():
    import torchvision.models as M
    image = (1, 3, 64, 64)
    return {
        # name: (constructor, input shape)
        "resnet18": (M.resnet18, image),
        "mobilenet_v2": (M.mobilenet_v2, image),
        "densenet121": (M.densenet121, image),
        "regnet_y_400mf": (M.regnet_y_400mf, image),
        "squeezenet1_0": (M.squeezenet1_0, image),
        "r3d_18": (M.video.r3d_18, (1, 3, 4, 32, 32)),
        "efficientnet_b0": (M.efficientnet_b0, image),
        "convnext": (small_convnext, image),
        "shufflenet_v2_x0_5": (M.shufflenet_v2_x0_5, image),
        "deeplabv3_mobilenet_v3_large": (
            lambda: M.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None), image),
        "vit": (small_vit, (1, 3, 32, 32)),
        "swin": (small_swin, (1, 3, 32, 32)),
    }


def export(name, directory, dynamic_batch=False, strict=False, core_aten=False):
    """(eval-mode model, input, path of its exported program saved in `directory`). With
    `dynamic_batch` the program takes any batch size up to 64 (as servers batch), exported at 2:
    export specializes a dimension its example gives as 1. `strict` exports with TorchDynamo;
    `core_aten` saves the program decomposed to the Core ATen opset (`run_decompositions()`, as
    before AOTInductor or ExecuTorch)."""
    ctor, shape = models()[name]
    torch.manual_seed(0)
    model = ctor().eval()
    dynamic_shapes = None
    if dynamic_batch:
        shape = (2,) + shape[1:]
        dynamic_shapes = ({0: torch.export.Dim("batch", min=1, max=64)},)
    x = torch.randn(*shape)
    program = torch.export.export(model, (x,), dynamic_shapes=dynamic_shapes, strict=strict)
    if core_aten:
        program = program.run_decompositions()
    suffix = "".join(s for s, on in [("_dynamic", dynamic_batch), ("_strict", strict), ("_core", core_aten)] if on)
    path = os.path.join(directory, name + suffix + ".pt2")
    torch.export.save(program, path)
    return model, x, path


class ExportedOnce:
    """A test class's exported programs, (model, input, path) each made once by make_program, in a
    directory removed after the class. Mixed in before unittest.TestCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.exported = {}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super().tearDownClass()

    def export(self, name):
        if name not in self.exported:
            self.exported[name] = self.make_program(name)
        return self.exported[name]

    def make_program(self, name):
        return export(name, self.tmp.name)


def fx_kinds(model, x, tracer_kwargs=None):
    """torchvision's names (with `tracer_kwargs`, as torchvision's functions take them: timm passes its
    registries) -> (FX's op, why export has no node for it or None, whether its value is one tensor):
    from the FX graph of the eval-mode model, run on `x`."""
    import operator
    from torch.fx.passes.shape_prop import ShapeProp
    from torchvision.models.feature_extraction import NodePathTracer, _set_default_tracer_kwargs

    class Run(ShapeProp):
        """ShapeProp that also notes the module calls that return their input unchanged (Identity,
        Dropout and DropPath in eval): export leaves no node of them."""
        def __init__(self, module):
            super().__init__(module)
            self.identities = set()

        def call_module(self, target, args, kwargs):
            before = args[0].clone() if args and isinstance(args[0], torch.Tensor) else None
            out = super().call_module(target, args, kwargs)
            if before is not None and out is args[0] and torch.equal(out, before):
                self.identities.add(target)
            return out

    tracer = NodePathTracer(**_set_default_tracer_kwargs(tracer_kwargs))
    graph = tracer.trace(model)
    run = Run(torch.fx.GraphModule(tracer.root, graph))
    run.propagate(x.clone())
    kinds = {}
    for node in graph.nodes:
        name = tracer.node_to_qualname.get(node)
        if name is None:
            continue
        value_kind = None
        if "tensor_meta" not in node.meta:
            value_kind = "not a tensor"
        if node.op == "call_function" and node.target is operator.getitem and \
                node.args[0].meta.get("type") in (tuple, list):
            value_kind = "tuple item"
        if node.op == "call_module" and node.target in run.identities:
            value_kind = "identity in eval"
        kinds[name] = (node.op, value_kind, node.meta.get("type") is torch.Tensor)
    return kinds


def unexplained_differences(got, want, kinds):
    """Where featx's names `got` and the reference's `want` differ for no reason docs/export.md gives,
    by kind ({} when none); `kinds` is fx_kinds' answer for the model."""
    problems = {}
    stem = lambda name: re.sub(r"_\d+$", "", name)  # noqa: E731
    # A node after ones export has not counts without them: featx's `getitem` is the reference's
    # `getitem_5` when the five before it were shape reads (a list's items too: `q, k, v =
    # qkv.unbind(0)`). Such a name is either no name of the reference's, or the name of one of those
    # it has not.
    renumbered = {}
    for m in [n for n in want if n not in set(got)]:
        if kinds[m][1] not in (None, "tuple item"):
            continue
        taken = [n for n in got if stem(n) == stem(m) and n not in renumbered and
                 (n not in kinds or kinds[n][1] is not None)]
        if taken:
            renumbered[taken[0]] = m
        elif kinds[m][1] is None:
            problems.setdefault("missing for no documented reason", []).append(m)
    extra = [n for n in got if n not in set(want) and n not in renumbered]
    if extra:
        problems["names the reference does not give"] = extra
    # In the reference's order, but for parameter reads (FX reads `self.scale * f(x)`'s first).
    got = [renumbered.get(n, n) for n in got if n not in extra]
    order = [n for n in got if kinds[n][0] != "get_attr"]
    if order != [n for n in want if n in set(got) and kinds[n][0] != "get_attr"]:
        problems["order"] = order
    return problems
