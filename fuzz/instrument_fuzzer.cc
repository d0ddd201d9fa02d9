// Fuzzes featx_instrument, the C entry point hosts call, with any flag
// string on a small fixed model (a submodule, an in-place op, a train/eval
// branch). On error the model is unchanged and serves as before; on success
// the rewritten model runs, and in tap mode gives the same output.
// --featx_passes makes this a fuzzer of pass pipelines too.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <torch/csrc/jit/api/module.h>
#include <torch/script.h>

#include "plugin/c_api.h"

namespace {

torch::jit::Module MakeModel() {
  // Modules made in C++ have no `training` attribute unless given one.
  torch::jit::Module block("Block");
  block.register_attribute("training", c10::BoolType::get(), true);
  block.register_parameter("w", torch::full({1, 3, 1, 1}, 0.5), false);
  block.define(R"(
def forward(self, x):
    return x * self.w
)");
  torch::jit::Module model("Model");
  model.register_attribute("training", c10::BoolType::get(), true);
  model.register_module("block", block);
  model.define(R"(
def forward(self, x):
    y = self.block.forward(x)
    z = torch.relu(y)
    z.add_(1.0)
    if self.training:
        z = z * 2.0
    return torch.sigmoid(z + x)
)");
  model.eval();
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string flags(reinterpret_cast<const char*>(data), size);
  // Spool directories would be created on disk: not this fuzzer's business.
  if (flags.find("spool") != std::string::npos || flags.find("flagfile") != std::string::npos) return 0;
  static const torch::jit::Module* original = new torch::jit::Module(MakeModel());
  static const at::Tensor* input = new at::Tensor(torch::randn({1, 3, 4, 4}));
  torch::NoGradGuard no_grad;
  static const at::Tensor* plain =
      new at::Tensor(const_cast<torch::jit::Module*>(original)->forward({*input}).toTensor());

  torch::jit::Module model = *original;
  char error[512];
  const int rc = featx_instrument(&model, flags.c_str(), error, sizeof error);
  if (rc != 0) {
    // Nothing changed: the same object, the same answer.
    if (model._ivalue() != original->_ivalue()) std::abort();
    if (!torch::equal(model.forward({*input}).toTensor(), *plain)) std::abort();
    return 0;
  }
  try {
    const c10::IValue out = model.forward({*input});
    if (out.isTensor() && !torch::allclose(out.toTensor(), *plain)) std::abort();  // tap mode changes nothing
  } catch (const std::exception&) {
    std::abort();  // rewritten without an error, then fails to run
  }
  return 0;
}
