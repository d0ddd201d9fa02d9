"""Finds and checks the libtorch FEATX_LIBTORCH names, before anything compiles.

A plugin must be compiled against the libtorch of the process that loads it.
This says what a choice resolves to, or why it cannot be used, in words:

  debian     Debian's libtorch-dev (1.13) under /usr
  pip        the torch tools/setup.sh installs into .venv/
  DIR        a pip site-packages/torch, the libtorch zip layout (include/,
             lib/), or a server's own copy (libraries in DIR or DIR/lib;
             headers in DIR/include, or FEATX_LIBTORCH_INCLUDE where the copy
             has none, as Triton's backends/pytorch)

It checks that the headers are there and still hold TorchScript, the version
(1.13 or newer), the C++ ABI of libc10.so (featx links Debian's abseil and
googletest, built with _GLIBCXX_USE_CXX11_ABI=1), and finds the Python whose
torch and torchvision make the test models and reference answers (the same
major.minor), and the other version's Python for cross-version models.

third_party/libtorch/repository.bzl runs it for Bazel; run it yourself to see
what a build would use:
  /usr/bin/python3 tools/libtorch_check.py /opt/libtorch

With --plugin it checks a built libfeatx.so against a server's system and
Python instead, without loading it (a plugin built for another libtorch would
load a second libtorch into the host, which crashes the process): the torch
it was built for against the Python's, each library it needs (found as the
loader would: the Python's torch/lib, LD_LIBRARY_PATH, ldconfig's cache,
the system's directories), and each glibc/libstdc++ symbol version it needs
against what those libraries define (docs/packaging.md: the floor):
  /usr/bin/python3 tools/libtorch_check.py --plugin=bazel-bin/plugin/libfeatx.so --python=/srv/venv/bin/python

Prints key=value lines; exits 2 with the reason on stderr.
"""
import argparse
import glob
import os
import re
import shutil
import struct
import subprocess
import sys

DEBIAN_INCLUDE = "/usr/include"
DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu"
DEBIAN_PYTHON = "/usr/bin/python3"
MODULE_H = "torch/csrc/jit/api/module.h"
# Where TORCH_VERSION_MAJOR is defined: 1.x and early 2.x, then the
# header-only tree.
VERSION_HS = ("torch/csrc/api/include/torch/version.h", "torch/headeronly/version.h")
OLDEST = (1, 13)
FEATX_CXX11_ABI = 1


class Unusable(Exception):
    """The choice cannot be built against; the message says why and what to do."""


def minor(version):
    """(2, 15) of '2.15.0' or '2.15.0a0+cu132'."""
    parts = re.match(r"(\d+)\.(\d+)", version)
    return (int(parts.group(1)), int(parts.group(2))) if parts else None


def layout(root, include_override=""):
    """(include dir, lib dir) of a libtorch directory."""
    if not os.path.isdir(root):
        raise Unusable(f"{root} does not exist.")
    lib = next((d for d in (os.path.join(root, "lib"), root)
                if os.path.exists(os.path.join(d, "libtorch_cpu.so")) and os.path.exists(os.path.join(d, "libc10.so"))),
               None)
    include = include_override or os.path.join(root, "include")
    if not os.path.exists(os.path.join(include, MODULE_H)):
        if os.path.isdir(os.path.join(include, "torch")) or os.path.isdir(os.path.join(include, "ATen")):
            raise Unusable(f"{include} has torch's headers but not TorchScript's ({MODULE_H}): this torch no longer "
                           "ships TorchScript, which featx rewrites. Use a torch that still does "
                           "(docs/libtorch.md).")
        if lib and not include_override:
            raise Unusable(f"{root} has libtorch's libraries but no headers ({include}/{MODULE_H}), as a server's "
                           "own copy often has (Triton's backends/pytorch). Set FEATX_LIBTORCH_INCLUDE to the "
                           "include/ of the same torch version: a pip site-packages/torch/include or a libtorch "
                           "zip's.")
        raise Unusable(f"no libtorch headers at {include}/{MODULE_H}. Point FEATX_LIBTORCH at a pip "
                       "site-packages/torch, an unpacked libtorch zip (include/, lib/), or a copy with the same "
                       "layout.")
    if not lib:
        raise Unusable(f"{root} has headers but no libtorch_cpu.so and libc10.so in {root}/lib or {root}.")
    return include, lib


