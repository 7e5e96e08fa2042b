// Parsing of the CLI's arguments into axon values, each failure a usage error (exit 2) with one
// line saying why. Numbers are parsed here rather than by CLI11 so that "-1" is refused as
// negative instead of wrapping around to a huge unsigned value.
#pragma once

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "axon/axon.hpp"
#include "errors.hpp"
#include "format.hpp"

namespace axon::cli {

/// Why a service name is rejected, in words, after the error's name.
inline std::string explain(ServiceNameError error) {
  std::string why = to_string(error);
  switch (error) {
    case ServiceNameError::Empty:
      return why + " (the name is empty)";
    case ServiceNameError::TooLong:
      return why + " (longer than " + std::to_string(ServiceName::kMaxLength) + " bytes)";
    case ServiceNameError::InvalidCharacter:
      return why + " (only printable ASCII without space is allowed)";
    case ServiceNameError::EmptySegment:
      return why + " (an empty segment: '//', or a leading or trailing '/')";
    case ServiceNameError::DotSegment:
      return why + " ('.' and '..' are not allowed as segments)";
  }
  return why;
}

/// `text` as a ServiceName; otherwise prints the usage error and stores its exit code.
inline std::optional<ServiceName> parse_service_name(const std::string& text, int& exit_code) {
  auto name = ServiceName::create(text);
  if (!name) {
    exit_code = fail(kExitUsage,
                     "invalid service name \"" + printable(text) + "\": " + explain(name.error()));
    return std::nullopt;
  }
  return *name;
}

/// A whole decimal number, nothing else ("", "12x", "-1" and overflow are refused); otherwise
/// prints the usage error naming `option` and stores its exit code.
inline std::optional<std::uint64_t> parse_u64(std::string_view option, const std::string& text,
                                              int& exit_code) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || stop != end) {
    exit_code = fail(kExitUsage, std::string(option) + " \"" + printable(text) +
                                     "\" is not a non-negative integer");
    return std::nullopt;
  }
  return value;
}

/// A timeout in seconds (fractions allowed, e.g. 0.2), rounded up to whole nanoseconds so that
/// a wait is never shorter than asked. `forever` is set for "inf" and for values so large
/// (over 30 years) that no deadline can hold them. Otherwise prints the usage error.
struct Timeout {
  std::chrono::nanoseconds duration{0};
  bool forever = false;
};
inline std::optional<Timeout> parse_timeout(std::string_view option, const std::string& text,
                                            int& exit_code) {
  constexpr double kForeverSeconds = 1.0e9;
  double seconds = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, seconds);
  const auto refuse = [&](const char* why) {
    exit_code = fail(kExitUsage, std::string(option) + " \"" + printable(text) + "\" " + why);
    return std::nullopt;
  };
  if (text.empty() || error == std::errc::invalid_argument || stop != end || std::isnan(seconds)) {
    return refuse("is not a number of seconds");
  }
  if (std::signbit(seconds)) return refuse("is negative");
  if (error == std::errc::result_out_of_range) {
    // from_chars leaves `seconds` unset here; strtod tells underflow (about 0) from overflow.
    seconds = std::strtod(text.c_str(), nullptr);
  }
  if (seconds >= kForeverSeconds) return Timeout{.duration = {}, .forever = true};
  return Timeout{
      .duration = std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9))),
      .forever = false};
}

}  // namespace axon::cli
