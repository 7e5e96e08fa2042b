// A futex on a 32-bit word that may live in shared memory: the kernel keys a shared futex by the
// word's physical page, so waiters and wakers in different processes that map the same object
// meet. This is the shared kind (no FUTEX_PRIVATE_FLAG); std::atomic::wait is not, which is why
// axon does not use it across processes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::platform {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "the kernel reads the futex word as a plain 32-bit integer");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "a futex word must be lock-free to be shared between processes");

/// Sleeps while `word` == `expected` until woken, until `deadline` (absolute, monotonic; nullopt:
/// no limit) or until a signal. Returns success when woken; wake-ups can be spurious, so callers
/// re-check the word in a loop against the same deadline (which never extends the total wait).
/// Thread-safety: any number of threads and processes may wait and wake concurrently.
/// Errors: WouldBlock (the word was not `expected`), TimedOut (the deadline passed),
/// Interrupted (a signal arrived; not retried so the caller can look at its flags).
tl::expected<void, Error> futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                                     std::optional<std::chrono::steady_clock::time_point> deadline);

/// Wakes up to `count` waiters on `word` (INT_MAX: all); returns how many were woken.
/// Errors: InvalidArgument (negative count).
tl::expected<int, Error> futex_wake(std::atomic<std::uint32_t>& word, int count);

}  // namespace axon::platform
