#include "axon/discovery.hpp"

#include <algorithm>
#include <cstring>

#include "axon/core/service_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon {

const char* to_string(DiscoveryError error) {
  switch (error) {
    case DiscoveryError::DoesNotExist: return "DoesNotExist";
    case DiscoveryError::Corrupted: return "Corrupted";
    case DiscoveryError::PermissionDenied: return "PermissionDenied";
    case DiscoveryError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

namespace {

template <typename T>
const T* slots_at(const void* base, std::uint64_t offset) {
  // SAFETY: offsets come from a header validated against the mapping's size.
  return reinterpret_cast<const T*>(static_cast<const std::byte*>(base) + offset);
}

tl::expected<ServiceInfo, DiscoveryError> read_service(const Config& config,
                                                       const std::string& hash) {
  auto st = platform::SharedMemory::open(detail::Paths::service_static(config, hash),
                                         platform::AccessMode::ReadOnly);
  if (!st) {
    switch (st.error().code) {
      case platform::ErrorCode::DoesNotExist: return tl::unexpected(DiscoveryError::DoesNotExist);
      case platform::ErrorCode::PermissionDenied:
        return tl::unexpected(DiscoveryError::PermissionDenied);
      default: return tl::unexpected(DiscoveryError::Corrupted);
    }
  }
  if (st->size() < sizeof(core::StaticConfig)) return tl::unexpected(DiscoveryError::Corrupted);
  // SAFETY: size checked; every field is validated before use.
  const auto& sc = *static_cast<const core::StaticConfig*>(st->data());
  // ORDERING: acquire pairs with the creator's release of Ready.
  if (sc.state.load(std::memory_order_acquire) != core::CreationState::Ready) {
    return tl::unexpected(DiscoveryError::DoesNotExist);  // still being created, or abandoned
  }
  if (sc.magic != core::kStaticConfigMagic || sc.version != core::kLayoutVersion ||
      sc.size_of_self != sizeof(core::StaticConfig) ||
      (sc.pattern != core::MessagingPattern::Event &&
       sc.pattern != core::MessagingPattern::PublishSubscribe)) {
    return tl::unexpected(DiscoveryError::Corrupted);
  }
  ServiceInfo info;
  info.name = std::string(sc.name.view());
  info.creator = NodeId{sc.creator_node_id};
  if (sc.pattern == core::MessagingPattern::Event) {
    info.pattern = MessagingPattern::Event;
    info.event.max_listeners = sc.event.max_listeners;
    info.event.max_notifiers = sc.event.max_notifiers;
    info.event.max_nodes = sc.event.max_nodes;
    info.event.event_id_max_value = sc.event.event_id_max;
    info.event.backend = sc.event.backend == core::EventBackendKind::Fifo ? EventBackend::Fifo
                                                                           : EventBackend::EventFd;
  } else {
    info.pattern = MessagingPattern::PublishSubscribe;
    const auto& p = sc.pubsub;
    info.pubsub.type_name = std::string(p.type_name.view());
    info.pubsub.type_size = p.type_size;
    info.pubsub.type_alignment = p.type_alignment;
    info.pubsub.is_slice = p.is_slice != 0;
    info.pubsub.max_publishers = p.max_publishers;
    info.pubsub.max_subscribers = p.max_subscribers;
    info.pubsub.max_nodes = p.max_nodes;
    info.pubsub.history_size = p.history_size;
    info.pubsub.subscriber_buffer_size = p.subscriber_buffer_size;
    info.pubsub.max_loans = p.max_loans;
  }

  auto dy = platform::SharedMemory::open(detail::Paths::service_dynamic(config, hash),
                                         platform::AccessMode::ReadOnly);
  if (!dy || dy->size() < sizeof(core::DynamicHeader)) {
    return tl::unexpected(DiscoveryError::Corrupted);
  }
  const auto& h = *static_cast<const core::DynamicHeader*>(dy->data());
  if (!core::validate_dynamic(h, dy->size(), sc)) return tl::unexpected(DiscoveryError::Corrupted);
  const auto* nodes = slots_at<core::NodeSlot>(dy->data(), h.nodes_offset);
  for (std::uint32_t i = 0; i < h.max_nodes; ++i) {
    if (const auto id = nodes[i].node_id.load(std::memory_order_acquire); id != 0) {
      info.node_ids.push_back(NodeId{id});
    }
  }
  info.nodes = info.node_ids.size();
  std::size_t ports[core::kPortTables]{};
  for (std::size_t t = 0; t < core::kPortTables; ++t) {
    for (std::uint32_t i = 0; i < h.ports[t].count; ++i) {
      const auto* slot = slots_at<core::PortSlot>(
          dy->data(), h.ports[t].offset + std::uint64_t{i} * h.ports[t].stride);
      ports[t] += slot->port_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
    }
  }
  if (info.pattern == MessagingPattern::Event) {
    info.listeners = ports[0];
    info.notifiers = ports[1];
  } else {
    info.publishers = ports[0];
    info.subscribers = ports[1];
  }
  return info;
}

}  // namespace

tl::expected<std::vector<ServiceInfo>, DiscoveryError> list_services(const Config& config) {
  const std::string stem = config.prefix + "svc_";
  auto objects = platform::SharedMemory::list(stem);
  if (!objects) {
    return tl::unexpected(objects.error().code == platform::ErrorCode::PermissionDenied
                              ? DiscoveryError::PermissionDenied
                              : DiscoveryError::InternalFailure);
  }
  std::vector<ServiceInfo> out;
  for (const auto& o : *objects) {
    if (o.size() != stem.size() + 18 || !o.ends_with("_s")) continue;
    if (auto info = read_service(config, o.substr(stem.size(), 16))) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(),
            [](const ServiceInfo& a, const ServiceInfo& b) { return a.name < b.name; });
  return out;
}

tl::expected<ServiceInfo, DiscoveryError> describe_service(const ServiceName& name,
                                                           const Config& config) {
  auto info = read_service(config, detail::Paths::service_hash(name.as_string()));
  if (info && info->name != name.as_string()) return tl::unexpected(DiscoveryError::Corrupted);
  return info;
}

}  // namespace axon
