#include "axon/core/service_name.hpp"

namespace axon::core {

namespace {

constexpr bool is_name_byte(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte >= 0x21 && byte <= 0x7E;
}

}  // namespace

tl::expected<ServiceName, ServiceNameError> ServiceName::create(std::string_view text) {
  if (text.empty()) {
    return tl::unexpected(ServiceNameError::Empty);
  }
  if (text.size() > kMaxLength) {
    return tl::unexpected(ServiceNameError::TooLong);
  }
  for (const char c : text) {
    if (!is_name_byte(c)) {
      return tl::unexpected(ServiceNameError::InvalidCharacter);
    }
  }

  std::string_view rest = text;
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty()) {
      return tl::unexpected(ServiceNameError::EmptySegment);
    }
    if (segment == "." || segment == "..") {
      return tl::unexpected(ServiceNameError::DotSegment);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }

  // Length was checked above, so `from` cannot fail here.
  return ServiceName{*FixedString<kMaxLength>::from(text)};
}

}  // namespace axon::core
