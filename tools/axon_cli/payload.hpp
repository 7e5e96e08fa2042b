// Payload bytes on a command line and on the terminal: `axon request` and `axon publish` read
// their bytes from `--string`, `--hex` or `--file` and check them against the service's type;
// `axon request` prints each response as hex and, when the bytes are text, as text; `axon echo
// --as` decodes samples as numbers or text. The formats are a contract (docs/cli.md).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "axon/axon.hpp"
#include "axon_tools/messages.hpp"
#include "errors.hpp"
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

/// All of `path` ("-": stdin) as bytes, or nullopt when it cannot be read.
inline std::optional<std::vector<std::byte>> read_file(const std::string& path) {
  std::FILE* in = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (in == nullptr) return std::nullopt;
  std::vector<std::byte> bytes;
  std::byte buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), in)) > 0;) {
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  const bool failed = std::ferror(in) != 0;
  if (in != stdin) std::fclose(in);
  if (failed) return std::nullopt;
  return bytes;
}

/// The payload options of `axon request` and `axon publish`: exactly one of them is given.
struct PayloadSource {
  std::optional<std::string> string;  ///< the bytes of TEXT as they are
  std::optional<std::string> hex;     ///< the bytes in hex
  std::optional<std::string> file;    ///< a file holding the bytes; "-": stdin
};

/// Why the bytes could not be had, and the exit status that goes with it.
struct PayloadProblem {
  int code;             ///< kExitUsage (bad hex, not exactly one source) or kExitFailure (a file)
  std::string message;  ///< one line, arguments quoted
};

/// The bytes `source` gives; `what` names them in the error when not exactly one source is given
/// ("the request").
inline tl::expected<std::vector<std::byte>, PayloadProblem> payload_bytes(
    const PayloadSource& source, std::string_view what) {
  const int sources = (source.string ? 1 : 0) + (source.hex ? 1 : 0) + (source.file ? 1 : 0);
  if (sources != 1) {
    return tl::unexpected(PayloadProblem{
        kExitUsage, "give " + std::string(what) + " as exactly one of --string, --hex or --file"});
  }
  if (source.string) {
    std::vector<std::byte> bytes(source.string->size());
    if (!bytes.empty()) std::memcpy(bytes.data(), source.string->data(), bytes.size());
    return bytes;
  }
  if (source.hex) {
    auto parsed = parse_hex("--hex", *source.hex);
    if (!parsed) return tl::unexpected(PayloadProblem{kExitUsage, parsed.error()});
    return std::move(*parsed);
  }
  auto read = read_file(*source.file);
  if (!read) {
    return tl::unexpected(
        PayloadProblem{kExitFailure, "cannot read " + tools::quoted(*source.file)});
  }
  return std::move(*read);
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

/// How `axon echo --as` shows a payload.
enum class Decoding { Hex, U32, I64, F64, String };

/// `--as` TEXT as a Decoding; nullopt when it names none.
inline std::optional<Decoding> parse_decoding(std::string_view text) {
  if (text == "hex") return Decoding::Hex;
  if (text == "u32") return Decoding::U32;
  if (text == "i64") return Decoding::I64;
  if (text == "f64") return Decoding::F64;
  if (text == "string") return Decoding::String;
  return std::nullopt;
}

/// The bytes of one value of a numeric decoding.
inline std::size_t value_size(Decoding decoding) {
  switch (decoding) {
    case Decoding::U32:
      return 4;
    case Decoding::I64:
    case Decoding::F64:
      return 8;
    case Decoding::Hex:
    case Decoding::String:
      return 1;
  }
  return 1;
}

inline const char* decoding_name(Decoding decoding) {
  switch (decoding) {
    case Decoding::Hex:
      return "hex";
    case Decoding::U32:
      return "u32";
    case Decoding::I64:
      return "i64";
    case Decoding::F64:
      return "f64";
    case Decoding::String:
      return "string";
  }
  return "hex";
}

/// One value of `decoding` read from `bytes` (exactly value_size() of them, in this machine's byte
/// order: a sample is written by a process of the same machine), as text. f64: the shortest text
/// that reads back to the same double (`0.1`, `1e+300`, `nan`, `inf`).
inline std::string value_text(Decoding decoding, const std::byte* bytes) {
  char out[64];
  switch (decoding) {
    case Decoding::U32: {
      std::uint32_t v = 0;
      std::memcpy(&v, bytes, sizeof(v));
      return std::to_string(v);
    }
    case Decoding::I64: {
      std::int64_t v = 0;
      std::memcpy(&v, bytes, sizeof(v));
      return std::to_string(v);
    }
    case Decoding::F64: {
      double v = 0;
      std::memcpy(&v, bytes, sizeof(v));
      const auto [end, error] = std::to_chars(out, out + sizeof(out), v);
      if (error != std::errc{}) return "?";
      return std::string(out, end);
    }
    case Decoding::Hex:
    case Decoding::String:
      break;
  }
  return {};
}

/// A payload as `axon echo --as` shows it, without the `sample ...: <size> bytes: ` before it:
/// - hex: the first `max_bytes` bytes in hex (`68 65 6c`), ` ...` when there are more;
/// - string: the bytes up to the first NUL (a fixed-size string's padding) quoted and escaped as
///   in error messages (`"hello\n"`), cut after `max_bytes` bytes with ` ...`;
/// - u32, i64, f64: the values, one space apart, as many as lie in the first `max_bytes` bytes
///   (` ...` when there are more); a payload that is not a whole number of values (or none) is a
///   note in parentheses, `(5 bytes are not a whole number of 4-byte u32 values)`, never a value
///   made of part of the bytes.
inline std::string decoded_text(Decoding decoding, std::span<const std::byte> payload,
                                std::uint64_t max_bytes) {
  switch (decoding) {
    case Decoding::Hex: {
      std::string out = hex_text(payload, max_bytes);
      if (payload.size() > max_bytes) out += " ...";
      return out;
    }
    case Decoding::String: {
      std::size_t end = 0;
      while (end < payload.size() && payload[end] != std::byte{0}) ++end;
      const auto shown = end < max_bytes ? end : static_cast<std::size_t>(max_bytes);
      std::string text(shown, '\0');
      if (shown > 0) std::memcpy(text.data(), payload.data(), shown);
      // quoted() cuts long text itself; the limit here is --bytes.
      std::string out = "\"" + tools::escape_bytes(text, /*quotes=*/true, text.size()) + "\"";
      if (end > shown) out += " ...";
      return out;
    }
    case Decoding::U32:
    case Decoding::I64:
    case Decoding::F64:
      break;
  }
  const auto size = value_size(decoding);
  if (payload.empty() || payload.size() % size != 0) {
    return "(" + std::to_string(payload.size()) + " bytes are not a whole number of " +
           std::to_string(size) + "-byte " + decoding_name(decoding) + " values)";
  }
  const auto shown = std::min<std::uint64_t>(payload.size() / size, max_bytes / size);
  std::string out;
  for (std::uint64_t i = 0; i < shown; ++i) {
    if (i > 0) out += ' ';
    out += value_text(decoding, payload.data() + i * size);
  }
  if (shown * size < payload.size()) out += shown > 0 ? " ..." : "...";
  return out;
}

}  // namespace axon::cli
