// featx's config flags as hosts give them: a flags string, FEATX_FLAGS, the
// process's own flags; errors name the flag and the closest ones.
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "plugin/host/flags.h"

namespace featx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(Flags, StringSetsEveryOption) {
  Config config;
  ASSERT_TRUE(ApplyFlags("--featx_return_nodes=layer1:f,fc --featx_mode=tuple --featx_leaf_modules=A,B "
                         "--featx_suppress_diff_warning --featx_spool_dir=/tmp/x --featx_spool_max_files=7 "
                         "featx_log_activations --featx_passes=featx.inline_non_leaf,featx.name_nodes "
                         "--featx_executor_hook",
                         &config)
                  .ok());
  EXPECT_THAT(config.extractor.return_nodes, ElementsAre("layer1:f", "fc"));
  EXPECT_EQ(config.extractor.mode, Mode::kTuple);
  EXPECT_THAT(config.extractor.leaf_modules, ElementsAre("A", "B"));
  EXPECT_TRUE(config.extractor.suppress_diff_warning);
  EXPECT_EQ(config.sinks.spool_dir, "/tmp/x");
  EXPECT_EQ(config.sinks.spool_max_files, 7);
  EXPECT_TRUE(config.sinks.log_activations);
  EXPECT_THAT(config.extractor.passes, ElementsAre("featx.inline_non_leaf", "featx.name_nodes"));
  EXPECT_TRUE(config.executor_hook);
  ASSERT_TRUE(ApplyFlags("--nofeatx_suppress_diff_warning --featx_log_activations=false", &config).ok());
  EXPECT_FALSE(config.extractor.suppress_diff_warning);
  EXPECT_FALSE(config.sinks.log_activations);
}

TEST(Flags, UnknownFlagSuggestsTheClosest) {
  Config config;
  absl::Status status = ApplyFlags("--featx_moed=tap", &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("unknown featx flag '--featx_moed'; did you mean '--featx_mode'"));
}

TEST(Flags, BadValuesAreErrors) {
  Config config;
  EXPECT_THAT(std::string(ApplyFlags("--featx_mode=tupel", &config).message()), HasSubstr("did you mean 'tuple'"));
  EXPECT_THAT(std::string(ApplyFlags("--featx_spool_max_files=many", &config).message()),
              HasSubstr("--featx_spool_max_files=many"));
  EXPECT_THAT(std::string(ApplyFlags("--featx_spool_max_files=0", &config).message()), HasSubstr("at least one"));
  EXPECT_THAT(std::string(ApplyFlags("--featx_return_nodes", &config).message()), HasSubstr("needs a value"));
}

TEST(Flags, TheStringOverridesFeatxFlagsWhichOverridesTheProcess) {
  ASSERT_EQ(setenv("FEATX_FLAGS", "--featx_mode=dict --featx_return_nodes=layer2", 1), 0);
  absl::StatusOr<Config> config = ConfigFromFlags("--featx_return_nodes=fc");
  unsetenv("FEATX_FLAGS");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->extractor.mode, Mode::kDict);                   // from FEATX_FLAGS
  EXPECT_THAT(config->extractor.return_nodes, ElementsAre("fc"));   // the string wins
  EXPECT_EQ(ConfigFromProcessFlags()->extractor.mode, Mode::kTap);  // the process default, untouched
}

TEST(Flags, ABadFeatxFlagsVariableIsNamedInTheError) {
  ASSERT_EQ(setenv("FEATX_FLAGS", "--featx_return_node=fc", 1), 0);
  absl::StatusOr<Config> config = ConfigFromFlags("");
  unsetenv("FEATX_FLAGS");
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("FEATX_FLAGS: unknown featx flag"));
}

// Each error names the flag as the user wrote it, and where it came from.
TEST(Flags, ErrorsNameTheFlagAsWrittenAndItsSource) {
  ASSERT_EQ(setenv("FEATX_FLAGS", "--featx_return_nodes=fc --featx_mode=bogus", 1), 0);
  absl::StatusOr<Config> config = ConfigFromFlags("");
  unsetenv("FEATX_FLAGS");
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("FEATX_FLAGS: --featx_mode=bogus: unknown mode 'bogus'"));
  Config direct;
  EXPECT_THAT(std::string(ApplyFlags("-featx_spool_max_files=-3", &direct).message()),
              StartsWith("-featx_spool_max_files=-3: keep at least one file"));
}

