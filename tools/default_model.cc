#include "tools/default_model.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// Builds modules into one compilation unit, as torch.jit.load does for a
// saved model: a second module of the same class with other constants gets a
// mangled class name (`___torch_mangle_N`).
class ModelBuilder {
 public:
  ModelBuilder() : cu_(std::make_shared<jit::CompilationUnit>()) {}

  jit::Module Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
    jit::Module m = New("torch.nn.modules.conv.Conv2d");
    const double fan_in = static_cast<double>(in * kernel * kernel);
    m.register_parameter("weight", torch::randn({out, in, kernel, kernel}) * std::sqrt(2.0 / fan_in), false);
    const int64_t padding = kernel / 2;
    m.define(absl::Substitute(R"(
def forward(self, input: Tensor) -> Tensor:
    return torch.conv2d(input, self.weight, None, [$0, $0], [$1, $1])
)",
                              stride, padding));
    return m;
  }

  jit::Module BatchNorm2d(int64_t channels) {
    jit::Module m = New("torch.nn.modules.batchnorm.BatchNorm2d");
    m.register_parameter("weight", 1.0 + 0.1 * torch::randn({channels}), false);
    m.register_parameter("bias", 0.1 * torch::randn({channels}), false);
    m.register_buffer("running_mean", 0.1 * torch::randn({channels}));
    m.register_buffer("running_var", 1.0 + 0.1 * torch::rand({channels}));
    m.register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
    m.define(R"(
def forward(self, input: Tensor) -> Tensor:
    if self.training:
        self.num_batches_tracked.add_(1)
    return torch.batch_norm(input, self.weight, self.bias, self.running_mean, self.running_var,
                            self.training, 0.1, 1e-05, False)
)");
    return m;
  }

  jit::Module ReLU() {
    jit::Module m = New("torch.nn.modules.activation.ReLU");
    m.define(R"(
def forward(self, input: Tensor) -> Tensor:
    return torch.relu_(input)
)");
    return m;
  }

  jit::Module AdaptiveAvgPool2d() {
    jit::Module m = New("torch.nn.modules.pooling.AdaptiveAvgPool2d");
    m.define(R"(
def forward(self, input: Tensor) -> Tensor:
    return torch.adaptive_avg_pool2d(input, [1, 1])
)");
    return m;
  }

  jit::Module Linear(int64_t in, int64_t out) {
    jit::Module m = New("torch.nn.modules.linear.Linear");
    m.register_parameter("weight", torch::randn({out, in}) / std::sqrt(static_cast<double>(in)), false);
    m.register_parameter("bias", 0.01 * torch::randn({out}), false);
    m.define(R"(
def forward(self, input: Tensor) -> Tensor:
    return torch.linear(input, self.weight, self.bias)
)");
    return m;
  }

  // torchvision's BasicBlock: conv-bn-relu-conv-bn, residual `+=`, in-place ReLU.
  jit::Module BasicBlock(int64_t in, int64_t out, int64_t stride) {
    jit::Module m = New("featx.models.BasicBlock");
    m.register_module("conv1", Conv2d(in, out, 3, stride));
    m.register_module("bn1", BatchNorm2d(out));
    m.register_module("relu", ReLU());
    m.register_module("conv2", Conv2d(out, out, 3, 1));
    m.register_module("bn2", BatchNorm2d(out));
    std::string downsample;
    if (stride != 1 || in != out) {
      m.register_module("downsample", Sequential({Conv2d(in, out, 1, stride), BatchNorm2d(out)}));
      downsample = "    identity = self.downsample.forward(x)\n";
    }
    m.define(absl::Substitute(R"(
def forward(self, x: Tensor) -> Tensor:
    identity = x
    out = self.conv1.forward(x)
    out = self.bn1.forward(out)
    out = self.relu.forward(out)
    out = self.conv2.forward(out)
    out = self.bn2.forward(out)
$0    out += identity
    out = self.relu.forward(out)
    return out
)",
                              downsample));
    return m;
  }

  // Children named "0", "1", ... called in order, as TorchScript compiles
  // torch.nn.Sequential.
  jit::Module Sequential(const std::vector<jit::Module>& children) {
    jit::Module m = New("torch.nn.modules.container.Sequential");
    std::string body;
    for (size_t i = 0; i < children.size(); ++i) {
      m.register_module(std::to_string(i), children[i]);
      absl::StrAppend(&body, "    input = getattr(self, \"", i, "\").forward(input)\n");
    }
    m.define(absl::StrCat("def forward(self, input: Tensor) -> Tensor:\n", body, "    return input\n"));
    return m;
  }

  jit::Module TinyResNet() {
    jit::Module m = New("featx.models.TinyResNet");
    m.register_module("conv1", Conv2d(3, 16, 3, 1));
    m.register_module("bn1", BatchNorm2d(16));
    m.register_module("relu", ReLU());
    m.register_module("layer1", Sequential({BasicBlock(16, 16, 1), BasicBlock(16, 16, 1)}));
    m.register_module("layer2", Sequential({BasicBlock(16, 32, 2), BasicBlock(32, 32, 1)}));
    m.register_module("avgpool", AdaptiveAvgPool2d());
    m.register_module("fc", Linear(32, 10));
    m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    x = self.conv1.forward(x)
    x = self.bn1.forward(x)
    x = self.relu.forward(x)
    x = self.layer1.forward(x)
    x = self.layer2.forward(x)
    x = self.avgpool.forward(x)
    x = torch.flatten(x, 1)
    x = self.fc.forward(x)
    return x
)");
    return m;
  }

 private:
  jit::Module New(const std::string& python_class) {
    jit::Module m(c10::QualifiedName(absl::StrCat("__torch__.", python_class)), cu_, /*shouldMangle=*/true);
    // Every scripted nn.Module carries `training`; Module::train() sets it.
    m.register_attribute("training", c10::BoolType::get(), true);
    return m;
  }

  std::shared_ptr<jit::CompilationUnit> cu_;
};

}  // namespace

torch::jit::Module MakeDefaultModel() {
  torch::NoGradGuard no_grad;
  // Seeds torch's global generator: the same weights on every call.
  torch::manual_seed(0);
  jit::Module model = ModelBuilder().TinyResNet();
  model.eval();
  return model;
}

at::Tensor DefaultModelInput() {
  torch::manual_seed(1);
  return torch::randn({1, 3, 32, 32});
}

}  // namespace featx
