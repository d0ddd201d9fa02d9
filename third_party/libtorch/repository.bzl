"""libtorch_repository(): the libtorch featx builds against, chosen by FEATX_LIBTORCH.

A plugin must be compiled against the libtorch of the process that loads it,
so the choice is one switch, read here when Bazel sets up @libtorch:

  FEATX_LIBTORCH=debian   Debian's libtorch-dev (1.13) under /usr (the default)
  FEATX_LIBTORCH=pip      the torch that tools/setup.sh installs into .venv/
  FEATX_LIBTORCH=/a/dir   a pip site-packages/torch, the libtorch zip layout
                          (include/, lib/), or a server's own copy

Scripts pass it as `--repo_env=FEATX_LIBTORCH=...`; a plain
`FEATX_LIBTORCH=pip bazel build ...` works too. Everything about the choice is
checked here, before anything compiles: headers and libraries present,
TorchScript still shipped, the version, and the C++ ABI
(_GLIBCXX_USE_CXX11_ABI), which must match Debian's abseil and googletest.

The repository holds:
  BUILD     cc_library(name = "libtorch") and the files below
  defs.bzl  TORCH_VERSION, LIBTORCH_KIND, TORCH_PYTHON (the Python whose torch
            and torchvision make the test models and reference answers),
            OTHER_TORCH_PYTHON (the other version's Python, for models saved
            by one torch and served by the other; "" when absent)
  info.txt  one line saying what was chosen, for scripts and test logs
"""

_DEBIAN_LIBDIR = "/usr/lib/x86_64-linux-gnu"
_DEBIAN_PYTHON = "/usr/bin/python3"
_MODULE_H = "torch/csrc/jit/api/module.h"
# Where TORCH_VERSION_MAJOR is defined: 1.x and early 2.x, then torch's
# header-only tree.
_VERSION_HS = ["torch/csrc/api/include/torch/version.h", "torch/headeronly/version.h"]
_OLDEST = (1, 13)

# Debian's abseil and googletest are built with the C++11 ABI; so is featx.
_FEATX_CXX11_ABI = 1

def _err(choice, text):
    fail("\n\nFEATX_LIBTORCH=%s: %s\n" % (choice, text))

def _venv_torch(rctx, venv):
    """site-packages/torch inside a virtual environment, or None."""
    lib = rctx.path(venv + "/lib")
    if not lib.exists:
        return None
    for entry in lib.readdir():
        torch = rctx.path(str(entry) + "/site-packages/torch")
        if entry.basename.startswith("python3") and torch.exists:
            return str(torch)
    return None

def _python_of_torch_dir(rctx, torch_dir):
    """The python of the virtual environment whose site-packages hold torch_dir."""
    if not torch_dir.endswith("/site-packages/torch"):
        return None
    venv = str(rctx.path(torch_dir).dirname.dirname.dirname.dirname)
    for name in ["python", "python3"]:
        candidate = rctx.path(venv + "/bin/" + name)
        if candidate.exists:
            return str(candidate)
    return None

def _layout(rctx, choice, root):
    """(include dir, lib dir) of a libtorch directory, or fails saying what is missing."""
    root_path = rctx.path(root)
    if not root_path.exists:
        _err(choice, "%s does not exist." % root)
    include = root + "/include"
    if not rctx.path(include + "/" + _MODULE_H).exists:
        if rctx.path(include + "/torch").exists or rctx.path(include + "/ATen").exists:
            _err(choice, ("%s has torch's headers but not TorchScript's (%s): this torch no longer " +
                          "ships TorchScript, which featx rewrites. Use a torch that still does (see README).") %
                         (include, _MODULE_H))
        _err(choice, ("no libtorch headers under %s (looked for %s/%s). Point FEATX_LIBTORCH at a pip " +
                      "site-packages/torch, an unpacked libtorch zip (include/, lib/), or a copy with " +
                      "the same layout. A server's copy without headers (e.g. Triton's " +
                      "backends/pytorch) needs the headers of the same torch version beside it.") %
                     (root, include, _MODULE_H))
    for lib in [root + "/lib", root]:
        if rctx.path(lib + "/libtorch_cpu.so").exists and rctx.path(lib + "/libc10.so").exists:
            return include, lib
    _err(choice, "%s has headers but no libtorch_cpu.so and libc10.so in %s/lib or %s." % (root, root, root))

def _version(rctx, choice, include):
    text = "\n".join([
        rctx.read(include + "/" + h)
        for h in _VERSION_HS
        if rctx.path(include + "/" + h).exists
    ])
    parts = {}
    for line in text.splitlines():
        words = [w for w in line.replace("\t", " ").split(" ") if w]
        if len(words) == 3 and words[0] == "#define" and words[1].startswith("TORCH_VERSION_"):
            parts[words[1][len("TORCH_VERSION_"):]] = words[2]
    if not all([k in parts for k in ["MAJOR", "MINOR", "PATCH"]]):
        _err(choice, "cannot read the torch version from %s (%s)." % (include, " or ".join(_VERSION_HS)))
    major, minor = int(parts["MAJOR"]), int(parts["MINOR"])
    if (major, minor) < _OLDEST:
        _err(choice, "libtorch %s.%s is older than featx supports (%d.%d or newer)." %
                     (major, minor, _OLDEST[0], _OLDEST[1]))
    return "%s.%s.%s" % (parts["MAJOR"], parts["MINOR"], parts["PATCH"])

def _minor(version):
    """'2.15' of '2.15.0' or '2.15.0a0': what must agree between a libtorch and a Python torch."""
    return ".".join(version.split(".")[:2])

