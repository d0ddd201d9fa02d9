// How `featx names` prints node names: text, JSON, Graphviz DOT.
//
//   std::cout << NamesAsJson(names);         // {"train": [...], "eval": [...]}
//   std::cout << NamedGraphAsDot(eval_graph);  // `dot -Tsvg` renders it
#pragma once

#include <string>
#include <vector>

#include "plugin/featx.h"
#include "plugin/pipeline/trace.h"

namespace featx::cli {

// One name per line. When train and eval differ: a "# train" section, then
// "# eval".
std::string NamesAsText(const NodeNames& names);

// {"train": [...], "eval": [...]}
std::string NamesAsJson(const NodeNames& names);

// Name, then a detail column (a shape), aligned.
std::string NamesWithDetails(const std::vector<std::string>& names, const std::vector<std::string>& details);

// The named nodes as a DOT digraph: one box per name, nested clusters per
// module path, an edge wherever a named value feeds another named node
// (through unnamed ones such as list packing).
std::string NamedGraphAsDot(const NamedGraph& graph);

}  // namespace featx::cli
