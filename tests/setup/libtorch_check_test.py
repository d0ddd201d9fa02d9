"""What FEATX_LIBTORCH may name, and the errors for what it may not
(tools/libtorch_check.py, which the @libtorch repository rule runs before
anything compiles). Fake libtorch directories are built here with g++: headers
with a version, and libc10.so with either C++ ABI.

With --plugin it checks a built libfeatx.so against a host Python without
loading it: a plugin built for another torch would bring a second libtorch
into the host, which crashes it.

Arguments: tools/libtorch_check.py, libfeatx.so.
"""
import os
import subprocess
import sys
import tempfile
import unittest

import bazel_unittest

CHECK = PLUGIN = None
FAKE_SYMBOL = '#include <string>\nvoid c10_takes_a_string(const std::string& s) { (void)s; }\n'


def check(choice, *flags, env=None):
    """(exit code, {key: value}, stderr) of libtorch_check.py."""
    run = subprocess.run([sys.executable, CHECK, choice, *flags], capture_output=True, text=True, timeout=600,
                         env={**os.environ, **(env or {})})
    found = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    return run.returncode, found, run.stderr


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class FakeLibtorch:
    """A libtorch directory: include/ (TorchScript's module.h and a version)
    and lib/ (libc10.so built with the given C++ ABI, libtorch_cpu.so)."""

    def __init__(self, root, version=(2, 3, 0), abi=1, torchscript=True, headers=True, libs=True, lib_dir="lib"):
        if headers:
            major, minor, patch = version
            write(os.path.join(root, "include/torch/headeronly/version.h"),
                  f"#define TORCH_VERSION_MAJOR {major}\n#define TORCH_VERSION_MINOR {minor}\n"
                  f"#define TORCH_VERSION_PATCH {patch}\n")
            write(os.path.join(root, "include/ATen/ATen.h"))
            if torchscript:
                write(os.path.join(root, "include/torch/csrc/jit/api/module.h"))
        if libs:
            lib = os.path.join(root, lib_dir)
            os.makedirs(lib, exist_ok=True)
            source = os.path.join(root, "c10.cc")
            write(source, FAKE_SYMBOL)
            for name, flags in (("libc10.so", [f"-D_GLIBCXX_USE_CXX11_ABI={abi}"]), ("libtorch_cpu.so", [])):
                subprocess.run(["g++", "-shared", "-fPIC", *flags, "-o", os.path.join(lib, name), source], check=True)


class LibtorchCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def fake(self, name="libtorch", **kwargs):
        root = os.path.join(self.tmp.name, name)
        FakeLibtorch(root, **kwargs)
        return root

    def assertRefused(self, choice, *words, flags=(), env=None):
        code, found, stderr = check(choice, *flags, env=env)
        self.assertEqual(code, 2, (found, stderr))
        self.assertTrue(stderr.startswith(f"FEATX_LIBTORCH={choice}: "), stderr)
        for word in words:
            self.assertIn(word, stderr)
        return stderr

    def test_debian_is_the_system_libtorch_with_its_python(self):
        code, found, stderr = check("debian", f"--venv={self.tmp.name}/no-venv")
        self.assertEqual(code, 0, stderr)
        self.assertEqual(found["kind"], "debian")
        self.assertEqual(found["lib"], "/usr/lib/x86_64-linux-gnu")
        self.assertTrue(found["version"].startswith("1.13."), found)
        self.assertEqual(found["cxx11_abi"], "1")
        self.assertEqual(found["python"], "/usr/bin/python3")
        self.assertEqual(found["other_python"], "", "no .venv, so no second torch")

    def test_a_libtorch_zip_layout_is_found_with_its_version(self):
        root = self.fake(version=(2, 3, 1))
        code, found, stderr = check(root)
        self.assertEqual(code, 0, stderr)
        self.assertEqual((found["kind"], found["include"], found["lib"]), ("dir", root + "/include", root + "/lib"))
        self.assertEqual(found["version"], "2.3.1")
        # No Python with torch 2.3 here: the plugin builds, test models say why not.
        self.assertEqual(found["python"], "")
        # Debian's 1.13 makes models for the cross-version tests.
        self.assertEqual(found["other_python"], "/usr/bin/python3")

    def test_a_relative_directory_is_taken_from_the_workspace(self):
        self.fake("rel")
        code, found, stderr = check("rel", f"--workspace={self.tmp.name}")
        self.assertEqual(code, 0, stderr)
        self.assertEqual(found["lib"], os.path.join(self.tmp.name, "rel", "lib"))

    def test_the_old_cxx_abi_is_refused_before_anything_links(self):
        stderr = self.assertRefused(self.fake(abi=0), "built with _GLIBCXX_USE_CXX11_ABI=0",
                                    "_GLIBCXX_USE_CXX11_ABI=1", "pip torch 2.7 or newer")
        self.assertIn("libtorch 2.3.0", stderr)

    def test_a_missing_directory_says_so(self):
        self.assertRefused(os.path.join(self.tmp.name, "nowhere"), "does not exist")

    def test_a_torch_without_torchscript_is_refused(self):
        self.assertRefused(self.fake(torchscript=False), "no longer ships TorchScript")

    def test_a_servers_copy_without_headers_asks_for_them(self):
        root = self.fake(headers=False, lib_dir=".")  # Triton's backends/pytorch: libraries only
        self.assertRefused(root, "no headers", "FEATX_LIBTORCH_INCLUDE")
        headers = self.fake("headers", libs=False, version=(2, 3, 0))
        code, found, stderr = check(root, f"--include={headers}/include")
        self.assertEqual(code, 0, stderr)
        self.assertEqual((found["include"], found["lib"]), (headers + "/include", root))

    def test_headers_without_libraries_are_refused(self):
        self.assertRefused(self.fake(libs=False), "no libtorch_cpu.so and libc10.so")

    def test_a_libtorch_older_than_1_13_is_refused(self):
        self.assertRefused(self.fake(version=(1, 12, 1)), "libtorch 1.12.1 is older than featx supports")

    def test_pip_without_the_virtual_environment_says_how_to_install_it(self):
        self.assertRefused("pip", "FEATX_LIBTORCH=pip tools/setup.sh", flags=[f"--venv={self.tmp.name}/venv"])

    def test_a_python_of_another_torch_version_is_refused_when_named(self):
        self.assertRefused(self.fake(), "has torch 1.13", "but the libtorch is 2.3.0", "FEATX_PYTHON",
                           flags=["--python=/usr/bin/python3"])


class PluginCheckTest(unittest.TestCase):
    def test_the_plugin_matches_the_python_of_the_torch_it_was_built_against(self):
        code, found, stderr = check("--plugin=" + PLUGIN, "--python=" + sys.executable)
        self.assertEqual(code, 0, stderr)
        self.assertEqual(found["built_against"].split(".")[:2], torch_version().split(".")[:2])

    def test_a_plugin_built_for_another_torch_is_refused_without_loading_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            plugin = os.path.join(tmp, "libfeatx.so")
            write(plugin, "\x7fELF...featx-built-against-torch=0.9.0;...")
            code, _, stderr = check("--plugin=" + plugin, "--python=" + sys.executable)
        self.assertEqual(code, 2)
        self.assertIn(f"built against torch 0.9.0, but {sys.executable} runs torch {torch_version()}", stderr)
        self.assertIn("second libtorch", stderr)
        self.assertIn("FEATX_LIBTORCH=", stderr)

    def test_a_file_that_is_not_the_plugin_says_so(self):
        code, _, stderr = check("--plugin=" + CHECK, "--python=" + sys.executable)
        self.assertEqual(code, 2)
        self.assertIn("is not a libfeatx.so", stderr)


def torch_version():
    import torch
    return torch.__version__.split("+")[0]


if __name__ == "__main__":
    CHECK = os.path.abspath(sys.argv.pop(1))
    PLUGIN = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
