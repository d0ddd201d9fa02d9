"""What a shared library asks of the system and offers it, read from its ELF file.

Pure Python (no binutils, nothing loaded), so that it runs on a server image
that has only Python: the libraries it needs (DT_NEEDED), the symbol versions
it needs from each (GLIBC_2.34 from libc.so.6, GLIBCXX_3.4.29 from
libstdc++.so.6), the versions a library defines, and the symbols it exports.

  info = elf_info.read("bazel-bin/plugin/libfeatx.so")
  info.needed            # ['libtorch_cpu.so', 'libc10.so', 'libstdc++.so.6', ...]
  info.version_needs     # {'libc.so.6': {'GLIBC_2.2.5', 'GLIBC_2.34'}, ...}
  info.exported          # {'featx_instrument', ...}: defined, global or weak
  elf_info.highest(info.version_needs["libc.so.6"], "GLIBC_")   # (2, 34)
"""
import dataclasses
import re
import struct

_SHT_DYNSYM = 11
_SHT_DYNAMIC = 6
_SHT_GNU_VERDEF = 0x6FFFFFFD
_SHT_GNU_VERNEED = 0x6FFFFFFE
_DT_NEEDED = 1
_DT_SONAME = 14
_STB_LOCAL = 0
_SHN_UNDEF = 0


class NotElf(Exception):
    """The file is not a 64-bit little-endian ELF shared object."""


@dataclasses.dataclass
class ElfInfo:
    soname: str
    needed: list
    version_needs: dict  # library -> set of version names
    version_defs: set  # versions this object defines (a libc's GLIBC_2.34)
    exported: set  # defined dynamic symbols that are not local


def _c_string(blob, offset):
    end = blob.index(b"\0", offset)
    return blob[offset:end].decode("utf-8", "replace")


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:4] != b"\x7fELF" or blob[4] != 2 or blob[5] != 1:
        raise NotElf(f"{path} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", blob, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", blob, 0x3A)
    sections = []
    for i in range(shnum):
        name, kind, _, _, offset, size, link, info, _, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", blob, shoff + i * shentsize)
        sections.append({"type": kind, "offset": offset, "size": size, "link": link, "info": info,
                         "entsize": entsize})

    def strtab(section):
        return sections[section["link"]]["offset"]

    soname, needed, needs, defs, exported = "", [], {}, set(), set()
    for s in sections:
        if s["type"] == _SHT_DYNAMIC:
            for off in range(s["offset"], s["offset"] + s["size"], 16):
                tag, value = struct.unpack_from("<qQ", blob, off)
                if tag == _DT_NEEDED:
                    needed.append(_c_string(blob, strtab(s) + value))
                elif tag == _DT_SONAME:
                    soname = _c_string(blob, strtab(s) + value)
        elif s["type"] == _SHT_GNU_VERNEED:
            off = s["offset"]
            for _ in range(s["info"]):
                _, count, file_name, aux, next_need = struct.unpack_from("<HHIII", blob, off)
                versions = needs.setdefault(_c_string(blob, strtab(s) + file_name), set())
                aoff = off + aux
                for _ in range(count):
                    _, _, _, name, next_aux = struct.unpack_from("<IHHII", blob, aoff)
                    versions.add(_c_string(blob, strtab(s) + name))
                    aoff += next_aux
                off += next_need
        elif s["type"] == _SHT_GNU_VERDEF:
            off = s["offset"]
            for _ in range(s["info"]):
                _, flags, _, count, _, aux, next_def = struct.unpack_from("<HHHHIII", blob, off)
                if count and not flags & 1:  # VER_FLG_BASE names the file itself
                    name, = struct.unpack_from("<I", blob, off + aux)
                    defs.add(_c_string(blob, strtab(s) + name))
                off += next_def
        elif s["type"] == _SHT_DYNSYM:
            for off in range(s["offset"] + s["entsize"], s["offset"] + s["size"], s["entsize"]):
                name, info, _, shndx, _, _ = struct.unpack_from("<IBBHQQ", blob, off)
                if shndx != _SHN_UNDEF and info >> 4 != _STB_LOCAL and name:
                    exported.add(_c_string(blob, strtab(s) + name))
    return ElfInfo(soname, needed, needs, defs, exported)


def version_key(name, prefix):
    """(2, 34) for GLIBC_2.34 with prefix GLIBC_; None for another family."""
    found = re.fullmatch(re.escape(prefix) + r"(\d+(?:\.\d+)*)", name)
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def highest(versions, prefix):
    """The highest version of a family (GLIBC_, GLIBCXX_, CXXABI_), or None."""
    keys = [k for k in (version_key(v, prefix) for v in versions) if k is not None]
    return max(keys) if keys else None
