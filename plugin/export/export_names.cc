#include "plugin/export/export_names.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/naming/local_suffixes.h"

namespace featx {
namespace {

using Json = nlohmann::json;

// One entry of a node's `nn_module_stack`, "key,path,class": the module
// call (a key per call: `L__self__layer1.0.relu@1` is relu's second), the
// module's path and its Python class.
struct Scope {
  std::string call;
  std::string path;
  std::string python_class;
};

// "L__self__,,torchvision.models.resnet.ResNet;L__self__conv1,conv1,torch.nn...Conv2d",
// outermost first. Split from the right: a key may hold what a path does.
std::vector<Scope> ParseModuleStack(absl::string_view text) {
  std::vector<Scope> stack;
  for (absl::string_view entry : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    const size_t class_comma = entry.rfind(',');
    if (class_comma == absl::string_view::npos || class_comma == 0) continue;
    const size_t path_comma = entry.rfind(',', class_comma - 1);
    if (path_comma == absl::string_view::npos) continue;
    stack.push_back({std::string(entry.substr(0, path_comma)),
                     std::string(entry.substr(path_comma + 1, class_comma - path_comma - 1)),
                     std::string(entry.substr(class_comma + 1))});
  }
  return stack;
}

std::string Qualified(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

// The name of a node's first tensor output; empty when it has none.
std::string FirstTensorOutput(const Json& node) {
  for (const Json& output : node.value("outputs", Json::array())) {
    if (output.contains("as_tensor")) return output["as_tensor"].value("name", "");
    if (output.contains("as_tensors") && !output["as_tensors"].empty()) {
      return output["as_tensors"][0].value("name", "");
    }
  }
  return "";
}

bool IsFeatxOutput(const Json& metadata) {
  if (!metadata.contains("custom") || !metadata["custom"].is_string()) return false;
  const Json custom = Json::parse(metadata["custom"].get<std::string>(), nullptr, /*allow_exceptions=*/false);
  return custom.is_object() && custom.contains(kFeatxOutputKey);
}

// Nodes export adds, no code of the model's: asserts on inputs (no module
// scope) and, with dynamic shapes, the reads of symbolic sizes its runtime
// assert pass inserts (a scope named by the marker of
// torch/_export/passes/_node_metadata_hook.py).
bool IsExportsOwn(const Json& metadata) {
  static constexpr absl::string_view kNoScopeMarker = "_empty_nn_module_stack_from_metadata_hook";
  if (!metadata.contains("nn_module_stack") || !metadata["nn_module_stack"].is_string()) return true;
  return absl::StartsWith(metadata["nn_module_stack"].get<std::string>(), kNoScopeMarker);
}

// The items of a node's list output (`aten.chunk`: as_tensors), by value.
std::vector<std::string> ListItems(const Json& node) {
  std::vector<std::string> items;
  for (const Json& output : node.value("outputs", Json::array())) {
    if (!output.contains("as_tensors")) continue;
    for (const Json& item : output["as_tensors"]) items.push_back(item.value("name", ""));
  }
  return items;
}

// FX's name for a call of `op`: Python's operators by their function's name
// (`__getitem__` -> `getitem`; `__iadd__`, `__radd__` and `add_` -> `add`, as
// FX records `out += x`).
std::string FxOpName(absl::string_view op) {
  static const absl::flat_hash_set<absl::string_view> kOperators = {
      "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift"};
  if (op.size() > 4 && absl::ConsumePrefix(&op, "__") && absl::ConsumeSuffix(&op, "__")) {
    if ((op[0] == 'i' || op[0] == 'r') && kOperators.contains(op.substr(1))) op.remove_prefix(1);
    return std::string(op);
  }
  while (op.size() > 1 && absl::ConsumeSuffix(&op, "_")) {
  }
  return std::string(op);
}

// The function FX would record for a node: the torch function export saw
// (`torch_fn`: "add__1;method_descriptor.add_" -> "add", FX's name for
// `out += x`), else the ATen op (`torch.ops.aten.sym_size.int` -> "sym_size").
// `call` is set to the function call's key, shared by the ATen nodes one
// call became.
std::string OpName(const Json& node, std::string* call) {
  const Json& metadata = node.value("metadata", Json::object());
  std::string op;
  if (metadata.contains("torch_fn") && metadata["torch_fn"].is_string()) {
    const std::string torch_fn = metadata["torch_fn"];
    std::vector<absl::string_view> parts = absl::StrSplit(torch_fn, absl::MaxSplits(';', 1));
    *call = std::string(parts[0]);
    if (parts.size() == 2) op = std::string(parts[1].substr(parts[1].rfind('.') + 1));
  } else {
    call->clear();
    const std::string target = node.value("target", "");
    std::vector<absl::string_view> parts = absl::StrSplit(target, '.');
    // torch.ops.<namespace>.<op>.<overload>
    op = parts.size() >= 2 ? std::string(parts[parts.size() - 2]) : target;
  }
  return FxOpName(op);
}

// What one node of the program contributes to the names, decided while the
// nodes are walked in order.
class Namer {
 public:
  Namer(const Json& graph_module, const LeafModules& leaves) : leaves_(leaves) {
    for (const Json& spec : graph_module.at("signature").at("input_specs")) {
      for (const char* kind : {"parameter", "buffer", "tensor_constant", "constant_tensor"}) {
        if (!spec.contains(kind)) continue;
        const Json& input = spec[kind];
        for (const char* key : {"parameter_name", "buffer_name", "tensor_constant_name", "name"}) {
          if (input.contains(key) && input[key].is_string()) {
            attributes_[input.at("arg").value("name", "")] = input[key].get<std::string>();
            break;
          }
        }
      }
      // A forward argument export fixed (`scale=2.0`): FX's placeholder, not a tensor.
      if (spec.contains("constant_input") && spec["constant_input"].contains("name")) {
        Add(spec["constant_input"].value("name", ""), "");
      }
      if (spec.contains("user_input")) {
        const Json& arg = spec.at("user_input").at("arg");
        // FX's placeholder: the argument's name; its value when a tensor.
        for (const auto& [kind, value] : arg.items()) {
          if (value.is_object() && value.contains("name")) {
            const std::string name = value.value("name", "");
            Add(name, kind == "as_tensor" ? name : "");
          }
        }
      }
    }
  }

  void Visit(const Json& node) {
    const Json& metadata = node.value("metadata", Json::object());
    if (IsFeatxOutput(metadata)) return;
    if (IsExportsOwn(metadata)) {
      group_.clear();
      return;
    }
    const std::string value = FirstTensorOutput(node);
    const std::vector<std::string> items = ListItems(node);
    // Shape arithmetic and asserts: a dynamic dimension's `x.size(0)` is a
    // node of symbolic ints, a static one none; the names are the same.
    if (value.empty() && items.empty()) return;
    const std::vector<Scope> stack = ParseModuleStack(metadata["nn_module_stack"].get<std::string>());
    // The outermost leaf below the root, which FX always traces through.
    for (size_t i = 1; i < stack.size(); ++i) {
      if (!leaves_.IsLeafClass(stack[i].python_class)) continue;
      const std::string group = absl::StrCat("leaf:", stack[i].call);
      if (group == group_) {
        if (!value.empty()) nodes_.back().value = value;
        return;
      }
      group_ = group;
      Add(stack[i].path, value);
      return;
    }
    const std::string& path = stack.empty() ? empty_ : stack.back().path;
    for (const Json& input : node.value("inputs", Json::array())) {
      const Json& arg = input.value("arg", Json::object());
      if (!arg.contains("as_tensor")) continue;
      const std::string name = arg["as_tensor"].value("name", "");
      auto attribute = attributes_.find(name);
      if (attribute == attributes_.end() || !read_.insert(name).second) continue;
      Add(Qualified(path, absl::StrReplaceAll(attribute->second, {{".", "_"}})), name);
      group_.clear();
    }
    std::string call;
    const std::string op = OpName(node, &call);
    const std::string group = call.empty() ? "" : absl::StrCat("fn:", path, ":", call);
    if (!group.empty() && group == group_) {
      if (!value.empty()) nodes_.back().value = items.empty() ? value : "";
    } else {
      group_ = group;
      Add(Qualified(path, op), items.empty() ? value : "");
    }
    // FX unpacks a call's list or tuple with a getitem per item
    // (`x1, x2 = x.chunk(2)`); export's items are the call's outputs.
    for (const std::string& item : items) Add(Qualified(path, "getitem"), item);
  }

  std::vector<ProgramNode> Take() && { return std::move(nodes_); }

 private:
  void Add(const std::string& qualname, std::string value) {
    nodes_.push_back({suffixes_.Unique(qualname), std::move(value)});
  }

  const LeafModules& leaves_;
  // Parameter, buffer and constant inputs -> their attribute paths.
  absl::flat_hash_map<std::string, std::string> attributes_;
  absl::flat_hash_set<std::string> read_;
  // The leaf or function call the last node belonged to ("" none).
  std::string group_;
  LocalSuffixes suffixes_;
  std::vector<ProgramNode> nodes_;
  const std::string empty_;
};

}  // namespace

absl::StatusOr<LeafModules> ProgramLeafModules(const Json& program, const std::vector<std::string>& user_leaves,
                                               const std::vector<std::string>& library_leaves) {
  std::vector<std::string> classes;
  absl::flat_hash_set<std::string> seen;
  try {
    for (const Json& node : program.at("graph_module").at("graph").at("nodes")) {
      const Json& metadata = node.value("metadata", Json::object());
      if (!metadata.contains("nn_module_stack") || !metadata["nn_module_stack"].is_string()) continue;
      for (Scope& scope : ParseModuleStack(metadata["nn_module_stack"].get<std::string>())) {
        if (seen.insert(scope.python_class).second) classes.push_back(std::move(scope.python_class));
      }
    }
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("the program is not torch.export's schema: ", e.what()));
  }
  std::vector<std::string> leaves = user_leaves;
  for (const std::string& leaf : library_leaves) {
    if (seen.contains(leaf)) leaves.push_back(leaf);
  }
  return LeafModules::Create(classes, leaves);
}

absl::StatusOr<std::vector<ProgramNode>> ProgramNodes(const Json& program, const LeafModules& leaves) {
  try {
    const Json& graph_module = program.at("graph_module");
    Namer namer(graph_module, leaves);
    for (const Json& node : graph_module.at("graph").at("nodes")) namer.Visit(node);
    return std::move(namer).Take();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("the program is not torch.export's schema: ", e.what()));
  }
}

}  // namespace featx
