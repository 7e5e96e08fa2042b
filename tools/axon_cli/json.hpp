// A minimal JSON writer for the CLI's --json output: strings, unsigned numbers, objects and
// arrays, written in one pass. Every byte that JSON does not allow raw inside a string is escaped,
// so a name read from shared memory (trusted only as far as it was validated) never breaks the
// document. Bytes above 0x7F are written as \u00XX: the output is pure ASCII, hence valid UTF-8.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace axon::cli {

/// `text` as a quoted, escaped JSON string.
inline std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || byte > 0x7E) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(byte));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

/// Builds one JSON object: `JsonObject().add("a", 1).add("b", "x").str()` is {"a":1,"b":"x"}.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::uint64_t value) {
    return add_raw(key, std::to_string(value));
  }
  JsonObject& add(std::string_view key, std::string_view value) {
    return add_raw(key, json_string(value));
  }
  JsonObject& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  /// `json` must already be a JSON value (an object or array built here).
  JsonObject& add_raw(std::string_view key, std::string_view json) {
    if (!m_body.empty()) m_body += ',';
    m_body += json_string(key);
    m_body += ':';
    m_body += json;
    return *this;
  }
  std::string str() const { return "{" + m_body + "}"; }

 private:
  std::string m_body;
};

/// Elements (already JSON) joined into an array on one line: ["a","b"].
inline std::string json_array_inline(const std::vector<std::string>& elements) {
  std::string out = "[";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i != 0) out += ',';
    out += elements[i];
  }
  return out + "]";
}

/// Elements (already JSON) as an array with one element a line, so that line tools still work:
/// "[\n  {...},\n  {...}\n]", or "[]" when empty.
inline std::string json_array_lines(const std::vector<std::string>& elements) {
  if (elements.empty()) return "[]";
  std::string out = "[\n";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    out += "  ";
    out += elements[i];
    out += i + 1 < elements.size() ? ",\n" : "\n";
  }
  return out + "]";
}

}  // namespace axon::cli
