// Registering featx's ops unless another copy of featx already did.
//
// A host may load libfeatx.so twice from two paths (two models, two plugin
// directories). TORCH_LIBRARY would then throw from the second copy's static
// initializers and abort the host. Registration through here checks the
// dispatcher first: the first copy's ops serve the process, the second copy
// registers nothing and says so (ThisCopyServesTheOps).
//
//   const bool registered = featx::RegisterOnce("featx::tap", torch::Library::DEF, [](torch::Library& m) {
//     m.def("tap(Tensor(a) x, str tag) -> Tensor(a)", TORCH_FN(Tap));
//   });
#pragma once

#include <functional>

#include <torch/library.h>

namespace featx {

// Runs `define` on a never-destroyed torch::Library for namespace featx of
// `kind` (DEF or FRAGMENT), unless the operator `probe` ("featx::tap") is
// already registered. Returns whether it registered.
bool RegisterOnce(const char* probe, torch::Library::Kind kind, const std::function<void(torch::Library&)>& define,
                  const char* file, uint32_t line);

// False when another copy of featx in this process registered the ops
// first: this copy's ops and capture state are not the ones models call.
bool ThisCopyServesTheOps();

}  // namespace featx
