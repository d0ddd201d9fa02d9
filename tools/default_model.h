// The embedded default model: a small ResNet that `featx demo` and the
// benchmarks run on, built in C++ so no file or Python is needed.
//
// It has the shape of a deployed torchvision model: submodules whose
// TorchScript classes are torch.nn's (`__torch__.torch.nn.modules.conv.Conv2d`,
// mangled where shapes differ), custom blocks (`__torch__.featx.models.BasicBlock`)
// inside `Sequential`s, in-place ReLUs and residual `+=`, and BatchNorm that
// reads `self.training`.
//
//   torch::jit::Module model = featx::MakeDefaultModel();
//   at::Tensor logits = model.forward({featx::DefaultModelInput()}).toTensor();  // [1, 10]
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

namespace featx {

// A freshly built model in eval mode; weights are random but the same on every
// call (seeded), so outputs are reproducible.
torch::jit::Module MakeDefaultModel();

// A seeded input of the shape the default model expects: [1, 3, 32, 32].
at::Tensor DefaultModelInput();

}  // namespace featx
