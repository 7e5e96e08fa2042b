// Small helpers shared by the example programs: argument parsing and signal-aware sleeping.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>
#include <thread>

#include "axon/platform/signals.hpp"

namespace axon::examples {

/// A whole decimal number, nothing else; nullopt for "", "12x", "-1", overflow.
inline std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

/// Sleeps `duration` unless SIGINT or SIGTERM arrives first; returns false when one did.
inline bool sleep_unless_terminated(std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!platform::TerminationSignals::termination_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        deadline - now, std::chrono::milliseconds(20)));
  }
  return false;
}

/// Output goes to pipes and terminals alike: flush each line so readers see it at once.
inline void line_buffered_stdout() { std::setvbuf(stdout, nullptr, _IOLBF, 0); }

}  // namespace axon::examples
