// The publish-subscribe pattern's policy (detail/pattern_policy.hpp): publishers and
// subscribers, one connection (two queues) per pair, and a data segment per publisher.
#pragma once

#include "axon/core/publish_subscribe/layout.hpp"
#include "axon/detail/pattern_policy.hpp"
#include "axon/publish_subscribe/static_config.hpp"
#include "axon/publish_subscribe/untyped.hpp"

namespace axon::detail {

struct PubSubPattern {
  using Layout = core::PubSubLayout;
  static constexpr core::MessagingPattern kPattern = core::MessagingPattern::PublishSubscribe;
  static constexpr MessagingPattern kPublicPattern = MessagingPattern::PublishSubscribe;
  static constexpr std::string_view kName = "publish_subscribe";
  static constexpr std::size_t kPublisherTable = Layout::kPublisherTable;
  static constexpr std::size_t kSubscriberTable = Layout::kSubscriberTable;

  /// Nothing is kept: each port attaches the queues of its own connections (pubsub_core).
  struct Region {};

  static tl::expected<void, platform::Error> prepare(const ServicePlace& place,
                                                     const core::StaticConfig& sc);
  static tl::expected<Region, core::CoreError> attach_region(const core::StaticConfig& sc,
                                                             const core::DynamicLayout& layout,
                                                             std::byte* base);
  static void remove_port_resources(const Config& config, const std::string& hash,
                                    std::size_t table, std::uint64_t id);
  static void describe(const core::StaticConfig& sc, const PortCounts& ports, ServiceInfo& info);
};

/// The public settings of a publish-subscribe service: one conversion, for its handle and for
/// discovery.
PubSubStaticConfig pubsub_static_config(const core::PubSubSettings& settings, Access access);

/// The service `request` describes, made (create) or found and checked against it (open).
tl::expected<std::shared_ptr<ServiceCore>, PubSubCreateError> create_pubsub(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const PubSubRequest& request);
tl::expected<std::shared_ptr<ServiceCore>, PubSubOpenError> open_pubsub(
    const std::shared_ptr<NodeCore>& node, const ServiceName& name, const PubSubRequest& request);

}  // namespace axon::detail
