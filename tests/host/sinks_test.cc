// Request sinks as a server meets them: checked before anything changes, one
// per model, never failing or stalling a request, and a spool directory that
// stays bounded, private and whole whoever writes to it.
#include "plugin/host/sinks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "plugin/c_api.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat(name, "-", getpid());
  fs::remove_all(dir);
  return dir.string();
}

std::vector<std::string> SpoolFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "featx-") && absl::EndsWith(name, ".pt")) files.push_back(entry.path().string());
  }
  return files;
}

Activations OneActivation(float value) {
  Activations acts;
  acts.insert("layer1", torch::full({2, 3}, value));
  return acts;
}

// A tap-mode model, rewritten through the C entry point with `flags`.
torch::jit::Module Instrumented(const std::string& flags) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("train_eval_branch");
  char error[1024];
  EXPECT_EQ(featx_instrument(&ref.module, flags.c_str(), error, sizeof error), 0) << error;
  ref.module.eval();
  return ref.module;
}

void Serve(torch::jit::Module& model) {
  torch::NoGradGuard no_grad;
  model.forward({testing::MustLoadReferenceModel("train_eval_branch").input});
}

TEST(Sinks, ASpoolDirectoryThatTakesNoFileIsRefusedBeforeAnythingChanges) {
  const std::string file = TempDir("not-a-dir");
  std::ofstream(file) << "x";
  absl::StatusOr<RequestSink> sink = MakeSink({.spool_dir = file});
  EXPECT_THAT(std::string(sink.status().message()),
              HasSubstr(absl::StrCat("--featx_spool_dir=", file, ": not a directory")));
  sink = MakeSink({.spool_dir = "/proc/featx-spool/acts"});
  EXPECT_THAT(std::string(sink.status().message()), HasSubstr("cannot create the directory"));
}

// featx_instrument rewrote the model and then failed on the spool: the host
// was told "unchanged" about a model that had changed.
TEST(Sinks, InstrumentIsTransactionalAcrossTheSink) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("train_eval_branch");
  const std::string before = ref.module.get_method("forward").graph()->toString();
  char error[1024];
  EXPECT_EQ(featx_instrument(&ref.module,
                             "--featx_mode=tap --featx_return_nodes=conv --featx_spool_dir=/proc/featx-spool/acts",
                             error, sizeof error),
            5);  // NotFound (plugin/status.h: ErrnoStatus): /proc takes no new directory
  EXPECT_THAT(std::string(error), HasSubstr("--featx_spool_dir=/proc/featx-spool/acts: cannot create"));
  EXPECT_EQ(ref.module.get_method("forward").graph()->toString(), before);
}

