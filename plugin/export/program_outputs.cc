#include "plugin/export/program_outputs.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/status.h"

namespace featx {
namespace {

using Json = nlohmann::json;

// A pytree leaf in torch's treespec JSON (torch.utils._pytree, protocol 1).
Json TreeLeaf() { return Json{{"type", nullptr}, {"context", nullptr}, {"children_spec", Json::array()}}; }

// `[1, {"type": ..., "context": ..., "children_spec": [...]}]`, as a string
// the way the program stores it.
std::string TreeSpecText(Json root) { return Json::array({1, std::move(root)}).dump(); }

// The names tuple mode gives the program's own outputs: `output` for a
// single value, `output.0`, `output.key`, ... inside tuples, lists and dicts.
void AppendLeafNames(const Json& spec, const std::string& name, std::vector<std::string>* names) {
  const Json& children = spec.value("children_spec", Json::array());
  if (spec.value("type", Json()).is_null() || children.empty()) {
    names->push_back(name);
    return;
  }
  Json keys = Json::array();
  const Json& context = spec.value("context", Json());
  if (spec["type"] == "builtins.dict" || spec["type"] == "collections.OrderedDict") {
    if (context.is_string()) keys = Json::parse(context.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  }
  for (size_t i = 0; i < children.size(); ++i) {
    const std::string key =
        keys.is_array() && i < keys.size() && keys[i].is_string() ? keys[i].get<std::string>() : absl::StrCat(i);
    AppendLeafNames(children[i], absl::StrCat(name, ".", key), names);
  }
}

// Every value name a node argument or output refers to.
void CollectNames(const Json& arg, absl::flat_hash_set<std::string>* names) {
  if (arg.is_object()) {
    for (const auto& [key, value] : arg.items()) {
      if ((key == "name" || key == "as_name") && value.is_string()) names->insert(value.get<std::string>());
      CollectNames(value, names);
    }
  } else if (arg.is_array()) {
    for (const Json& item : arg) CollectNames(item, names);
  }
}

// A new value name, a Python identifier no other value or node has.
std::string FreshName(const std::string& output_name, absl::flat_hash_set<std::string>* taken) {
  std::string base = "featx_";
  for (char c : output_name) base += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  std::string name = base;
  for (int i = 1; taken->contains(name); ++i) name = absl::StrCat(base, "_", i);
  taken->insert(name);
  return name;
}

// aten.clone(value), placed where `producer` is and marked as featx's.
Json CloneNode(const std::string& value, const std::string& name, const std::string& output_name,
               const Json* producer) {
  Json metadata = Json::object();
  if (producer != nullptr) {
    const Json& theirs = producer->value("metadata", Json::object());
    for (const char* key : {"stack_trace", "nn_module_stack"}) {
      if (theirs.contains(key)) metadata[key] = theirs[key];
    }
  }
  metadata["custom"] = Json{{kFeatxOutputKey, output_name}}.dump();
  return Json{
      {"target", "torch.ops.aten.clone.default"},
      {"inputs", Json::array({Json{{"name", "self"}, {"arg", {{"as_tensor", {{"name", value}}}}}, {"kind", 1}}})},
      {"outputs", Json::array({Json{{"as_tensor", {{"name", name}}}}})},
      {"metadata", std::move(metadata)},
      {"is_hop_single_tensor_return", nullptr},
      {"name", name}};
}

Json UserOutput(const std::string& name) { return Json{{"user_output", {{"arg", {{"as_tensor", {{"name", name}}}}}}}}; }

absl::StatusOr<Json> AddOutputs(const Json& program, const std::vector<ProgramOutput>& outputs, Mode mode,
                                std::vector<ManifestEntry>* emitted) {
  Json rewritten = program;
  Json& graph_module = rewritten.at("graph_module");
  Json& graph = graph_module.at("graph");
  Json& nodes = graph.at("nodes");
  Json& tensor_values = graph.at("tensor_values");
  Json& output_specs = graph_module.at("signature").at("output_specs");
  Json& graph_outputs = graph.at("outputs");
  Json& call_signature = graph_module.at("module_call_graph").at(0).at("signature");

  // Where each value is made: a node's index, or -1 for the graph's inputs.
  absl::flat_hash_map<std::string, int> producer;
  absl::flat_hash_set<std::string> taken;
  for (const Json& input : graph.at("inputs")) {
    absl::flat_hash_set<std::string> names;
    CollectNames(input, &names);
    for (const std::string& name : names) producer[name] = -1;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    absl::flat_hash_set<std::string> names;
    CollectNames(nodes[i].at("outputs"), &names);
    for (const std::string& name : names) producer[name] = static_cast<int>(i);
    taken.insert(nodes[i].value("name", ""));
  }
  for (const auto& [name, index] : producer) taken.insert(name);
  for (const char* table :
       {"tensor_values", "sym_int_values", "sym_bool_values", "sym_float_values", "custom_obj_values"}) {
    const Json values = graph.value(table, Json::object());
    for (const auto& [name, value] : values.items()) taken.insert(name);
  }

  // The clones, grouped after their producers, in the order of `outputs`.
  absl::flat_hash_map<int, std::vector<Json>> clones;
  std::vector<std::string> clone_names;
  int last_producer = -1;
  for (const ProgramOutput& output : outputs) {
    auto made = producer.find(output.value);
    if (output.value.empty() || made == producer.end() || !tensor_values.contains(output.value)) {
      return absl::InvalidArgumentError(absl::StrCat("node '", output.node,
                                                     "' is not a tensor in the exported program; choose a node "
                                                     "whose output is one (`featx names --model=...` lists them)"));
    }
    const std::string name = FreshName(output.name, &taken);
    const int at = made->second;
    clones[at].push_back(CloneNode(output.value, name, output.name, at < 0 ? nullptr : &nodes[at]));
    tensor_values[name] = tensor_values[output.value];
    clone_names.push_back(name);
    last_producer = std::max(last_producer, at);
  }

  // The program's own user outputs, and what else it returns (written
  // buffers and inputs), which every mode keeps.
  Json kept_outputs = Json::array(), kept_specs = Json::array();
  Json user_outputs = Json::array(), user_specs = Json::array();
  bool writes_state = false;
  for (size_t i = 0; i < output_specs.size(); ++i) {
    const bool user = output_specs[i].contains("user_output");
    writes_state = writes_state || !user;
    (user ? user_outputs : kept_outputs).push_back(graph_outputs.at(i));
    (user ? user_specs : kept_specs).push_back(output_specs[i]);
  }

  Json new_nodes = Json::array();
  for (const Json& clone : clones[-1]) new_nodes.push_back(clone);
  for (size_t i = 0; i < nodes.size(); ++i) {
    // Dict mode returns only the chosen values: what comes after the last
    // one is not needed, unless the program writes state.
    if (mode == Mode::kDict && !writes_state && static_cast<int>(i) > last_producer) break;
    new_nodes.push_back(std::move(nodes[i]));
    for (Json& clone : clones[static_cast<int>(i)]) new_nodes.push_back(std::move(clone));
  }
  nodes = std::move(new_nodes);

  Json children = Json::array();
  emitted->clear();
  if (mode == Mode::kTuple) {
    const Json out_spec = Json::parse(call_signature.at("out_spec").get<std::string>());
    std::vector<std::string> own;
    AppendLeafNames(out_spec.at(1), "output", &own);
    if (own.size() != user_specs.size()) {
      return absl::InvalidArgumentError(absl::StrCat("the program's output tree has ", own.size(), " leaves for ",
                                                     user_specs.size(), " user outputs"));
    }
    for (size_t i = 0; i < own.size(); ++i) {
      kept_outputs.push_back(user_outputs[i]);
      kept_specs.push_back(user_specs[i]);
      children.push_back(TreeLeaf());
      emitted->push_back({own[i], "output"});
    }
  }
  Json keys = Json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    kept_outputs.push_back(Json{{"as_tensor", {{"name", clone_names[i]}}}});
    kept_specs.push_back(UserOutput(clone_names[i]));
    children.push_back(TreeLeaf());
    keys.push_back(outputs[i].name);
    emitted->push_back({outputs[i].name, outputs[i].node});
  }
  graph_outputs = std::move(kept_outputs);
  output_specs = std::move(kept_specs);
  graph["is_single_tensor_return"] = false;
  call_signature["out_spec"] =
      mode == Mode::kDict
          ? TreeSpecText(Json{{"type", "builtins.dict"}, {"context", keys.dump()}, {"children_spec", children}})
          : TreeSpecText(Json{{"type", "builtins.tuple"}, {"context", "null"}, {"children_spec", children}});
  return rewritten;
}

}  // namespace

absl::StatusOr<Json> AddProgramOutputs(const Json& program, const std::vector<ProgramOutput>& outputs, Mode mode,
                                       std::vector<ManifestEntry>* emitted) {
  if (mode == Mode::kTap) {
    return absl::InvalidArgumentError(
        "an exported program takes --mode=dict or --mode=tuple: tap mode calls featx's op, which "
        "torch.export.load and AOTInductor do not know");
  }
  try {
    return AddOutputs(program, outputs, mode, emitted);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("the program is not torch.export's schema: ", e.what()));
  }
}

}  // namespace featx
