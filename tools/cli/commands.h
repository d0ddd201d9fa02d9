// The subcommands of `featx` (docs/design.md, "Command line"): one table
// holds each command's name, its usage, the flags it reads and the function
// that runs it. `featx help` and the check that refuses a flag a command does
// not read are made from it. Each function reads its flags, prints its result
// to stdout and returns a Status; main prints errors.
//
// Adding a command: write `absl::Status MyCommand()` in tools/cli/my_command.cc,
// declare it below, and add its row to Commands() in tools/cli/commands.cc.
//
//   for (const Command& c : Commands()) std::printf("%s\n", c.name.c_str());
//   absl::Status status = FindCommand("names")->run();
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace featx::cli {

struct Command {
  std::string name;
  // What `featx help` shows under the name: the first line says what the
  // command does, the next how it is called.
  std::string usage;
  absl::Status (*run)();
  // Each flag's full name (--mode is featx_mode); a flag of featx's given to
  // a command that does not read it is an error, never silently ignored.
  std::vector<std::string> flags;
};

// Every command, in the order `featx help` lists them.
const std::vector<Command>& Commands();

// The command named `name`; nullptr when there is none.
const Command* FindCommand(absl::string_view name);

// The text of `featx help`.
std::string Usage();

[[nodiscard]] absl::Status NamesCommand();
[[nodiscard]] absl::Status ExtractCommand();
[[nodiscard]] absl::Status RewriteCommand();
[[nodiscard]] absl::Status PassesCommand();
[[nodiscard]] absl::Status DemoCommand();

}  // namespace featx::cli
