"""featx in a Python serving process: load the plugin, rewrite a model file at
load time, capture one request's activations.

What TorchServe handlers (featx_torchserve.py), Ray Serve deployments and Ray
Data workers share. Needs only torch and libfeatx.so built against the same
torch (README: Which libtorch).

    import featx_serving
    featx_serving.load_plugin("/opt/featx/libfeatx.so")
    model, manifest = featx_serving.load_rewritten(
        "resnet50.pt", "--featx_mode=tap --featx_return_nodes=layer4,fc:logits")
    with featx_serving.capture() as activations:
        y = model(x)
    activations["logits"]   # this request's, on this thread only
"""
import contextlib
import json
import logging
import os
import re
import tempfile
import warnings

import torch

logger = logging.getLogger("featx")


def plugin_loaded():
    """True when featx's ops are registered (LD_PRELOAD, or loaded before)."""
    try:
        torch.ops.featx.rewrite_file
        return True
    except (AttributeError, RuntimeError):
        return False


def load_plugin(path=None):
    """Loads libfeatx.so from `path` (or $FEATX_PLUGIN) unless already loaded.

    Raises FileNotFoundError naming where it looked.
    """
    if plugin_loaded():
        return
    path = path or os.environ.get("FEATX_PLUGIN")
    if not path:
        raise FileNotFoundError("featx: no plugin: give its path (FEATX_PLUGIN, or the host's featx config) "
                                "or LD_PRELOAD libfeatx.so")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"featx: plugin {path!r} does not exist")
    torch.ops.load_library(path)


def rewrite_file(model_path, output_path, flags):
    """featx::rewrite_file, with featx's warnings (the train/eval graph
    difference) sent to the `featx` logger, i.e. into the host's log.

    Returns the manifest (dict). Raises RuntimeError with featx's message on
    bad flags or an unknown node; nothing is written then.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = torch.ops.featx.rewrite_file(model_path, output_path, flags)
    for w in caught:
        # torch appends where in C++ the warning was raised; the host's log
        # wants featx's words only.
        logger.warning("featx: %s", re.sub(r" \(Triggered internally at [^)]*\)$", "", str(w.message)))
    return json.loads(manifest)


def load_rewritten(model_path, flags, map_location=None):
    """The model at `model_path` rewritten by featx from `flags`, loaded, and
    its manifest. The rewritten file lives only while it is loaded."""
    with tempfile.TemporaryDirectory(prefix="featx-") as tmp:
        rewritten = os.path.join(tmp, "model.pt")
        manifest = rewrite_file(model_path, rewritten, flags)
        model = torch.jit.load(rewritten, map_location=map_location)
    names = ", ".join(e["name"] for e in manifest["eval"])
    logger.info("featx: %s rewritten (mode %s): %s", os.path.basename(model_path), manifest["mode"], names)
    return model, manifest


@contextlib.contextmanager
def capture():
    """Captures the taps of the calling thread while open; the dict it yields
    is filled when the block ends, also when the block raises (the capture is
    always closed, so the next request on this thread starts clean)."""
    activations = {}
    torch.ops.featx.capture_begin()
    try:
        yield activations
    finally:
        activations.update(torch.ops.featx.capture_end())
