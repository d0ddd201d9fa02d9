"""Builds featx's wheel: the plugin (libfeatx.so) and the command line with
Bazel against the torch of the environment pip runs in, packed with the
Python modules of python/featx. The wheel's version names that torch
(0.1.0+torch2.15) and requires it, since the plugin loads into no other.

  pip install --no-build-isolation .     # the checkout; needs tools/setup.sh's packages
  pip wheel --no-build-isolation .       # -> featx-0.1.0+torch2.15-cp311-cp311-linux_x86_64.whl
"""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


def _torch():
    try:
        import torch
    except ImportError:
        sys.exit("featx: the build needs the torch featx will run with, and sees none. Install torch first, then "
                 "build without pip's isolated environment (which holds no torch of yours): "
                 "pip install --no-build-isolation <featx checkout>")
    return torch


def _minor(version):
    return ".".join(re.findall(r"\d+", version)[:2])


def _featx_version():
    with open(os.path.join(ROOT, "plugin", "version.bzl")) as f:
        return re.search(r'^FEATX_VERSION = "([^"]+)"', f.read(), re.M).group(1)


class BuildWithBazel(build_py):
    """build_py, plus the plugin and the command line into featx/lib and
    featx/bin, built against this environment's torch."""

    def run(self):
        super().run()
        torch = _torch()
        env = dict(os.environ, FEATX_LIBTORCH=os.path.dirname(torch.__file__), FEATX_PYTHON=sys.executable)
        bazel = [os.path.join(ROOT, "tools", "bazel.sh")]
        print(f"featx: building the plugin against torch {torch.__version__} with Bazel (a few minutes the first "
              "time)", flush=True)
        subprocess.check_call(bazel + ["build", "//plugin:libfeatx.so", "//tools:featx"], cwd=ROOT, env=env)
        bin_dir = subprocess.check_output(bazel + ["info", "bazel-bin"], cwd=ROOT, env=env, text=True).strip()
        package = os.path.join(self.build_lib, "featx")
        for built, packed in (("plugin/libfeatx.so", "lib/libfeatx.so"), ("tools/featx", "bin/featx")):
            target = os.path.join(package, packed)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(bin_dir, built), target)
            os.chmod(target, 0o755)
            # Bazel's rpaths name its output tree and this machine's torch;
            # the package finds torch where it is installed.
            subprocess.check_call(["patchelf", "--remove-rpath", target])


class BinaryDistribution(Distribution):
    """A wheel for this platform: it carries a shared library."""

    def has_ext_modules(self):
        return True


_torch_minor = _minor(_torch().__version__)
setup(
    version=f"{_featx_version()}+torch{_torch_minor}",
    install_requires=[f"torch=={_torch_minor}.*"],
    cmdclass={"build_py": BuildWithBazel},
    distclass=BinaryDistribution,
)
