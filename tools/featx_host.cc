// featx_host: the reference serving host. Shaped like a model server's load
// path, it knows featx only through the plugin's C entry points:
//
//   featx_host --model=M.pt --plugin=path/libfeatx.so --input=X.pt --requests=N --threads=T
//              [--featx_return_nodes=... --featx_mode=... (or FEATX_FLAGS)]
//
// It loads the plugin first, passes the --featx_* flags of its command line
// to featx_instrument (the plugin keeps its flag registry to itself, so a
// host's abseil never sees them; --helpfull lists them through
// featx_flags_help), parses its own flags, installs its own
// c10::WarningHandler (featx's warnings arrive prefixed `[featx_host]`),
// loads the model, rewrites it in place through featx_instrument, then
// serves N requests on T threads, each in its own capture, request i on
// input * (1 + i / N), printing each request's output (a tuple's by Triton's
// names, OUTPUT__i) and captured tags. Like Triton's PyTorch backend it serves
// under c10::InferenceMode, and takes featx's ops by LD_PRELOAD as well as
// by --plugin.
// A request that throws is reported and the others are served. Exit status:
// 0 all served; 1 some requests failed; 2 featx_instrument refused (the
// model was served unchanged). It runs on a 1 GiB reserved stack, so deeply
// nested models load.
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/script.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/c_api.h"
#include "plugin/torch_compat.h"
#include "tools/large_stack.h"
#include "tools/model_files.h"

ABSL_FLAG(std::string, model, "", "TorchScript model to serve (torch.jit.save).");
ABSL_FLAG(std::string, plugin, "", "Path of libfeatx.so; loaded before the command line is parsed.");
ABSL_FLAG(std::string, input, "", "Input tensor (Python's torch.save).");
ABSL_FLAG(int32_t, requests, 4, "Requests to serve.");
ABSL_FLAG(int32_t, threads, 1, "Threads serving them.");
ABSL_FLAG(std::string, featx, "", "Extra flags for featx_instrument, as one string, after the --featx_* flags here.");
ABSL_FLAG(bool, rewrite, true,
          "Rewrite the model through featx_instrument; false serves it as loaded (for baselines).");
ABSL_FLAG(bool, capture, true,
          "Open a capture around each request; false leaves the activations to the model's sink "
          "(--featx_spool_dir, --featx_log_activations), as a host that knows nothing of featx.");
ABSL_FLAG(bool, quiet, false, "Print only the time spent serving, not each request.");
ABSL_FLAG(bool, inference_mode, true,
          "Serve under c10::InferenceMode, as Triton's PyTorch backend does by default (its INFERENCE_MODE "
          "parameter); false serves under torch::NoGradGuard only.");

namespace {

std::mutex print_mutex;

// The host's logging: every torch warning, featx's among them.
class HostWarningHandler : public featx::compat::WarningHandler {
 public:
  void Handle(const std::string& message) override {
    std::lock_guard<std::mutex> lock(print_mutex);
    std::fprintf(stderr, "[featx_host] warning: %s\n", message.c_str());
  }
};

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "featx_host: %s\n", message.c_str());
  return 1;
}

std::string Shape(const at::Tensor& t) { return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]"); }

// --plugin=PATH or --plugin PATH, before absl knows the plugin's flags.
std::string PluginPath(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--plugin=", 9) == 0) return argv[i] + 9;
    if (std::strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) return argv[i + 1];
  }
  return "";
}

// A request's answer: a tensor's shape and sum; a tuple's tensors by Triton's
// names (OUTPUT__i), as a tuple-mode model answers Triton.
// What a failed request says: torch's interpreter errors open with "The
// following operation failed in the TorchScript interpreter." and a
// TorchScript traceback, and say what went wrong on their last line
// ("RuntimeError: Given groups=1, weight of size [64, 3, 7, 7], expected ...").
std::string RequestError(const std::exception& e) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  const std::string what = torch_error != nullptr ? torch_error->what_without_backtrace() : e.what();
  std::vector<absl::string_view> lines = absl::StrSplit(what, '\n', absl::SkipWhitespace());
  if (lines.empty()) return "an error without a message";
  if (absl::StartsWith(lines.front(), "The following operation failed in the TorchScript interpreter") &&
      lines.size() > 1) {
    return absl::StrCat("the model raised ", absl::StripAsciiWhitespace(lines.back()));
  }
  return std::string(lines.front());
}

