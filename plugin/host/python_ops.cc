// Ops for Python hosts and featx's Python package (python/featx):
//
//   torch.ops.load_library("libfeatx.so")            # `import featx` does this
//   train, eval, warnings = torch.ops.featx.graph_node_names(module, "--featx_leaf_modules=MyBlock")
//   extractor, manifest, warnings = torch.ops.featx.create_feature_extractor(module, "--featx_return_nodes=layer1")
//   served, manifest, warnings = torch.ops.featx.instrument(module, "--featx_mode=tap --featx_return_nodes=layer1")
//   served, manifest, warnings = torch.ops.featx.load("m.pt", "--featx_return_nodes=layer1", None)
//   manifest = torch.ops.featx.rewrite_file("m.pt", "m_tap.pt", "--featx_mode=tap --featx_return_nodes=layer1")
//   names = torch.ops.featx.program_node_names("m.pt2", "--featx_leaf_modules=BasicBlock")
//   manifest = torch.ops.featx.rewrite_program("m.pt2", "r.pt2", "--featx_mode=dict --featx_return_nodes=layer1")
//   torch.ops.featx.list_passes()   # ['featx.inline_non_leaf', ...], for --featx_passes
//   classes, functions = torch.ops.featx.tracer_names(module)  # what leaves could name
//
// A module goes in and comes back in memory: torch 2.x hands an op a
// ScriptModule as its object. torch 1.13 cannot convert one, so the package
// sends the module's bytes (torch.jit.save) as a uint8 tensor, and the op
// answers in kind. Errors are RuntimeErrors in Python, but those of the
// torchvision-style ops from what the caller gave, which are ValueErrors as
// torchvision's are. These return featx's warnings of the call (the
// train/eval difference) for the package to raise with Python's `warnings`:
// torch 2.x passes a TORCH_WARN from an op on to Python, 1.13 prints it.
#include <cstring>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/library.h>

#include "absl/strings/str_cat.h"

#include "ops/register_once.h"
#include "plugin/export/rewrite_program.h"
#include "plugin/featx.h"
#include "plugin/host/flags.h"
#include "plugin/host/pending_file.h"
#include "plugin/host/sinks.h"
#include "plugin/naming/leaf_functions.h"
#include "plugin/naming/leaf_modules.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/status.h"
#include "plugin/torch_compat.h"

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
  FEATX_RETURN_IF_ERROR(TorchCall([&] { module.save(output.path()); }, absl::StatusCode::kUnavailable));
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

// Raises `status` in Python: ValueError for what the caller gave, as
// torchvision's feature extraction does; RuntimeError otherwise.
void ThrowIfError(const absl::Status& status, const char* op) {
  if (status.ok()) return;
  TORCH_CHECK_VALUE(status.code() != absl::StatusCode::kInvalidArgument, op, ": ", status.message());
  TORCH_CHECK(false, op, ": ", status.message());
}

// The module a Python caller handed over: its object (torch 2.x), or its
// bytes as a uint8 tensor (torch 1.13).
absl::StatusOr<torch::jit::Module> ModuleFrom(const c10::IValue& value) {
  if (value.isObject() && value.toObjectRef().type()->is_module()) return torch::jit::Module(value.toObject());
  if (value.isTensor() && value.toTensor().scalar_type() == at::kByte && value.toTensor().dim() == 1) {
    const at::Tensor bytes = value.toTensor().contiguous();
    std::istringstream in(std::string(static_cast<const char*>(bytes.data_ptr()), bytes.numel()));
    return TorchCall([&] { return torch::jit::load(in); });
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected a ScriptModule (torch.jit.script or torch.jit.load), got a ", value.tagKind()));
}

// `module` back in the form `like` came in.
absl::StatusOr<c10::IValue> ModuleLike(const torch::jit::Module& module, const c10::IValue& like) {
  if (like.isObject()) return c10::IValue(module._ivalue());
  return TorchCall([&] {
    std::ostringstream out;
    module.save(out);
    const std::string bytes = out.str();
    at::Tensor tensor = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
    std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());
    return c10::IValue(tensor);
  });
}