// Loading a second model without sink flags turned the first model's spool off.
TEST(Sinks, EachModelKeepsItsOwnSink) {
  const std::string dir = TempDir("own-sink");
  torch::jit::Module first =
      Instrumented(absl::StrCat("--featx_mode=tap --featx_return_nodes=conv --featx_spool_dir=", dir));
  torch::jit::Module second = Instrumented("--featx_mode=tap --featx_return_nodes=head");
  Serve(first);
  Serve(second);  // no sink of its own, and no default sink in this process
  FlushSinks();
  const std::vector<std::string> files = SpoolFiles(dir);
  ASSERT_EQ(files.size(), 1u);
  const c10::IValue saved = torch::pickle_load([&] {
    std::ifstream in(files[0], std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }());
  EXPECT_TRUE(saved.toGenericDict().contains("conv"));
}

// Two spools on one directory stand for two processes, or a restart: names
// never collide, and the directory keeps its bound.
// After every file, not only at the end: the directory never holds more
// than the bound.
TEST(Sinks, TheBoundHoldsAfterEachFile) {
  const std::string dir = TempDir("each");
  absl::StatusOr<RequestSink> sink = MakeSink({.spool_dir = dir, .spool_max_files = 3});
  ASSERT_TRUE(sink.ok());
  for (int i = 1; i <= 6; ++i) {
    (*sink)(OneActivation(i));
    FlushSinks();
    EXPECT_EQ(SpoolFiles(dir).size(), static_cast<size_t>(std::min(i, 3))) << "after file " << i;
  }
}

TEST(Sinks, TheBoundHoldsForTheDirectoryWhoeverWrites) {
  const std::string dir = TempDir("bound");
  absl::StatusOr<RequestSink> one = MakeSink({.spool_dir = dir, .spool_max_files = 3});
  absl::StatusOr<RequestSink> two = MakeSink({.spool_dir = dir, .spool_max_files = 3});
  ASSERT_TRUE(one.ok() && two.ok());
  const uint64_t written = GetSinkCounters().written;
  for (int i = 0; i < 5; ++i) {
    (*one)(OneActivation(i));
    (*two)(OneActivation(10 + i));
    FlushSinks();
  }
  EXPECT_EQ(GetSinkCounters().written - written, 10u);
  EXPECT_EQ(SpoolFiles(dir).size(), 3u);
}

// The spool wrote through `.featx-<pid>-<n>.pt.partial`, so a link planted
// under that name overwrote a file outside the directory.
// Someone who can write the spool directory plants links, to a file of the
// server's, at the very names the next files will take (featx-<pid>-<nonce>-<n>.pt,
// learnt from the first file). Those requests are dropped and counted; the
// linked file is never written, and the links stay as they were.
TEST(Sinks, SpoolFilesArePrivateAndNeverWrittenThroughAPlantedLink) {
  const std::string dir = TempDir("planted");
  absl::StatusOr<RequestSink> sink = MakeSink({.spool_dir = dir});
  ASSERT_TRUE(sink.ok());
  (*sink)(OneActivation(0));
  FlushSinks();
  std::vector<std::string> files = SpoolFiles(dir);
  ASSERT_EQ(files.size(), 1u);
  const std::string first = fs::path(files[0]).filename().string();  // featx-<pid>-<nonce>-<n>.pt
  const size_t dash = first.rfind('-');
  int n = 0;
  ASSERT_TRUE(absl::SimpleAtoi(first.substr(dash + 1, first.size() - dash - 4), &n)) << first;
  const std::string victim = TempDir("victim");
  std::ofstream(victim) << "precious";
  std::vector<fs::path> planted;
  for (int k = 1; k <= 4; ++k) {
    planted.push_back(fs::path(dir) / absl::StrFormat("%s-%08d.pt", first.substr(0, dash), n + k));
    fs::create_symlink(victim, planted.back());
  }
  const SinkCounters before = GetSinkCounters();
  for (int i = 1; i <= 4; ++i) (*sink)(OneActivation(i));
  FlushSinks();
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), "precious");
  for (const fs::path& link : planted) {
    ASSERT_TRUE(fs::is_symlink(link)) << link << " was replaced";
    EXPECT_EQ(fs::read_symlink(link), victim) << link;
  }
  EXPECT_EQ(GetSinkCounters().dropped - before.dropped, 4u);
  files = SpoolFiles(dir);
  for (const std::string& file : files) {
    if (fs::is_symlink(file)) continue;
    struct stat st;
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600) << file;
  }
  // No temporary file is left behind either.
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_FALSE(absl::StartsWith(entry.path().filename().string(), ".")) << entry.path();
  }
}

TEST(Sinks, AThrowingSinkNeverFailsTheRequest) {
  torch::jit::Module model = Instrumented("--featx_mode=tap --featx_return_nodes=conv");
  SetRequestSink([](const Activations&) { throw std::runtime_error("disk on fire"); });
  const uint64_t failures = RequestSinkFailures();
  EXPECT_NO_THROW(Serve(model));
  SetRequestSink(nullptr);
  EXPECT_EQ(RequestSinkFailures(), failures + 1);
}

// DescribeActivations took min() of an empty tensor, which throws.
TEST(Sinks, DescribingEmptyAndQuantizedTensorsNeverThrows) {
  Activations acts;
  acts.insert("empty", torch::zeros({0, 4}));
  acts.insert("quantized", torch::quantize_per_tensor(torch::ones({2}), 0.5, 0, torch::kQUInt8));
  acts.insert("ints", torch::arange(4));
  std::string line;
  ASSERT_NO_THROW(line = DescribeActivations(acts));
  EXPECT_THAT(line, HasSubstr("empty [0, 4] empty"));
  EXPECT_THAT(line, HasSubstr("quantized [2] mean=1"));
  EXPECT_THAT(line, HasSubstr("ints [4] mean=1.5"));
}

}  // namespace
}  // namespace featx
