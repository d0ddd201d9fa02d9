"""Loads the plugin this package carries (lib/libfeatx.so) into the process.

A plugin built for another torch must never load: it names another
libtorch, which the loader would bring into the process, and that crashes it.
So the torch the plugin was built against is read from the file first and
compared with the running torch; a mismatch is an ImportError naming both.
"""
import os
import re

import torch

# The plugin the package carries; FEATX_PLUGIN names another (a plugin built
# from a checkout, or the one a host's image holds).
PATH = os.environ.get("FEATX_PLUGIN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib",
                                                      "libfeatx.so")
_BUILT_AGAINST = re.compile(rb"featx-built-against-torch=([0-9][0-9A-Za-z.+]*);")
_VERSION = re.compile(rb"featx-version=([0-9][0-9A-Za-z.+]*);")


def _minor(version):
    return tuple(int(p) for p in re.findall(r"\d+", version)[:2])


def build_info(path=PATH):
    """(featx version, torch version it was built against), from the file."""
    with open(path, "rb") as f:
        blob = f.read()
    built, version = _BUILT_AGAINST.search(blob), _VERSION.search(blob)
    if not built:
        raise ImportError(f"featx: {path} is not a libfeatx.so (it names no torch it was built against)")
    return (version.group(1).decode() if version else "unknown"), built.group(1).decode()


def loaded():
    """True when featx's ops are registered (this package, LD_PRELOAD, or a host)."""
    try:
        return torch.ops.featx.list_passes is not None
    except (AttributeError, RuntimeError):
        return False


def load(path=PATH):
    if loaded():
        return
    if not os.path.isfile(path):
        if os.environ.get("FEATX_PLUGIN"):
            raise ImportError(f"featx: FEATX_PLUGIN={path} is not a file; unset it to use the plugin featx carries")
        raise ImportError(f"featx: the plugin {path} is missing; reinstall featx (pip install --no-build-isolation "
                          "<featx checkout>)")
    version, built = build_info(path)
    if _minor(built) != _minor(torch.__version__):
        raise ImportError(
            f"featx {version} was built against torch {built}, but this process runs torch {torch.__version__}: "
            "loading it would bring a second libtorch into the process. Install featx again in this environment "
            "(pip install --no-build-isolation --force-reinstall <featx checkout>), which builds it against this "
            "torch.")
    torch.ops.load_library(path)
