"""Checks that each C++ target includes only headers it depends on directly.

Bazel 4.2.3's layering_check needs clang's module maps, which gcc (featx's
compiler) lacks; this is the same rule, read from the build graph: every
`#include "path"` in a target's sources names a header of the target itself
or in the hdrs of one of its direct deps, featx's own headers and abseil's
alike. An include reached only through another target's headers builds today
and breaks when that target changes its dependencies.

Usage: tools/check_header_deps.py QUERY_XML [ROOT]
  QUERY_XML: tools/bazel.sh query 'kind("cc_(library|binary|test)",
             //... + @com_google_absl//absl/...)' --output=xml
Prints each include without its dependency and exits 1 if there is one.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def path_of(label):
    """The include path of a file label: //plugin:featx.h -> plugin/featx.h,
    @com_google_absl//absl/strings:str_cat.h -> absl/strings/str_cat.h."""
    repo, _, rest = label.partition("//")
    package, _, name = rest.partition(":")
    return os.path.join(package, name), repo


def rules(query_xml):
    for rule in ET.parse(query_xml).getroot().iter("rule"):
        attrs = {}
        for lst in rule.findall("list"):
            attrs[lst.get("name")] = [e.get("value") for e in lst.findall("label")]
        yield rule.get("name"), attrs


def problems(query_xml, root):
    targets = dict(rules(query_xml))
    exported = {name: {path_of(h)[0] for h in attrs.get("hdrs", []) + attrs.get("textual_hdrs", [])}
                for name, attrs in targets.items()}
    known = set().union(*exported.values())  # headers some target exports
    for name, attrs in sorted(targets.items()):
        if name.startswith("@"):
            continue
        own = {path_of(f)[0] for f in attrs.get("srcs", []) + attrs.get("hdrs", []) + attrs.get("textual_hdrs", [])}
        allowed = set(own)
        for dep in attrs.get("deps", []):
            allowed |= exported.get(dep, set())
        for source in sorted(own):
            full = os.path.join(root, source)
            if not source.endswith((".cc", ".h")) or not os.path.isfile(full):
                continue
            with open(full) as f:
                includes = INCLUDE.findall(f.read())
            for header in includes:
                if header in allowed or header not in known:
                    continue  # a system header, or one no target here exports
                providers = sorted(t for t, hdrs in exported.items() if header in hdrs)
                yield f"{name}: {source} includes {header} without depending on {' or '.join(providers)}"


def main():
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = list(problems(sys.argv[1], root))
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
