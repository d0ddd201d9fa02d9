// featx.prune on IR: what no chosen node needs goes, writes something later
// reads stay. Graphs in, graphs out (parseIR -> Prune -> FileCheck).
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/testing/file_check.h>

#include "plugin/passes/prune.h"
#include "tests/testing/ir.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;
using jit::testing::FileCheck;

using testing::ParseGraph;

// densenet's shape: each layer appends to the list the next concatenates.
TEST(Prune, AnAppendToAListReadLaterStays) {
  auto graph = ParseGraph(R"IR(
graph(%x : Tensor):
  %one : int = prim::Constant[value=1]()
  %features : Tensor[] = prim::ListConstruct(%x)
  %y : Tensor = aten::relu(%x)
  %appended : Tensor[] = aten::append(%features, %y)
  %c : Tensor = aten::cat(%features, %one)
  %unused : Tensor = aten::sigmoid(%c)
  return (%c)
)IR");
  Prune(graph);
  graph->lint();
  FileCheck().check("aten::relu")->check("aten::append")->check("aten::cat")->check_not("aten::sigmoid")->run(*graph);
}

// After the last read of the list, an append writes what nobody sees.
TEST(Prune, AnAppendNothingReadsAfterGoes) {
  auto graph = ParseGraph(R"IR(
graph(%x : Tensor):
  %one : int = prim::Constant[value=1]()
  %features : Tensor[] = prim::ListConstruct(%x)
  %c : Tensor = aten::cat(%features, %one)
  %y : Tensor = aten::relu(%x)
  %appended : Tensor[] = aten::append(%features, %y)
  return (%c)
)IR");
  Prune(graph);
  graph->lint();
  FileCheck().check("aten::cat")->check_not("aten::relu")->check_not("aten::append")->run(*graph);
}

// An in-place write to a tensor the graph returns is the returned value.
TEST(Prune, AnInPlaceWriteToTheReturnedTensorStays) {
  auto graph = ParseGraph(R"IR(
graph(%x : Tensor):
  %one : int = prim::Constant[value=1]()
  %y : Tensor = aten::relu(%x)
  %z : Tensor = aten::add_(%y, %x, %one)
  %dead : Tensor = aten::sigmoid(%x)
  return (%y)
)IR");
  Prune(graph);
  graph->lint();
  FileCheck().check("aten::relu")->check("aten::add_")->check_not("aten::sigmoid")->run(*graph);
}

}  // namespace
}  // namespace featx