// --featx_spool_max_files=0 was refused in FEATX_FLAGS and taken from the
// command line; every source goes through the same rule now.
TEST(Flags, TheCommandLineFollowsTheSameRules) {
  absl::SetFlag(&FLAGS_featx_spool_max_files, 0);
  absl::StatusOr<Config> config = ConfigFromFlags("");
  absl::SetFlag(&FLAGS_featx_spool_max_files, 100);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("command line: --featx_spool_max_files=0: keep at least one file"));

  absl::SetFlag(&FLAGS_featx_mode, std::string("tupel"));
  config = ConfigFromFlags("");
  absl::SetFlag(&FLAGS_featx_mode, std::string("tap"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("command line: --featx_mode=tupel: unknown mode"));

  absl::SetFlag(&FLAGS_featx_return_nodes, std::vector<std::string>{"layer1", "fc"});
  config = ConfigFromFlags("");
  absl::SetFlag(&FLAGS_featx_return_nodes, std::vector<std::string>{});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->extractor.return_nodes, ElementsAre("layer1", "fc"));
}

TEST(Flags, LeafFunctionsAreAList) {
  Config config;
  ASSERT_TRUE(ApplyFlags("--featx_leaf_functions=timm.models.swin_transformer.window_reverse,scaled", &config).ok());
  EXPECT_THAT(config.extractor.leaf_functions, ElementsAre("timm.models.swin_transformer.window_reverse", "scaled"));
}

TEST(Flags, ConcreteArgsAreAList) {
  Config config;
  ASSERT_TRUE(ApplyFlags("--featx_concrete_args=attn_mask=None,is_causal=False", &config).ok());
  EXPECT_THAT(config.extractor.concrete_args, ElementsAre("attn_mask=None", "is_causal=False"));
}

// The flags read their defaults from Config: every featx flag's default,
// applied as a host would write it to a Config whose every field was changed,
// gives back a default Config (so each flag sets its field, and to its default).
TEST(Flags, EveryFlagsDefaultIsConfigsDefault) {
  const Config defaults;
  Config config;
  config.extractor.return_nodes = config.extractor.train_return_nodes = config.extractor.eval_return_nodes = {"x"};
  config.extractor.mode = Mode::kDict;
  config.extractor.leaf_modules = {"M"};
  config.extractor.leaf_functions = {"f"};
  config.extractor.concrete_args = {"a=None"};
  config.extractor.tracer = "timm";
  config.extractor.passes = {"featx.prune"};
  config.extractor.suppress_diff_warning = !defaults.extractor.suppress_diff_warning;
  config.executor_hook = !defaults.executor_hook;
  config.sinks.spool_dir = "/spool";
  config.sinks.spool_max_files = defaults.sinks.spool_max_files + 1;
  config.sinks.log_activations = !defaults.sinks.log_activations;
  int flags = 0;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StartsWith(name, "featx_")) continue;
    ++flags;
    ASSERT_TRUE(ApplyFlags(absl::StrCat("--", name, "=", flag->DefaultValue()), &config).ok()) << name;
  }
  EXPECT_EQ(flags, 14);
  EXPECT_EQ(config.extractor.mode, Mode::kTap);
  EXPECT_EQ(config.extractor.mode, defaults.extractor.mode);
  EXPECT_EQ(config.extractor.return_nodes, defaults.extractor.return_nodes);
  EXPECT_EQ(config.extractor.train_return_nodes, defaults.extractor.train_return_nodes);
  EXPECT_EQ(config.extractor.eval_return_nodes, defaults.extractor.eval_return_nodes);
  EXPECT_EQ(config.extractor.leaf_modules, defaults.extractor.leaf_modules);
  EXPECT_EQ(config.extractor.leaf_functions, defaults.extractor.leaf_functions);
  EXPECT_EQ(config.extractor.concrete_args, defaults.extractor.concrete_args);
  EXPECT_EQ(config.extractor.tracer, defaults.extractor.tracer);
  EXPECT_EQ(config.extractor.passes, defaults.extractor.passes);
  EXPECT_EQ(config.extractor.suppress_diff_warning, defaults.extractor.suppress_diff_warning);
  EXPECT_EQ(config.executor_hook, defaults.executor_hook);
  EXPECT_EQ(config.sinks.spool_dir, defaults.sinks.spool_dir);
  EXPECT_EQ(config.sinks.spool_max_files, defaults.sinks.spool_max_files);
  EXPECT_EQ(config.sinks.log_activations, defaults.sinks.log_activations);
}

}  // namespace
}  // namespace featx
