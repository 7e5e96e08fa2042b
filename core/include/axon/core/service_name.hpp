#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <tl/expected.hpp>
#include <type_traits>

#include "axon/core/fixed_string.hpp"
#include "axon/core/hash.hpp"

namespace axon::core {

/// Why a text is not a valid service name.
enum class ServiceNameError : std::uint8_t {
  /// The name has no bytes.
  Empty,
  /// The name is longer than `ServiceName::kMaxLength` bytes.
  TooLong,
  /// A byte is not printable ASCII without space (0x21..0x7E).
  InvalidCharacter,
  /// Two `/` in a row, or a leading or trailing `/`.
  EmptySegment,
  /// A segment is `.` or `..`.
  DotSegment,
};

constexpr const char* to_string(ServiceNameError error) noexcept {
  switch (error) {
    case ServiceNameError::Empty:
      return "Empty";
    case ServiceNameError::TooLong:
      return "TooLong";
    case ServiceNameError::InvalidCharacter:
      return "InvalidCharacter";
    case ServiceNameError::EmptySegment:
      return "EmptySegment";
    case ServiceNameError::DotSegment:
      return "DotSegment";
  }
  return "Unknown";
}

/// The validated name of a service: 1..255 bytes of printable ASCII without space, made of
/// `/`-separated segments, none empty and none `.` or `..`.
///
/// A value type: trivially copyable, so it may be stored in shared memory as it is (a name read
/// back from shared memory is still only as trustworthy as that memory; validate it again with
/// `create(name.as_string())` when it matters).
class ServiceName {
 public:
  static constexpr std::size_t kMaxLength = 255;

  [[nodiscard]] static tl::expected<ServiceName, ServiceNameError> create(std::string_view text);

  [[nodiscard]] std::string_view as_string() const noexcept { return m_value.view(); }

  friend bool operator==(const ServiceName& lhs, const ServiceName& rhs) noexcept {
    return lhs.as_string() == rhs.as_string();
  }
  friend std::strong_ordering operator<=>(const ServiceName& lhs, const ServiceName& rhs) noexcept {
    return lhs.as_string() <=> rhs.as_string();
  }

 private:
  explicit ServiceName(const FixedString<kMaxLength>& value) noexcept : m_value{value} {}

  FixedString<kMaxLength> m_value;
};

static_assert(std::is_trivially_copyable_v<ServiceName>);

}  // namespace axon::core

template <>
struct std::hash<axon::core::ServiceName> {
  std::size_t operator()(const axon::core::ServiceName& name) const noexcept {
    return static_cast<std::size_t>(axon::core::fnv1a_64(name.as_string()));
  }
};
