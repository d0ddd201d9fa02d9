"""Shim: rules_cc's public macros mapped to Bazel 4.2.3's native C++ rules.

Debian's bazel-rules-cc package targets newer Bazel (use_cpp_toolchain), so the
workspace points @rules_cc here instead.
"""

def cc_library(**kwargs):
    native.cc_library(**kwargs)

def cc_binary(**kwargs):
    native.cc_binary(**kwargs)

def cc_test(**kwargs):
    native.cc_test(**kwargs)

def cc_import(**kwargs):
    native.cc_import(**kwargs)

def cc_toolchain(**kwargs):
    native.cc_toolchain(**kwargs)

def cc_toolchain_suite(**kwargs):
    native.cc_toolchain_suite(**kwargs)
