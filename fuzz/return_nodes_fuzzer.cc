// Fuzzes return-node specs (one per line) against a fixed list of node
// names: parsing and resolving give choices or an error, never a crash; a
// choice's output names are unique.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "plugin/naming/return_nodes.h"

namespace {

const std::vector<featx::NamedNode>& Nodes() {
  static const auto* nodes = [] {
    auto* n = new std::vector<featx::NamedNode>;
    for (const char* name : {"x", "conv1", "bn1", "relu", "layer1.0.conv1", "layer1.0.relu", "layer1.0.add",
                             "layer1.0.relu_1", "layer1.1.relu_1", "avgpool", "flatten", "fc"}) {
      n->push_back({name, nullptr, nullptr});
    }
    return n;
  }();
  return *nodes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> specs = absl::StrSplit(text, '\n');
  absl::StatusOr<std::vector<featx::ReturnNode>> wanted = featx::ParseReturnNodes(specs);
  if (!wanted.ok()) return 0;
  std::set<std::string> outputs;
  for (const featx::ReturnNode& node : *wanted) {
    if (!outputs.insert(node.output_name).second) std::abort();  // parsing lets a duplicate through
  }
  absl::StatusOr<std::vector<featx::ChosenNode>> chosen = featx::ResolveReturnNodes(*wanted, Nodes(), "eval");
  if (chosen.ok() && chosen->size() != wanted->size()) std::abort();
  return 0;
}
