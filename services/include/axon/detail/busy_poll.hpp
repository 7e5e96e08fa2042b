// Busy-polling listeners before a sleep (docs/design.md §5, "Busy-poll budget"): what a WaitSet
// and a listener's own blocking wait do for up to their budget. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>

#include "axon/core/counting_bitset.hpp"
#include "axon/detail/listener_probe.hpp"
#include "axon/platform/clock.hpp"
#include "axon/platform/cpu.hpp"

namespace axon::detail {

/// One listener being polled, and whether this poll claimed its `pending` flag.
struct PolledListener {
  ListenerProbe probe;
  bool claimed = false;
};

inline bool any_pending(std::span<const PolledListener> listeners) {
  for (const auto& l : listeners) {
    if (l.probe.counts->has_pending()) return true;
  }
  return false;
}

/// Polls the counts of `listeners` until one has something, `end` passes, or `stop()` is true
/// (looked at with the clock, every few rounds). Meanwhile each listener's `pending` is claimed
/// (set to 1 where it was 0), so a notifier writes no wake-up for a waiter that is awake. The
/// claims are given back before it returns, then a full fence: the caller's next look at the
/// counts sees every notify that found a claim (and any later one wrote a wake-up as usual).
///
/// ORDERING: the seq_cst exchange and store of `pending` pair with the notifier's seq_cst
/// exchange after its count (as a listener's try_wait pairs with it): a notify whose exchange
/// came before the give-back added its count before it, and the fence orders the give-back
/// before the caller's loads of the counts.
template <typename Stop>
void busy_poll(std::span<PolledListener> listeners, platform::MonotonicClock::time_point end,
               Stop&& stop) {
  // Reads the clock (a vDSO call, ~20 ns) once per this many rounds of a few loads each.
  constexpr std::uint32_t kClockEvery = 16;
  for (auto& l : listeners) {
    l.claimed = l.probe.pending->exchange(1, std::memory_order_seq_cst) == 0;
  }
  // Round 0 looks at the clock too: a wait whose deadline has passed looks once, no spinning.
  for (std::uint32_t round = 0; !any_pending(listeners); ++round) {
    if (round % kClockEvery == 0 && (platform::MonotonicClock::now() >= end || stop())) break;
    platform::cpu_relax();
  }
  for (auto& l : listeners) {
    if (l.claimed) l.probe.pending->store(0, std::memory_order_seq_cst);
    l.claimed = false;
  }
  platform::store_load_fence();
}

/// The end of a poll that starts now with `budget`, cut to `deadline`.
inline platform::MonotonicClock::time_point poll_end(std::chrono::nanoseconds budget,
                                                     const platform::Deadline& deadline) {
  auto end = platform::MonotonicClock::now() +
             std::chrono::duration_cast<platform::MonotonicClock::duration>(budget);
  if (const auto point = deadline.time_point(); point && *point < end) end = *point;
  return end;
}

}  // namespace axon::detail
