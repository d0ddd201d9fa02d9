// A second copy of featx in one process registers nothing: the ops the first
// registered are found and kept, where TORCH_LIBRARY would throw (and abort
// a host loading libfeatx.so from a second path during static init).
#include "ops/register_once.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>

namespace featx {
namespace {

TEST(RegisterOnce, ASecondCopyFindsTheOpsAndRegistersNothing) {
  // This binary links //ops, which registered featx::tap as the first copy.
  ASSERT_TRUE(c10::Dispatcher::singleton().findSchema({"featx::tap", ""}).has_value());
  EXPECT_TRUE(ThisCopyServesTheOps());
  bool defined = false;
  const bool registered = RegisterOnce(
      "featx::tap", torch::Library::DEF,
      [&](torch::Library& m) {
        defined = true;
        m.def("tap(Tensor(a) x, str tag) -> Tensor(a)");
      },
      __FILE__, __LINE__);
  EXPECT_FALSE(registered);
  EXPECT_FALSE(defined);
  EXPECT_FALSE(ThisCopyServesTheOps());
}

TEST(RegisterOnce, RegistersWhatIsNotThereYet) {
  const bool registered = RegisterOnce(
      "featx::register_once_probe", torch::Library::FRAGMENT,
      [](torch::Library& m) { m.def("register_once_probe(Tensor x) -> Tensor"); }, __FILE__, __LINE__);
  EXPECT_TRUE(registered);
  EXPECT_TRUE(c10::Dispatcher::singleton().findSchema({"featx::register_once_probe", ""}).has_value());
}

}  // namespace
}  // namespace featx
