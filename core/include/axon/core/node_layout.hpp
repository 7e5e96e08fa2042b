// What a node publishes about itself in shared memory (one small object per node).
#pragma once

#include <cstdint>
#include <type_traits>

#include "axon/core/fixed_string.hpp"

namespace axon::core {

inline constexpr std::uint64_t kNodeDetailsMagic = 0x61786f6e4e4f4445ULL;  // "axonNODE"
inline constexpr std::uint32_t kNodeDetailsVersion = 1;
inline constexpr std::size_t kMaxNodeNameLength = 127;

struct NodeDetails {
  std::uint64_t magic;
  std::uint32_t version;
  std::int32_t pid;
  std::uint64_t node_id;
  std::int64_t created_ns;  ///< CLOCK_REALTIME at creation, for display only
  FixedString<kMaxNodeNameLength> name;
};
static_assert(std::is_trivially_copyable_v<NodeDetails>);
static_assert(std::is_standard_layout_v<NodeDetails>);

inline bool validate_node_details(const NodeDetails& d, std::uint64_t expected_id) {
  return d.magic == kNodeDetailsMagic && d.version == kNodeDetailsVersion &&
         d.node_id == expected_id;
}

}  // namespace axon::core
