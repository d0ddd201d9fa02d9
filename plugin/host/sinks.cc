#include "plugin/host/sinks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "plugin/host/torch_save.h"
#include "plugin/log.h"
#include "plugin/status.h"

namespace featx {
namespace {

namespace fs = std::filesystem;

// Requests waiting for the writer; past this a request's activations are
// dropped rather than held in memory or waited for.
constexpr size_t kQueueLimit = 64;
constexpr absl::Duration kLogInterval = absl::Seconds(10);
// A temporary file this old was left by a process that died mid-write.
constexpr auto kStalePartial = std::chrono::hours(1);

std::atomic<uint64_t> files_written{0};
std::atomic<uint64_t> activations_dropped{0};

// Counts each dropped request; logs the first and then at most one line per
// interval, so a full disk does not flood the host's log.
class DropLog {
 public:
  void Drop(const std::string& why) {
    activations_dropped.fetch_add(1, std::memory_order_relaxed);
    std::string line;
    {
      absl::MutexLock lock(&mutex_);
      const absl::Time now = absl::Now();
      if (now - last_ < kLogInterval) {
        ++unlogged_;
        return;
      }
      line = absl::StrCat("featx: request activations dropped: ", why,
                          unlogged_ > 0 ? absl::StrCat(" (and ", unlogged_, " more since the last message)") : "");
      last_ = now;
      unlogged_ = 0;
    }
    // Logging goes to the host's handler, which may throw; the request must
    // not see it.
    try {
      Log(line);
    } catch (...) {
    }
  }

 private:
  absl::Mutex mutex_;
  absl::Time last_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  uint64_t unlogged_ ABSL_GUARDED_BY(mutex_) = 0;
};

DropLog& Drops() {
  static auto* drops = new DropLog();
  return *drops;
}

// Spool file names are `featx-<pid>-<nonce>-<n>.pt`: a restarted server may
// get its old pid back, never its nonce.
const std::string& ProcessNonce() {
  static const auto* nonce = new std::string(absl::StrFormat("%08x", std::random_device()()));
  return *nonce;
}
std::atomic<uint64_t> next_file{0};

std::string Errno(int error) { return std::strerror(error); }

bool IsSpoolFile(const std::string& name) { return absl::StartsWith(name, "featx-") && absl::EndsWith(name, ".pt"); }

// Creates `dir/.<name>.XXXXXX` with O_CREAT | O_EXCL, mode 0600: a link or
// file already there is never followed or reused. The path, and the fd.
std::pair<std::string, int> CreateTemporary(const std::string& dir, const std::string& name) {
  std::string path = absl::StrCat(dir, "/.", name, ".XXXXXX");
  const int fd = mkostemp(path.data(), O_CLOEXEC);
  return {path, fd};
}

absl::Status WriteAll(int fd, const std::vector<char>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(Errno(n < 0 ? errno : ENOSPC));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Moves `from` to `to` unless `to` exists (never replaces a file).
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // A file system without RENAME_NOREPLACE: link(2) refuses an existing name.
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  ::unlink(from.c_str());
  return 0;
}

// One spool directory: the request thread queues serialized activations, a
// writer thread writes them and keeps the directory's bound. The writer owns
// its state, so dropping the last reference to a Spool (a sink replaced while
// a request ends) never waits for the disk: the writer finishes the queue
// on its own and exits.
class Spool {
 public:
  Spool(std::string dir, int max_files) : state_(std::make_shared<State>(std::move(dir), max_files)) {
    std::thread([state = state_] { state->WriteLoop(); }).detach();
  }

  ~Spool() {
    absl::MutexLock lock(&state_->mutex);
    state_->stopping = true;
  }

