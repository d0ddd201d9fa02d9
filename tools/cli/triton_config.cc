#include "tools/cli/triton_config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugin/featx.h"
#include "plugin/status.h"

namespace featx::cli {
namespace {

// Triton's DataType names (model_config.proto) for the dtypes a tensor output can have.
absl::StatusOr<std::string> TritonType(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::Float:
      return std::string("TYPE_FP32");
    case c10::ScalarType::Double:
      return std::string("TYPE_FP64");
    case c10::ScalarType::Half:
      return std::string("TYPE_FP16");
    case c10::ScalarType::BFloat16:
      return std::string("TYPE_BF16");
    case c10::ScalarType::Long:
      return std::string("TYPE_INT64");
    case c10::ScalarType::Int:
      return std::string("TYPE_INT32");
    case c10::ScalarType::Short:
      return std::string("TYPE_INT16");
    case c10::ScalarType::Char:
      return std::string("TYPE_INT8");
    case c10::ScalarType::Byte:
      return std::string("TYPE_UINT8");
    case c10::ScalarType::Bool:
      return std::string("TYPE_BOOL");
    default:
      return absl::InvalidArgumentError(absl::StrCat("Triton has no data type for ", c10::toString(type)));
  }
}

// The tuple's tensors, from one eval-mode, no-grad call (Triton's own way).
absl::StatusOr<std::vector<at::Tensor>> Outputs(torch::jit::Module& model, const at::Tensor& input) {
  return TorchCall([&]() -> absl::StatusOr<std::vector<at::Tensor>> {
    c10::InferenceMode inference;
    const c10::IValue out = model.forward({input});
    if (!out.isTuple()) return absl::InvalidArgumentError("the model does not return a tuple");
    std::vector<at::Tensor> tensors;
    for (const c10::IValue& element : out.toTupleRef().elements()) {
      if (!element.isTensor()) {
        return absl::InvalidArgumentError(absl::StrCat("output ", tensors.size(), " is a ", element.tagKind(),
                                                       ", not a tensor; Triton takes tensors"));
      }
      tensors.push_back(element.toTensor());
    }
    return tensors;
  });
}

// `one`'s sizes, -1 where `two` (the batch-2 run's) differ.
std::vector<int64_t> Dims(at::IntArrayRef one, std::optional<at::IntArrayRef> two) {
  std::vector<int64_t> dims(one.begin(), one.end());
  for (size_t i = 0; two && i < dims.size() && i < two->size(); ++i) {
    if ((*two)[i] != dims[i]) dims[i] = -1;
  }
  return dims;
}

absl::StatusOr<std::string> Tensor(const std::string& name, const std::string& comment, c10::ScalarType dtype,
                                   const std::vector<int64_t>& dims) {
  FEATX_ASSIGN_OR_RETURN(const std::string type, TritonType(dtype));
  return absl::StrCat("  {\n    name: \"", name, "\"", comment.empty() ? "" : "  # " + comment,
                      "\n    data_type: ", type, "\n    dims: [ ", absl::StrJoin(dims, ", "), " ]\n  }");
}

}  // namespace

absl::Status CheckTritonMode(Mode mode) {
  if (mode == Mode::kTuple) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--triton_config needs --mode=tuple, not --mode=", ModeName(mode),
                                                 ": Triton's PyTorch backend takes a tuple of tensors, not a dict"));
}

absl::StatusOr<std::string> TritonConfig(const torch::jit::Module& rewritten, const OutputManifest& manifest,
                                         const at::Tensor& input) {
  FEATX_RETURN_IF_ERROR(CheckTritonMode(manifest.mode));
  // A copy: eval() would change the training flag of the module being saved.
  FEATX_ASSIGN_OR_RETURN(torch::jit::Module model, TorchCall([&] { return rewritten.deepcopy(); }));
  FEATX_RETURN_IF_ERROR(TorchCall([&] { model.eval(); }));
  FEATX_ASSIGN_OR_RETURN(const std::vector<at::Tensor> one, Outputs(model, input));
  if (one.size() != manifest.eval.size()) {
    return absl::InternalError(
        absl::StrCat("the model returns ", one.size(), " tensors but its manifest lists ", manifest.eval.size()));
  }
  // The same input twice along dim 0 tells which dims follow the batch.
  std::optional<std::vector<at::Tensor>> two;
  std::string fixed_why;
  if (input.dim() == 0) {
    fixed_why = "the input has no batch dim";
  } else if (absl::StatusOr<std::vector<at::Tensor>> run = Outputs(model, at::cat({input, input}, 0)); run.ok()) {
    two = *std::move(run);
  } else {
    fixed_why = absl::StrCat("the model did not run at batch ", 2 * input.size(0), ": ", run.status().message());
  }
  auto dims = [&](size_t i) {
    return Dims(one[i].sizes(), two ? std::optional<at::IntArrayRef>((*two)[i].sizes()) : std::nullopt);
  };

  std::vector<std::string> outputs;
  for (size_t i = 0; i < one.size(); ++i) {
    const ManifestEntry& entry = manifest.eval[i];
    const std::string what = entry.name == entry.node ? entry.name : absl::StrCat(entry.name, " (", entry.node, ")");
    FEATX_ASSIGN_OR_RETURN(std::string output,
                           Tensor(absl::StrCat("OUTPUT__", i), what, one[i].scalar_type(), dims(i)));
    outputs.push_back(std::move(output));
  }
  std::vector<int64_t> input_dims(input.sizes().begin(), input.sizes().end());
  if (two) input_dims[0] = -1;
  FEATX_ASSIGN_OR_RETURN(const std::string in, Tensor("INPUT__0", "", input.scalar_type(), input_dims));

  std::string dims_note =
      two ? absl::StrCat("# dims: one run at the input's shape [", absl::StrJoin(input.sizes(), ", "),
                         "] and one at twice its batch; -1 where they differ.\n")
          : absl::StrCat("# dims: one run at the input's shape [", absl::StrJoin(input.sizes(), ", "),
                         "]; all fixed, because ", fixed_why, ".\n");
  return absl::StrCat(
      "# Triton model config for a featx tuple-mode model (featx rewrite --triton_config).\n",
      "# Outputs follow featx's manifest (eval mode, which Triton runs): the model's own outputs, then the\n",
      "# chosen activations. max_batch_size 0: the batch is the first of the dims; to let Triton batch,\n",
      "# set max_batch_size and drop that first dim everywhere.\n", dims_note, "platform: \"pytorch_libtorch\"\n",
      "max_batch_size: 0\n", "input [\n", in, "\n]\n", "output [\n", absl::StrJoin(outputs, ",\n"), "\n]\n");
}

}  // namespace featx::cli
