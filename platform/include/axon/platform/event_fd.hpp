// A Linux eventfd in counter mode: a 64-bit counter in the kernel that notify() adds to and
// try_read() takes (and zeroes). It is readable (poll/epoll) while the counter is non-zero, which
// makes it the cheapest wake-up channel there is. Another process reaches it only through a
// passed descriptor (UnixSocket::send with SCM_RIGHTS, then EventFd::adopt).
#pragma once

#include <cstdint>
#include <tl/expected.hpp>
#include <utility>

#include "axon/platform/error.hpp"
#include "axon/platform/file_descriptor.hpp"

namespace axon::platform {

/// Non-blocking and close-on-exec. Move-only; closes its descriptor on destruction.
/// Thread-safety: notify() and try_read() may be called concurrently from any thread or process
/// (the kernel serialises them); the object itself must not be moved while in use.
class EventFd {
 public:
  /// Errors: LimitReached (out of descriptors), InsufficientMemory.
  static tl::expected<EventFd, Error> create();
  /// Takes ownership of a descriptor that is known to be an eventfd (e.g. received over a socket).
  static EventFd adopt(FileDescriptor fd);
  /// Takes ownership of a descriptor another process sent as an eventfd, after checking that it
  /// is one and non-blocking (a hostile sender could pass a full pipe to make notify() block).
  /// Errors: WrongType.
  static tl::expected<EventFd, Error> adopt_received(FileDescriptor fd);

  /// Adds `value` (< 2^64 - 1) to the counter.
  /// Errors: WouldBlock (the counter would overflow; nothing was added), InvalidArgument.
  tl::expected<void, Error> notify(std::uint64_t value = 1);
  /// Takes the whole counter and resets it to zero.
  /// Errors: WouldBlock (the counter was zero).
  tl::expected<std::uint64_t, Error> try_read();

  int fd() const { return m_fd.native(); }

 private:
  explicit EventFd(FileDescriptor fd) : m_fd(std::move(fd)) {}
  FileDescriptor m_fd;
};

}  // namespace axon::platform
