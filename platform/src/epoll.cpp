#include "axon/platform/epoll.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>

#include "axon/platform/posix_call.hpp"

// ThreadSanitizer learns about the happens-before edge from epoll_ctl to epoll_wait through its
// interceptor of epoll_wait; it has none for epoll_pwait2, so sanitized builds use epoll_wait.
#if defined(__SANITIZE_THREAD__)
#define AXON_EPOLL_USE_PWAIT2 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AXON_EPOLL_USE_PWAIT2 0
#endif
#endif
#ifndef AXON_EPOLL_USE_PWAIT2
#define AXON_EPOLL_USE_PWAIT2 1
#endif

namespace axon::platform {
namespace {

#if AXON_EPOLL_USE_PWAIT2
// Flipped once when the kernel lacks epoll_pwait2 (before 5.11) or a seccomp filter forbids it.
// ORDERING: relaxed; it only selects between two correct calls.
std::atomic<bool> g_pwait2_missing{false};
#endif

int milliseconds_rounded_up(std::chrono::nanoseconds timeout) {
  if (timeout <= std::chrono::nanoseconds::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  // Longer than INT_MAX ms (~24.8 days) returns early as an ordinary timeout; a caller that waits
  // against a Deadline simply waits again.
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

tl::expected<Epoll, Error> Epoll::create() {
  return posix_call("epoll_create1", [] { return ::epoll_create1(EPOLL_CLOEXEC); }).map([](int fd) {
    return Epoll(FileDescriptor(fd));
  });
}

tl::expected<void, Error> Epoll::add(int fd, std::uint32_t events, std::uint64_t data) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = data;
  return posix_call("epoll_ctl(ADD)",
                    [&] { return ::epoll_ctl(m_fd.native(), EPOLL_CTL_ADD, fd, &event); })
      .map([](int) {});
}

tl::expected<void, Error> Epoll::modify(int fd, std::uint32_t events, std::uint64_t data) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = data;
  return posix_call("epoll_ctl(MOD)",
                    [&] { return ::epoll_ctl(m_fd.native(), EPOLL_CTL_MOD, fd, &event); })
      .map([](int) {});
}

tl::expected<void, Error> Epoll::remove(int fd) {
  return posix_call("epoll_ctl(DEL)",
                    [&] { return ::epoll_ctl(m_fd.native(), EPOLL_CTL_DEL, fd, nullptr); })
      .map([](int) {});
}

tl::expected<std::size_t, Error> Epoll::wait(std::span<epoll_event> out,
                                             std::optional<std::chrono::nanoseconds> timeout) {
  if (out.empty()) return tl::unexpected(make_error("epoll_wait", ErrorCode::InvalidArgument));
  const int capacity = out.size() > INT_MAX ? INT_MAX : static_cast<int>(out.size());

#if AXON_EPOLL_USE_PWAIT2
  // ORDERING: relaxed, see g_pwait2_missing.
  if (!g_pwait2_missing.load(std::memory_order_relaxed)) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout) {
      const auto ns = std::max<std::int64_t>(0, timeout->count());
      ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      tsp = &ts;
    }
    auto ready = posix_call(
        "epoll_pwait2",
        [&] { return ::epoll_pwait2(m_fd.native(), out.data(), capacity, tsp, nullptr); },
        OnInterrupt::Report);
    if (ready) return static_cast<std::size_t>(*ready);
    if (ready.error().sys_errno != ENOSYS && ready.error().sys_errno != EPERM) {
      return tl::unexpected(ready.error());
    }
    g_pwait2_missing.store(true, std::memory_order_relaxed);
  }
#endif

  const int timeout_ms = timeout ? milliseconds_rounded_up(*timeout) : -1;
  auto ready = posix_call(
      "epoll_wait", [&] { return ::epoll_wait(m_fd.native(), out.data(), capacity, timeout_ms); },
      OnInterrupt::Report);
  if (!ready) return tl::unexpected(ready.error());
  return static_cast<std::size_t>(*ready);
}

}  // namespace axon::platform