def _cxx11_abi(rctx, choice, lib):
    """1 if libc10.so uses the C++11 std::string ABI, 0 if the old one.

    Read from the library itself (symbols taking std::string are mangled with
    __cxx11 under the new ABI), since headers do not record it and the cmake
    files are absent from some copies."""
    result = rctx.execute(["nm", "-D", "--defined-only", lib + "/libc10.so"], quiet = True)
    if result.return_code != 0:
        _err(choice, "cannot read the symbols of %s/libc10.so (nm: %s)." % (lib, result.stderr.strip()))
    if "__cxx11" in result.stdout:
        return 1
    return 0

def _python_torch(rctx, python):
    """'torch_version torchvision_version' of a python, or '' if it has no torch."""
    if not python or not rctx.path(python).exists:
        return ""
    result = rctx.execute(
        [python, "-c", "import torch, torchvision; print(torch.__version__.split('+')[0], torchvision.__version__.split('+')[0])"],
        quiet = True,
        timeout = 120,
    )
    if result.return_code != 0:
        return ""
    return result.stdout.strip()

def _libtorch_repository_impl(rctx):
    choice = rctx.os.environ.get("FEATX_LIBTORCH", "").strip() or "debian"
    workspace = str(rctx.path(Label("//:WORKSPACE")).dirname)
    venv = rctx.os.environ.get("FEATX_VENV", "").strip() or workspace + "/.venv"

    if choice == "debian":
        kind, include, lib, python = "debian", "/usr/include", _DEBIAN_LIBDIR, _DEBIAN_PYTHON
        if not rctx.path(include + "/" + _MODULE_H).exists:
            _err(choice, "Debian's libtorch-dev is not installed (no /usr/include/%s); run tools/setup.sh." % _MODULE_H)
        other_python = venv + "/bin/python"
    elif choice == "pip":
        kind = "pip"
        torch_dir = _venv_torch(rctx, venv)
        if not torch_dir:
            _err(choice, "no torch in %s; run `FEATX_LIBTORCH=pip tools/setup.sh` to install it." % venv)
        include, lib = _layout(rctx, choice, torch_dir)
        python = venv + "/bin/python"
        other_python = _DEBIAN_PYTHON
    else:
        kind = "dir"
        root = choice if choice.startswith("/") else workspace + "/" + choice
        root = str(rctx.path(root).realpath) if rctx.path(root).exists else root
        include, lib = _layout(rctx, choice, root)
        python = rctx.os.environ.get("FEATX_PYTHON", "").strip() or _python_of_torch_dir(rctx, root) or _DEBIAN_PYTHON
        other_python = _DEBIAN_PYTHON if python != _DEBIAN_PYTHON else ""

    version = _version(rctx, choice, include)
    abi = _cxx11_abi(rctx, choice, lib)
    if abi != _FEATX_CXX11_ABI:
        _err(choice, ("libtorch %s at %s was built with _GLIBCXX_USE_CXX11_ABI=%d, but featx links Debian's " +
                      "abseil and googletest, built with _GLIBCXX_USE_CXX11_ABI=%d; the two cannot share " +
                      "std::string. Use a C++11-ABI libtorch: pip torch 2.7 or newer, or the " +
                      "libtorch-cxx11-abi-*.zip download.") % (version, lib, abi, _FEATX_CXX11_ABI))

    python_torch = _python_torch(rctx, python)
    if python_torch and _minor(python_torch.split(" ")[0]) != _minor(version):
        _err(choice, ("the Python that makes the test models and reference answers (%s) has torch %s, " +
                      "but the libtorch is %s. Set FEATX_PYTHON to a python whose torch is %s.") %
                     (python, python_torch.split(" ")[0], version, _minor(version)))
    other_torch = _python_torch(rctx, other_python)
    if not other_torch or _minor(other_torch.split(" ")[0]) == _minor(version):
        other_python, other_torch = "", ""

    if kind == "debian":
        # Only torch's own trees: all of /usr/include on an -isystem path
        # would shadow libstdc++'s wrappers of the C headers.
        for tree in ["ATen", "c10", "caffe2", "torch"]:
            rctx.symlink(include + "/" + tree, "include/" + tree)
    else:
        rctx.symlink(include, "include")
    rctx.symlink(lib, "lib")
    rctx.template("BUILD", Label("//third_party/libtorch:BUILD.tpl"), {
        "%{libdir}": lib,
    })
    rctx.file("defs.bzl", "\n".join([
        '"""What FEATX_LIBTORCH chose (generated by third_party/libtorch/repository.bzl)."""',
        "LIBTORCH_KIND = %r" % kind,
        "LIBTORCH_DIR = %r" % lib,
        "TORCH_VERSION = %r" % version,
        "TORCH_PYTHON = %r" % python,
        "TORCH_PYTHON_VERSIONS = %r" % python_torch,
        "OTHER_TORCH_PYTHON = %r" % other_python,
        "OTHER_TORCH_PYTHON_VERSIONS = %r" % other_torch,
        "",
    ]))
    rctx.file("info.txt", "libtorch %s (%s, %s); test models by %s (torch, torchvision: %s)%s\n" % (
        version,
        kind,
        lib,
        python,
        python_torch or "none",
        "; cross-version models by %s (%s)" % (other_python, other_torch) if other_python else "",
    ))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["FEATX_LIBTORCH", "FEATX_PYTHON", "FEATX_VENV", "FEATX_VENV_STAMP"],
    local = True,
)
