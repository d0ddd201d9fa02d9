// AddProgramOutputs on small hand-written programs (torch.export's schema,
// the fields it reads and writes): where clones go, what dict mode drops and
// keeps, fresh names, tuple slot names, and its errors. The models' values
// are export_rewrite_test.py's.
#include "plugin/export/program_outputs.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace featx {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Json TensorArg(const std::string& name) { return Json{{"as_tensor", {{"name", name}}}}; }

Json Node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
  Json node{{"target", "torch.ops.aten." + op + ".default"}, {"inputs", Json::array()}, {"name", output}};
  for (const std::string& input : inputs) node["inputs"].push_back(Json{{"name", "self"}, {"arg", TensorArg(input)}});
  node["outputs"] = Json::array({TensorArg(output)});
  node["metadata"] = Json{{"nn_module_stack", "L__self__,,M"}};
  return node;
}

// x -> relu -> relu_ (in place) -> neg; returns neg. `out_spec` is the
// program's output tree.
Json Program(const std::string& out_spec = R"([1, {"type": null, "context": null, "children_spec": []}])") {
  Json tensor{{"dtype", 7}, {"sizes", Json::array({Json{{"as_int", 2}}})}};
  Json graph{{"inputs", Json::array({TensorArg("x")})},
             {"outputs", Json::array({TensorArg("neg")})},
             {"nodes", Json::array({Node("relu", {"x"}, "relu"), Node("relu_", {"relu"}, "relu_"),
                                    Node("neg", {"relu_"}, "neg")})},
             {"tensor_values", {{"x", tensor}, {"relu", tensor}, {"relu_", tensor}, {"neg", tensor}}},
             {"sym_int_values", {{"s0", Json::object()}}},
             {"is_single_tensor_return", true}};
  return Json{{"graph_module",
               {{"graph", graph},
                {"signature", {{"output_specs", Json::array({Json{{"user_output", {{"arg", TensorArg("neg")}}}}})}}},
                {"module_call_graph", Json::array({Json{{"fqn", ""}, {"signature", {{"out_spec", out_spec}}}}})}}}};
}

std::vector<std::string> Targets(const Json& program) {
  std::vector<std::string> targets;
  for (const Json& node : program["graph_module"]["graph"]["nodes"]) targets.push_back(node["target"]);
  return targets;
}

std::vector<std::string> OutputNames(const Json& program) {
  std::vector<std::string> names;
  for (const Json& output : program["graph_module"]["graph"]["outputs"]) names.push_back(output["as_tensor"]["name"]);
  return names;
}

TEST(ProgramOutputsTest, DictModeClonesAtTheNodeAndDropsWhatComesAfter) {
  std::vector<ManifestEntry> emitted;
  absl::StatusOr<Json> made = AddProgramOutputs(Program(), {{"feat", "relu", "relu"}}, Mode::kDict, &emitted);
  ASSERT_TRUE(made.ok()) << made.status();
  // The clone sits before the in-place relu_, which could otherwise change
  // what is returned; relu_ and neg are not needed.
  EXPECT_THAT(Targets(*made), ElementsAre("torch.ops.aten.relu.default", "torch.ops.aten.clone.default"));
  EXPECT_THAT(OutputNames(*made), ElementsAre("featx_feat"));
  const Json& module = (*made)["graph_module"];
  EXPECT_EQ(Json::parse(module["module_call_graph"][0]["signature"]["out_spec"].get<std::string>())[1]["context"],
            R"(["feat"])");
  EXPECT_FALSE(module["graph"]["is_single_tensor_return"].get<bool>());
  EXPECT_TRUE(module["graph"]["tensor_values"].contains("featx_feat"));
  EXPECT_THAT(Json::parse(module["graph"]["nodes"][1]["metadata"]["custom"].get<std::string>())[kFeatxOutputKey],
              "feat");
  ASSERT_EQ(emitted.size(), 1);
  EXPECT_EQ(emitted[0].node, "relu");
}

TEST(ProgramOutputsTest, DictModeKeepsEveryNodeWhenTheProgramWritesState) {
  Json program = Program();
  Json& module = program["graph_module"];
  module["signature"]["output_specs"].insert(module["signature"]["output_specs"].begin(),
                                             Json{{"buffer_mutation", {{"arg", TensorArg("relu_")}}}});
  module["graph"]["outputs"].insert(module["graph"]["outputs"].begin(), TensorArg("relu_"));
  std::vector<ManifestEntry> emitted;
  absl::StatusOr<Json> made = AddProgramOutputs(program, {{"feat", "relu", "relu"}}, Mode::kDict, &emitted);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(Targets(*made).size(), 4);
  EXPECT_THAT(OutputNames(*made), ElementsAre("relu_", "featx_feat"));
}

TEST(ProgramOutputsTest, NamesAreFreshAndInputsAreClonedFirst) {
  Json program = Program();
  program["graph_module"]["graph"]["tensor_values"]["featx_x"] = Json::object();
  std::vector<ManifestEntry> emitted;
  absl::StatusOr<Json> made = AddProgramOutputs(program, {{"x", "x", "x"}}, Mode::kTuple, &emitted);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(Targets(*made).front(), "torch.ops.aten.clone.default");
  EXPECT_THAT(OutputNames(*made), ElementsAre("neg", "featx_x_1"));
}

TEST(ProgramOutputsTest, TupleModeNamesTheProgramsOwnOutputsFromItsTree) {
  const std::string ordered_dict =
      R"([1, {"type": "collections.OrderedDict", "context": "[\"out\", \"aux\"]", "children_spec": [)"
      R"({"type": null, "context": null, "children_spec": []}, {"type": null, "context": null, "children_spec": []}]}])";
  Json program = Program(ordered_dict);
  Json& module = program["graph_module"];
  module["graph"]["outputs"].push_back(TensorArg("relu_"));
  module["signature"]["output_specs"].push_back(Json{{"user_output", {{"arg", TensorArg("relu_")}}}});
  std::vector<ManifestEntry> emitted;
  absl::StatusOr<Json> made = AddProgramOutputs(program, {{"f", "relu", "relu"}}, Mode::kTuple, &emitted);
  ASSERT_TRUE(made.ok()) << made.status();
  std::vector<std::string> names;
  for (const ManifestEntry& entry : emitted) names.push_back(entry.name);
  EXPECT_THAT(names, ElementsAre("output.out", "output.aux", "f"));
  EXPECT_THAT(OutputNames(*made), ElementsAre("neg", "relu_", "featx_f"));
  EXPECT_EQ(Targets(*made).size(), 4);  // tuple mode drops nothing
}

TEST(ProgramOutputsTest, RefusesTapModeAndValuesThatAreNotTensors) {
  std::vector<ManifestEntry> emitted;
  EXPECT_THAT(AddProgramOutputs(Program(), {{"f", "relu", "relu"}}, Mode::kTap, &emitted).status().message(),
              HasSubstr("--mode=dict or --mode=tuple"));
  EXPECT_THAT(AddProgramOutputs(Program(), {{"f", "size", "s0"}}, Mode::kDict, &emitted).status().message(),
              HasSubstr("node 'size' is not a tensor"));
  EXPECT_THAT(AddProgramOutputs(Program(), {{"f", "chunk", ""}}, Mode::kDict, &emitted).status().message(),
              HasSubstr("node 'chunk' is not a tensor"));
  EXPECT_THAT(AddProgramOutputs(Json{{"graph_module", Json::object()}}, {{"f", "a", "a"}}, Mode::kDict, &emitted)
                  .status()
                  .message(),
              HasSubstr("not torch.export's schema"));
}

}  // namespace
}  // namespace featx
