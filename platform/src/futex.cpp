#include "axon/platform/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

// libstdc++'s steady_clock reads CLOCK_MONOTONIC, the clock FUTEX_WAIT_BITSET measures an
// absolute timeout against (without FUTEX_CLOCK_REALTIME).
timespec to_monotonic_timespec(std::chrono::steady_clock::time_point point) {
  const auto ns = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(point.time_since_epoch()).count());
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return ts;
}

}  // namespace

tl::expected<void, Error> futex_wait(
    std::atomic<std::uint32_t>& word, std::uint32_t expected,
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  timespec until{};
  if (deadline) until = to_monotonic_timespec(*deadline);
  // SAFETY: std::atomic<std::uint32_t> is lock-free and the size of std::uint32_t (asserted in
  // the header), so its address is the address of the 32-bit word the kernel compares.
  void* address = static_cast<void*>(&word);
  auto waited = posix_call(
      "futex(WAIT_BITSET)",
      [&] {
        return ::syscall(SYS_futex, address, FUTEX_WAIT_BITSET, expected,
                         deadline ? &until : nullptr, nullptr, FUTEX_BITSET_MATCH_ANY);
      },
      OnInterrupt::Report);
  if (!waited) return tl::unexpected(waited.error());
  return {};
}

tl::expected<int, Error> futex_wake(std::atomic<std::uint32_t>& word, int count) {
  if (count < 0) return tl::unexpected(make_error("futex(WAKE)", ErrorCode::InvalidArgument));
  // FUTEX_WAKE with 0 still wakes one waiter; asking for none means doing nothing.
  if (count == 0) return 0;
  // SAFETY: as in futex_wait.
  void* address = static_cast<void*>(&word);
  auto woken = posix_call("futex(WAKE)", [&] {
    return ::syscall(SYS_futex, address, FUTEX_WAKE, count, nullptr, nullptr, 0);
  });
  if (!woken) return tl::unexpected(woken.error());
  return static_cast<int>(*woken);
}

}  // namespace axon::platform
