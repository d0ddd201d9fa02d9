// A server's threads each serve their own requests on one tap-mode model:
// every capture holds exactly its own request's activations (each request
// has its own input, and its values are checked), and nothing is left open
// or recorded once the requests are done.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>

#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

constexpr int kThreads = 8;
constexpr int kRequestsPerThread = 200;
const std::vector<std::string> kNodes = {"x", "bn", "add_", "mul_"};

at::Tensor RequestInput(const at::Tensor& base, int request) { return base * (1.0 + 0.01 * request); }

TEST(Threads, EveryCaptureHoldsExactlyItsOwnRequest) {
  absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel("inplace_chain");
  ASSERT_TRUE(ref.ok()) << ref.status();
  // The expected values, one request at a time, from a dict-mode extractor.
  OutputManifest dict_manifest;
  absl::StatusOr<torch::jit::Module> dict =
      CreateFeatureExtractor(ref->module, {.return_nodes = kNodes, .mode = Mode::kDict}, &dict_manifest);
  ASSERT_TRUE(dict.ok()) << dict.status();
  std::vector<Activations> expected;
  for (int r = 0; r < kThreads * kRequestsPerThread; ++r) {
    absl::StatusOr<Extraction> got = RunExtractor(*dict, dict_manifest, {RequestInput(ref->input, r)});
    ASSERT_TRUE(got.ok()) << got.status();
    expected.push_back(got->activations);
  }

  ASSERT_TRUE(InstrumentInPlace(ref->module, {.return_nodes = kNodes, .mode = Mode::kTap}).ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      torch::NoGradGuard no_grad;
      for (int i = 0; i < kRequestsPerThread; ++i) {
        const int r = t * kRequestsPerThread + i;
        Capture capture;
        ref->module.forward({RequestInput(ref->input, r)});
        const Activations& got = capture.activations();
        bool same = got.size() == kNodes.size();
        for (const std::string& node : kNodes) {
          same = same && got.contains(node) && torch::allclose(got.at(node), expected[r].at(node), 1e-5, 1e-6);
        }
        if (!same) ++mismatches;
      }
      // Nothing stays open on a server thread after its requests.
      if (CaptureIsOpen()) ++mismatches;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0) << "of " << kThreads * kRequestsPerThread << " requests";
  EXPECT_FALSE(CaptureIsOpen());
  // With no capture open, a request records nowhere.
  torch::NoGradGuard no_grad;
  ref->module.forward({ref->input});
  Capture after;
  EXPECT_EQ(after.activations().size(), 0);
}

}  // namespace
}  // namespace featx
