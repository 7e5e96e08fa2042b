#include "axon/detail/wake_service.hpp"

#include <algorithm>
#include <string>

#include "axon/detail/service_core.hpp"
#include "axon/service_builder.hpp"

namespace axon::detail {

ServiceName wake_service_name(const std::string& hash) {
  // A prefix and 16 hex digits: always a valid name (core::ServiceName's rules).
  return *ServiceName::create(std::string(kWakeServicePrefix) + hash);
}

namespace {

WakeServiceError wake_error(const EventOpenOrCreateError& error) {
  if (const auto* open = std::get_if<EventOpenError>(&error)) {
    switch (*open) {
      case EventOpenError::PermissionDenied: return WakeServiceError::PermissionDenied;
      case EventOpenError::InsufficientResources: return WakeServiceError::InsufficientResources;
      case EventOpenError::Corrupted: return WakeServiceError::Corrupted;
      default: return WakeServiceError::Unavailable;
    }
  }
  switch (std::get<EventCreateError>(error)) {
    case EventCreateError::PermissionDenied: return WakeServiceError::PermissionDenied;
    case EventCreateError::InsufficientResources: return WakeServiceError::InsufficientResources;
    default: return WakeServiceError::Unavailable;
  }
}

}  // namespace

tl::expected<EventService, WakeServiceError> WakeService::open_or_create(
    const ServiceCore& pubsub) {
  const auto name = wake_service_name(pubsub.hash());
  const auto& settings = pubsub.static_config().pubsub;
  // Whoever comes first creates it with the settings every port of this service would ask for,
  // so later opens meet their requirements (at least as many ports, nodes and ids).
  const auto ports = [](std::uint32_t n) { return std::min(n, EventDefaults::kMaxPorts); };
  auto service = ServiceBuilder(pubsub.node_handle(), name)
                     .event()
                     .max_listeners(ports(settings.max_subscribers))
                     .max_notifiers(ports(settings.max_publishers))
                     .max_nodes(ports(settings.max_nodes))
                     .event_id_max_value(0)
                     .access(pubsub.access())
                     .open_or_create();
  if (!service) return tl::unexpected(wake_error(service.error()));
  return std::move(*service);
}

}  // namespace axon::detail