  // On the request thread: serializes (the tensors may change after the
  // request) and queues; never blocks on the disk.
  void Submit(const Activations& activations) {
    std::vector<char> bytes;
    try {
      bytes = TorchSave(c10::IValue(activations));
    } catch (const std::exception& e) {
      Drops().Drop(absl::StrCat("cannot serialize them (", e.what(), ")"));
      return;
    }
    {
      absl::MutexLock lock(&state_->mutex);
      if (state_->queue.size() < kQueueLimit) {
        state_->queue.push_back(std::move(bytes));
        return;
      }
    }
    Drops().Drop(absl::StrCat(kQueueLimit, " requests already wait for ", state_->dir, " (a slow or stuck disk)"));
  }

  bool WaitUntilIdle(absl::Time deadline) {
    absl::MutexLock lock(&state_->mutex);
    return state_->mutex.AwaitWithDeadline(absl::Condition(state_.get(), &State::Idle), deadline);
  }

 private:
  struct State {
    State(std::string dir, int max_files) : dir(std::move(dir)), max_files(max_files) {}

    // absl::Mutex wakes waiters whose condition holds whenever it is
    // released, so nothing here notifies.
    void WriteLoop() {
      absl::MutexLock lock(&mutex);
      while (true) {
        mutex.Await(absl::Condition(this, &State::HasWorkOrStops));
        if (queue.empty()) return;  // stopping, and nothing left to write
        std::vector<char> bytes = std::move(queue.front());
        queue.pop_front();
        busy = true;
        mutex.Unlock();
        absl::Status status = WriteFile(bytes);
        if (status.ok()) {
          files_written.fetch_add(1, std::memory_order_relaxed);
          KeepBound();
        } else {
          Drops().Drop(std::string(status.message()));
        }
        mutex.Lock();
        busy = false;
      }
    }

    bool HasWorkOrStops() const { return stopping || !queue.empty(); }
    bool Idle() const { return queue.empty() && !busy; }

    // Whole or not at all: a temporary file, checked at every step, renamed
    // into place only when complete.
    absl::Status WriteFile(const std::vector<char>& bytes) const {
      const std::string name = absl::StrFormat("featx-%d-%s-%08d.pt", getpid(), ProcessNonce(), next_file.fetch_add(1));
      auto [partial, fd] = CreateTemporary(dir, name);
      if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create a file in ", dir));
      absl::Status status = WriteAll(fd, bytes);
      if (::close(fd) != 0 && status.ok()) status = absl::UnavailableError(Errno(errno));
      if (status.ok() && RenameNoReplace(partial, absl::StrCat(dir, "/", name)) != 0) {
        status = absl::UnavailableError(absl::StrCat("cannot rename it into place: ", Errno(errno)));
      }
      if (!status.ok()) {
        ::unlink(partial.c_str());
        return absl::UnavailableError(absl::StrCat("writing ", dir, "/", name, ": ", status.message()));
      }
      return absl::OkStatus();
    }

    // The directory's bound, whoever wrote the files: the oldest go first.
    void KeepBound() const {
      std::error_code ec;
      std::vector<std::pair<fs::file_time_type, fs::path>> files;
      for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        std::error_code entry_ec;
        if (!IsSpoolFile(entry.path().filename().string()) ||
            entry.symlink_status(entry_ec).type() != fs::file_type::regular) {
          continue;
        }
        const fs::file_time_type time = entry.last_write_time(entry_ec);
        if (!entry_ec) files.emplace_back(time, entry.path());
      }
      if (static_cast<int>(files.size()) <= max_files) return;
      std::sort(files.begin(), files.end());
      for (size_t i = 0; i + max_files < files.size(); ++i) fs::remove(files[i].second, ec);
    }

    const std::string dir;
    const int max_files;
    absl::Mutex mutex;
    std::deque<std::vector<char>> queue;
    bool busy = false;
    bool stopping = false;
  };

