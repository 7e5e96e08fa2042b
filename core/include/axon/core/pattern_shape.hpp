// What every messaging pattern's shared-memory layout has in common: a dynamic config holds node
// slots, up to kPortTables port tables whose slots start with a PortSlot, and one region of
// equal elements. A pattern says how many of each and how large (its PatternShape); the generic
// layout (service_layout.hpp) places them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace axon::core {

inline constexpr std::size_t kCacheLineSize = 64;
inline constexpr std::size_t kPortTables = 2;

constexpr std::size_t align_to_line(std::size_t n) {
  return (n + kCacheLineSize - 1) / kCacheLineSize * kCacheLineSize;
}

/// The common start of every port slot. Free while `owner_node` is 0; visible to peers while
/// `port_id` != 0 (published last, with release ordering). `reserved_id` holds the port's id
/// from its claim, before the port makes anything named after it (a FIFO, a segment), until
/// those are removed: whoever purges a dead owner's slot removes them by it.
struct PortSlot {
  std::atomic<std::uint64_t> owner_node;
  std::atomic<std::uint64_t> port_id;
  std::atomic<std::uint64_t> reserved_id;
};

/// Slots of one port table: how many, and the size of each (a pattern's slot type).
struct TableShape {
  std::uint32_t count = 0;
  std::uint32_t stride = 0;
};

/// How many nodes, ports and region elements a pattern's dynamic config holds, and their sizes.
/// Unused tables have count 0.
struct PatternShape {
  std::uint32_t max_nodes = 0;
  TableShape tables[kPortTables]{};
  std::uint64_t region_count = 0;
  std::uint64_t region_stride = 0;  ///< a multiple of kCacheLineSize
};

}  // namespace axon::core
