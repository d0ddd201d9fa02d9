"""libfeatx.so loads and works where no abseil can be found, and beside another abseil.

Each case starts a fresh Python (the one whose torch featx was built against:
PyPI's in the pip run), which loads the plugin with torch.ops.load_library,
rewrites resnet18 in tap mode (rewrite_file), serves one request in a capture
and saves what the taps recorded; the test compares that with torchvision's
values at the same nodes:

- in a mount namespace where every libabsl_* file of the system reads as an
  empty file, so no abseil can be loaded; the process maps none;
- after Debian's shared abseil 20220623 (the plugin's release: the same symbol
  names) was loaded RTLD_GLOBAL, so that exported abseil symbols would bind
  to it; the plugin's flags must stay its own (an unknown featx flag is still
  featx's error, with its did-you-mean);
- after `import ray`, whose core links abseil 20230802, where the Python has
  Ray (the pip run);
- with two copies of the plugin from two paths: each has its own abseil, so
  both load, and the first serves the ops.

Arguments: libfeatx.so, the directory of the test models.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import bazel_unittest

import torch

PLUGIN = MODELS = None
NODES = ("layer1.0.bn1", "layer1.0.add", "fc")
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/local/lib", "/usr/lib64", "/lib64")

# The host: loads the plugin after whatever argv[4] preloads, serves one
# request of a tap-mode resnet18 and saves the capture; prints what it saw of
# abseil in its own process.
HOST = r"""
import ctypes, glob, os, sys
plugin, models, out, preload = sys.argv[1:5]
if preload == "debian_abseil":
    for lib in sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libabsl_*.so.20220623")):
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
elif preload == "ray":
    import ray  # noqa: F401
import torch
for path in plugin.split(":"):
    torch.ops.load_library(path)
tap = os.path.join(out, "tap.pt")
torch.ops.featx.rewrite_file(os.path.join(models, "resnet18.pt"), tap,
                             "--featx_mode=tap --featx_return_nodes=" + sys.argv[5])
try:
    torch.ops.featx.rewrite_file(os.path.join(models, "resnet18.pt"), tap + ".no", "--featx_return_node=fc")
except RuntimeError as e:
    print("flag error:", str(e).splitlines()[0])
model = torch.jit.load(tap)
x = torch.load(os.path.join(models, "resnet18.input.pt"))
torch.ops.featx.capture_begin()
with torch.no_grad():
    model(x)
torch.save(dict(torch.ops.featx.capture_end()), os.path.join(out, "captured.pt"))
with open("/proc/self/maps") as f:
    files = {line.split()[-1] for line in f if "/" in line}
print("abseil mapped:", " ".join(sorted(os.path.basename(m) for m in files if "libabsl" in m)) or "none")
print("ray core mapped:", "yes" if any(m.endswith("/_raylet.so") for m in files) else "no")
try:
    ctypes.CDLL("libabsl_base.so.20220623")
    print("abseil loadable: yes")
except OSError:
    print("abseil loadable: no")
"""


def close(got, want):
    scale = max(1.0, want.abs().max().item()) if want.numel() else 1.0
    return got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-5 * scale)


class SelfContainedTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.values = torch.load(os.path.join(MODELS, "resnet18.values.pt"))

    def tearDown(self):
        self.tmp.cleanup()

    def serve(self, preload="none", prefix=(), plugin=None):
        command = [*prefix, sys.executable, "-c", HOST, plugin or PLUGIN, MODELS, self.tmp.name, preload,
                   ",".join(NODES)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        captured = torch.load(os.path.join(self.tmp.name, "captured.pt"))
        self.assertEqual(sorted(captured), sorted(NODES))
        for node in NODES:
            self.assertTrue(close(captured[node], self.values[node]), node)
        self.assertIn("flag error: featx::rewrite_file: unknown featx flag '--featx_return_node'; did you mean "
                      "'--featx_return_nodes'?", result.stdout)
        return result.stdout

    def test_loads_and_serves_where_no_abseil_can_be_found(self):
        if os.geteuid() != 0 or not shutil.which("unshare"):
            self.skipTest("needs root and unshare(1) for a mount namespace")
        probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest(f"no mount namespace here: {probe.stderr.strip()}")
        hidden = sorted({os.path.realpath(f) for d in LIB_DIRS for f in glob.glob(os.path.join(d, "libabsl*"))})
        empty = os.path.join(self.tmp.name, "empty")
        open(empty, "w").close()
        # In its own mount namespace each abseil file of the system reads as
        # an empty file; the mounts end with the namespace.
        hide = os.path.join(self.tmp.name, "hide.sh")
        with open(hide, "w") as f:
            f.write('empty=$1; n=$2; shift 2\n'
                    'while [ "$n" -gt 0 ]; do mount --bind "$empty" "$1" || exit 97; shift; n=$((n - 1)); done\n'
                    'exec "$@"\n')
        prefix = ["unshare", "--mount", "--propagation", "private", "/bin/sh", hide, empty, str(len(hidden)),
                  *hidden]
        stdout = self.serve(prefix=prefix)
        self.assertIn("abseil loadable: no", stdout)
        self.assertIn("abseil mapped: none", stdout)

    def test_loads_beside_debians_shared_abseil_and_keeps_its_flags(self):
        if not glob.glob("/usr/lib/x86_64-linux-gnu/libabsl_flags_reflection.so.20220623"):
            self.skipTest("Debian's shared abseil 20220623 is not on this machine")
        stdout = self.serve(preload="debian_abseil")
        self.assertIn("abseil loadable: yes", stdout)
        self.assertIn("libabsl_flags_reflection.so.20220623", stdout)

    def test_loads_beside_rays_abseil(self):
        try:
            import ray  # noqa: F401
        except ImportError:
            self.skipTest("this Python has no Ray (the pip run has)")
        self.assertIn("ray core mapped: yes", self.serve(preload="ray"))

    def test_two_copies_from_two_paths_each_keep_their_abseil(self):
        other = os.path.join(self.tmp.name, "second", "libfeatx.so")
        os.makedirs(os.path.dirname(other))
        shutil.copyfile(PLUGIN, other)
        stdout = self.serve(plugin=PLUGIN + ":" + other)
        self.assertIn("abseil mapped: none", stdout)


if __name__ == "__main__":
    PLUGIN, MODELS = (os.path.abspath(a) for a in sys.argv[1:3])
    del sys.argv[1:3]
    bazel_unittest.main()
