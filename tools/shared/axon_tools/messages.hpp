// What the command-line programs (the `axon` CLI, the evt_* tools, the examples) share when they
// read arguments and report problems with them: untrusted text quoted so that it cannot reach
// the terminal as a control sequence, strict number parsing with the reason of a refusal, what is
// wrong with AXON_PREFIX or AXON_ROOT, and a hint for an AXON_ROOT too long for the node sockets
// of the eventfd backend.
//
// Header-only and free of I/O: each program prints in its own format and keeps its own exit codes.
#pragma once

#include <sys/un.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tl/expected.hpp>

#include "axon/config.hpp"
#include "axon/service_name.hpp"

namespace axon::tools {

/// At most this many bytes of an argument are shown in a message; the rest is counted.
inline constexpr std::size_t kMaxShownBytes = 300;

/// escaped() and quoted(): `quotes` escapes `"` too.
inline std::string escape_bytes(std::string_view text, bool quotes, std::size_t max_shown) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown = text.size() > max_shown ? max_shown : text.size();
  out.reserve(shown + 8);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\' || (quotes && byte == '"')) {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte > 0x7E) {
      out += "\\x";
      out += kDigits[byte >> 4];
      out += kDigits[byte & 15];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

/// `text` with every byte that is not printable ASCII written as an escape (`\n`, `\r`, `\t`,
/// `\xHH`) and `\` doubled, so that it stays on one line and sends the terminal nothing but the
/// characters shown; cut after `max_shown` bytes, marked by `...`. For a message that repeats
/// arguments without delimiting them (CLI11's); quoted() is the form for one argument.
inline std::string escaped(std::string_view text, std::size_t max_shown = kMaxShownBytes) {
  return escape_bytes(text, /*quotes=*/false, max_shown);
}

/// `"text"`, escaped as by escaped() and with `"` escaped too, so that the quoted text is
/// unambiguous; a text cut at kMaxShownBytes is followed by its length: `"aaa..." (4000 bytes)`.
/// The form to use for any argument a message repeats back.
inline std::string quoted(std::string_view text) {
  std::string out = "\"" + escape_bytes(text, /*quotes=*/true, kMaxShownBytes) + "\"";
  if (text.size() > kMaxShownBytes) out += " (" + std::to_string(text.size()) + " bytes)";
  return out;
}

/// The one error line of every program of axon (docs/cli.md, "Errors"): `<program>: error:
/// <what>`, where `what` names what failed and, after `: `, why, e.g. `axon: error: cannot open
/// service "fuu": Corrupted`. A line break in `what` becomes a space, so an error is always one
/// line; arguments repeated in it must be quoted() or escaped() already. Without the newline.
inline std::string error_line(std::string_view program, std::string_view what) {
  std::string line = std::string(program) + ": error: " + std::string(what);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

/// Why a service name (or a SystemEvent name, same rules) is refused: the error's name, then
/// in words, e.g. `EmptySegment (an empty segment: '//', or a leading or trailing '/')`.
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

/// When `config` (the process's, Config::from_environment()) is refused by Config::validate():
/// for a configuration file that cannot be used, `config file FILE:LINE:COLUMN: <what>`; else
/// the variable that holds the bad value, the value escaped, and the rule, e.g.
/// `invalid AXON_PREFIX "bad/x": 1..64 bytes of [A-Za-z0-9_.-], without "..", not starting
/// with '.'`. nullopt when the configuration is valid. Every program says this before it reads
/// or creates anything, rather than letting a later call fail with a bare InvalidConfig (or, for
/// a SystemEvent, InvalidName, which blamed a valid event name).
inline std::optional<std::string> config_problem(const Config& config) {
  const auto valid = config.validate();
  if (valid) return std::nullopt;
  switch (valid.error()) {
    case ConfigError::InvalidPrefix:
      return "invalid AXON_PREFIX " + tools::quoted(config.prefix) +
             ": 1..64 bytes of [A-Za-z0-9_.-], without \"..\", not starting with '.'";
    case ConfigError::InvalidRoot:
      return "invalid AXON_ROOT " + tools::quoted(config.root) +
             ": an absolute path without empty, \".\" or \"..\" components, not \"/\"";
    case ConfigError::InvalidFile:
      // FILE:LINE:COLUMN: what, escaped: the path and the key are the user's text.
      if (config.file_error) return "config file " + tools::escaped(config.file_error->to_string());
      break;
  }
  return std::string("invalid configuration: ") + to_string(valid.error());
}

/// Why a number was refused.
enum class NumberError {
  NotANumber,  ///< empty, not decimal digits only ("12x", "+1", " 1", "0x10"), or NaN
  Negative,    ///< starts with '-' ("-1", "-0", "-0.5")
  TooLarge,    ///< above the maximum the option allows, or beyond 64 bits
};

/// `<what> "<text>" <reason>`, e.g. `--bytes "-1" is negative`; `max` is named for TooLarge.
inline std::string refusal(std::string_view what, std::string_view text, NumberError error,
                           std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  std::string out = std::string(what) + " " + tools::quoted(text) + " ";
  switch (error) {
    case NumberError::NotANumber:
      return out + "is not a whole non-negative decimal number";
    case NumberError::Negative:
      return out + "is negative";
    case NumberError::TooLarge:
      return out + "is too large (at most " + std::to_string(max) + ")";
  }
  return out + "is refused";
}

/// A whole decimal number in [0, max] and nothing else: no sign, no space, no prefix. Never
/// wraps around: "-1" is Negative and "99999999999999999999" TooLarge.
inline tl::expected<std::uint64_t, NumberError> parse_unsigned(
    std::string_view text, std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  const auto all_digits = [](std::string_view digits) {
    if (digits.empty()) return false;
    for (const char c : digits) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (!text.empty() && text.front() == '-' && all_digits(text.substr(1))) {
    return tl::unexpected(NumberError::Negative);
  }
  if (!all_digits(text)) return tl::unexpected(NumberError::NotANumber);
  std::uint64_t value = 0;
  const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range || value > max) {
    return tl::unexpected(NumberError::TooLarge);
  }
  if (error != std::errc{} || stop != text.data() + text.size()) {
    return tl::unexpected(NumberError::NotANumber);
  }
  return value;
}

/// Beyond this many seconds (about 285 years) a timeout no longer fits in signed 64-bit
/// nanoseconds; such a timeout means "for ever".
inline constexpr double kForeverSeconds = 9.0e9;

/// A timeout in seconds, as `axon listen --timeout` and `evt_wait NAME timeout_s` take it:
/// a finite decimal number >= 0, fractions and exponents allowed ("0.2", "1e-3"), or "inf".
/// Returns the duration rounded up to whole nanoseconds (a wait is never shorter than asked, and
/// a positive amount never rounds to zero), or nullopt for "for ever": "inf" and anything from
/// kForeverSeconds up.
inline tl::expected<std::optional<std::chrono::nanoseconds>, NumberError> parse_seconds(
    std::string_view text) {
  double seconds = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, seconds);
  if (text.empty() || error == std::errc::invalid_argument || stop != end) {
    return tl::unexpected(NumberError::NotANumber);
  }
  if (text.front() == '-') return tl::unexpected(NumberError::Negative);
  if (error == std::errc::result_out_of_range) {
    // from_chars leaves `seconds` alone; strtod tells a tiny amount (it returns about 0, e.g.
    // "1e-400" or 0.000...1) from a huge one (HUGE_VAL). The text is a plain decimal number here,
    // which strtod reads the same way.
    const double approximate = std::strtod(std::string(text).c_str(), nullptr);
    if (approximate < 1.0) return std::chrono::nanoseconds(1);
    return std::optional<std::chrono::nanoseconds>{};
  }
  if (std::isnan(seconds)) return tl::unexpected(NumberError::NotANumber);
  if (seconds >= kForeverSeconds) return std::optional<std::chrono::nanoseconds>{};
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9)));
}

