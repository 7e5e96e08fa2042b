// A timer that is a descriptor (timerfd on CLOCK_MONOTONIC): it becomes readable when it expires,
// so deadlines and intervals sit in the same epoll set as every other event source.
#pragma once

#include <chrono>
#include <cstdint>
#include <tl/expected.hpp>
#include <utility>

#include "axon/platform/error.hpp"
#include "axon/platform/file_descriptor.hpp"

namespace axon::platform {

/// Non-blocking and close-on-exec; move-only. Thread-safety: all methods are single system calls;
/// concurrent arm() calls race in the obvious way (the last one wins).
class TimerFd {
 public:
  /// Errors: LimitReached (out of descriptors), InsufficientMemory.
  static tl::expected<TimerFd, Error> create();

  /// First expiry after `initial` (zero or less counts as 1 ns, since zero would disarm), then
  /// every `interval` (zero: once). Re-arming discards expirations not yet read.
  /// Errors: InvalidArgument (negative interval).
  tl::expected<void, Error> arm(std::chrono::nanoseconds initial,
                                std::chrono::nanoseconds interval);
  /// Stops the timer; expirations not yet read are discarded.
  tl::expected<void, Error> disarm();
  /// How many times the timer expired since the last read or arm.
  /// Errors: WouldBlock (it has not expired).
  tl::expected<std::uint64_t, Error> try_read();

  int fd() const { return m_fd.native(); }

 private:
  explicit TimerFd(FileDescriptor fd) : m_fd(std::move(fd)) {}
  FileDescriptor m_fd;
};

}  // namespace axon::platform
