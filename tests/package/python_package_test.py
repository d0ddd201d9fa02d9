"""The featx wheel, installed into a fresh virtualenv with PyPI's torch
(tools/package_tests.sh runs this with that environment's Python, outside
the checkout): the README's Python quick start runs verbatim, the package
carries its plugin and command line, and under another torch the import
fails naming both versions.

Arguments: the README, the wheel that was installed.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest
import zipfile

import bazel_unittest

import torch

README = WHEEL = None


def quick_start():
    """The README's Python quick start: the ```python block after its marker."""
    with open(README) as f:
        text = f.read()
    found = re.search(r"<!-- python quick start: tests/package/python_package_test.py -->\s*```python\n(.*?)```",
                      text, re.S)
    if not found:
        raise AssertionError("README.md has no Python quick start marker")
    return found.group(1)


class InstalledPackageTest(unittest.TestCase):
    def test_the_readme_quick_start_runs_verbatim(self):
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "quick_start.py")
            with open(script, "w") as f:
                f.write(quick_start())
            result = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300, cwd=d)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertEqual(result.stdout.strip().splitlines()[-1], "['layer4', 'logits'] (1, 1000)")

    def test_featx_is_imported_from_the_environment_not_the_checkout(self):
        import featx
        self.assertIn(os.sep + "site-packages" + os.sep, featx.__file__)
        package = os.path.dirname(featx.__file__)
        self.assertTrue(os.path.isfile(os.path.join(package, "lib", "libfeatx.so")))
        self.assertEqual(featx.built_against_torch.split("+")[0], torch.__version__.split("+")[0])

    def test_the_wheel_is_named_for_its_torch_and_requires_it(self):
        minor = ".".join(torch.__version__.split(".")[:2])
        name = os.path.basename(WHEEL)
        self.assertRegex(name, rf"^featx-\d+\.\d+\.\d+\+torch{re.escape(minor)}-cp3\d+-cp3\d+-linux_x86_64\.whl$")
        with zipfile.ZipFile(WHEEL) as wheel:
            files = wheel.namelist()
            metadata = wheel.read(next(f for f in files if f.endswith(".dist-info/METADATA"))).decode()
        self.assertIn("featx/lib/libfeatx.so", files)
        self.assertIn("featx/bin/featx", files)
        self.assertIn(f"Requires-Dist: torch=={minor}.*", metadata)

    def test_the_command_line_names_what_the_api_names(self):
        import torchvision
        import featx
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "resnet18.pt")
            torch.jit.script(torchvision.models.resnet18()).save(path)
            featx_cli = os.path.join(os.path.dirname(sys.executable), "featx")
            result = subprocess.run([featx_cli, "names", "--model=" + path], capture_output=True, text=True,
                                    timeout=300)
            self.assertEqual(result.returncode, 0, result.stderr[-2000:])
            want = featx.get_graph_node_names(torch.jit.load(path))[1]
        self.assertEqual([line.split()[0] for line in result.stdout.splitlines() if line.strip()][-len(want):], want)

    def test_under_another_torch_the_import_fails_naming_both_versions(self):
        other = "/usr/bin/python3"  # Debian's, with Debian's torch 1.13
        probe = subprocess.run([other, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                               text=True, timeout=120)
        if probe.returncode != 0:
            self.skipTest(f"{other} has no torch: {probe.stderr.strip()[-200:]}")
        import featx
        with tempfile.TemporaryDirectory() as d:
            # The installed package alone on the path: torch is that Python's own.
            os.symlink(os.path.dirname(featx.__file__), os.path.join(d, "featx"))
            result = subprocess.run([other, "-c", "import featx"], capture_output=True, text=True, timeout=120,
                                    env=dict(os.environ, PYTHONPATH=d))
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])  # an exception, not a signal
        last = result.stderr.strip().splitlines()[-1]
        self.assertIn("ImportError", last)
        self.assertIn(f"built against torch {featx.built_against_torch}", last)
        self.assertIn(f"runs torch {probe.stdout.strip()}", last)


if __name__ == "__main__":
    README, WHEEL = (os.path.abspath(a) for a in sys.argv[1:3])
    del sys.argv[1:3]
    bazel_unittest.main()
