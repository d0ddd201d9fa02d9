#include "tools/cli/cli_flags.h"

#include <vector>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, model, "", "TorchScript model file (torch.jit.save).");
ABSL_FLAG(std::string, input, "",
          "Input tensor file (Python's torch.save(tensor, path)): for extract, names --shapes, rewrite "
          "--triton_config.");
ABSL_FLAG(std::string, format, "text", "names: output format, one of text, json, dot.");
ABSL_FLAG(bool, shapes, false, "names: run the model once on --input and print each eval node's shape and dtype.");
ABSL_FLAG(std::vector<std::string>, return_nodes, {},
          "extract, rewrite: comma-separated nodes to emit, each a node name or a prefix (`layer1` is the last node "
          "under layer1), optionally with an output name: `layer1:feat1,fc`.");
ABSL_FLAG(std::vector<std::string>, train_return_nodes, {},
          "extract, rewrite: instead of --return_nodes, the nodes for train mode (with --eval_return_nodes).");
ABSL_FLAG(std::vector<std::string>, eval_return_nodes, {},
          "extract, rewrite: instead of --return_nodes, the nodes for eval mode (with --train_return_nodes).");
ABSL_FLAG(std::string, mode, "dict",
          "extract, rewrite: what the rewritten forward returns: dict (the chosen nodes), tuple (the model's "
          "outputs, then the chosen nodes), tap (the model's output; featx::tap records the chosen nodes).");
ABSL_FLAG(std::string, output, "",
          "extract: where to write {name: Tensor} (torch.load-able); rewrite: where to save the rewritten model.");
ABSL_FLAG(std::string, manifest, "", "rewrite: where to write the JSON manifest of what the model emits.");
ABSL_FLAG(std::string, triton_config, "",
          "rewrite --mode=tuple --input=X.pt: where to write a Triton config.pbtxt (platform pytorch_libtorch) with "
          "the model's input and output sections (OUTPUT__i, data type, dims; -1 where a batch-2 run differs).");
