#include "axon/platform/timer_fd.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

timespec to_timespec(std::chrono::nanoseconds duration) {
  const auto ns = duration.count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return ts;
}

}  // namespace

tl::expected<TimerFd, Error> TimerFd::create() {
  return posix_call("timerfd_create",
                    [] { return ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); })
      .map([](int fd) { return TimerFd(FileDescriptor(fd)); });
}

tl::expected<void, Error> TimerFd::arm(std::chrono::nanoseconds initial,
                                       std::chrono::nanoseconds interval) {
  if (interval < std::chrono::nanoseconds::zero()) {
    return tl::unexpected(make_error("timerfd_settime", ErrorCode::InvalidArgument));
  }
  itimerspec spec{};
  spec.it_value = to_timespec(std::max(initial, std::chrono::nanoseconds(1)));
  spec.it_interval = to_timespec(interval);
  return posix_call("timerfd_settime",
                    [&] { return ::timerfd_settime(m_fd.native(), 0, &spec, nullptr); })
      .map([](int) {});
}

tl::expected<void, Error> TimerFd::disarm() {
  const itimerspec spec{};
  return posix_call("timerfd_settime",
                    [&] { return ::timerfd_settime(m_fd.native(), 0, &spec, nullptr); })
      .map([](int) {});
}

tl::expected<std::uint64_t, Error> TimerFd::try_read() {
  std::uint64_t expirations = 0;
  auto got = posix_call("read(timerfd)",
                        [&] { return ::read(m_fd.native(), &expirations, sizeof expirations); });
  if (!got) return tl::unexpected(got.error());
  if (*got != static_cast<ssize_t>(sizeof expirations)) {
    return tl::unexpected(make_error("read(timerfd)", ErrorCode::WrongType));
  }
  return expirations;
}

}  // namespace axon::platform
