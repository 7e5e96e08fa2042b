// The shared-memory layout of a service: its static config (written once by the creator, then
// read-only) and the dynamic config of the event pattern (node slots, listener and notifier slots,
// one counting bitset per listener slot). Plain data and atomics only; every process that maps
// these validates them with the `validate_*` functions before trusting any offset in them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "axon/core/fixed_string.hpp"

namespace axon::core {

inline constexpr std::size_t kCacheLineSize = 64;
inline constexpr std::uint32_t kLayoutVersion = 1;
inline constexpr std::uint64_t kStaticConfigMagic = 0x61786f6e53544154ULL;   // "axonSTAT"
inline constexpr std::uint64_t kDynamicConfigMagic = 0x61786f6e44594e41ULL;  // "axonDYNA"
inline constexpr std::size_t kMaxServiceNameLength = 255;

enum class MessagingPattern : std::uint32_t { Event = 1, PublishSubscribe = 2 };
enum class EventBackendKind : std::uint32_t { EventFd = 1, Fifo = 2 };
enum class CreationState : std::uint32_t { Creating = 0, Ready = 1 };

struct EventSettings {
  std::uint32_t max_listeners;
  std::uint32_t max_notifiers;
  std::uint32_t max_nodes;
  EventBackendKind backend;
  std::uint64_t event_id_max;
};

/// Written once by the creator while it holds the service lock; `state` turns Ready last.
struct StaticConfig {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t size_of_self;
  std::atomic<CreationState> state;
  MessagingPattern pattern;
  std::uint64_t creator_node_id;
  std::uint64_t dynamic_config_size;
  FixedString<kMaxServiceNameLength> name;
  EventSettings event;
};
static_assert(std::is_standard_layout_v<StaticConfig>);
static_assert(std::atomic<CreationState>::is_always_lock_free);

/// One node taking part in a service; `handles` counts that node's open service handles.
struct NodeSlot {
  std::atomic<std::uint64_t> node_id;  ///< 0: free
  std::atomic<std::uint32_t> handles;
  std::uint32_t reserved;
};

/// One listener port. Free while `owner_node` is 0; visible to notifiers while `listener_id` != 0.
struct alignas(kCacheLineSize) ListenerSlot {
  std::atomic<std::uint64_t> owner_node;
  std::atomic<std::uint64_t> listener_id;
  /// 1 while a wake-up byte or count is in the listener's channel and not yet drained.
  alignas(kCacheLineSize) std::atomic<std::uint32_t> pending;
};

struct NotifierSlot {
  std::atomic<std::uint64_t> owner_node;
  std::atomic<std::uint64_t> notifier_id;
};

struct alignas(kCacheLineSize) EventDynamicHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t reserved;
  std::uint64_t total_size;
  std::uint32_t max_nodes;
  std::uint32_t max_listeners;
  std::uint32_t max_notifiers;
  std::uint32_t reserved2;
  std::uint64_t event_id_max;
  std::uint64_t nodes_offset;
  std::uint64_t listeners_offset;
  std::uint64_t notifiers_offset;
  std::uint64_t bitsets_offset;
  std::uint64_t bitset_stride;
  /// Bumped whenever a listener appears or goes; notifiers compare it on each notify.
  alignas(kCacheLineSize) std::atomic<std::uint64_t> listener_generation;
  std::atomic<std::uint64_t> next_port_id;
};
static_assert(std::is_standard_layout_v<EventDynamicHeader>);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

constexpr std::size_t align_to_line(std::size_t n) {
  return (n + kCacheLineSize - 1) / kCacheLineSize * kCacheLineSize;
}

/// Offsets of every region of an event dynamic config for the given settings.
struct EventDynamicLayout {
  std::uint64_t nodes_offset;
  std::uint64_t listeners_offset;
  std::uint64_t notifiers_offset;
  std::uint64_t bitsets_offset;
  std::uint64_t bitset_stride;
  std::uint64_t total_size;

  static constexpr EventDynamicLayout compute(const EventSettings& s, std::size_t bitset_size) {
    EventDynamicLayout l{};
    l.nodes_offset = align_to_line(sizeof(EventDynamicHeader));
    l.listeners_offset = align_to_line(l.nodes_offset + sizeof(NodeSlot) * s.max_nodes);
    l.notifiers_offset = align_to_line(l.listeners_offset + sizeof(ListenerSlot) * s.max_listeners);
    l.bitsets_offset = align_to_line(l.notifiers_offset + sizeof(NotifierSlot) * s.max_notifiers);
    l.bitset_stride = align_to_line(bitset_size);
    l.total_size = l.bitsets_offset + l.bitset_stride * s.max_listeners;
    return l;
  }
};

/// True when the header's recorded layout is exactly what `settings` imply and fits in `bytes`.
inline bool validate_event_dynamic(const EventDynamicHeader& h, std::size_t bytes,
                                   const EventSettings& settings, std::size_t bitset_size) {
  if (h.magic != kDynamicConfigMagic || h.version != kLayoutVersion) return false;
  if (h.max_nodes != settings.max_nodes || h.max_listeners != settings.max_listeners ||
      h.max_notifiers != settings.max_notifiers || h.event_id_max != settings.event_id_max) {
    return false;
  }
  const auto l = EventDynamicLayout::compute(settings, bitset_size);
  return h.total_size == l.total_size && l.total_size <= bytes &&
         h.nodes_offset == l.nodes_offset && h.listeners_offset == l.listeners_offset &&
         h.notifiers_offset == l.notifiers_offset && h.bitsets_offset == l.bitsets_offset &&
         h.bitset_stride == l.bitset_stride;
}

}  // namespace axon::core
