// Monotonic time and deadlines. Every timeout in axon is measured on one clock that never jumps
// (CLOCK_MONOTONIC, which is what libstdc++'s steady_clock reads), so a wait that is interrupted
// and retried against the same Deadline never waits longer in total than it was asked to.
#pragma once

#include <chrono>
#include <optional>

namespace axon::platform {

using MonotonicClock = std::chrono::steady_clock;

/// Nanoseconds since an arbitrary fixed point (boot, on Linux); only differences mean anything.
inline std::chrono::nanoseconds monotonic_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      MonotonicClock::now().time_since_epoch());
}

/// A point in monotonic time after which an operation gives up, or "never".
/// A value type: copy it freely; const methods may be called from any thread.
class Deadline {
 public:
  /// `timeout` from now; zero or negative is already expired; one too large to represent is never.
  static Deadline after(std::chrono::nanoseconds timeout) {
    const auto now = MonotonicClock::now();
    if (timeout <= std::chrono::nanoseconds::zero()) return Deadline(now);
    const auto headroom = MonotonicClock::time_point::max() - now;
    if (timeout >= headroom) return never();
    return Deadline(now + std::chrono::duration_cast<MonotonicClock::duration>(timeout));
  }
  static Deadline never() { return Deadline(std::nullopt); }

  bool expired() const { return m_point && MonotonicClock::now() >= *m_point; }
  /// nullopt for never; zero once expired.
  std::optional<std::chrono::nanoseconds> remaining() const {
    if (!m_point) return std::nullopt;
    const auto left = *m_point - MonotonicClock::now();
    if (left <= MonotonicClock::duration::zero()) return std::chrono::nanoseconds::zero();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(left);
  }
  /// nullopt for never.
  std::optional<MonotonicClock::time_point> time_point() const { return m_point; }

 private:
  explicit Deadline(std::optional<MonotonicClock::time_point> point) : m_point(point) {}
  std::optional<MonotonicClock::time_point> m_point;
};

}  // namespace axon::platform
