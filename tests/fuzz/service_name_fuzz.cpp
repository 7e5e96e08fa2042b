// Fuzzes ServiceName::create (core/service_name.hpp), the parser every service and latched-event
// name goes through before any file is touched, against a second, independent reading of the
// rules in docs/design.md: 1..255 bytes of 0x21..0x7E, `/`-separated segments, none empty, none
// `.` or `..`; the first rule broken (in that order, segments left to right) names the error.
// A valid name must read back unchanged, hash as fnv1a_64 of its text, and order as its text.
//
// Input: the candidate name is the whole input; its first half is a second name to compare with.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "axon/core/hash.hpp"
#include "axon/core/service_name.hpp"
#include "fuzz_support.hpp"

namespace {

using axon::core::ServiceName;
using axon::core::ServiceNameError;

std::optional<ServiceNameError> expected_error(std::string_view text) {
  if (text.empty()) return ServiceNameError::Empty;
  if (text.size() > ServiceName::kMaxLength) return ServiceNameError::TooLong;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x21 || byte > 0x7E) return ServiceNameError::InvalidCharacter;
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '/') continue;
    const std::string_view segment = text.substr(start, i - start);
    if (segment.empty()) return ServiceNameError::EmptySegment;
    if (segment == "." || segment == "..") return ServiceNameError::DotSegment;
    start = i + 1;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  const auto sut = ServiceName::create(text);
  const auto expected = expected_error(text);
  AXON_FUZZ_CHECK(sut.has_value() == !expected.has_value());
  if (!sut) {
    AXON_FUZZ_CHECK(sut.error() == *expected);
    AXON_FUZZ_CHECK(std::string_view{axon::core::to_string(sut.error())} != "Unknown");
    return 0;
  }
  AXON_FUZZ_CHECK(sut->as_string() == text);
  AXON_FUZZ_CHECK(std::hash<ServiceName>{}(*sut) ==
                  static_cast<std::size_t>(axon::core::fnv1a_64(text)));
  AXON_FUZZ_CHECK(axon::core::hex16(axon::core::fnv1a_64(text)).size() == 16);
  const ServiceName copy = *sut;
  AXON_FUZZ_CHECK(copy == *sut);
  if (const auto other = ServiceName::create(text.substr(0, size / 2))) {
    AXON_FUZZ_CHECK((*sut <=> *other) == (text <=> other->as_string()));
    AXON_FUZZ_CHECK((*sut == *other) == (text == other->as_string()));
  }
  return 0;
}
