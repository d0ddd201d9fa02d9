// The per-thread capture that featx::tap records into.
#include "ops/capture.h"
#include "tests/testing/script_resolver.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/script.h>

namespace {

at::Tensor Tap(const at::Tensor& x, const std::string& tag) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("featx::tap", "")
                       .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
  return op.call(x, tag);
}

TEST(Capture, TapWithoutCaptureIsPassThrough) {
  ASSERT_FALSE(featx::CaptureIsOpen());
  at::Tensor x = torch::ones({2});
  EXPECT_TRUE(Tap(x, "a").is_same(x));
  featx::Capture capture;  // opened afterwards: saw nothing
  EXPECT_EQ(capture.activations().size(), 0);
}

TEST(Capture, RecordsTapsInOrderWhileOpen) {
  at::Tensor a = torch::ones({2});
  at::Tensor b = torch::zeros({3});
  featx::Capture capture;
  EXPECT_TRUE(featx::CaptureIsOpen());
  Tap(b, "second");
  Tap(a, "first");
  const featx::Activations& acts = capture.activations();
  ASSERT_EQ(acts.size(), 2);
  EXPECT_EQ(acts.begin()->key(), "second");
  EXPECT_TRUE(acts.at("first").is_same(a));
  EXPECT_TRUE(acts.at("second").is_same(b));
}

TEST(Capture, ClosesWhenItGoesOutOfScope) {
  { featx::Capture capture; }
  EXPECT_FALSE(featx::CaptureIsOpen());
}

TEST(Capture, RepeatedTagKeepsTheLastValue) {
  featx::Capture capture;
  for (int i = 0; i < 3; ++i) Tap(torch::full({1}, i), "loop");
  ASSERT_EQ(capture.activations().size(), 1);
  EXPECT_EQ(capture.activations().at("loop").item<float>(), 2.0f);
}

TEST(Capture, NestedCaptureTakesTheTapsInsideIt) {
  featx::Capture outer;
  Tap(torch::ones({1}), "outside");
  {
    featx::Capture inner;
    Tap(torch::ones({1}), "inside");
    EXPECT_EQ(inner.activations().size(), 1);
    EXPECT_TRUE(inner.activations().contains("inside"));
  }
  Tap(torch::ones({1}), "after");
  EXPECT_EQ(outer.activations().size(), 2);
  EXPECT_FALSE(outer.activations().contains("inside"));
}

TEST(Capture, TakeEmptiesAnOpenCapture) {
  featx::Capture capture;
  Tap(torch::ones({1}), "a");
  featx::Activations taken = capture.Take();
  EXPECT_EQ(taken.size(), 1);
  EXPECT_EQ(capture.activations().size(), 0);
  Tap(torch::ones({1}), "b");
  EXPECT_TRUE(capture.activations().contains("b"));
}

TEST(Capture, EndWithNothingCapturedIsEmpty) {
  featx::BeginCapture();
  absl::StatusOr<featx::Activations> acts = featx::EndCapture();
  ASSERT_TRUE(acts.ok()) << acts.status();
  EXPECT_EQ(acts->size(), 0);
  EXPECT_FALSE(featx::CaptureIsOpen());
}

TEST(Capture, EndWithoutBeginIsFailedPrecondition) {
  absl::StatusOr<featx::Activations> acts = featx::EndCapture();
  EXPECT_EQ(acts.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(acts.status().message().find("call featx::capture_begin() first"), std::string::npos);
}

TEST(Capture, EndRefusesWhileAnInnerRaiiCaptureIsOpen) {
  featx::BeginCapture();
  {
    featx::Capture inner;
    EXPECT_EQ(featx::EndCapture().status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_TRUE(featx::EndCapture().ok());
}

TEST(Capture, ThreadsNeverSeeEachOthersTags) {
  constexpr int kThreads = 4;
  constexpr int kRequests = 200;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &mismatches] {
      const std::string mine = "thread" + std::to_string(t);
      for (int r = 0; r < kRequests; ++r) {
        featx::Capture capture;
        Tap(torch::full({1}, t * 1000 + r), mine);
        const featx::Activations& acts = capture.activations();
        if (acts.size() != 1 || !acts.contains(mine) || acts.at(mine).item<float>() != t * 1000 + r) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(Capture, CaptureOpsWorkFromTorchScript) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  cu->define(c10::nullopt, R"JIT(
    def request(x: Tensor) -> Dict[str, Tensor]:
        featx.capture_begin()
        y = featx.tap(x + 1, "plus_one")
        z = featx.tap(y * 3, "times_three")
        captured = featx.capture_end()
        captured["z"] = z
        return captured
  )JIT",
             featx::testing::ScriptResolver(), /*self=*/nullptr);
  auto result = cu->run_method("request", torch::ones({2})).toGenericDict();
  ASSERT_EQ(result.size(), 3);
  EXPECT_TRUE(torch::equal(result.at("plus_one").toTensor(), torch::full({2}, 2.0)));
  EXPECT_TRUE(torch::equal(result.at("times_three").toTensor(), torch::full({2}, 6.0)));
  EXPECT_FALSE(featx::CaptureIsOpen());
}

}  // namespace
