#include "axon/request_response/pattern.hpp"

#include "axon/detail/node_core.hpp"
#include "axon/discovery.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon::detail {

static_assert(MessagingPatternPolicy<RequestResponsePattern>);

tl::expected<void, platform::Error> RequestResponsePattern::prepare(const ServicePlace&,
                                                                    const core::StaticConfig&) {
  return {};  // each port makes its own data segment when it is created
}

tl::expected<RequestResponsePattern::Region, core::CoreError>
RequestResponsePattern::attach_region(const core::StaticConfig&, const core::DynamicLayout&,
                                      std::byte*) {
  // Each half of a link is rebuilt by its writer when it connects and validated by its reader
  // when it attaches: nothing to check for the whole region.
  return Region{};
}

void RequestResponsePattern::remove_port_resources(const Config& config, const std::string& hash,
                                                   std::size_t, std::uint64_t id) {
  if (id == 0) return;
  (void)platform::SharedMemory::remove(Paths::port_segment(config, hash, id));
}

void RequestResponsePattern::describe(const core::StaticConfig& sc, const PortCounts& ports,
                                      ServiceInfo& info) {
  info.pattern = kPublicPattern;
  info.request_response = request_response_static_config(sc.request_response, info.access);
  info.clients = ports.tables[kClientTable];
  info.servers = ports.tables[kServerTable];
  info.pending_requests = 0;
  const auto& settings = sc.request_response;
  const auto& l = ports.layout;
  if (ports.base == nullptr || l.region_count != std::uint64_t{settings.max_clients} *
                                                     settings.max_servers) {
    return;
  }
  const auto link = Layout::link(settings);
  auto port_id = [&](std::size_t table, std::uint32_t i) {
    // SAFETY: slots within the validated layout; only atomics are read.
    const auto* slot = reinterpret_cast<const core::PortSlot*>(
        ports.base + l.ports[table].offset + std::uint64_t{i} * l.ports[table].stride);
    return slot->port_id.load(std::memory_order_acquire);
  };
  // A request is pending while its client listens on its channel on any link it was sent on.
  for (std::uint32_t c = 0; c < settings.max_clients; ++c) {
    const auto client = port_id(kClientTable, c);
    if (client == 0) continue;
    for (std::uint32_t k = 0; k < settings.max_active_requests; ++k) {
      for (std::uint32_t s = 0; s < settings.max_servers; ++s) {
        const auto* memory =
            ports.base + l.region_offset + (std::uint64_t{c} * settings.max_servers + s) * l.region_stride;
        // SAFETY: offsets from the layout of the validated settings, inside the region.
        const auto* header = reinterpret_cast<const core::LinkHeader*>(memory);
        const auto* listening =
            reinterpret_cast<const core::ChannelWord*>(memory + link.listening_offset);
        if (header->writer_id.load(std::memory_order_acquire) == client &&
            header->reader_id.load(std::memory_order_relaxed) == port_id(kServerTable, s) &&
            listening[k].load(std::memory_order_relaxed) != 0) {
          ++info.pending_requests;
          break;
        }
      }
    }
  }
}

}  // namespace axon::detail
