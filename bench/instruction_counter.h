// Counts the instructions the calling thread retires in user space, through
// Linux perf events: a measure of work that, unlike wall time, does not move
// with the load of a shared, noisy machine. Benchmarks that compare a few
// percent of difference report it beside time.
//
//   InstructionCounter counter;            // per thread
//   if (counter.ok()) { counter.Start(); work(); uint64_t n = counter.Stop(); }
#pragma once

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

class InstructionCounter {
 public:
  InstructionCounter() {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    fd_ = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  }
  ~InstructionCounter() {
    if (fd_ >= 0) close(fd_);
  }
  InstructionCounter(const InstructionCounter&) = delete;
  InstructionCounter& operator=(const InstructionCounter&) = delete;

  // False where perf events are not allowed (containers, paranoid kernels).
  bool ok() const { return fd_ >= 0; }

  void Start() {
    ioctl(fd_, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
  }

  uint64_t Stop() {
    ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t count = 0;
    if (read(fd_, &count, sizeof(count)) != sizeof(count)) return 0;
    return count;
  }

 private:
  int fd_ = -1;
};
