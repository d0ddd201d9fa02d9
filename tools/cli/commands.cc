#include "tools/cli/commands.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace featx::cli {
namespace {

std::vector<std::string> Concat(std::initializer_list<std::vector<std::string>> lists) {
  std::vector<std::string> all;
  for (const std::vector<std::string>& list : lists) all.insert(all.end(), list.begin(), list.end());
  return all;
}

}  // namespace

const std::vector<Command>& Commands() {
  // The tracer's options, and what to emit and how.
  static const std::vector<std::string> tracer = {"featx_leaf_modules", "featx_leaf_functions", "featx_tracer",
                                                  "featx_concrete_args", "featx_suppress_diff_warning"};
  static const std::vector<std::string> choice = {"featx_return_nodes", "featx_train_return_nodes",
                                                  "featx_eval_return_nodes", "featx_mode", "featx_passes"};
  static const auto* commands = new std::vector<Command>{
      {"names",
       "node names of a model, as torchvision's get_graph_node_names\n"
       "--model=M.pt [--format=text|json|dot] [--featx_leaf_modules=A,B]\n"
       "[--featx_leaf_functions=f,g] [--featx_tracer=timm]\n"
       "[--featx_concrete_args=mask=None,flag=False]\n"
       "[--input=X.pt --shapes]   (each eval node's shape and dtype)\n"
       "--model=M.pt2   (an exported program: torch.export.save)",
       &NamesCommand, Concat({tracer, {"model", "format", "input", "shapes"}})},
      {"extract",
       "run a model once and save chosen activations as {name: Tensor}\n"
       "--model=M.pt --input=X.pt --return_nodes=a,b:out_b --output=F.pt\n"
       "[--mode=dict|tuple|tap] [--train_return_nodes=.. --eval_return_nodes=..]",
       &ExtractCommand, Concat({tracer, choice, {"model", "input", "output"}})},
      {"rewrite",
       "rewrite a model to emit chosen activations, and save it\n"
       "--model=M.pt --return_nodes=... --mode=dict|tuple|tap --output=R.pt\n"
       "[--manifest=R.json] [--featx_passes=p1,p2,...]\n"
       "[--triton_config=config.pbtxt --input=X.pt]   (tuple mode)\n"
       "dict: forward returns {name: Tensor}; tuple: the model's outputs,\n"
       "then the chosen nodes (Triton); tap: output unchanged, featx::tap\n"
       "records the nodes (needs libfeatx.so at run time)\n"
       "--model=M.pt2 --return_nodes=... --mode=dict|tuple --output=R.pt2\n"
       "   (an exported program: loads in torch.export.load, compiles\n"
       "   with AOTInductor; docs/export.md)",
       &RewriteCommand, Concat({tracer, choice, {"model", "output", "manifest", "triton_config", "input"}})},
      {"demo", "run the main job on the embedded default model", &DemoCommand, {}},
      {"passes",
       "the registered featx passes, and the load-time pipeline of\n"
       "each mode (for --featx_passes and hosts' own pipelines)",
       &PassesCommand,
       {}},
  };
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Usage() {
  std::string text =
      "featx: tagged intermediate activations from TorchScript models.\n\n"
      "usage: featx <command> [flags]\n\n"
      "commands:\n";
  constexpr int kColumn = 10;
  for (const Command& c : Commands()) {
    absl::StrAppend(&text, "  ", c.name, std::string(kColumn - c.name.size(), ' '),
                    absl::StrReplaceAll(c.usage, {{"\n", "\n" + std::string(kColumn + 2, ' ')}}), "\n");
  }
  absl::StrAppend(&text, "  help      show this text\n\n",
                  "--mode, --return_nodes, --train_return_nodes and --eval_return_nodes are\n"
                  "short for featx's --featx_mode, --featx_return_nodes, ... (the same flags).\n"
                  "The mode defaults to dict here, as torchvision's; to tap in a host.\n"
                  "Run `featx --helpfull` for every flag.");
  return text;
}

}  // namespace featx::cli
