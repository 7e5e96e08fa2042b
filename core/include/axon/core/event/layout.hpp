// The event pattern's part of a service in shared memory: its settings in the static config, its
// two port tables (listeners, notifiers) and its region (one counting bitset per listener slot).
// A versioned contract (core::kLayoutVersion): see docs/extending.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/pattern_shape.hpp"

namespace axon::core {

enum class EventBackendKind : std::uint32_t { EventFd = 1, Fifo = 2 };

struct EventSettings {
  std::uint32_t max_listeners;
  std::uint32_t max_notifiers;
  std::uint32_t max_nodes;
  EventBackendKind backend;
  std::uint64_t event_id_max;
};

struct alignas(kCacheLineSize) ListenerSlot {
  PortSlot port;
  /// 1 while a wake-up is in the listener's channel and not yet drained.
  alignas(kCacheLineSize) std::atomic<std::uint32_t> pending;
};

struct NotifierSlot {
  PortSlot port;
};

/// The event pattern's shared-memory layout.
struct EventLayout {
  using Settings = EventSettings;
  static constexpr std::size_t kListenerTable = 0;
  static constexpr std::size_t kNotifierTable = 1;

  /// Settings no creator writes (an unknown backend) are Corrupted.
  static constexpr bool valid(const EventSettings& s) {
    switch (s.backend) {
      case EventBackendKind::EventFd:
      case EventBackendKind::Fifo: return true;
    }
    return false;
  }

  /// Placement-constructs slot `memory` of `table` in a fresh zero-filled mapping.
  static void initialize_slot(std::size_t table, std::byte* memory) {
    if (table == kListenerTable) {
      new (memory) ListenerSlot{};
    } else {
      new (memory) NotifierSlot{};
    }
  }

  /// Initialises one region element (`stride` bytes at `memory`): a listener slot's bitset.
  static bool initialize_region_element(const EventSettings& s, std::uint64_t stride,
                                        std::byte* memory) {
    return CountingBitset::initialize(memory, stride, s.event_id_max).has_value();
  }

  static constexpr PatternShape shape(const EventSettings& s) {
    PatternShape shape{};
    shape.max_nodes = s.max_nodes;
    shape.tables[kListenerTable] = {s.max_listeners, sizeof(ListenerSlot)};
    shape.tables[kNotifierTable] = {s.max_notifiers, sizeof(NotifierSlot)};
    shape.region_count = s.max_listeners;
    shape.region_stride = align_to_line(CountingBitset::required_size(s.event_id_max));
    return shape;
  }
};

}  // namespace axon::core
