// Registers the `featx` TorchScript ops. Loading any binary that links this
// file (alwayslink) makes them visible to torch.ops, the JIT and the
// dispatcher.
#include <string>

#include <c10/util/Exception.h>
#include <torch/library.h>

#include "ops/capture.h"
#include "ops/register_once.h"

namespace featx {
namespace {

// Returns its input unchanged; records it when a capture is open.
at::Tensor Tap(const at::Tensor& x, c10::string_view tag) {
  Record(tag, x);
  return x;
}

// The same, recording a copy: for a value that a later in-place op
// overwrites. The copy is made only while a capture is open.
at::Tensor TapCopy(const at::Tensor& x, c10::string_view tag, bool copy) {
  if (!CaptureIsOpen()) return x;
  Record(tag, copy ? x.clone() : x);
  return x;
}

void CaptureBeginOp() { BeginCapture(); }

Activations CaptureEndOp() {
  absl::StatusOr<Activations> activations = EndCapture();
  TORCH_CHECK(activations.ok(), activations.status().message());
  return *std::move(activations);
}

void RequestBeginDefault() { RequestBegin(); }
void RequestEndDefault() { RequestEnd(); }
void RequestBeginOp(c10::string_view sink) { RequestBegin(sink); }
void RequestEndOp(c10::string_view sink) { RequestEnd(sink); }

// What TORCH_LIBRARY(featx, m) would hold; registered below unless another
// copy of featx already did (ops/register_once.h).
void DefineOps(torch::Library& m) {
  // The alias annotation tells alias analysis the output is the input, so
  // passes reason about the tapped value as they would about the original.
  m.def("tap(Tensor(a) x, str tag) -> Tensor(a)", TORCH_FN(Tap));
  // featx.insert_taps uses this overload where alias analysis finds a later
  // write to the value: the capture holds the value as it was at its node,
  // and requests without a capture pay nothing for the protection.
  m.def("tap.copy(Tensor(a) x, str tag, bool copy) -> Tensor(a)", TORCH_FN(TapCopy));
  // Capture ops change thread state and return nothing the graph uses (or a
  // value it may drop): CONSERVATIVE marks them as having side effects, so
  // dead-code elimination never removes them.
  m.def(torch::schema("capture_begin() -> ()", c10::AliasAnalysisKind::CONSERVATIVE), TORCH_FN(CaptureBeginOp));
  m.def(torch::schema("capture_end() -> Dict(str, Tensor)", c10::AliasAnalysisKind::CONSERVATIVE),
        TORCH_FN(CaptureEndOp));
  // A tap-mode forward opens and closes with these, so hosts that open no
  // capture still get their requests' activations to a sink (capture.h).
  // The .sink overloads name the sink the model reports to (its key); the
  // plain ones report to the process's default sink.
  m.def(torch::schema("request_begin() -> ()", c10::AliasAnalysisKind::CONSERVATIVE), TORCH_FN(RequestBeginDefault));
  m.def(torch::schema("request_end() -> ()", c10::AliasAnalysisKind::CONSERVATIVE), TORCH_FN(RequestEndDefault));
  m.def(torch::schema("request_begin.sink(str sink) -> ()", c10::AliasAnalysisKind::CONSERVATIVE),
        TORCH_FN(RequestBeginOp));
  m.def(torch::schema("request_end.sink(str sink) -> ()", c10::AliasAnalysisKind::CONSERVATIVE),
        TORCH_FN(RequestEndOp));
}

}  // namespace

[[maybe_unused]] const bool registered_ops =
    RegisterOnce("featx::tap", torch::Library::DEF, DefineOps, __FILE__, __LINE__);

}  // namespace featx
