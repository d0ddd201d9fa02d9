"""featx's version: the plugin's featx_build_info, the C++ package's file
name and its CMake version file (dist/BUILD.bazel) read it from here."""

FEATX_VERSION = "0.1.0"
