// What a busy-polling wait looks at of a listener in shared memory, so it can see a notification
// without a system call (docs/design.md §5, "Busy-poll budget"). Internal.
#pragma once

#include <atomic>
#include <cstdint>

namespace axon::core {
class CountingBitset;
}

namespace axon::detail {

struct ListenerProbe {
  /// The listener slot's `pending` flag: 1 while a wake-up is in the channel, or while a waiter
  /// spinning on it has claimed it (a notifier that finds 1 writes no wake-up).
  std::atomic<std::uint32_t>* pending = nullptr;
  /// The listener's counts; has_pending() is true once a notify has recorded one.
  const core::CountingBitset* counts = nullptr;

  explicit operator bool() const { return pending != nullptr && counts != nullptr; }
};

}  // namespace axon::detail
