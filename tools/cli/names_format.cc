#include "tools/cli/names_format.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "plugin/naming/module_path.h"

namespace featx::cli {
namespace {

namespace jit = ::torch::jit;

std::string Quoted(const std::string& s) { return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\\\""}}), "\""); }

// The module a named node belongs to in the picture: a leaf call sits in its
// parent module's box, anything else in the module whose code it is.
std::string ClusterOf(const NamedNode& n) {
  if (n.node == nullptr) return "";
  if (n.node->kind() == c10::prim::CallMethod) {
    size_t dot = n.name.rfind('.');
    return dot == std::string::npos ? "" : n.name.substr(0, dot);
  }
  return ModulePath(n.node);
}

// Named nodes whose values reach `node`'s inputs, looking through unnamed
// nodes (and into the blocks of control flow that produced a value).
void NamedSources(const jit::Node* node, const absl::flat_hash_map<const jit::Value*, size_t>& named,
                  absl::flat_hash_set<const jit::Node*>* seen, std::set<size_t>* out) {
  for (const jit::Value* input : node->inputs()) {
    auto it = named.find(input);
    if (it != named.end()) {
      out->insert(it->second);
      continue;
    }
    const jit::Node* producer = input->node();
    if (producer->kind() == c10::prim::Param || !seen->insert(producer).second) continue;
    NamedSources(producer, named, seen, out);
    for (const jit::Block* b : producer->blocks()) NamedSources(b->return_node(), named, seen, out);
  }
}

struct Cluster {
  std::vector<size_t> members;
  std::map<std::string, Cluster> children;
};

void PrintCluster(const std::string& path, const Cluster& cluster, const std::vector<NamedNode>& nodes, int depth,
                  std::string* out) {
  const std::string indent(2 * depth, ' ');
  for (size_t i : cluster.members) absl::StrAppend(out, indent, Quoted(nodes[i].name), ";\n");
  for (const auto& [name, child] : cluster.children) {
    const std::string child_path = path.empty() ? name : absl::StrCat(path, ".", name);
    absl::StrAppend(out, indent, "subgraph ", Quoted(absl::StrCat("cluster_", child_path)), " {\n", indent,
                    "  label=", Quoted(child_path), ";\n");
    PrintCluster(child_path, child, nodes, depth + 1, out);
    absl::StrAppend(out, indent, "}\n");
  }
}

}  // namespace

std::string NamesAsText(const NodeNames& names) {
  if (names.train == names.eval) return absl::StrCat(absl::StrJoin(names.eval, "\n"), "\n");
  return absl::StrCat("# train\n", absl::StrJoin(names.train, "\n"), "\n# eval\n", absl::StrJoin(names.eval, "\n"),
                      "\n");
}

std::string NamesAsJson(const NodeNames& names) {
  nlohmann::ordered_json j;
  j["train"] = names.train;
  j["eval"] = names.eval;
  return j.dump(1) + "\n";
}

std::string NamesWithDetails(const std::vector<std::string>& names, const std::vector<std::string>& details) {
  size_t width = 0;
  for (const std::string& n : names) width = std::max(width, n.size());
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, names[i], std::string(width + 2 - names[i].size(), ' '), details[i], "\n");
  }
  return out;
}

std::string NamedGraphAsDot(const NamedGraph& graph) {
  absl::flat_hash_map<const jit::Value*, size_t> named;
  Cluster root;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const NamedNode& n = graph.nodes[i];
    if (n.node != nullptr) {
      for (const jit::Value* out : n.node->outputs()) named.emplace(out, i);
    } else {
      named.emplace(n.value, i);
    }
    Cluster* cluster = &root;
    const std::string path = ClusterOf(n);
    if (!path.empty()) {
      for (absl::string_view part : absl::StrSplit(path, '.')) cluster = &cluster->children[std::string(part)];
    }
    cluster->members.push_back(i);
  }
  std::string out = "digraph featx {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n";
  PrintCluster("", root, graph.nodes, 1, &out);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const NamedNode& n = graph.nodes[i];
    if (n.node == nullptr) continue;
    std::set<size_t> sources;
    absl::flat_hash_set<const jit::Node*> seen;
    NamedSources(n.node, named, &seen, &sources);
    for (size_t s : sources) absl::StrAppend(&out, "  ", Quoted(graph.nodes[s].name), " -> ", Quoted(n.name), ";\n");
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

}  // namespace featx::cli
