#include "plugin/sinks.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "plugin/log.h"
#include "plugin/status.h"
#include "plugin/torch_save.h"

namespace featx {
namespace {

namespace fs = std::filesystem;

// Writes each request to its own file (via a temporary name, so a reader
// never sees half a file) and removes the oldest past the limit.
class Spool {
 public:
  Spool(std::string dir, int max_files) : dir_(std::move(dir)), max_files_(max_files) {}

  void Write(const Activations& activations) {
    const uint64_t n = next_.fetch_add(1);
    const std::string name = absl::StrFormat("featx-%d-%08d.pt", getpid(), n);
    const fs::path path = fs::path(dir_) / name;
    const fs::path partial = fs::path(dir_) / ("." + name + ".partial");
    std::vector<char> bytes = TorchSave(c10::IValue(activations));
    {
      std::ofstream out(partial, std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) {
        Log(absl::StrCat("featx: cannot write ", partial.string(), "; request activations dropped"));
        return;
      }
    }
    std::error_code ec;
    fs::rename(partial, path, ec);
    absl::MutexLock lock(&mutex_);
    written_.push_back(path);
    while (static_cast<int>(written_.size()) > max_files_) {
      fs::remove(written_.front(), ec);
      written_.pop_front();
    }
  }

 private:
  const std::string dir_;
  const int max_files_;
  std::atomic<uint64_t> next_{0};
  absl::Mutex mutex_;
  std::deque<fs::path> written_;
};

}  // namespace

std::string DescribeActivations(const Activations& activations) {
  std::vector<std::string> parts;
  for (const auto& item : activations) {
    const at::Tensor t = item.value().detach().to(at::kFloat);
    parts.push_back(absl::StrFormat("%s [%s] mean=%.4g std=%.4g min=%.4g max=%.4g", item.key(),
                                    absl::StrJoin(t.sizes(), ", "), t.mean().item<double>(),
                                    t.numel() > 1 ? t.std().item<double>() : 0.0, t.min().item<double>(),
                                    t.max().item<double>()));
  }
  return absl::StrCat("featx: request activations: ", absl::StrJoin(parts, "; "));
}

absl::Status InstallSinks(const SinkOptions& options) {
  if (!options.any()) {
    SetRequestSink(nullptr);
    return absl::OkStatus();
  }
  std::shared_ptr<Spool> spool;
  if (!options.spool_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.spool_dir, ec);
    if (ec || !fs::is_directory(options.spool_dir)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--featx_spool_dir=", options.spool_dir, ": cannot create the directory (", ec.message(), ")"));
    }
    spool = std::make_shared<Spool>(options.spool_dir, options.spool_max_files);
  }
  const bool log = options.log_activations;
  SetRequestSink([spool, log](const Activations& activations) {
    if (spool != nullptr) spool->Write(activations);
    if (log) Log(DescribeActivations(activations), /*level=*/0);
  });
  return absl::OkStatus();
}

}  // namespace featx
