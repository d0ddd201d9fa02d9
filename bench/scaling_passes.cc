// One model through featx, pass by pass: the CPU time of each registered
// pass of the naming pipeline and of the load-time rewrite in each mode, the
// install, a save and a load of the result beside the plain model's, torch's
// own copy of a graph that size (the floor), and the process's peak RSS.
// bench/scaling.py runs it once per model (a fresh process each, so the peak
// is this model's) and fits the slopes. The pipelines run --rounds times
// each, every run reported; scaling.py keeps each step's fastest.
//
//   scaling_passes --model=deep_10000.pt --return_nodes=a,b,c
//
// Prints one JSON object per line: {"step": "...", "seconds": 0.12}, then
// {"peak_rss_mb": ...}.
#include <sys/resource.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "plugin/featx.h"
#include "plugin/pipeline/install_forward.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/pipeline/pipeline.h"
#include "plugin/pipeline/rewrite.h"

ABSL_FLAG(std::string, model, "", "TorchScript model to rewrite");
ABSL_FLAG(std::vector<std::string>, return_nodes, {}, "nodes to extract (default: the last eval node)");
ABSL_FLAG(int, names_only, 0, "run only the naming pipeline, this many times (to profile it)");
ABSL_FLAG(int, rounds, 3,
          "run the naming pipeline and each mode's rewrite this many times, each reported (the first also "
          "compiles the model's methods, which torch does lazily once per process)");
ABSL_FLAG(int, extract_only, 0, "run only CreateFeatureExtractor (dict mode), this many times (to profile it)");

namespace {

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

void Report(const std::string& step, double seconds) {
  std::printf("{\"step\": \"%s\", \"seconds\": %.6f}\n", step.c_str(), seconds);
  std::fflush(stdout);
}

template <typename F>
auto Timed(const std::string& step, F&& f) {
  const double start = CpuSeconds();
  auto result = f();
  Report(step, CpuSeconds() - start);
  return result;
}

void Check(const absl::Status& status, const std::string& what) {
  if (status.ok()) return;
  std::fprintf(stderr, "scaling_passes: %s: %s\n", what.c_str(), std::string(status.message()).c_str());
  std::exit(1);
}

// Runs `passes` one at a time on a fresh rewrite, reporting each as
// "<prefix>/<pass>".
featx::Rewrite RunTimed(const torch::jit::Module& model, const featx::ExtractorOptions& options,
                        const std::vector<std::string>& passes, const std::string& prefix) {
  absl::StatusOr<featx::Rewrite> rewrite = featx::Rewrite::Start(model, options);
  Check(rewrite.status(), "start");
  rewrite->passes_planned = passes;  // as RunPasses would
  for (const std::string& pass : passes) {
    Check(Timed(prefix + "/" + pass, [&] { return featx::RunPass(pass, *rewrite); }), pass);
  }
  return *std::move(rewrite);
}

double SaveSeconds(const torch::jit::Module& module, std::string* bytes) {
  const double start = CpuSeconds();
  std::ostringstream out;
  module.save(out);
  *bytes = out.str();
  return CpuSeconds() - start;
}

double LoadSeconds(const std::string& bytes) {
  const double start = CpuSeconds();
  std::istringstream in(bytes);
  torch::jit::Module loaded = torch::jit::load(in);
  return CpuSeconds() - start;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  at::set_num_threads(1);
  torch::jit::Module model = Timed("load_plain", [] { return torch::jit::load(absl::GetFlag(FLAGS_model)); });
  model.eval();

  if (const int times = absl::GetFlag(FLAGS_extract_only); times > 0) {
    featx::ExtractorOptions options{.return_nodes = absl::GetFlag(FLAGS_return_nodes)};
    options.suppress_diff_warning = true;
    for (int i = 0; i < times; ++i) {
      Check(Timed("extractor", [&] { return featx::CreateFeatureExtractor(model, options); }).status(), "extract");
    }
    return 0;
  }
  featx::Rewrite named = RunTimed(model, {}, featx::NamingPipeline({}), "names");
  for (int i = 1; i < absl::GetFlag(FLAGS_rounds) && absl::GetFlag(FLAGS_names_only) == 0; ++i) {
    RunTimed(model, {}, featx::NamingPipeline({}), "names");
  }
  if (absl::GetFlag(FLAGS_names_only) > 0) {
    for (int i = 1; i < absl::GetFlag(FLAGS_names_only); ++i) RunTimed(model, {}, featx::NamingPipeline({}), "names");
    return 0;
  }
  // The floor under every pass that builds a graph: torch itself copying
  // and freeing a graph of the same size (the named one).
  for (int i = 0; i < absl::GetFlag(FLAGS_rounds); ++i) {
    const double start = CpuSeconds();
    named.eval->named.graph->copy().reset();
    Report("floor/graph_copy", CpuSeconds() - start);
  }
  std::vector<std::string> nodes = absl::GetFlag(FLAGS_return_nodes);
  if (nodes.empty()) nodes = {named.eval->named.nodes.back().name};

  std::string plain_bytes;
  Report("save_plain", SaveSeconds(model, &plain_bytes));
  Report("load_plain_from_memory", LoadSeconds(plain_bytes));

  for (featx::Mode mode : {featx::Mode::kDict, featx::Mode::kTuple, featx::Mode::kTap}) {
    const std::string prefix(featx::ModeName(mode));
    featx::ExtractorOptions options{.return_nodes = nodes, .mode = mode};
    options.suppress_diff_warning = true;
    featx::Rewrite rewrite = RunTimed(model, options, featx::LoadTimePipeline(options), prefix);
    for (int i = 1; i < absl::GetFlag(FLAGS_rounds); ++i) {
      rewrite = RunTimed(model, options, featx::LoadTimePipeline(options), prefix);
    }
    absl::StatusOr<torch::jit::Module> rewritten =
        Timed(prefix + "/install", [&] { return featx::WithForward(model, rewrite.forward); });
    Check(rewritten.status(), "install");
    std::string bytes;
    Report(prefix + "/save", SaveSeconds(*rewritten, &bytes));
    Report(prefix + "/load", LoadSeconds(bytes));
  }

  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"peak_rss_mb\": %.1f}\n", usage.ru_maxrss / 1024.0);
  return 0;
}
