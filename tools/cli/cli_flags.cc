#include "tools/cli/cli_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, model, "", "TorchScript model file (torch.jit.save).");
ABSL_FLAG(std::string, input, "", "Input tensor file (Python's torch.save(tensor, path)).");
ABSL_FLAG(std::string, format, "text", "names: output format, one of text, json, dot.");
ABSL_FLAG(bool, shapes, false, "names: run the model once on --input and print each eval node's shape and dtype.");
