#include "axon/event/pattern.hpp"

#include "axon/detail/service_core.hpp"
#include "axon/discovery.hpp"
#include "axon/platform/filesystem.hpp"

namespace axon::detail {

static_assert(MessagingPatternPolicy<EventPattern>);

EventStaticConfig event_static_config(const core::EventSettings& e, Access access) {
  EventStaticConfig c;
  c.max_listeners = e.max_listeners;
  c.max_notifiers = e.max_notifiers;
  c.max_nodes = e.max_nodes;
  c.event_id_max_value = e.event_id_max;
  switch (e.backend) {
    case core::EventBackendKind::EventFd: c.backend = EventBackend::EventFd; break;
    case core::EventBackendKind::Fifo: c.backend = EventBackend::Fifo; break;
  }
  c.access = access;
  return c;
}

tl::expected<void, platform::Error> EventPattern::prepare(const ServicePlace& place,
                                                          const core::StaticConfig& sc) {
  switch (sc.event.backend) {
    case core::EventBackendKind::EventFd: return {};  // eventfds are handed out by node sockets
    case core::EventBackendKind::Fifo: break;
  }
  // Listeners' FIFOs live in a directory of the service, made with the service's access.
  const auto mode = directory_mode(place.access, place.root);
  const auto owners =
      place.root.shared ? platform::DirectoryOwners::UsOrGroup : platform::DirectoryOwners::Us;
  return platform::ensure_directory(Paths::service_dir(place.config, place.hash), mode.mode,
                                    owners, mode.group)
      .map([](auto&&) {});
}

tl::expected<EventPattern::Region, core::CoreError> EventPattern::attach_region(
    const core::StaticConfig& sc, const core::DynamicLayout& layout, std::byte* base) {
  Region region;
  region.bitsets.reserve(layout.region_count);
  for (std::uint64_t i = 0; i < layout.region_count; ++i) {
    auto bitset =
        core::CountingBitset::attach(base + layout.region_offset + i * layout.region_stride,
                                     layout.region_stride);
    if (!bitset) return tl::unexpected(bitset.error());
    if (bitset->max_id() != sc.event.event_id_max) return tl::unexpected(core::CoreError::Corrupted);
    region.bitsets.push_back(*bitset);
  }
  return region;
}

void EventPattern::remove_port_resources(const Config& config, const std::string& hash,
                                         std::size_t table, std::uint64_t id) {
  if (id == 0 || table != kListenerTable) return;
  // Relative to the FIFO directory, below a services directory that is what it claims to be:
  // never through a symlink planted in the place of either.
  const auto services = config.services_dir();
  if (!check_directory(config, &services)) return;
  (void)platform::remove_file_below(Paths::listener_fifo(config, hash, id));
}

void EventPattern::describe(const core::StaticConfig& sc, const PortCounts& ports,
                            ServiceInfo& info) {
  info.pattern = kPublicPattern;
  info.event = event_static_config(sc.event, info.access);
  info.listeners = ports.tables[kListenerTable];
  info.notifiers = ports.tables[kNotifierTable];
}

}  // namespace axon::detail