def header_version(include):
    defines = {}
    for header in VERSION_HS:
        path = os.path.join(include, header)
        if os.path.exists(path):
            with open(path) as f:
                defines.update(re.findall(r"#define\s+TORCH_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", f.read()))
    if len(defines) < 3:
        raise Unusable(f"cannot read the torch version from {include} ({' or '.join(VERSION_HS)}).")
    version = f"{defines['MAJOR']}.{defines['MINOR']}.{defines['PATCH']}"
    if minor(version) < OLDEST:
        raise Unusable(f"libtorch {version} is older than featx supports ({OLDEST[0]}.{OLDEST[1]} or newer).")
    return version


def cxx11_abi(lib):
    """1 if libc10.so was built with the C++11 std::string ABI, else 0.

    Read from the library itself: symbols that take a std::string are
    mangled with __cxx11 under the new ABI. Headers do not record it and the
    cmake files are missing from some copies."""
    try:
        symbols = subprocess.run(["nm", "-D", "--defined-only", os.path.join(lib, "libc10.so")],
                                 capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise Unusable(f"cannot read the symbols of {lib}/libc10.so ({e}); is binutils installed?") from e
    return 1 if "__cxx11" in symbols else 0


def python_torch(python, torchvision=True):
    """'torch_version torchvision_version' of a python ('torch_version' with
    torchvision=False), or '' when it cannot import them."""
    if python and os.sep not in python:
        python = shutil.which(python) or ""
    if not python or not os.access(python, os.X_OK):
        return ""
    modules = "torch, torchvision" if torchvision else "torch"
    versions = "torch.__version__.split('+')[0]" + (", torchvision.__version__.split('+')[0]" if torchvision else "")
    try:
        done = subprocess.run([python, "-c", f"import {modules}; print({versions})"], capture_output=True, text=True,
                              timeout=180, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def venv_torch(venv):
    found = sorted(glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "torch")))
    return found[-1] if found else None


def venv_python_of(torch_dir):
    """The python of the virtual environment whose site-packages hold torch_dir."""
    if not torch_dir.rstrip("/").endswith(os.path.join("site-packages", "torch")):
        return ""
    venv = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(torch_dir.rstrip("/")))))
    for name in ("python", "python3"):
        if os.access(os.path.join(venv, "bin", name), os.X_OK):
            return os.path.join(venv, "bin", name)
    return ""


