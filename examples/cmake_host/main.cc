// Loads a TorchScript model, rewrites it in place in tap mode through the
// installed plugin, serves one request in a capture and prints what the taps
// recorded: `tag [shape] sum=...`, one a line.
//   cmake_host MODEL.pt INPUT.pt --featx_return_nodes=layer1,fc:logits
#include <featx/plugin_api.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: cmake_host MODEL.pt INPUT.pt FEATX_FLAGS\n"), 2;
  torch::jit::Module model = torch::jit::load(argv[1]);
  model.eval();
  std::ifstream file(argv[2], std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const at::Tensor input = torch::pickle_load(bytes).toTensor();
  try {
    featx::plugin::Instrument(model, std::string("--featx_mode=tap ") + argv[3]);
  } catch (const featx::plugin::Error& e) {
    return std::fprintf(stderr, "featx: %s\n", e.what()), 1;
  }
  torch::NoGradGuard no_grad;
  featx::plugin::Capture capture;
  model.forward({input});
  for (const auto& item : capture.Take()) {
    const at::Tensor& value = item.value();
    std::printf("%s [%s] sum=%.9g\n", item.key().c_str(), c10::Join(", ", value.sizes()).c_str(),
                value.sum().item<double>());
  }
  return 0;
}
