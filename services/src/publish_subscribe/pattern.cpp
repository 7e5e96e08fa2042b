#include "axon/publish_subscribe/pattern.hpp"

#include "axon/detail/node_core.hpp"
#include "axon/discovery.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon::detail {

static_assert(MessagingPatternPolicy<PubSubPattern>);

tl::expected<void, platform::Error> PubSubPattern::prepare(const ServicePlace&,
                                                           const core::StaticConfig&) {
  return {};  // each publisher makes its own data segment when it is created
}

tl::expected<PubSubPattern::Region, core::CoreError> PubSubPattern::attach_region(
    const core::StaticConfig&, const core::DynamicLayout&, std::byte*) {
  // A connection's queues are (re)initialised by its publisher whenever it connects, and
  // validated by both sides when they attach to them: nothing to check for the whole region.
  return Region{};
}

void PubSubPattern::remove_port_resources(const Config& config, const std::string& hash,
                                          std::size_t table, std::uint64_t id) {
  if (id == 0 || table != kPublisherTable) return;
  (void)platform::SharedMemory::remove(Paths::port_segment(config, hash, id));
}

void PubSubPattern::describe(const core::StaticConfig& sc, const PortCounts& ports,
                             ServiceInfo& info) {
  info.pattern = kPublicPattern;
  info.pubsub = pubsub_static_config(sc.pubsub, info.access);
  info.publishers = ports.tables[kPublisherTable];
  info.subscribers = ports.tables[kSubscriberTable];
}

}  // namespace axon::detail
