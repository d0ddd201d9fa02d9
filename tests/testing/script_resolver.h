// A TorchScript resolver for source compiled from C++ tests.
//
// C++ has no Python `torch.ops` namespace, so `torch::jit::compile` and
// `Module::define` cannot see custom ops by default. This resolver adds the
// builtin module `featx`, so test source can call the ops directly:
//
//   module.define(R"(
//     def forward(self, x):
//         return featx.tap(torch.relu(x), "relu")
//   )", featx::testing::ScriptResolver());
#pragma once

#include <memory>
#include <string>

#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>

namespace featx::testing {

class FeatxResolver : public torch::jit::Resolver {
 public:
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                                                         const torch::jit::SourceRange& loc) override {
    if (name == "featx") return std::make_shared<torch::jit::BuiltinModule>("featx");
    return torch::jit::nativeResolver()->resolveValue(name, m, loc);
  }

  c10::TypePtr resolveType(const std::string& name, const torch::jit::SourceRange& loc) override {
    return torch::jit::nativeResolver()->resolveType(name, loc);
  }
};

inline std::shared_ptr<torch::jit::Resolver> ScriptResolver() { return std::make_shared<FeatxResolver>(); }

}  // namespace featx::testing
