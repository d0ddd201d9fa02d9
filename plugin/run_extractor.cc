#include "plugin/run_extractor.h"

#include <string>
#include <utility>

#include <ATen/core/grad_mode.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/status.h"

namespace featx {
namespace {

absl::StatusOr<Extraction> FromDict(const c10::IValue& out) {
  if (!out.isGenericDict()) {
    return absl::FailedPreconditionError(
        absl::StrCat("a dict-mode forward returned ", out.tagKind(), ", not a dict; was the module rewritten?"));
  }
  Extraction got;
  for (const auto& item : out.toGenericDict())
    got.activations.insert(item.key().toStringRef(), item.value().toTensor());
  return got;
}

absl::StatusOr<Extraction> FromTuple(const c10::IValue& out, const std::vector<ManifestEntry>& slots) {
  if (!out.isTuple() || out.toTupleRef().elements().size() != slots.size()) {
    return absl::FailedPreconditionError(absl::StrCat("a tuple-mode forward should return ", slots.size(),
                                                      " tensors as the manifest says, but returned ", out.tagKind()));
  }
  Extraction got;
  std::vector<c10::IValue> own;
  const auto& items = out.toTupleRef().elements();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].node == "output") {
      own.push_back(items[i]);
    } else {
      got.activations.insert(slots[i].name, items[i].toTensor());
    }
  }
  got.model_output = own.size() == 1 ? own[0] : c10::ivalue::Tuple::create(std::move(own));
  return got;
}

}  // namespace

absl::StatusOr<Extraction> RunExtractor(torch::jit::Module& rewritten, const OutputManifest& manifest,
                                        std::vector<c10::IValue> inputs) {
  at::NoGradGuard no_grad;
  const std::vector<ManifestEntry>& emitted = rewritten.is_training() ? manifest.train : manifest.eval;
  if (manifest.mode == Mode::kTap) {
    Capture capture;
    FEATX_ASSIGN_OR_RETURN(c10::IValue out, TorchCall([&] { return rewritten.forward(std::move(inputs)); }));
    return Extraction{capture.Take(), std::move(out)};
  }
  FEATX_ASSIGN_OR_RETURN(c10::IValue out, TorchCall([&] { return rewritten.forward(std::move(inputs)); }));
  return manifest.mode == Mode::kDict ? FromDict(out) : FromTuple(out, emitted);
}

}  // namespace featx
