// What libfeatx.so was built against, readable from the file without loading
// it. A host that loads a plugin built for another libtorch gets a second
// libtorch in its process (the plugin's DT_NEEDED names another file), and
// that libtorch's own static initializers crash before any featx code runs.
// `tools/libtorch_check.py --plugin=libfeatx.so --python=...` reads this
// marker and compares it with the host Python's torch, without loading.
#include <torch/version.h>

#include "plugin/c_api.h"

// FEATX_VERSION comes from plugin/version.bzl (plugin/host/BUILD.bazel).
extern "C" __attribute__((used, visibility("default"))) const char featx_build_info[] =
    "featx-version=" FEATX_VERSION ";featx-built-against-torch=" TORCH_VERSION ";";
