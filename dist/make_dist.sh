#!/usr/bin/env bash
# Lays out featx's C++ package and packs it (dist/BUILD.bazel runs this):
#
#   featx-VERSION-torchTORCH-linux-x86_64/
#     include/featx/c_api.h, plugin_api.h   the C API and its C++ layer
#     lib/libfeatx.so                       the self-contained plugin
#     lib/cmake/featx/featxConfig.cmake     find_package(featx): featx::featx
#     lib/cmake/featx/featxConfigVersion.cmake
#     bin/featx, bin/featx_host             the command line, the reference host
#     share/featx/licenses/abseil-LICENSE   abseil is inside libfeatx.so
#
# Bazel's rpaths point into its own output tree and the build machine's torch;
# the package has none: a host has loaded its libtorch before the plugin, and
# the tools find libtorch through LD_LIBRARY_PATH (docs/packaging.md).
# Usage: make_dist.sh OUT.tar.gz FEATX_VERSION TORCH_VERSION CONFIG_IN
#        LIBFEATX FEATX FEATX_HOST ABSEIL_LICENSE HEADER...
set -euo pipefail
out="$1" version="$2" torch_version="$3" config_in="$4" plugin="$5" featx="$6" host="$7" license="$8"
shift 8

name="$(basename "$out" .tar.gz)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/include/featx" "$root/lib/cmake/featx" "$root/bin" "$root/share/featx/licenses"
cp "$@" "$root/include/featx/"
cp "$plugin" "$root/lib/libfeatx.so"
cp "$featx" "$root/bin/featx"
cp "$host" "$root/bin/featx_host"
cp "$license" "$root/share/featx/licenses/abseil-LICENSE"
chmod -R u+w "$root"
for binary in "$root/lib/libfeatx.so" "$root/bin/featx" "$root/bin/featx_host"; do
  patchelf --remove-rpath "$binary"
done

sed -e "s/@FEATX_VERSION@/$version/g" -e "s/@FEATX_TORCH_VERSION@/$torch_version/g" "$config_in" \
  >"$root/lib/cmake/featx/featxConfig.cmake"
# CMake's own convention for the version file; 0.x releases are compatible
# within a minor version.
cat >"$stage/version.cmake" <<CMAKE
include(CMakePackageConfigHelpers)
set(CMAKE_SIZEOF_VOID_P 8)  # the package is x86_64: a 32-bit project finds it unsuitable
write_basic_package_version_file("$root/lib/cmake/featx/featxConfigVersion.cmake"
  VERSION "$version" COMPATIBILITY SameMinorVersion)
CMAKE
cmake -P "$stage/version.cmake"

# The same bytes for the same inputs.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage" -czf "$out" "$name"
