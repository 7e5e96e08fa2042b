// Rules every pattern that carries payloads shares (publish-subscribe, request-response): the
// overflow policy as the static config records it, which PayloadTypes a creator may record and
// when two agree, and which payload sizes read from a chunk a port of the service can have
// written. One place, so that the patterns cannot drift apart.
#pragma once

#include <cstdint>

#include "axon/core/fixed_string.hpp"
#include "axon/core/publish_subscribe/layout.hpp"
#include "axon/publish_subscribe/payload_type.hpp"
#include "axon/publish_subscribe/static_config.hpp"

namespace axon::detail {

inline core::OverflowKind to_overflow_kind(OverflowPolicy p) {
  switch (p) {
    case OverflowPolicy::OverwriteOldest: return core::OverflowKind::OverwriteOldest;
    case OverflowPolicy::Refuse: return core::OverflowKind::Refuse;
    case OverflowPolicy::Block: return core::OverflowKind::Block;
  }
  return core::OverflowKind::OverwriteOldest;
}

/// Only for a kind a layout's valid() accepted (an unknown one reads as OverwriteOldest).
inline OverflowPolicy to_overflow_policy(core::OverflowKind k) {
  switch (k) {
    case core::OverflowKind::OverwriteOldest: return OverflowPolicy::OverwriteOldest;
    case core::OverflowKind::Refuse: return OverflowPolicy::Refuse;
    case core::OverflowKind::Block: return OverflowPolicy::Block;
  }
  return OverflowPolicy::OverwriteOldest;
}

/// A payload type a creator may record: a non-empty name that fits, a size that is a non-zero
/// multiple of a power-of-two alignment of at most 4096.
inline bool valid_payload_type(const PayloadType& t) {
  return !t.name.empty() && t.name.size() <= core::kMaxTypeNameLength && t.size != 0 &&
         t.alignment != 0 && (t.alignment & (t.alignment - 1)) == 0 && t.alignment <= 4096 &&
         t.size % t.alignment == 0;
}

/// Whether the payload type recorded as these fields is `t`.
inline bool same_payload_type(const PayloadType& t,
                              const core::FixedString<core::kMaxTypeNameLength>& name,
                              std::uint64_t size, std::uint64_t alignment,
                              std::uint32_t is_slice) {
  return name.view() == t.name && size == t.size && alignment == t.alignment &&
         (is_slice != 0) == t.is_slice;
}

/// Whether a payload size read from a chunk is one a port of the service can write: within the
/// chunk, and one element (a whole number of them, for slices).
inline bool payload_size_fits(std::uint64_t size, std::uint64_t capacity, std::uint64_t element,
                              bool is_slice) {
  if (element == 0 || size > capacity) return false;
  return is_slice ? size % element == 0 : size == element;
}

}  // namespace axon::detail
