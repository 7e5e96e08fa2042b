// The event pattern's policy (detail/pattern_policy.hpp): listeners and notifiers, a counting
// bitset per listener slot, and a FIFO directory for the fifo backend.
#pragma once

#include <vector>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/event/layout.hpp"
#include "axon/detail/pattern_policy.hpp"
#include "axon/event/static_config.hpp"

namespace axon::detail {

struct EventPattern {
  using Layout = core::EventLayout;
  static constexpr core::MessagingPattern kPattern = core::MessagingPattern::Event;
  static constexpr std::string_view kName = "event";
  static constexpr std::size_t kListenerTable = Layout::kListenerTable;
  static constexpr std::size_t kNotifierTable = Layout::kNotifierTable;
  static constexpr MessagingPattern kPublicPattern = MessagingPattern::Event;

  /// Our handles on every listener slot's bitset, validated at open.
  struct Region {
    std::vector<core::CountingBitset> bitsets;
  };

  static tl::expected<void, platform::Error> prepare(const ServicePlace& place,
                                                     const core::StaticConfig& sc);
  static tl::expected<Region, core::CoreError> attach_region(const core::StaticConfig& sc,
                                                             const core::DynamicLayout& layout,
                                                             std::byte* base);
  static void remove_port_resources(const Config& config, const std::string& hash,
                                    std::size_t table, std::uint64_t id);
  static void describe(const core::StaticConfig& sc, const PortCounts& ports, ServiceInfo& info);
};

/// The public settings of an event service: one conversion, for its handle and for discovery.
EventStaticConfig event_static_config(const core::EventSettings& settings, Access access);

}  // namespace axon::detail
