// The subcommands of `featx` (docs/design.md, "Command line"). Each reads its flags,
// prints its result to stdout and returns a Status; main prints errors.
// tools/featx_main.cc's Commands() lists each with the flags it reads (a flag
// a command does not read is an error): a new command goes there too.
#pragma once

#include "absl/status/status.h"

namespace featx::cli {

// featx names --model=M.pt [--format=text|json|dot] [--featx_leaf_modules=...] [--featx_leaf_functions=...]
//   [--featx_tracer=timm] [--featx_concrete_args=mask=None] [--input=X.pt --shapes]
[[nodiscard]] absl::Status NamesCommand();

// featx extract --model=M.pt --input=X.pt --return_nodes=a,b:out_b --output=F.pt [--mode=dict|tuple|tap]
[[nodiscard]] absl::Status ExtractCommand();

// featx rewrite --model=M.pt --return_nodes=... --mode=dict|tuple|tap --output=R.pt [--manifest=R.json]
[[nodiscard]] absl::Status RewriteCommand();

// featx passes: the registered passes and the load-time pipeline of each mode.
[[nodiscard]] absl::Status PassesCommand();

// featx demo: the main job on the embedded default model.
[[nodiscard]] absl::Status DemoCommand();

}  // namespace featx::cli
