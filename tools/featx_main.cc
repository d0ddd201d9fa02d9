// `featx`: the command line (docs/design.md, "Command line").
//
//   featx <command> [flags]     (the commands: tools/cli/commands.h)
//
// It spells out short flag names, refuses unknown flags and flags the command
// does not read (exit 2, with the closest names), and runs the command on a
// large stack under its own warning handler.
// Errors go to stderr with a non-zero exit; torch's exceptions never escape.
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/did_you_mean.h"
#include "plugin/status.h"
#include "plugin/torch_compat.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/commands.h"
#include "tools/large_stack.h"

namespace {

using featx::cli::Command;
using featx::cli::Commands;
using featx::cli::FindCommand;
using featx::cli::Usage;

// The command line is a host like any other: torch's warnings (featx's
// train/eval difference among them) go through its own handler.
class StderrWarningHandler : public featx::compat::WarningHandler {
 public:
  void Handle(const std::string& message) override { std::fprintf(stderr, "featx: warning: %s\n", message.c_str()); }
};

// The names of the flags given on the command line (`--name[=value]`,
// `--noname` as `name` when `name` is a boolean flag).
std::vector<std::string> GivenFlagNames(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    std::string name(arg.substr(0, arg.find('=')));
    if (absl::FindCommandLineFlag(name) == nullptr && absl::StartsWith(name, "no") &&
        arg.find('=') == absl::string_view::npos && absl::FindCommandLineFlag(name.substr(2)) != nullptr) {
      name = name.substr(2);
    }
    names.push_back(name);
  }
  return names;
}

// An unknown flag is a usage error (exit 2) with the closest names, found
// before abseil's parser, which would end the process with 1 and no
// suggestion; so is a flag of featx's the command does not read.
absl::Status CheckFlags(const std::string& command, const std::vector<std::string>& args) {
  std::vector<std::string> known;
  std::set<std::string> ours;  // featx's flags and those some command reads; abseil's are not
  for (const Command& c : Commands()) ours.insert(c.flags.begin(), c.flags.end());
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    known.push_back(absl::StrCat("--", name));
    if (absl::StartsWith(name, "featx_")) ours.insert(std::string(name));
  }
  const Command* it = FindCommand(command);
  for (const std::string& name : GivenFlagNames(args)) {
    if (absl::FindCommandLineFlag(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '--", name, "'", featx::DidYouMean(absl::StrCat("--", name), known, 1)));
    }
    if (it == nullptr || ours.count(name) == 0) continue;
    if (std::find(it->flags.begin(), it->flags.end(), name) == it->flags.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("featx ", command, " does not read --", name,
                       it->flags.empty() ? " (it reads no flags)"
                                         : absl::StrCat(" (it reads --", absl::StrJoin(it->flags, ", --"), ")")));
    }
  }
  return absl::OkStatus();
}

// The first argument that is not a flag: the command.
std::string CommandOf(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (!absl::StartsWith(args[i], "-")) return args[i];
  }
  return "help";
}

absl::Status Run(const std::string& command) {
  if (const Command* c = FindCommand(command)) return c->run();
  std::vector<std::string> names = {"help"};
  for (const Command& c : Commands()) names.push_back(c.name);
  return absl::InvalidArgumentError("unknown command '" + command + "'" + featx::DidYouMean(command, names) + "\n\n" +
                                    Usage());
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(featx::cli::Usage());
  absl::StatusOr<std::vector<std::string>> spelled =
      featx::cli::SpellOutShortNames(std::vector<std::string>(argv, argv + argc));
  if (!spelled.ok()) {
    std::fprintf(stderr, "featx: %s\n", std::string(spelled.status().message()).c_str());
    return 2;
  }
  std::vector<char*> argv_spelled;
  for (std::string& arg : *spelled) argv_spelled.push_back(arg.data());
  if (absl::Status flags = CheckFlags(CommandOf(*spelled), *spelled); !flags.ok()) {
    std::fprintf(stderr, "featx: %s\n", std::string(flags.message()).c_str());
    return featx::ExitCode(flags);
  }
  featx::cli::UseLibraryDefaults();
  std::vector<char*> args = absl::ParseCommandLine(static_cast<int>(argv_spelled.size()), argv_spelled.data());
  const std::string command = args.size() > 1 ? args[1] : "help";
  if (command == "help") {
    std::printf("%s\n", featx::cli::Usage().c_str());
    return 0;
  }
  if (args.size() > 2) {
    std::fprintf(stderr, "featx: unexpected argument '%s'; flags are written --name=value\n", args[2]);
    return 2;
  }
  // Deep models recurse deep in torch::jit::load (tools/large_stack.h).
  return featx::RunWithLargeStack([&] {
    StderrWarningHandler warnings;
    featx::compat::WarningHandlerGuard guard(&warnings);
    absl::Status status = featx::TorchCall([&] { return Run(command); });
    if (!status.ok()) {
      std::fprintf(stderr, "featx %s: %s\n", command.c_str(), std::string(status.message()).c_str());
    }
    return featx::ExitCode(status);
  });
}