std::string Describe(const c10::IValue& out) {
  auto tensor = [](const at::Tensor& t) { return absl::StrFormat("%s sum=%.6g", Shape(t), t.sum().item<double>()); };
  if (out.isTensor()) return tensor(out.toTensor());
  if (!out.isTuple()) return out.tagKind();
  std::vector<std::string> parts;
  for (const c10::IValue& element : out.toTupleRef().elements()) {
    parts.push_back(absl::StrCat("OUTPUT__", parts.size(), " ",
                                 element.isTensor() ? tensor(element.toTensor()) : element.tagKind()));
  }
  return absl::StrCat("(", absl::StrJoin(parts, "; "), ")");
}

template <typename Fn>
Fn Symbol(void* lib, const char* name) {
  return reinterpret_cast<Fn>(dlsym(lib, name));
}

// This command line without its --featx_* flags, and those flags as one
// string for featx_instrument.
struct SplitCommandLine {
  std::vector<char*> own;
  std::string featx_flags;
};

SplitCommandLine SplitFeatxFlags(int argc, char** argv) {
  SplitCommandLine split;
  for (int i = 0; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (i > 0 && (absl::StartsWith(arg, "--featx_") || absl::StartsWith(arg, "--nofeatx_"))) {
      absl::StrAppend(&split.featx_flags, split.featx_flags.empty() ? "" : " ", arg);
    } else {
      split.own.push_back(argv[i]);
    }
  }
  return split;
}

// The plugin's flags, for --help and --helpfull.
std::string FeatxFlagsHelp(void* plugin) {
  auto flags_help = Symbol<featx_flags_help_fn>(plugin, "featx_flags_help");
  if (flags_help == nullptr) return "";
  std::string help(flags_help(nullptr, 0), '\0');
  flags_help(help.data(), help.size() + 1);
  return absl::StrCat("\n\n  Flags of the plugin (on this command line, in --featx or in FEATX_FLAGS):\n", help);
}

// featx's C entry points, from the plugin or (without --plugin) from the
// process as started: a Triton-style host gets custom ops by LD_PRELOAD.
struct Plugin {
  std::string path;
  void* handle = nullptr;
  featx_instrument_fn instrument = nullptr;
  featx_capture_begin_fn capture_begin = nullptr;
  featx_capture_end_fn capture_end = nullptr;
};

absl::StatusOr<Plugin> OpenPlugin(int argc, char** argv) {
  Plugin plugin;
  plugin.path = PluginPath(argc, argv);
  plugin.handle = plugin.path.empty() ? dlopen(nullptr, RTLD_NOW) : dlopen(plugin.path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (plugin.handle == nullptr) return absl::UnavailableError(absl::StrCat("cannot load the plugin: ", dlerror()));
  plugin.instrument = Symbol<featx_instrument_fn>(plugin.handle, "featx_instrument");
  plugin.capture_begin = Symbol<featx_capture_begin_fn>(plugin.handle, "featx_capture_begin");
  plugin.capture_end = Symbol<featx_capture_end_fn>(plugin.handle, "featx_capture_end");
  return plugin;
}

// Parses this command line, once the plugin is loaded (--help lists its
// flags); returns the flags for featx_instrument.
std::string ParseCommandLine(const Plugin& plugin, int argc, char** argv) {
  absl::SetProgramUsageMessage(
      absl::StrCat("featx_host --model=M.pt --plugin=libfeatx.so --input=X.pt --requests=N --threads=T [--featx_...]\n"
                   "featx_host --model=R.pt --input=X.pt --rewrite=false [--capture=false]   (R.pt rewritten offline; "
                   "LD_PRELOAD=libfeatx.so for tap mode, as Triton takes custom ops)",
                   FeatxFlagsHelp(plugin.handle)));
  SplitCommandLine command_line = SplitFeatxFlags(argc, argv);
  absl::ParseCommandLine(static_cast<int>(command_line.own.size()), command_line.own.data());
  return absl::StrCat(command_line.featx_flags, " ", absl::GetFlag(FLAGS_featx));
}

// Serves one request in its own capture, printing its answer; false when
// the model raised (an error answer: the server goes on).
bool ServeRequest(const Plugin& plugin, torch::jit::Module& model, const at::Tensor& x, int i) {
  const bool capture = absl::GetFlag(FLAGS_capture);
  char err[1024];
  c10::Dict<std::string, at::Tensor> captured;
  if (capture) plugin.capture_begin(err, sizeof err);
  c10::IValue out;
  try {
    out = model.forward({x});
  } catch (const std::exception& e) {
    if (capture) plugin.capture_end(nullptr, err, sizeof err);
    const std::string message = RequestError(e);
    std::lock_guard<std::mutex> lock(print_mutex);
    std::fprintf(stderr, "featx_host: request %d failed: %s\n", i, message.c_str());
    return false;
  }
  if (capture && plugin.capture_end(&captured, err, sizeof err) != 0) {
    std::lock_guard<std::mutex> lock(print_mutex);
    std::fprintf(stderr, "featx_host: request %d: %s\n", i, err);
    return true;
  }
  if (absl::GetFlag(FLAGS_quiet)) return true;
  std::vector<std::string> tags;
  for (const auto& item : captured) {
    tags.push_back(
        absl::StrFormat("%s %s sum=%.6g", item.key(), Shape(item.value()), item.value().sum().item<double>()));
  }
  const std::string output = Describe(out);
  std::lock_guard<std::mutex> lock(print_mutex);
  std::printf("request %d: output %s; captured %s\n", i, output.c_str(), absl::StrJoin(tags, "; ").c_str());
  return true;
}

// Serves --requests on --threads threads, request i on input * (1 + i / N),
// each thread as a server's: the host's warning handler, no autograd.
// Returns how many failed.
int ServeRequests(const Plugin& plugin, torch::jit::Module& model, const at::Tensor& input,
                  HostWarningHandler& warnings) {
  const int requests = absl::GetFlag(FLAGS_requests);
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  const auto start = std::chrono::steady_clock::now();
  std::atomic<int> failed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      featx::compat::WarningHandlerGuard guard(&warnings);
      torch::NoGradGuard no_grad;
      c10::InferenceMode inference(absl::GetFlag(FLAGS_inference_mode));
      for (int i = t; i < requests; i += threads) {
        if (!ServeRequest(plugin, model, input * (1.0 + static_cast<double>(i) / requests), i)) ++failed;
      }
    });
  }
  for (std::thread& t : pool) t.join();
  std::fprintf(stderr, "featx_host: served %d requests on %d threads in %.1f ms%s\n", requests, threads,
               MillisecondsSince(start), failed > 0 ? absl::StrCat(" (", failed.load(), " failed)").c_str() : "");
  return failed;
}

