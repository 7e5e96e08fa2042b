#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tl/expected.hpp>
#include <type_traits>

#include "axon/core/fixed_string.hpp"

namespace axon::core {

/// Why a text is not a valid node name.
enum class NodeNameError : std::uint8_t {
  /// The name is longer than `NodeName::kMaxLength` bytes.
  TooLong,
  /// A byte is not printable ASCII (0x20..0x7E, space allowed).
  InvalidCharacter,
};

constexpr const char* to_string(NodeNameError error) noexcept {
  switch (error) {
    case NodeNameError::TooLong:
      return "TooLong";
    case NodeNameError::InvalidCharacter:
      return "InvalidCharacter";
  }
  return "Unknown";
}

/// The human-readable name of a node: 0..127 bytes of printable ASCII, space allowed. It only
/// labels a node (in listings and logs); it never becomes part of a file or object name, which is
/// why it is looser than `ServiceName` and may be empty.
///
/// A value type: trivially copyable, so it may be stored in shared memory as it is.
class NodeName {
 public:
  static constexpr std::size_t kMaxLength = 127;

  [[nodiscard]] static tl::expected<NodeName, NodeNameError> create(std::string_view text);

  [[nodiscard]] std::string_view as_string() const noexcept { return m_value.view(); }

  friend bool operator==(const NodeName& lhs, const NodeName& rhs) noexcept {
    return lhs.as_string() == rhs.as_string();
  }
  friend std::strong_ordering operator<=>(const NodeName& lhs, const NodeName& rhs) noexcept {
    return lhs.as_string() <=> rhs.as_string();
  }

 private:
  explicit NodeName(const FixedString<kMaxLength>& value) noexcept : m_value{value} {}

  FixedString<kMaxLength> m_value;
};

static_assert(std::is_trivially_copyable_v<NodeName>);

}  // namespace axon::core
