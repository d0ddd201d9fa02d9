#include "plugin/c_api.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "ops/capture.h"
#include "ops/register_once.h"
#include "plugin/export/rewrite_program.h"
#include "plugin/featx.h"
#include "plugin/host/flags.h"
#include "plugin/host/sinks.h"
#include "plugin/log.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/status.h"

namespace {

int Report(const absl::Status& status, char* error, size_t error_size) {
  if (error != nullptr && error_size > 0) {
    const std::string message(status.message());
    const size_t n = std::min(message.size(), error_size - 1);
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
  }
  return static_cast<int>(status.code());
}

// snprintf's contract: at most `size` bytes, NUL included; returns the whole
// text's length.
size_t CopyOut(const std::string& text, char* out, size_t size) {
  if (out != nullptr && size > 0) {
    const size_t n = std::min(text.size(), size - 1);
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
  }
  return text.size();
}

// A second copy of libfeatx.so in the process registered no ops: the models
// it rewrote would tap into the first copy's captures, and its own would stay
// empty. Its entry points say so instead.
absl::Status ThisCopyServes() {
  if (featx::ThisCopyServesTheOps()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "another copy of libfeatx.so, loaded earlier into this process from another path, serves featx's ops; "
      "this copy's entry points would capture nothing: use the first copy's (load the plugin from one path)");
}

// Anything thrown becomes a status: nothing unwinds into a C host.
template <typename Fn>
int Guarded(char* error, size_t error_size, Fn&& fn) {
  return Report(featx::TorchCall(std::forward<Fn>(fn)), error, error_size);
}

}  // namespace

extern "C" {

int featx_instrument(void* module, const char* flags, char* error, size_t error_size) {
  return Guarded(error, error_size, [&]() -> absl::Status {
    if (module == nullptr) return absl::InvalidArgumentError("featx_instrument: module is NULL");
    FEATX_RETURN_IF_ERROR(ThisCopyServes());
    FEATX_ASSIGN_OR_RETURN(featx::Config config, featx::ConfigFromFlags(flags == nullptr ? "" : flags));
    // Check everything first, commit last: on any error the model is as it
    // was and no sink changed.
    FEATX_ASSIGN_OR_RETURN(featx::RequestSink sink, featx::MakeSink(config.sinks));
    if (sink && config.extractor.mode == featx::Mode::kTap) config.extractor.request_sink = featx::NewSinkKey();
    FEATX_RETURN_IF_ERROR(featx::InstrumentInPlace(*static_cast<torch::jit::Module*>(module), config.extractor));
    // The model's own sink: other models keep theirs.
    if (!config.extractor.request_sink.empty()) featx::SetRequestSink(config.extractor.request_sink, std::move(sink));
    return absl::OkStatus();
  });
}

int featx_program_node_names(const char* path, const char* flags, char* names, size_t size, size_t* length, char* error,
                             size_t error_size) {
  return Guarded(error, error_size, [&]() -> absl::Status {
    if (path == nullptr) return absl::InvalidArgumentError("featx_program_node_names: path is NULL");
    FEATX_ASSIGN_OR_RETURN(const featx::Config config, featx::ConfigFromFlags(flags == nullptr ? "" : flags));
    FEATX_ASSIGN_OR_RETURN(const std::vector<std::string> found, featx::ProgramFileNodeNames(path, config.extractor));
    const size_t whole = CopyOut(absl::StrJoin(found, "\n"), names, size);
    if (length != nullptr) *length = whole;
    return absl::OkStatus();
  });
}

int featx_rewrite_program(const char* path, const char* output, const char* flags, char* error, size_t error_size) {
  return Guarded(error, error_size, [&]() -> absl::Status {
    if (path == nullptr || output == nullptr) {
      return absl::InvalidArgumentError("featx_rewrite_program: path or output is NULL");
    }
    FEATX_ASSIGN_OR_RETURN(const featx::Config config, featx::ConfigFromFlags(flags == nullptr ? "" : flags));
    return featx::RewriteProgramFile(path, output, config.extractor).status();
  });
}

int featx_capture_begin(char* error, size_t error_size) {
  return Guarded(error, error_size, []() -> absl::Status {
    FEATX_RETURN_IF_ERROR(ThisCopyServes());
    featx::BeginCapture();
    return absl::OkStatus();
  });
}

int featx_capture_end(void* activations, char* error, size_t error_size) {
  return Guarded(error, error_size, [&]() -> absl::Status {
    FEATX_RETURN_IF_ERROR(ThisCopyServes());
    FEATX_ASSIGN_OR_RETURN(featx::Activations taken, featx::EndCapture());
    if (activations != nullptr) *static_cast<featx::Activations*>(activations) = std::move(taken);
    return absl::OkStatus();
  });
}

size_t featx_list_passes(char* names, size_t size) {
  std::vector<std::string> all;
  for (const featx::PassInfo& pass : featx::ListPasses()) all.push_back(pass.name);
  return CopyOut(absl::StrJoin(all, ","), names, size);
}

size_t featx_flags_help(char* text, size_t size) { return CopyOut(featx::FlagsHelp(), text, size); }

void featx_set_log_callback(featx_log_callback callback, void* user_data) {
  featx::SetLogCallback(callback, user_data);
}

}  // extern "C"