  std::shared_ptr<State> state_;
};

// Every live spool, for FlushSinks.
ABSL_CONST_INIT absl::Mutex spools_mutex(absl::kConstInit);
std::vector<std::weak_ptr<Spool>>& Spools() {
  static auto* spools = new std::vector<std::weak_ptr<Spool>>();
  return *spools;
}

// Creates the directory (0700) if needed and checks that it takes a file;
// removes temporary files a dead process left.
absl::Status PrepareSpoolDir(const std::string& dir) {
  const std::string flag = absl::StrCat("--featx_spool_dir=", dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return ErrnoStatus(ec.value(), absl::StrCat(flag, ": cannot create the directory"));
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  if (!fs::is_directory(dir, ec)) return absl::InvalidArgumentError(absl::StrCat(flag, ": not a directory"));
  auto [probe, fd] = CreateTemporary(dir, "featx-probe");
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat(flag, ": cannot write a file there"));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  const auto now = fs::file_time_type::clock::now();
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::error_code entry_ec;
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, ".featx-") && entry.symlink_status(entry_ec).type() == fs::file_type::regular &&
        now - entry.last_write_time(entry_ec) > kStalePartial) {
      fs::remove(entry.path(), entry_ec);
    }
  }
  return absl::OkStatus();
}

std::string Describe(const std::string& tag, const at::Tensor& value) {
  try {
    const std::string shape = absl::StrCat("[", absl::StrJoin(value.sizes(), ", "), "]");
    if (value.numel() == 0) return absl::StrCat(tag, " ", shape, " empty");
    at::Tensor t = value.detach();
    if (t.is_quantized()) t = t.dequantize();
    t = t.to(at::kFloat);
    return absl::StrFormat("%s %s mean=%.4g std=%.4g min=%.4g max=%.4g", tag, shape, t.mean().item<double>(),
                           t.numel() > 1 ? t.std().item<double>() : 0.0, t.min().item<double>(),
                           t.max().item<double>());
  } catch (const std::exception& e) {
    return absl::StrCat(tag, " (cannot describe: ", e.what(), ")");
  }
}

}  // namespace

std::string DescribeActivations(const Activations& activations) {
  std::vector<std::string> parts;
  for (const auto& item : activations) parts.push_back(Describe(item.key(), item.value()));
  return absl::StrCat("featx: request activations: ", absl::StrJoin(parts, "; "));
}

absl::StatusOr<RequestSink> MakeSink(const SinkOptions& options) {
  if (!options.any()) return RequestSink();
  std::shared_ptr<Spool> spool;
  if (!options.spool_dir.empty()) {
    if (options.spool_max_files < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--featx_spool_max_files=", options.spool_max_files, ": keep at least one file"));
    }
    if (absl::Status status = PrepareSpoolDir(options.spool_dir); !status.ok()) return status;
    spool = std::make_shared<Spool>(options.spool_dir, options.spool_max_files);
    absl::MutexLock lock(&spools_mutex);
    Spools().push_back(spool);
  }
  const bool log = options.log_activations;
  return RequestSink([spool, log](const Activations& activations) {
    if (spool != nullptr) spool->Submit(activations);
    if (log) {
      try {
        Log(DescribeActivations(activations), /*level=*/0);
      } catch (const std::exception& e) {
        Drops().Drop(absl::StrCat("the host's log threw (", e.what(), ")"));
      } catch (...) {
        Drops().Drop("the host's log threw");
      }
    }
  });
}

std::string NewSinkKey() {
  static std::atomic<uint64_t> next{0};
  return absl::StrFormat("featx-sink-%d-%s-%d", getpid(), ProcessNonce(), next.fetch_add(1));
}

SinkCounters GetSinkCounters() {
  return {files_written.load(std::memory_order_relaxed), activations_dropped.load(std::memory_order_relaxed)};
}

bool FlushSinks(absl::Duration timeout) {
  const absl::Time deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  std::vector<std::shared_ptr<Spool>> live;
  {
    absl::MutexLock lock(&spools_mutex);
    auto& spools = Spools();
    spools.erase(std::remove_if(spools.begin(), spools.end(), [](const auto& s) { return s.expired(); }), spools.end());
    for (const auto& weak : spools) {
      if (auto spool = weak.lock()) live.push_back(std::move(spool));
    }
  }
  bool all = true;
  for (const auto& spool : live) all = spool->WaitUntilIdle(deadline) && all;
  return all;
}

}  // namespace featx