def resolve(choice, workspace, venv, python_override, include_override):
    choice = choice.strip() or "debian"
    if choice == "debian":
        if not os.path.exists(os.path.join(DEBIAN_INCLUDE, MODULE_H)):
            raise Unusable(f"Debian's libtorch-dev is not installed (no {DEBIAN_INCLUDE}/{MODULE_H}); run "
                           "tools/setup.sh.")
        kind, include, lib, python = "debian", DEBIAN_INCLUDE, DEBIAN_LIB, DEBIAN_PYTHON
        other = os.path.join(venv, "bin", "python")
    elif choice == "pip":
        torch_dir = venv_torch(venv)
        if not torch_dir:
            raise Unusable(f"no torch in {venv}; run `FEATX_LIBTORCH=pip tools/setup.sh` to install it.")
        kind, (include, lib) = "pip", layout(torch_dir)
        python, other = os.path.join(venv, "bin", "python"), DEBIAN_PYTHON
    else:
        root = os.path.realpath(choice if os.path.isabs(choice) else os.path.join(workspace, choice))
        kind, (include, lib) = "dir", layout(root, include_override)
        python, other = venv_python_of(root), DEBIAN_PYTHON
    if python_override:
        python = python_override

    version = header_version(include)
    abi = cxx11_abi(lib)
    if abi != FEATX_CXX11_ABI:
        raise Unusable(f"libtorch {version} at {lib} was built with _GLIBCXX_USE_CXX11_ABI={abi}, but featx links "
                       f"Debian's abseil and googletest, built with _GLIBCXX_USE_CXX11_ABI={FEATX_CXX11_ABI}: the "
                       "two cannot share a std::string. Use a C++11-ABI libtorch: pip torch 2.7 or newer, or a "
                       "libtorch-cxx11-abi-*.zip.")

    versions = python_torch(python)
    if versions and minor(versions.split()[0]) != minor(version):
        if python_override or kind == "pip":
            raise Unusable(f"the Python that makes the test models and reference answers ({python}) has torch "
                           f"{versions.split()[0]}, but the libtorch is {version}. Set FEATX_PYTHON to a python "
                           f"whose torch is {'.'.join(map(str, minor(version)))}.")
        # A library-only choice needs no Python; only the tests do.
        python, versions = "", ""
    if not versions:
        if python_override:
            raise Unusable(f"FEATX_PYTHON={python_override} cannot import torch and torchvision.")
        python = ""
    other_versions = python_torch(other) if other != python else ""
    if not other_versions or minor(other_versions.split()[0]) == minor(version):
        other, other_versions = "", ""
    return {
        "kind": kind,
        "include": include,
        "lib": lib,
        "version": version,
        "cxx11_abi": str(abi),
        "python": python,
        "python_versions": versions,
        "other_python": other,
        "other_python_versions": other_versions,
    }


PLUGIN_MARKER = re.compile(rb"featx-built-against-torch=([0-9][0-9A-Za-z.+]*);")
VERSION_MARKER = re.compile(rb"featx-version=([0-9][0-9A-Za-z.+]*);")
SYSTEM_LIB_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


