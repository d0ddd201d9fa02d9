// Ops for Python hosts, which cannot hand a ScriptModule to an op: rewrite a
// saved model file into a new one, then torch.jit.load it.
//
//   torch.ops.load_library("libfeatx.so")
//   manifest = torch.ops.featx.rewrite_file("m.pt", "m_tap.pt", "--featx_mode=tap --featx_return_nodes=layer1")
//   model = torch.jit.load("m_tap.pt")
//   torch.ops.featx.list_passes()   # ['featx.inline_non_leaf', ...], for --featx_passes
#include <string>

#include <c10/util/Exception.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/library.h>

#include "ops/register_once.h"
#include "plugin/featx.h"
#include "plugin/host/flags.h"
#include "plugin/host/pending_file.h"
#include "plugin/host/sinks.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/status.h"

namespace featx {
namespace {

absl::StatusOr<std::string> RewriteFile(const std::string& model_path, const std::string& output_path,
                                        const std::string& flags) {
  // Check everything first, commit last: on any error no file is written
  // and no sink changed.
  FEATX_ASSIGN_OR_RETURN(Config config, ConfigFromFlags(flags));
  FEATX_ASSIGN_OR_RETURN(RequestSink sink, MakeSink(config.sinks));
  if (sink && config.extractor.mode == Mode::kTap) config.extractor.request_sink = NewSinkKey();
  FEATX_ASSIGN_OR_RETURN(torch::jit::Module module, TorchCall([&] { return torch::jit::load(model_path); }));
  OutputManifest manifest;
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(module, config.extractor, &manifest));
  FEATX_ASSIGN_OR_RETURN(std::string json, TorchCall([&] { return ManifestJson(manifest); }));
  FEATX_ASSIGN_OR_RETURN(PendingFile output, PendingFile::Create(output_path));
  FEATX_RETURN_IF_ERROR(TorchCall([&] { module.save(output.path()); }));
  FEATX_RETURN_IF_ERROR(output.Commit());
  // The rewritten file's own sink, for when this process loads it.
  if (!config.extractor.request_sink.empty()) SetRequestSink(config.extractor.request_sink, std::move(sink));
  return json;
}

std::string RewriteFileOp(c10::string_view model, c10::string_view output, c10::string_view flags) {
  absl::StatusOr<std::string> manifest =
      RewriteFile(std::string(model), std::string(output), std::string(flags.data(), flags.size()));
  TORCH_CHECK(manifest.ok(), "featx::rewrite_file: ", manifest.status().message());
  return *manifest;
}

std::vector<std::string> ListPassesOp() {
  std::vector<std::string> names;
  for (const PassInfo& pass : ListPasses()) names.push_back(pass.name);
  return names;
}

}  // namespace

// TORCH_LIBRARY_FRAGMENT(featx, m), but not again from a second copy of
// featx (ops/register_once.h).
[[maybe_unused]] const bool registered_python_ops = RegisterOnce(
    "featx::list_passes", torch::Library::FRAGMENT,
    [](torch::Library& m) {
      m.def("list_passes() -> str[]", TORCH_FN(ListPassesOp));
      m.def(
          torch::schema("rewrite_file(str model, str output, str flags) -> str", c10::AliasAnalysisKind::CONSERVATIVE),
          TORCH_FN(RewriteFileOp));
    },
    __FILE__, __LINE__);

}  // namespace featx
