// The C++ API of the installed plugin: a header-only layer over libfeatx.so's
// C entry points (c_api.h) for a server that links the plugin. It needs
// nothing but libtorch and the C++ runtime; featx's own abseil stays inside
// the plugin. Errors are featx::plugin::Error exceptions, and the model is
// unchanged when Instrument throws.
//
//   #include <featx/plugin_api.h>     // the C++ package (docs/packaging.md)
//
//   torch::jit::Module model = torch::jit::load("resnet18.pt");
//   featx::plugin::Instrument(model, "--featx_mode=tap --featx_return_nodes=layer1,fc:logits");
//   featx::plugin::Capture capture;    // this thread's taps, until Take()
//   model.forward({x});
//   c10::Dict<std::string, at::Tensor> activations = capture.Take();   // layer1, logits
//
// featx's build tree and its tools use the richer internal API (featx.h).
#ifndef FEATX_PLUGIN_PLUGIN_API_H_
#define FEATX_PLUGIN_PLUGIN_API_H_

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Dict.h>
#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

#include "c_api.h"

namespace featx::plugin {

// What the plugin refused, in its words; code() is the C API's status code
// (abseil's numbering: 3 invalid argument, 9 failed precondition, ...).
class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

namespace internal {

inline void ThrowIfError(int code, const char* message) {
  if (code != 0) throw Error(code, message);
}

// The whole text of an snprintf-style entry point.
template <typename Fn>
std::string TextOf(Fn fn) {
  std::string text(fn(nullptr, 0), '\0');
  fn(text.data(), text.size() + 1);
  return text;
}

}  // namespace internal

// Rewrites `module` in place as `flags` say (--featx_mode, --featx_return_nodes,
// ...; after those in FEATX_FLAGS). Throws Error, leaving the module as it was.
inline void Instrument(torch::jit::Module& module, const std::string& flags = "") {
  char error[4096];
  internal::ThrowIfError(featx_instrument(&module, flags.c_str(), error, sizeof error), error);
}

// A capture on the calling thread: what tap-mode models emit on this thread
// from construction until Take(). Destroying it untaken closes it.
class Capture {
 public:
  Capture() {
    char error[1024];
    internal::ThrowIfError(featx_capture_begin(error, sizeof error), error);
  }
  ~Capture() {
    if (open_) featx_capture_end(nullptr, nullptr, 0);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // The activations by tag, in the order they were recorded; closes it.
  c10::Dict<std::string, at::Tensor> Take() {
    open_ = false;
    c10::Dict<std::string, at::Tensor> activations;
    char error[1024];
    internal::ThrowIfError(featx_capture_end(&activations, error, sizeof error), error);
    return activations;
  }

 private:
  bool open_ = true;
};

namespace internal {

inline std::vector<std::string> Split(const std::string& list, char separator) {
  std::vector<std::string> items;
  for (size_t start = 0; start < list.size();) {
    const size_t end = std::min(list.find(separator, start), list.size());
    items.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

}  // namespace internal

// The registered passes in load-time order (what --featx_passes takes).
inline std::vector<std::string> ListPasses() { return internal::Split(internal::TextOf(featx_list_passes), ','); }

// An exported program's node names (torch.export's .pt2 at `path`), as
// torchvision names them; `flags` may name --featx_leaf_modules. Throws Error.
inline std::vector<std::string> ProgramNodeNames(const std::string& path, const std::string& flags = "") {
  char error[4096];
  size_t length = 0;
  internal::ThrowIfError(
      featx_program_node_names(path.c_str(), flags.c_str(), nullptr, 0, &length, error, sizeof error), error);
  std::string text(length, '\0');
  internal::ThrowIfError(
      featx_program_node_names(path.c_str(), flags.c_str(), text.data(), length + 1, nullptr, error, sizeof error),
      error);
  return internal::Split(text, '\n');
}

// Writes the program at `path` rewritten to also return the nodes `flags`
// choose (--featx_return_nodes=..., --featx_mode=dict or tuple) to `output`,
// whole or not at all; then torch.export.load or AOTInductor takes it.
// Throws Error, writing nothing.
inline void RewriteProgram(const std::string& path, const std::string& output, const std::string& flags) {
  char error[4096];
  internal::ThrowIfError(featx_rewrite_program(path.c_str(), output.c_str(), flags.c_str(), error, sizeof error),
                         error);
}

// Every --featx_* flag with its help and default, for a host's usage text.
inline std::string FlagsHelp() { return internal::TextOf(featx_flags_help); }

// "featx-version=...;featx-built-against-torch=...;"
inline std::string BuildInfo() { return featx_build_info; }

}  // namespace featx::plugin

#endif  // FEATX_PLUGIN_PLUGIN_API_H_
