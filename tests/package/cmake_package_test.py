"""featx's C++ package, as a CMake server uses it (docs/packaging.md).

Unpacks the package (//dist) into a temporary prefix, builds
examples/cmake_host with CMake against it and the torch's own
TorchConfig.cmake, runs it on resnet18 (tap mode through the installed
plugin_api.h) and compares the activations it prints with torchvision's.
Also: the package's layout and rpath-free binaries, and find_package(featx)
refusing a torch of another version with both versions named.

Arguments: the package (.tar.gz), examples/cmake_host, the test models.
"""
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

import bazel_unittest

import torch

PACKAGE = EXAMPLE = MODELS = None
NODES = ("layer1.0.bn1", "layer1.0.add", "fc")


def torch_cmake_args(work):
    """CMake flags that find this Python's torch, and only it.

    System paths are off: TorchConfig.cmake looks for libtorch.so and
    libc10.so in the system's directories before its own, and would take
    Debian's 1.13 where it is installed. PyPI's torch is a CUDA build whose
    Caffe2Config.cmake enables CMake's CUDA language: its CUDA libraries and
    the compiler tools/setup.sh installs (tools/requirements-cuda-toolkit.txt)
    make one toolkit directory, as a server's build machine would have.
    """
    prefix = torch.utils.cmake_prefix_path
    if not os.path.exists(os.path.join(prefix, "Torch", "TorchConfig.cmake")):
        prefix = "/usr"  # Debian's, under /usr/lib/x86_64-linux-gnu/cmake/Torch
    args = ["-DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=FALSE"]
    if not torch.version.cuda:
        return prefix, args
    cu = "cu" + torch.version.cuda.split(".")[0]
    runtime = os.path.join(os.path.dirname(os.path.dirname(torch.__file__)), "nvidia", cu)
    compiler = os.path.join(sys.prefix, "featx-cuda-toolkit", "nvidia", cu)
    if not os.path.exists(os.path.join(compiler, "bin", "nvcc")):
        raise AssertionError(f"no CUDA compiler at {compiler}: FEATX_LIBTORCH=pip tools/setup.sh installs it")
    root = os.path.join(work, "cuda")
    for tree in (runtime, compiler):
        for directory, _, files in os.walk(tree):
            into = os.path.join(root, os.path.relpath(directory, tree))
            os.makedirs(into, exist_ok=True)
            for name in files:
                if not os.path.lexists(os.path.join(into, name)):
                    os.symlink(os.path.join(directory, name), os.path.join(into, name))
    # CMake's CUDA modules look for the development names (libcudart.so).
    lib = os.path.join(root, "lib")
    for name in os.listdir(lib):
        dev = name.split(".so.")[0] + ".so"
        if ".so." in name and not os.path.lexists(os.path.join(lib, dev)):
            os.symlink(name, os.path.join(lib, dev))
    return prefix, args + ["-DCUDA_TOOLKIT_ROOT_DIR=" + root, "-DCMAKE_CUDA_COMPILER=" + root + "/bin/nvcc",
                           "-DTORCH_CUDA_ARCH_LIST=8.0"]


def torch_minor():
    """'2.15' of this Python's torch: the package names the torch it was built against."""
    return ".".join(torch.__version__.split(".")[:2])


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)


class CMakePackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with tarfile.open(PACKAGE) as tar:
            tar.extractall(cls.tmp.name)
        cls.prefix = os.path.join(cls.tmp.name, os.path.basename(PACKAGE)[:-len(".tar.gz")])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def configure(self, build, torch_prefix=None):
        # The sources are copied: CMake may not write into Bazel's runfiles.
        source = os.path.join(build, "src")
        shutil.copytree(EXAMPLE, source)
        prefix, args = torch_cmake_args(build)
        return run(["cmake", "-S", source, "-B", os.path.join(build, "out"), "-DCMAKE_BUILD_TYPE=Release",
                    "-DCMAKE_PREFIX_PATH=" + self.prefix + ";" + (torch_prefix or prefix), *args])

    def test_holds_the_plugin_headers_cmake_files_and_tools_without_rpaths(self):
        for name in ("include/featx/c_api.h", "include/featx/plugin_api.h", "lib/libfeatx.so",
                     "lib/cmake/featx/featxConfig.cmake", "lib/cmake/featx/featxConfigVersion.cmake", "bin/featx",
                     "bin/featx_host", "share/featx/licenses/abseil-LICENSE"):
            self.assertTrue(os.path.exists(os.path.join(self.prefix, name)), name)
        self.assertRegex(os.path.basename(PACKAGE),
                         r"^featx-\d+\.\d+\.\d+-torch" + re.escape(torch_minor()) + r"\.\d+-linux-x86_64\.tar\.gz$")
        for binary in ("lib/libfeatx.so", "bin/featx", "bin/featx_host"):
            dynamic = run(["readelf", "-d", os.path.join(self.prefix, binary)]).stdout
            self.assertNotIn("RPATH", dynamic, binary)
            self.assertNotIn("RUNPATH", dynamic, binary)

    def test_a_cmake_server_instruments_resnet18_and_captures_torchvisions_values(self):
        with tempfile.TemporaryDirectory() as build:
            configured = self.configure(build)
            self.assertEqual(configured.returncode, 0, configured.stdout[-3000:] + configured.stderr[-3000:])
            built = run(["cmake", "--build", os.path.join(build, "out")])
            self.assertEqual(built.returncode, 0, built.stdout[-3000:] + built.stderr[-3000:])
            host = os.path.join(build, "out", "cmake_host")
            served = run([host, os.path.join(MODELS, "resnet18.pt"), os.path.join(MODELS, "resnet18.input.pt"),
                          "--featx_return_nodes=" + ",".join(NODES)])
            self.assertEqual(served.returncode, 0, served.stderr[-3000:])
            refused = run([host, os.path.join(MODELS, "resnet18.pt"), os.path.join(MODELS, "resnet18.input.pt"),
                           "--featx_return_nodes=layer9"])
        print(served.stdout)
        values = torch.load(os.path.join(MODELS, "resnet18.values.pt"))
        printed = {m.group(1): (m.group(2), float(m.group(3)))
                   for m in re.finditer(r"^(\S+) \[([0-9, ]*)\] sum=(\S+)$", served.stdout, re.M)}
        self.assertEqual(sorted(printed), sorted(NODES), served.stdout)
        for node in NODES:
            shape, total = printed[node]
            want = values[node]
            self.assertEqual(shape, ", ".join(map(str, want.shape)), node)
            self.assertAlmostEqual(total, want.sum().item(), delta=1e-4 * max(1.0, want.abs().sum().item()),
                                   msg=node)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("featx: node 'layer9' is not in the model's train-mode graph", refused.stderr)

    def test_find_package_refuses_a_torch_of_another_version(self):
        with tempfile.TemporaryDirectory() as build:
            fake = os.path.join(build, "faketorch", "Torch")
            os.makedirs(fake)
            with open(os.path.join(fake, "TorchConfig.cmake"), "w") as f:
                f.write("set(TORCH_LIBRARIES fake)\n")
            with open(os.path.join(fake, "TorchConfigVersion.cmake"), "w") as f:
                f.write('set(PACKAGE_VERSION "9.9.0")\nset(PACKAGE_VERSION_COMPATIBLE TRUE)\n')
            configured = self.configure(build, torch_prefix=os.path.dirname(fake))
        self.assertNotEqual(configured.returncode, 0)
        said = " ".join((configured.stdout + configured.stderr).split())
        self.assertIn("but find_package(Torch) found torch 9.9.0", said)
        self.assertIn("was built against torch " + torch_minor() + ".", said)


if __name__ == "__main__":
    PACKAGE, EXAMPLE, MODELS = (os.path.abspath(a) for a in sys.argv[1:4])
    del sys.argv[1:4]
    bazel_unittest.main()
