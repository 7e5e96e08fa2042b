// Parsing of the CLI's arguments into axon values, each failure a usage error (exit 2) with one
// line saying why, the refused text escaped. Numbers are taken from CLI11 as strings and parsed
// here (tools::parse_unsigned) rather than by CLI11, which wraps "-1" around to a huge unsigned
// value and saturates on overflow.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "axon/axon.hpp"
#include "axon_tools/messages.hpp"
#include "errors.hpp"
#include "format.hpp"

namespace axon::cli {

/// `text` as a ServiceName; otherwise prints the usage error and stores its exit code.
inline std::optional<ServiceName> parse_service_name(const std::string& text, int& exit_code) {
  auto name = ServiceName::create(text);
  if (!name) {
    exit_code = fail(kExitUsage, "invalid service name " + tools::quoted(text) + ": " +
                                     tools::explain(name.error()));
    return std::nullopt;
  }
  return *name;
}

/// A whole decimal number in [0, max], nothing else ("", "12x", "-1" and overflow are refused,
/// never wrapped around); otherwise prints the usage error naming `option` and stores its exit
/// code. Every numeric option of the CLI goes through here.
inline std::optional<std::uint64_t> parse_u64(
    std::string_view option, const std::string& text, int& exit_code,
    std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  auto value = tools::parse_unsigned(text, max);
  if (!value) {
    exit_code = fail(kExitUsage, tools::refusal(option, text, value.error(), max));
    return std::nullopt;
  }
  return *value;
}

/// A timeout in seconds as tools::parse_seconds reads it (the same rules as evt_wait's):
/// fractions allowed (0.2), rounded up to whole nanoseconds; `forever` for "inf" and values too
/// large for a deadline. Otherwise prints the usage error.
struct Timeout {
  std::chrono::nanoseconds duration{0};
  bool forever = false;
};
inline std::optional<Timeout> parse_timeout(std::string_view option, const std::string& text,
                                            int& exit_code) {
  auto seconds = tools::parse_seconds(text);
  if (!seconds) {
    exit_code = fail(kExitUsage, tools::seconds_refusal(option, text, seconds.error()));
    return std::nullopt;
  }
  if (!*seconds) return Timeout{.duration = {}, .forever = true};
  return Timeout{.duration = **seconds, .forever = false};
}

}  // namespace axon::cli