// The TORCH_WARNs of one call, in order; installed for the calling thread
// with compat::WarningHandlerGuard.
class CollectedWarnings : public compat::WarningHandler {
 public:
  void Handle(const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

// torchvision-style calls take their options only from `flags`: the
// environment's FEATX_FLAGS is for hosts (instrument, rewrite_file).
absl::StatusOr<Config> ConfigFromCall(c10::string_view flags) {
  Config config;
  FEATX_RETURN_IF_ERROR(ApplyFlags(std::string(flags.data(), flags.size()), &config));
  return config;
}

using Strings = std::vector<std::string>;

std::tuple<Strings, Strings, Strings> GraphNodeNamesOp(const c10::IValue& module, c10::string_view flags) {
  CollectedWarnings warnings;
  absl::StatusOr<NodeNames> names = [&]() -> absl::StatusOr<NodeNames> {
    compat::WarningHandlerGuard guard(&warnings);
    FEATX_ASSIGN_OR_RETURN(const torch::jit::Module model, ModuleFrom(module));
    FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromCall(flags));
    return GetGraphNodeNames(model, config.extractor);
  }();
  ThrowIfError(names.status(), "featx::graph_node_names");
  return {names->train, names->eval, std::move(warnings.messages)};
}

std::tuple<c10::IValue, std::string, Strings> CreateFeatureExtractorOp(const c10::IValue& module,
                                                                       c10::string_view flags) {
  CollectedWarnings warnings;
  absl::StatusOr<std::tuple<c10::IValue, std::string>> made =
      [&]() -> absl::StatusOr<std::tuple<c10::IValue, std::string>> {
    compat::WarningHandlerGuard guard(&warnings);
    FEATX_ASSIGN_OR_RETURN(const torch::jit::Module model, ModuleFrom(module));
    FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromCall(flags));
    OutputManifest manifest;
    FEATX_ASSIGN_OR_RETURN(const torch::jit::Module extractor,
                           CreateFeatureExtractor(model, config.extractor, &manifest));
    FEATX_ASSIGN_OR_RETURN(c10::IValue out, ModuleLike(extractor, module));
    FEATX_ASSIGN_OR_RETURN(std::string json, TorchCall([&] { return ManifestJson(manifest); }));
    return std::make_tuple(std::move(out), std::move(json));
  }();
  ThrowIfError(made.status(), "featx::create_feature_extractor");
  auto& [extractor, manifest] = *made;
  return {std::move(extractor), std::move(manifest), std::move(warnings.messages)};
}

// As featx_instrument (plugin/c_api.h): FEATX_FLAGS, then `flags`, and the
// sinks they name. Returns `model`'s manifest as JSON; on an error `model`
// and the sinks are as they were.
absl::StatusOr<std::string> InstrumentWithFlags(torch::jit::Module& model, c10::string_view flags) {
  FEATX_ASSIGN_OR_RETURN(Config config, ConfigFromFlags(std::string(flags.data(), flags.size())));
  FEATX_ASSIGN_OR_RETURN(RequestSink sink, MakeSink(config.sinks));
  if (sink && config.extractor.mode == Mode::kTap) config.extractor.request_sink = NewSinkKey();
  OutputManifest manifest;
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(model, config.extractor, &manifest));
  FEATX_ASSIGN_OR_RETURN(std::string json, TorchCall([&] { return ManifestJson(manifest); }));
  if (!config.extractor.request_sink.empty()) SetRequestSink(config.extractor.request_sink, std::move(sink));
  return json;
}

// The caller points its module at what comes back.
std::tuple<c10::IValue, std::string, Strings> InstrumentOp(const c10::IValue& module, c10::string_view flags) {
  CollectedWarnings warnings;
  absl::StatusOr<std::tuple<c10::IValue, std::string>> made =
      [&]() -> absl::StatusOr<std::tuple<c10::IValue, std::string>> {
    compat::WarningHandlerGuard guard(&warnings);
    FEATX_ASSIGN_OR_RETURN(torch::jit::Module model, ModuleFrom(module));
    FEATX_ASSIGN_OR_RETURN(std::string json, InstrumentWithFlags(model, flags));
    FEATX_ASSIGN_OR_RETURN(c10::IValue out, ModuleLike(model, module));
    return std::make_tuple(std::move(out), std::move(json));
  }();
  ThrowIfError(made.status(), "featx::instrument");
  auto& [served, manifest] = *made;
  return {std::move(served), std::move(manifest), std::move(warnings.messages)};
}

