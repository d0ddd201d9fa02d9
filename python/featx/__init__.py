"""featx: tagged intermediate activations from TorchScript models, named as
torchvision's feature_extraction names them.

    import torch, featx

    model = torch.jit.load("resnet50.pt")
    train_nodes, eval_nodes = featx.get_graph_node_names(model)
    extractor = featx.create_feature_extractor(model, return_nodes={"layer4": "feat", "fc": "logits"})
    out = extractor(x)                          # {"feat": ..., "logits": ...}

    featx.instrument(model, "--featx_return_nodes=layer4,fc:logits")   # in place, tap mode
    with featx.capture() as activations:        # one request's, on this thread
        y = model(x)                            # the model's own answer, unchanged
    activations["logits"]

Importing featx loads its plugin (lib/libfeatx.so), built against the torch
of the environment it was installed into; under another torch the import
fails, naming both versions. featx.torchserve and featx.ray bring featx
into those servers.
"""
from featx import _plugin

_plugin.load()

from featx._api import (  # noqa: E402
    FeatxWarning,
    capture,
    create_feature_extractor,
    get_graph_node_names,
    instrument,
    list_passes,
    load,
    manifest,
    rewrite_file,
    warnings_to,
)

__version__, built_against_torch = _plugin.build_info()

__all__ = [
    "FeatxWarning",
    "capture",
    "create_feature_extractor",
    "get_graph_node_names",
    "instrument",
    "list_passes",
    "load",
    "manifest",
    "rewrite_file",
    "warnings_to",
]
