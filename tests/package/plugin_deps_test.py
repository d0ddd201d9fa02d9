"""What libfeatx.so asks of a server image, and what it offers a host.

- NEEDED is libtorch's own libraries and the C/C++ runtime, nothing else (no
  libabsl_*: abseil is inside, so the plugin loads where Debian's is not).
- The dynamic symbol table holds exactly the C API c_api.h declares.
- The highest glibc, libstdc++ and C++ ABI versions it needs are the floor
  docs/packaging.md states (a change either way must update the doc, which
  names the server images that floor admits).
- tools/libtorch_check.py --plugin reports all of that without loading it,
  and names what a system lacks.

Arguments: libfeatx.so, c_api.h, docs/packaging.md, tools/libtorch_check.py.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import bazel_unittest

PLUGIN = C_API = PACKAGING_MD = LIBTORCH_CHECK = None

# The C and C++ runtime every Linux server image has.
RUNTIME = {"libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6", "ld-linux-x86-64.so.2"}
# libtorch's CPU libraries, as Debian (libtorch_cpu.so.1.13) or PyPI
# (libtorch_cpu.so) names them.
LIBTORCH = re.compile(r"lib(torch_cpu|c10)\.so(\.\d+\.\d+)?")


def elf_info():
    sys.path.insert(0, os.path.dirname(LIBTORCH_CHECK))
    import elf_info as module
    return module


def documented_floor(torch_minor):
    """{'GLIBC_': (2, 34), ...} for a plugin built against torch `torch_minor`
    ('2.15'), from the floor table in docs/packaging.md."""
    with open(PACKAGING_MD) as f:
        rows = [line.split("|")[1:-1] for line in f if line.startswith("| ")]
    header = [cell.strip() for cell in rows[[r[0].strip() for r in rows].index("runtime")]]
    column = next((i for i, cell in enumerate(header) if cell.startswith(f"torch {torch_minor} ")), None)
    assert column is not None, f"docs/packaging.md's floor table has no column for torch {torch_minor}: {header}"
    floor = {}
    for prefix, name in (("GLIBC_", "glibc"), ("GLIBCXX_", "libstdc++"), ("CXXABI_", "C++ ABI")):
        row = next((r for r in rows if r[0].strip() == name), None)
        assert row, f"docs/packaging.md's floor table has no row for {name}"
        found = re.fullmatch("`" + re.escape(prefix) + r"([0-9.]+)`", row[column].strip())
        assert found, f"docs/packaging.md: {name} for torch {torch_minor} is not `{prefix}N.N`: {row[column]}"
        floor[prefix] = tuple(int(p) for p in found.group(1).split("."))
    return floor


def built_against():
    """'2.15': the torch the plugin names in its bytes."""
    with open(PLUGIN, "rb") as f:
        found = re.search(rb"featx-built-against-torch=(\d+\.\d+)", f.read())
    return found.group(1).decode()


def check(*args):
    return subprocess.run([sys.executable, LIBTORCH_CHECK, "--plugin=" + PLUGIN, "--python=" + sys.executable, *args],
                          capture_output=True, text=True, timeout=120)


class PluginDepsTest(unittest.TestCase):
    def setUp(self):
        self.elf = elf_info()
        self.info = self.elf.read(PLUGIN)

    def test_needs_only_libtorch_and_the_c_and_cxx_runtime(self):
        unexpected = [lib for lib in self.info.needed if lib not in RUNTIME and not LIBTORCH.fullmatch(lib)]
        self.assertEqual(unexpected, [], f"NEEDED: {self.info.needed}")
        self.assertTrue(any(LIBTORCH.fullmatch(lib) for lib in self.info.needed), self.info.needed)

    def test_exports_exactly_the_c_api(self):
        with open(C_API) as f:
            declared = set(re.findall(r"^(?:extern const char |\w+ \**)(featx_\w+)[\[(]", f.read(), re.M))
        self.assertIn("featx_instrument", declared)
        self.assertEqual(self.info.exported, declared)

    def test_symbol_versions_are_the_documented_floor(self):
        floor = documented_floor(built_against())
        needs = set().union(*self.info.version_needs.values())
        for prefix, documented in floor.items():
            self.assertEqual(self.elf.highest(needs, prefix), documented,
                             f"libfeatx.so now needs {prefix}{self.elf.highest(needs, prefix)}; update the floor and "
                             "the images it admits in docs/packaging.md")

    def test_the_check_reports_the_plugin_without_loading_it(self):
        result = check()
        self.assertEqual(result.returncode, 0, result.stderr)
        report = dict(line.split("=", 1) for line in result.stdout.splitlines())
        floor = documented_floor(built_against())
        self.assertEqual(report["needs_glibc"], ".".join(map(str, floor["GLIBC_"])))
        self.assertEqual(report["needs_libstdcxx"], ".".join(map(str, floor["GLIBCXX_"])))
        self.assertEqual(report["missing_libraries"], "")
        self.assertEqual(report["missing_versions"], "")
        self.assertRegex(report["featx_version"], r"^\d+\.\d+\.\d+$")

    def test_the_check_names_what_an_older_system_lacks(self):
        # A glibc that stops at 2.31 (Debian 11, Ubuntu 20.04), written as a
        # minimal ELF file that defines those versions.
        with tempfile.TemporaryDirectory() as d:
            old = os.path.join(d, "libc.so.6")
            write_version_library(old, "libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.2.6", "GLIBC_2.3", "GLIBC_2.3.2",
                                                     "GLIBC_2.3.3", "GLIBC_2.3.4"] +
                                  [f"GLIBC_2.{n}" for n in range(4, 32)])
            result = check("--system_libs=" + d)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("libc.so.6 (" + old + ") lacks GLIBC_2.32, GLIBC_2.34.", result.stderr)
        self.assertIn("docs/packaging.md", result.stderr)

    def test_the_check_names_a_missing_library(self):
        with tempfile.TemporaryDirectory() as d:
            result = check("--system_libs=" + d, "--no_system_search")
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("libc.so.6", result.stderr)
        self.assertIn("not found", result.stderr)


def write_version_library(path, soname, versions):
    """A tiny ELF shared object that defines `versions` (a .gnu.version_d)."""
    import struct
    names = [soname] + versions
    strtab = b"\0"
    offsets = {}
    for n in names:
        offsets[n] = len(strtab)
        strtab += n.encode() + b"\0"
    verdef = b""
    for i, n in enumerate(names):
        flags = 1 if i == 0 else 0
        last = i == len(names) - 1
        verdef += struct.pack("<HHHHIII", 1, flags, i + 1, 1, 0, 20, 0 if last else 28)
        verdef += struct.pack("<II", offsets[n], 0)
    header_size, sh_size = 64, 64
    strtab_off = header_size
    verdef_off = strtab_off + len(strtab)
    shstr = b"\0.dynstr\0.gnu.version_d\0"
    shstr_off = verdef_off + len(verdef)
    sh_off = shstr_off + len(shstr)
    sections = [
        struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, strtab_off, len(strtab), 0, 0, 1, 0),
        struct.pack("<IIQQQQIIQQ", 9, 0x6FFFFFFD, 0, 0, verdef_off, len(verdef), 1, len(names), 8, 0),
        struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0),
    ]
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, sh_off, 0, header_size, 0, 0, sh_size,
                                 len(sections), 3)
    with open(path, "wb") as f:
        f.write(header + strtab + verdef + shstr + b"".join(sections))


if __name__ == "__main__":
    PLUGIN, C_API, PACKAGING_MD, LIBTORCH_CHECK = (os.path.abspath(a) for a in sys.argv[1:5])
    del sys.argv[1:5]
    bazel_unittest.main()
