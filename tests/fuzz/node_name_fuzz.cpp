// Fuzzes NodeName::create (core/node_name.hpp) against the rule in docs/design.md: 0..127 bytes
// of printable ASCII (0x20..0x7E, space allowed); TooLong before InvalidCharacter. A valid name
// must read back unchanged and order as its text.
//
// Input: the candidate name is the whole input; its first half is a second name to compare with.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "axon/core/node_name.hpp"
#include "fuzz_support.hpp"

namespace {

using axon::core::NodeName;
using axon::core::NodeNameError;

std::optional<NodeNameError> expected_error(std::string_view text) {
  if (text.size() > NodeName::kMaxLength) return NodeNameError::TooLong;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E) return NodeNameError::InvalidCharacter;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  const auto sut = NodeName::create(text);
  const auto expected = expected_error(text);
  AXON_FUZZ_CHECK(sut.has_value() == !expected.has_value());
  if (!sut) {
    AXON_FUZZ_CHECK(sut.error() == *expected);
    AXON_FUZZ_CHECK(std::string_view{axon::core::to_string(sut.error())} != "Unknown");
    return 0;
  }
  AXON_FUZZ_CHECK(sut->as_string() == text);
  if (const auto other = NodeName::create(text.substr(0, size / 2))) {
    AXON_FUZZ_CHECK((*sut <=> *other) == (text <=> other->as_string()));
    AXON_FUZZ_CHECK((*sut == *other) == (text == other->as_string()));
  }
  return 0;
}