/// `<what> "<text>" <reason>` for a timeout parse_seconds() refused, e.g. `timeout "-1" is
/// negative` or `--timeout "soon" is not a number of seconds`.
inline std::string seconds_refusal(std::string_view what, std::string_view text,
                                   NumberError error) {
  return std::string(what) + " " + quoted(text) +
         (error == NumberError::Negative ? " is negative" : " is not a number of seconds");
}

/// The moment `timeout` (as parse_seconds() gives it) from now on the monotonic clock, never
/// earlier; nullopt when that moment lies beyond what the clock can hold: such a timeout is, in
/// effect, for ever.
inline std::optional<std::chrono::steady_clock::time_point> deadline_after(
    std::chrono::nanoseconds timeout) {
  const auto now = std::chrono::steady_clock::now();
  const auto step = std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
  if (step > std::chrono::steady_clock::time_point::max() - now) return std::nullopt;
  return now + step;
}

/// What remains until `deadline`: zero once it passed, never negative.
inline std::chrono::nanoseconds remaining_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= left.zero()) return std::chrono::nanoseconds::zero();
  return std::chrono::ceil<std::chrono::nanoseconds>(left);
}

/// When `config.root` is too long for node sockets (Config::max_root_length_for_sockets()): a
/// sentence saying so, with the limit, to add to the error of a listener that could not be created.
/// nullopt when the root is short enough.
inline std::optional<std::string> root_too_long_for_sockets(const Config& config) {
  const std::size_t max = Config::max_root_length_for_sockets();
  if (config.root.size() <= max) return std::nullopt;
  return "AXON_ROOT is " + std::to_string(config.root.size()) +
         " bytes, too long for the unix socket of a node (at most " + std::to_string(max) +
         " bytes, for " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
         "-byte socket paths): choose a shorter AXON_ROOT, or services of the fifo backend";
}

}  // namespace axon::tools
