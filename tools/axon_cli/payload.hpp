// Payload bytes on a command line and on the terminal: `axon request` reads a request from
// `--hex` and checks it against the service's request type, and prints each response as hex and,
// when the bytes are text, as text. The formats are a contract (docs/cli.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "axon/axon.hpp"
#include "axon_tools/messages.hpp"
#include "format.hpp"

namespace axon::cli {

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Bytes written as hex digits, two a byte, upper or lower case, with spaces or tabs allowed
/// between bytes (so `68 65 6c` as `axon request` prints it reads back); anything else is
/// refused with the reason, naming `option` and repeating the text escaped.
inline tl::expected<std::vector<std::byte>, std::string> parse_hex(std::string_view option,
                                                                   std::string_view text) {
  std::vector<std::byte> bytes;
  bytes.reserve(text.size() / 2);
  int high = -1;  // the first digit of a byte, while its second is awaited
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t') {
      if (high >= 0) break;  // a byte cut in two: reported below
      continue;
    }
    const int digit = hex_digit(c);
    if (digit < 0) {
      return tl::unexpected(std::string(option) + " " + tools::quoted(text) + ": " +
                            tools::quoted(text.substr(i, 1)) + " at offset " + std::to_string(i) +
                            " is not a hex digit");
    }
    if (high < 0) {
      high = digit;
    } else {
      bytes.push_back(static_cast<std::byte>(high << 4 | digit));
      high = -1;
    }
  }
  if (high >= 0) {
    return tl::unexpected(std::string(option) + " " + tools::quoted(text) +
                          ": a byte is two hex digits, one is missing");
  }
  return bytes;
}

/// What payloads of `type` are, in words, when `bytes` is not one of them: `one 8-byte "u64"
/// element`, or for a slice `a whole number of 2-byte "u16" elements`; nullopt when it fits.
inline std::optional<std::string> unmet_size_rule(const PayloadType& type, std::uint64_t bytes) {
  const std::string element =
      std::to_string(type.size) + "-byte " + tools::quoted(type.name) + " element";
  if (type.is_slice) {
    if ((type.size == 0 && bytes == 0) || (type.size != 0 && bytes % type.size == 0)) {
      return std::nullopt;
    }
    return "a whole number of " + element + "s";
  }
  if (bytes == type.size) return std::nullopt;
  return "one " + element;
}

/// `68 65 6c 6c 6f`: the first `max_bytes` bytes, lowercase, one space apart.
inline std::string hex_text(std::span<const std::byte> bytes, std::uint64_t max_bytes,
                            std::string_view separator = " ") {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto shown = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  std::string out;
  out.reserve(shown * (2 + separator.size()));
  for (std::uint64_t i = 0; i < shown; ++i) {
    const auto b = static_cast<unsigned>(bytes[i]);
    if (i > 0) out += separator;
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

/// The bytes as text, when they are text: printable ASCII, tabs and line ends, followed by any
/// number of NUL bytes (the padding of a fixed-size string), and not empty. Otherwise nullopt.
inline std::optional<std::string> payload_text(std::span<const std::byte> bytes) {
  auto end = bytes.size();
  while (end > 0 && bytes[end - 1] == std::byte{0}) --end;
  if (end == 0) return std::nullopt;
  std::string text;
  text.reserve(end);
  for (std::size_t i = 0; i < end; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if ((c < 0x20 || c > 0x7E) && c != '\t' && c != '\n' && c != '\r') return std::nullopt;
    text += static_cast<char>(c);
  }
  return text;
}

/// `response <sequence> from <server id>: <size> bytes: <hex> [...] ["<text>"]`: as `axon echo`
/// prints a sample, plus the shown bytes as quoted text when they are text (escaped, so one
/// response is one line).
inline std::string response_line(std::uint64_t sequence, std::uint64_t server_id,
                                 std::span<const std::byte> payload, std::uint64_t max_bytes) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(server_id));
  std::string out = "response " + std::to_string(sequence) + " from " + id + ": " +
                    std::to_string(payload.size()) + " bytes: " + hex_text(payload, max_bytes);
  if (payload.size() > max_bytes) out += " ...";
  const auto shown = payload.first(payload.size() < max_bytes ? payload.size() : max_bytes);
  if (const auto text = payload_text(shown)) out += " " + tools::quoted(*text);
  return out;
}

/// One JSON object a response, on one line: the whole payload in hex, and as text (or null).
inline std::string response_json(std::uint64_t request_id, std::uint64_t sequence,
                                 std::uint64_t server_id, std::span<const std::byte> payload) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(server_id));
  Json object = Json::object();
  object["request"] = request_id;
  object["server"] = id;
  object["sequence"] = sequence;
  object["size"] = std::uint64_t{payload.size()};
  object["payload"] = hex_text(payload, payload.size(), "");
  const auto text = payload_text(payload);
  object["text"] = text ? json_text(*text) : Json(nullptr);
  return json_line(object);
}

}  // namespace axon::cli
