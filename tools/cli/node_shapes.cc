#include "tools/cli/node_shapes.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/capture.h"
#include "plugin/naming/named_graph.h"
#include "plugin/passes/insert_taps.h"
#include "plugin/status.h"

namespace featx::cli {
namespace {

// Python's spelling of a dtype, as users see it in torch.
std::string DtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return "float32";
    case at::kDouble:
      return "float64";
    case at::kHalf:
      return "float16";
    case at::kBFloat16:
      return "bfloat16";
    case at::kLong:
      return "int64";
    case at::kInt:
      return "int32";
    case at::kShort:
      return "int16";
    case at::kChar:
      return "int8";
    case at::kByte:
      return "uint8";
    case at::kBool:
      return "bool";
    case at::kComplexFloat:
      return "complex64";
    case at::kComplexDouble:
      return "complex128";
    default:
      return c10::toString(type);
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> EvalNodeShapes(const torch::jit::Module& module, NamedGraph graph,
                                                        const at::Tensor& input) {
  std::vector<TapPoint> taps;
  for (const NamedNode& n : graph.nodes) {
    if (n.value != nullptr && n.value->type()->isSubtypeOf(*c10::TensorType::get())) taps.push_back({n.value, n.name});
  }
  return TorchCall([&]() -> std::vector<std::string> {
    InsertTaps(graph.graph, taps);
    torch::jit::GraphFunction forward("featx_shapes", graph.graph, /*function_creator=*/nullptr);
    torch::NoGradGuard no_grad;
    Capture capture;
    forward({module._ivalue(), input});
    const Activations& acts = capture.activations();
    std::vector<std::string> shapes;
    for (const NamedNode& n : graph.nodes) {
      if (acts.contains(n.name)) {
        const at::Tensor t = acts.at(n.name);
        shapes.push_back(absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "] ", DtypeName(t.scalar_type())));
      } else if (n.value != nullptr && !n.value->type()->isSubtypeOf(*c10::TensorType::get())) {
        shapes.push_back(n.value->type()->annotation_str());
      } else {
        shapes.push_back("not run");
      }
    }
    return shapes;
  });
}

}  // namespace featx::cli