def plugin_marks(plugin):
    """(featx version or "", torch version) from a libfeatx.so's bytes."""
    try:
        with open(plugin, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise Unusable(f"cannot read {plugin}: {e.strerror}.") from e
    found = PLUGIN_MARKER.search(blob)
    if not found:
        raise Unusable(f"{plugin} is not a libfeatx.so (it names no libtorch it was built against).")
    version = VERSION_MARKER.search(blob)
    return (version.group(1).decode() if version else ""), found.group(1).decode()


def plugin_torch(plugin):
    """The torch version a libfeatx.so was built against, from its bytes."""
    return plugin_marks(plugin)[1]


def python_torch_lib(python):
    """The lib/ of the torch `python` imports ("" without one)."""
    try:
        out = subprocess.run([python, "-c", "import os, torch; print(os.path.dirname(torch.__file__))"],
                             capture_output=True, text=True, timeout=300)
    except OSError:
        return ""
    return os.path.join(out.stdout.strip(), "lib") if out.returncode == 0 and out.stdout.strip() else ""


def ldconfig_cache():
    """{soname: path} of the x86-64 libraries in the loader's cache."""
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig", shutil.which("ldconfig") or ""):
        if ldconfig and os.path.exists(ldconfig):
            out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
            return {m.group(1): m.group(3) for m in re.finditer(r"^\s+(\S+) \(([^)]*)\) => (\S+)$", out, re.M)
                    if "x86-64" in m.group(2)}
    return {}


def find_library(name, dirs, cache):
    for d in dirs:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return cache.get(name, "")


def plugin_dependencies(plugin, first_dirs, system_search):
    """What the plugin needs of this system: a report, and what is missing."""
    import elf_info
    try:
        info = elf_info.read(plugin)
    except (elf_info.NotElf, ValueError, IndexError, struct.error) as e:
        raise Unusable(f"cannot read {plugin} as a shared library: {e}.") from e
    dirs = list(first_dirs)
    if system_search:
        dirs += [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d] + list(SYSTEM_LIB_DIRS)
    cache = ldconfig_cache() if system_search else {}
    missing_libraries, missing_versions = [], []
    for name in info.needed:
        path = find_library(name, dirs, cache)
        if not path:
            missing_libraries.append(name)
            continue
        wanted = info.version_needs.get(name, set())
        if wanted:
            lacking = sorted(wanted - elf_info.read(os.path.realpath(path)).version_defs,
                             key=lambda v: [int(p) if p.isdigit() else p for p in re.split(r"[._]", v)])
            if lacking:
                missing_versions.append(f"{name} ({path}) lacks {', '.join(lacking)}")
    needs = set().union(*info.version_needs.values()) if info.version_needs else set()

    def highest(prefix):
        found = elf_info.highest(needs, prefix)
        return ".".join(map(str, found)) if found else ""

    report = {"needed": ",".join(info.needed), "needs_glibc": highest("GLIBC_"),
              "needs_libstdcxx": highest("GLIBCXX_"), "needs_cxxabi": highest("CXXABI_"),
              "missing_libraries": ",".join(missing_libraries), "missing_versions": "; ".join(missing_versions)}
    return report, missing_libraries, missing_versions


def check_plugin(plugin, python, system_libs="", system_search=True):
    version, built = plugin_marks(plugin)
    runs = python_torch(python, torchvision=False)
    if not runs:
        raise Unusable(f"{python} cannot import torch, so there is nothing to compare {plugin} (built against "
                       f"torch {built}) with.")
    if minor(runs) != minor(built):
        raise Unusable(f"{plugin} was built against torch {built}, but {python} runs torch {runs}: loading it "
                       "there would bring a second libtorch into the process, which crashes it. Rebuild the "
                       f"plugin against that torch: FEATX_LIBTORCH=$({python} -c 'import os, torch; "
                       "print(os.path.dirname(torch.__file__))') tools/bazel.sh build //plugin:libfeatx.so")
    first = [d for d in system_libs.split(":") if d] + [d for d in [python_torch_lib(python)] if d]
    report, missing_libraries, missing_versions = plugin_dependencies(plugin, first, system_search)
    problems = [f"{name}: not found" for name in missing_libraries] + missing_versions
    if problems:
        raise Unusable(f"{plugin} cannot load on this system: " + "; ".join(problems) + ". The plugin needs glibc "
                       f"{report['needs_glibc']} and libstdc++ {report['needs_libstdcxx']} or newer "
                       "(docs/packaging.md lists the server images that have them), and the libtorch of "
                       f"{python}.")
    return {"plugin": plugin, "featx_version": version, "built_against": built, "python": python,
            "python_torch": runs, **report}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("choice", nargs="?", default=os.environ.get("FEATX_LIBTORCH", "debian"),
                        help="debian, pip or a directory (default: $FEATX_LIBTORCH, else debian)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--workspace", default=root, help="where relative directories and .venv/ are")
    parser.add_argument("--venv", default=os.environ.get("FEATX_VENV", ""), help="default: WORKSPACE/.venv")
    parser.add_argument("--python", default=os.environ.get("FEATX_PYTHON", ""),
                        help="the Python for test models (default: the one matching the libtorch)")
    parser.add_argument("--include", default=os.environ.get("FEATX_LIBTORCH_INCLUDE", ""),
                        help="headers for a copy that has none")
    parser.add_argument("--plugin", default="",
                        help="instead: check this libfeatx.so against --python (default: python3 on PATH) and "
                             "this system's libraries")
    parser.add_argument("--system_libs", default="",
                        help="with --plugin: directories searched first (colon-separated), e.g. a server image's "
                             "unpacked lib/")
    parser.add_argument("--no_system_search", action="store_true",
                        help="with --plugin: search only --system_libs and the Python's torch/lib")
    args = parser.parse_args()
    try:
        if args.plugin:
            found = check_plugin(args.plugin, args.python or "python3", args.system_libs,
                                 not args.no_system_search)
        else:
            found = resolve(args.choice, args.workspace, args.venv or os.path.join(args.workspace, ".venv"),
                            args.python, args.include)
    except Unusable as e:
        print(f"{'featx plugin' if args.plugin else 'FEATX_LIBTORCH=' + args.choice}: {e}", file=sys.stderr)
        return 2
    for key, value in found.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
