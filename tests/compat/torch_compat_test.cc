// Each entry of plugin/torch_compat.h behaves the same on whichever libtorch
// the build chose (FEATX_LIBTORCH): CI runs this on Debian's 1.13 and on
// PyPI's 2.x.
#include "plugin/torch_compat.h"

#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace featx::compat {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class Recorder : public WarningHandler {
 public:
  void Handle(const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

TEST(TorchCompat, WarningHandlerSeesTorchWarnMessages) {
  Recorder recorder;
  {
    WarningHandlerGuard guard(&recorder);
    TORCH_WARN("featx says ", 42);
  }
  EXPECT_THAT(recorder.messages, ElementsAre("featx says 42"));
}

TEST(TorchCompat, GuardRestoresThePreviousHandler) {
  Recorder outer, inner;
  WarningHandlerGuard outer_guard(&outer);
  {
    WarningHandlerGuard inner_guard(&inner);
    EXPECT_EQ(GetWarningHandler(), &inner);
    TORCH_WARN("to inner");
  }
  EXPECT_EQ(GetWarningHandler(), &outer);
  TORCH_WARN("to outer");
  EXPECT_THAT(inner.messages, ElementsAre("to inner"));
  EXPECT_THAT(outer.messages, ElementsAre("to outer"));
}

TEST(TorchCompat, SetWarningHandlerInstallsItForTheProcess) {
  c10::WarningHandler* before = GetWarningHandler();
  Recorder recorder;
  SetWarningHandler(&recorder);
  TORCH_WARN("installed");
  SetWarningHandler(before);
  TORCH_WARN("to the default handler, not the recorder");
  EXPECT_THAT(recorder.messages, ElementsAre("installed"));
  EXPECT_EQ(GetWarningHandler(), before);
}

TEST(TorchCompat, VersionMacroAgreesWithTheVersionString) {
  std::vector<std::string> parts = absl::StrSplit(kTorchVersion, '.');
  ASSERT_GE(parts.size(), 2) << kTorchVersion;
  int major = 0, minor = 0;
  ASSERT_TRUE(absl::SimpleAtoi(parts[0], &major));
  ASSERT_TRUE(absl::SimpleAtoi(parts[1], &minor));
  EXPECT_TRUE(FEATX_TORCH_AT_LEAST(1, 13));
  EXPECT_EQ(FEATX_TORCH_AT_LEAST(2, 0), major >= 2);
  EXPECT_TRUE((FEATX_TORCH_AT_LEAST(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR)));
  EXPECT_FALSE((FEATX_TORCH_AT_LEAST(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR + 1)));
  EXPECT_EQ(major, TORCH_VERSION_MAJOR);
  EXPECT_EQ(minor, TORCH_VERSION_MINOR);
}

}  // namespace
}  // namespace featx::compat
