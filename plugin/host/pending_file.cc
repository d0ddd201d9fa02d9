#include "plugin/host/pending_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/status.h"

namespace featx {
namespace {

// The mode a new file gets from the umask (mkostemp makes 0600).
mode_t DefaultFileMode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

absl::StatusOr<PendingFile> PendingFile::Create(const std::string& destination) {
  const std::filesystem::path path(destination);
  if (destination.empty() || path.filename().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", destination, "' names no file"));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write '", destination, "': it is a directory"));
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string temporary = (dir / absl::StrCat(".", path.filename().string(), ".featx-XXXXXX")).string();
  const int fd = mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot write '", destination, "'"));
  ::fchmod(fd, DefaultFileMode());
  ::close(fd);
  return PendingFile(destination, std::move(temporary));
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : destination_(std::move(other.destination_)), temporary_(std::exchange(other.temporary_, "")) {}

PendingFile& PendingFile::operator=(PendingFile&& other) noexcept {
  if (this != &other) {
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
    destination_ = std::move(other.destination_);
    temporary_ = std::exchange(other.temporary_, "");
  }
  return *this;
}

PendingFile::~PendingFile() {
  if (!temporary_.empty()) ::unlink(temporary_.c_str());
}

absl::Status PendingFile::Write(absl::string_view bytes) {
  const std::string what = absl::StrCat("cannot write '", destination_, "'");
  const int fd = ::open(temporary_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus(errno, what);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      return ErrnoStatus(error, what);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return ErrnoStatus(errno, what);
  return absl::OkStatus();
}

absl::Status PendingFile::Commit() {
  if (temporary_.empty()) return absl::FailedPreconditionError(absl::StrCat("'", destination_, "' was committed"));
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot write '", destination_, "'"));
  }
  temporary_.clear();
  return absl::OkStatus();
}

}  // namespace featx
