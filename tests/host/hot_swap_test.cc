// A server that rewrites a model while it serves it: the rewrite makes a new
// module and leaves the one in flight alone, so requests already running,
// Methods taken earlier and copies sharing the model's class keep the old
// forward; and rewriting many times keeps memory flat.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>

#include "absl/base/config.h"
#include "ops/capture.h"
#include "plugin/featx.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

const std::vector<std::string> kNodes = {"x", "bn", "add_", "mul_"};

size_t CompilationUnitFunctions(const torch::jit::Module& module) {
  return module._ivalue()->compilation_unit()->get_functions().size();
}

// Resident set size in bytes, from /proc/self/statm.
size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(HotSwap, InstrumentingACopyLeavesTheOriginalAsItWas) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  torch::NoGradGuard no_grad;
  const at::Tensor plain = ref.module.forward({ref.input}).toTensor();
  // copy() shares the class (and so its methods) with the original.
  torch::jit::Module copy = ref.module.copy();
  ASSERT_TRUE(InstrumentInPlace(copy, {.return_nodes = kNodes, .mode = Mode::kDict}).ok());
  EXPECT_TRUE(copy.forward({ref.input}).isGenericDict());
  const c10::IValue original = ref.module.forward({ref.input});
  ASSERT_TRUE(original.isTensor()) << "the original's forward changed with its copy's: " << original.tagKind();
  EXPECT_TRUE(torch::equal(original.toTensor(), plain));
}

TEST(HotSwap, AHandleTakenBeforeInstrumentingKeepsTheOldForward) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  torch::NoGradGuard no_grad;
  torch::jit::Module before = ref.module;  // another handle on the same object
  torch::jit::Method method = ref.module.get_method("forward");
  ASSERT_TRUE(InstrumentInPlace(ref.module, {.return_nodes = kNodes, .mode = Mode::kDict}).ok());
  EXPECT_TRUE(ref.module.forward({ref.input}).isGenericDict());
  EXPECT_TRUE(before.forward({ref.input}).isTensor());
  EXPECT_TRUE(method({ref.input}).isTensor());
}

// The pattern featx.h documents: serving threads take the current model
// under a lock and run it outside; a rewrite makes the new model off to the
// side and publishes it. Requests in flight finish on the model they began
// with, and every answer is the plain model's (tap mode changes no output).
TEST(HotSwap, ServingThreadsKeepServingWhileAnotherThreadRewrites) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  at::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = ref.module.forward({ref.input}).toTensor();
  }
  std::mutex mu;
  auto current = std::make_shared<const torch::jit::Module>(ref.module);
  std::atomic<bool> done{false};
  std::atomic<int> served{0}, wrong{0}, captured{0};
  std::vector<std::thread> servers;
  for (int t = 0; t < 8; ++t) {
    servers.emplace_back([&] {
      torch::NoGradGuard no_grad;
      // Until the rewrites are done, 200 requests are served, and one ran on
      // a rewritten model: on a busy machine every request may otherwise
      // begin before the first rewrite is published (bounded, in case taps
      // never record).
      while (!done.load() || served.load() < 200 || (captured.load() == 0 && served.load() < 20000)) {
        std::shared_ptr<const torch::jit::Module> model;
        {
          std::lock_guard<std::mutex> lock(mu);
          model = current;
        }
        Capture capture;
        const c10::IValue out = const_cast<torch::jit::Module&>(*model).forward({ref.input});
        if (!out.isTensor() || !torch::equal(out.toTensor(), expected)) ++wrong;
        if (capture.activations().size() == kNodes.size()) ++captured;
        ++served;
      }
    });
  }
  int rewrites = 0;
  for (; rewrites < 20; ++rewrites) {
    torch::jit::Module next = ref.module;  // the same object: rewriting must not touch it
    ASSERT_TRUE(InstrumentInPlace(next, {.return_nodes = kNodes, .mode = Mode::kTap}).ok());
    std::lock_guard<std::mutex> lock(mu);
    current = std::make_shared<const torch::jit::Module>(next);
  }
  done = true;
  for (std::thread& t : servers) t.join();
  EXPECT_EQ(wrong.load(), 0) << "of " << served.load() << " requests";
  EXPECT_GT(captured.load(), 0);
  // The object the servers began with was never changed.
  torch::NoGradGuard no_grad;
  Capture capture;
  EXPECT_TRUE(torch::equal(ref.module.forward({ref.input}).toTensor(), expected));
  EXPECT_EQ(capture.activations().size(), 0);
}

TEST(HotSwap, ConcurrentRewritesOfOneModelAllSucceed) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        absl::StatusOr<torch::jit::Module> extractor =
            CreateFeatureExtractor(ref.module, {.return_nodes = {kNodes[t]}, .mode = Mode::kDict});
        if (!extractor.ok()) ++failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
}

// The rewritten forward calls the model's functions (F.relu...): the new
// module must not need the model's compilation unit, which a model without
// submodules alone keeps alive.
TEST(HotSwap, AnExtractorOutlivesTheModelItWasMadeFrom) {
  absl::StatusOr<torch::jit::Module> extractor;
  at::Tensor input;
  c10::Dict<std::string, at::Tensor> expected;
  {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel("functional");
    ASSERT_TRUE(ref.module.named_children().size() == 0) << "the case needs a model without submodules";
    extractor = CreateFeatureExtractor(ref.module, {.return_nodes = testing::Keys(ref.values), .mode = Mode::kDict});
    ASSERT_TRUE(extractor.ok()) << extractor.status();
    input = ref.input;
    expected = ref.values;
  }
  torch::NoGradGuard no_grad;
  const c10::IValue out = extractor->forward({input});
  ASSERT_TRUE(out.isGenericDict());
  EXPECT_EQ(out.toGenericDict().size(), expected.size());
}

// Each extractor is its own class in its own compilation unit, freed with
// it: the model's compilation unit does not grow, nor does the process.
TEST(Memory, TenThousandExtractorsKeepMemoryFlat) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  const size_t functions = CompilationUnitFunctions(ref.module);
  auto make = [&](int n) {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<torch::jit::Module> extractor =
          CreateFeatureExtractor(ref.module, {.return_nodes = kNodes, .mode = Mode::kDict});
      ASSERT_TRUE(extractor.ok()) << extractor.status();
      torch::jit::Module instrumented = ref.module;
      ASSERT_TRUE(InstrumentInPlace(instrumented, {.return_nodes = kNodes, .mode = Mode::kTap}).ok());
    }
  };
  make(1000);  // the allocator's working set
  const size_t warm = ResidentBytes();
  make(9000);
  const size_t grown = ResidentBytes() - std::min(ResidentBytes(), warm);
  EXPECT_EQ(CompilationUnitFunctions(ref.module), functions);
  std::printf("RSS grew %zu kB over 9,000 extractors and 9,000 rewrites\n", grown >> 10);
#if !defined(ABSL_HAVE_ADDRESS_SANITIZER) && !defined(ABSL_HAVE_THREAD_SANITIZER)
  // A leaked class with its graph is tens of kB: 9,000 would be hundreds of
  // MB. (Under the sanitizers freed memory waits in quarantine; LeakSanitizer
  // checks for leaks there.)
  EXPECT_LT(grown, 16u << 20) << "RSS grew " << (grown >> 20) << " MB over 9,000 extractors";
#endif
}

}  // namespace
}  // namespace featx
