// featx::TorchSave writes what Python's torch.load reads with its default
// weights_only=True (torch 2.6 and later): no TorchScript type tags. The
// Python side is checked where users meet it: `featx extract --output`
// (tests/cli/extract_cli_test.py) and spool files (tests/host/host_test.py).
#include "plugin/host/torch_save.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/serialize.h>

namespace featx {
namespace {

bool HasTypeTags(const std::vector<char>& bytes) {
  return std::string(bytes.begin(), bytes.end()).find("restore_type_tag") != std::string::npos;
}

c10::Dict<std::string, at::Tensor> Activations() {
  c10::Dict<std::string, at::Tensor> acts;
  acts.insert("layer1", torch::arange(12, torch::kFloat).reshape({3, 4}));
  acts.insert("transposed", torch::arange(6, torch::kFloat).reshape({2, 3}).t());  // not contiguous
  acts.insert("empty", torch::zeros({0, 4}));
  return acts;
}

TEST(TorchSave, ActivationsRoundTripThroughPickleLoad) {
  const c10::Dict<std::string, at::Tensor> acts = Activations();
  const c10::IValue back = torch::pickle_load(TorchSave(c10::IValue(acts)));
  ASSERT_TRUE(back.isGenericDict());
  const c10::impl::GenericDict dict = back.toGenericDict();
  ASSERT_EQ(dict.size(), acts.size());
  for (const auto& item : acts) {
    const at::Tensor got = dict.at(item.key()).toTensor();
    EXPECT_TRUE(got.equal(item.value())) << item.key();
    EXPECT_EQ(got.sizes(), item.value().sizes()) << item.key();
  }
}

TEST(TorchSave, WritesNoTorchScriptTypeTags) {
  const c10::IValue acts(Activations());
  EXPECT_TRUE(HasTypeTags(torch::pickle_save(acts))) << "torch::pickle_save tags dicts; the check would be vacuous";
  EXPECT_FALSE(HasTypeTags(TorchSave(acts)));
}

}  // namespace
}  // namespace featx
