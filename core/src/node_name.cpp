#include "axon/core/node_name.hpp"

namespace axon::core {

tl::expected<NodeName, NodeNameError> NodeName::create(std::string_view text) {
  if (text.size() > kMaxLength) {
    return tl::unexpected(NodeNameError::TooLong);
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E) {
      return tl::unexpected(NodeNameError::InvalidCharacter);
    }
  }
  // Length was checked above, so `from` cannot fail here.
  return NodeName{*FixedString<kMaxLength>::from(text)};
}

}  // namespace axon::core
