// An epoll instance: the readiness multiplexer under the WaitSet. Each registration carries a
// 64-bit token (`data`) that comes back in the epoll_event of a ready descriptor. Level-triggered
// unless the caller adds EPOLLET: readiness that is not consumed is reported again on the next
// wait, so a caller that does not read a ready descriptor spins.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <tl/expected.hpp>

#include "axon/platform/error.hpp"
#include "axon/platform/file_descriptor.hpp"

namespace axon::platform {

/// Close-on-exec; move-only; closing it drops every registration. Its own fd is readable while
/// any registered descriptor is ready, so it can nest in another poll loop.
/// Thread-safety: add/modify/remove may run while another thread waits (the kernel serialises).
class Epoll {
 public:
  /// Errors: LimitReached (out of descriptors or epoll instances), InsufficientMemory.
  static tl::expected<Epoll, Error> create();

  /// `events` is an EPOLLIN/EPOLLOUT/... mask. Errors: AlreadyExists (fd is registered),
  /// InvalidArgument (fd cannot be polled, e.g. a regular file or this epoll itself).
  tl::expected<void, Error> add(int fd, std::uint32_t events, std::uint64_t data);
  /// Replaces the mask and token of a registered fd. Errors: DoesNotExist (not registered).
  tl::expected<void, Error> modify(int fd, std::uint32_t events, std::uint64_t data);
  /// Errors: DoesNotExist (not registered).
  tl::expected<void, Error> remove(int fd);

  /// Waits until at least one registered fd is ready or `timeout` passes (nullopt: for ever;
  /// zero: just look). Fills `out` from the front; returns how many entries (0 on timeout).
  /// The wait is never shorter than `timeout`: sub-millisecond parts round up.
  /// Errors: Interrupted (a signal arrived: not retried, so the caller can look at its flags;
  /// recompute the timeout from a Deadline before waiting again), InvalidArgument (empty `out`).
  tl::expected<std::size_t, Error> wait(std::span<epoll_event> out,
                                        std::optional<std::chrono::nanoseconds> timeout);

  int fd() const { return m_fd.native(); }

 private:
  explicit Epoll(FileDescriptor fd) : m_fd(std::move(fd)) {}
  FileDescriptor m_fd;
};

}  // namespace axon::platform
