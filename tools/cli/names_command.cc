// featx names: torchvision's get_graph_node_names for a TorchScript model or
// an exported program (.pt2).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/export/pt2_archive.h"
#include "plugin/export/rewrite_program.h"
#include "plugin/featx.h"
#include "plugin/host/flags.h"
#include "plugin/pipeline/trace.h"
#include "plugin/status.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/names_format.h"
#include "tools/cli/node_shapes.h"
#include "tools/model_files.h"

namespace featx::cli {
namespace {

// An exported program has one graph: its names are both lists'.
absl::Status ProgramNames(const std::string& path, const std::string& format) {
  if (format == "dot" || absl::GetFlag(FLAGS_shapes)) {
    return absl::InvalidArgumentError("an exported program's names print as text or json");
  }
  FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromProcessFlags());
  FEATX_ASSIGN_OR_RETURN(std::vector<std::string> names, ProgramFileNodeNames(path, config.extractor));
  const NodeNames both{names, names};
  std::fputs(format == "json" ? NamesAsJson(both).c_str() : NamesAsText(both).c_str(), stdout);
  return absl::OkStatus();
}

}  // namespace

absl::Status NamesCommand() {
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "text" && format != "json" && format != "dot") {
    return absl::InvalidArgumentError(absl::StrCat("--format=", format, " is not one of text, json, dot"));
  }
  const bool shapes = absl::GetFlag(FLAGS_shapes);
  if (shapes && absl::GetFlag(FLAGS_input).empty()) {
    return absl::InvalidArgumentError("--shapes runs the model: give it an input with --input=X.pt");
  }
  if (shapes && format != "text") return absl::InvalidArgumentError("--shapes prints text; drop --format");

  const std::string path = absl::GetFlag(FLAGS_model);
  if (Pt2Archive::IsPt2(path)) return ProgramNames(path, format);
  FEATX_ASSIGN_OR_RETURN(torch::jit::Module module, LoadModel(path));
  // What GetGraphNodeNames does, keeping the eval graph for dot and shapes.
  FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromProcessFlags());
  FEATX_ASSIGN_OR_RETURN(TrainAndEval graphs, TraceTrainAndEval(module, config.extractor));
  const NodeNames names{graphs.train.Names(), graphs.eval.Names()};

  if (format == "json") {
    std::fputs(NamesAsJson(names).c_str(), stdout);
  } else if (format == "dot") {
    std::fputs(NamedGraphAsDot(graphs.eval).c_str(), stdout);
  } else if (!shapes) {
    std::fputs(NamesAsText(names).c_str(), stdout);
  } else {
    FEATX_ASSIGN_OR_RETURN(at::Tensor input, LoadTensor(absl::GetFlag(FLAGS_input)));
    FEATX_ASSIGN_OR_RETURN(std::vector<std::string> details, EvalNodeShapes(module, graphs.eval, input));
    std::fputs(NamesWithDetails(names.eval, details).c_str(), stdout);
  }
  return absl::OkStatus();
}

}  // namespace featx::cli