int Serve(int argc, char** argv) {
  absl::StatusOr<Plugin> plugin = OpenPlugin(argc, argv);
  if (!plugin.ok()) return Fail(std::string(plugin.status().message()));
  const std::string featx_flags = ParseCommandLine(*plugin, argc, argv);

  HostWarningHandler warnings;
  featx::compat::SetWarningHandler(&warnings);
  const bool rewrite = absl::GetFlag(FLAGS_rewrite);
  const bool needs_featx = rewrite || absl::GetFlag(FLAGS_capture);
  if (needs_featx &&
      (plugin->instrument == nullptr || plugin->capture_begin == nullptr || plugin->capture_end == nullptr)) {
    return Fail(plugin->path.empty()
                    ? "give --plugin=path/to/libfeatx.so, or LD_PRELOAD it (or serve with --rewrite=false "
                      "--capture=false)"
                    : "the plugin lacks featx's C entry points");
  }

  const auto load_start = std::chrono::steady_clock::now();
  absl::StatusOr<torch::jit::Module> model = featx::LoadModel(absl::GetFlag(FLAGS_model));
  if (!model.ok()) return Fail(absl::StrCat("--model: ", model.status().message()));
  model->eval();
  const double load_ms = MillisecondsSince(load_start);
  absl::StatusOr<at::Tensor> input = featx::LoadTensor(absl::GetFlag(FLAGS_input));
  if (!input.ok()) return Fail(absl::StrCat("--input: ", input.status().message()));

  char error[2048];
  const auto rewrite_start = std::chrono::steady_clock::now();
  const bool instrumented = !rewrite || plugin->instrument(&*model, featx_flags.c_str(), error, sizeof error) == 0;
  // A server's start-up: the load, then featx's share (bench/startup_bench.py).
  std::fprintf(stderr, "featx_host: loaded the model in %.2f ms, featx_instrument took %.2f ms\n", load_ms,
               rewrite ? MillisecondsSince(rewrite_start) : 0.0);
  if (!instrumented) {
    // The model is as it was: serve it unchanged, as a server would.
    std::fprintf(stderr, "featx_host: featx_instrument failed: %s; serving the model unchanged\n", error);
  }
  const int failed = ServeRequests(*plugin, *model, *input, warnings);
  if (!instrumented) return 2;
  return failed > 0 ? 1 : 0;
}

}  // namespace

// Loading a deeply nested model recurses deep in torch::jit::load: the host
// runs on a large stack, as the featx command line does (tools/large_stack.h).
int main(int argc, char** argv) {
  return featx::RunWithLargeStack([&] { return Serve(argc, argv); });
}