// torch.jit.load and instrument in one call: Python wraps the module once
// (torch.jit.load wraps it too, and re-wrapping a rewritten one costs as much
// again), so a server's start-up costs what the plain load does.
std::tuple<c10::IValue, std::string, Strings> LoadOp(c10::string_view path, c10::string_view flags,
                                                     c10::optional<c10::Device> device) {
  CollectedWarnings warnings;
  absl::StatusOr<std::tuple<c10::IValue, std::string>> made =
      [&]() -> absl::StatusOr<std::tuple<c10::IValue, std::string>> {
    compat::WarningHandlerGuard guard(&warnings);
    FEATX_ASSIGN_OR_RETURN(torch::jit::Module model,
                           TorchCall([&] { return torch::jit::load(std::string(path.data(), path.size()), device); }));
    FEATX_ASSIGN_OR_RETURN(std::string json, InstrumentWithFlags(model, flags));
    return std::make_tuple(c10::IValue(model._ivalue()), std::move(json));
  }();
  ThrowIfError(made.status(), "featx::load");
  auto& [served, manifest] = *made;
  return {std::move(served), std::move(manifest), std::move(warnings.messages)};
}

// The module classes of `module` and the functions its code calls, as the
// leaf flags take them: for the package to pass on only those of a library's
// registry (tracer_kwargs) the model has, as torchvision ignores the others.
std::tuple<Strings, Strings> TracerNamesOp(const c10::IValue& module) {
  absl::StatusOr<std::tuple<Strings, Strings>> names = [&]() -> absl::StatusOr<std::tuple<Strings, Strings>> {
    FEATX_ASSIGN_OR_RETURN(const torch::jit::Module model, ModuleFrom(module));
    return TorchCall([&]() -> absl::StatusOr<std::tuple<Strings, Strings>> {
      Strings classes;
      for (const torch::jit::Module& m : model.modules()) classes.push_back(PythonClassName(*m.type()));
      return std::make_tuple(std::move(classes), LeafFunctions::CalledBy(model));
    });
  }();
  ThrowIfError(names.status(), "featx::tracer_names");
  return *std::move(names);
}

// Exported programs (.pt2, docs/export.md): read and written by path; the
// package saves an ExportedProgram to a temporary archive first.
std::vector<std::string> ProgramNodeNamesOp(c10::string_view path, c10::string_view flags) {
  absl::StatusOr<std::vector<std::string>> names = [&]() -> absl::StatusOr<std::vector<std::string>> {
    FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromCall(flags));
    return ProgramFileNodeNames(std::string(path.data(), path.size()), config.extractor);
  }();
  ThrowIfError(names.status(), "featx::program_node_names");
  return *std::move(names);
}

std::string RewriteProgramOp(c10::string_view path, c10::string_view output, c10::string_view flags) {
  absl::StatusOr<std::string> manifest = [&]() -> absl::StatusOr<std::string> {
    FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromCall(flags));
    FEATX_ASSIGN_OR_RETURN(const OutputManifest made,
                           RewriteProgramFile(std::string(path.data(), path.size()),
                                              std::string(output.data(), output.size()), config.extractor));
    return ManifestJson(made);
  }();
  ThrowIfError(manifest.status(), "featx::rewrite_program");
  return *std::move(manifest);
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
      m.def(torch::schema("tracer_names(Any module) -> (str[], str[])", c10::AliasAnalysisKind::CONSERVATIVE),
            TORCH_FN(TracerNamesOp));
      m.def(
          torch::schema("rewrite_file(str model, str output, str flags) -> str", c10::AliasAnalysisKind::CONSERVATIVE),
          TORCH_FN(RewriteFileOp));
      m.def(torch::schema("program_node_names(str path, str flags) -> str[]", c10::AliasAnalysisKind::CONSERVATIVE),
            TORCH_FN(ProgramNodeNamesOp));
      m.def(torch::schema("rewrite_program(str path, str output, str flags) -> str",
                          c10::AliasAnalysisKind::CONSERVATIVE),
            TORCH_FN(RewriteProgramOp));
      m.def(torch::schema("graph_node_names(Any module, str flags) -> (str[], str[], str[])",
                          c10::AliasAnalysisKind::CONSERVATIVE),
            TORCH_FN(GraphNodeNamesOp));
      m.def(torch::schema("create_feature_extractor(Any module, str flags) -> (Any, str, str[])",
                          c10::AliasAnalysisKind::CONSERVATIVE),
            TORCH_FN(CreateFeatureExtractorOp));
      m.def(
          torch::schema("instrument(Any module, str flags) -> (Any, str, str[])", c10::AliasAnalysisKind::CONSERVATIVE),
          TORCH_FN(InstrumentOp));
      m.def(torch::schema("load(str path, str flags, Device? map_location=None) -> (Any, str, str[])",
                          c10::AliasAnalysisKind::CONSERVATIVE),
            TORCH_FN(LoadOp));
    },
    __FILE__, __LINE__);

}  // namespace featx
