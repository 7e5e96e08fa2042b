#include "axon/event/service.hpp"

#include "axon/detail/open_or_create.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/event/pattern.hpp"

namespace axon {

const char* to_string(EventBackend backend) {
  return backend == EventBackend::Fifo ? "fifo" : "eventfd";
}

const char* to_string(EventOpenError error) {
  switch (error) {
    case EventOpenError::DoesNotExist: return "DoesNotExist";
    case EventOpenError::IncompatibleMessagingPattern: return "IncompatibleMessagingPattern";
    case EventOpenError::DoesNotSupportRequestedAmountOfListeners:
      return "DoesNotSupportRequestedAmountOfListeners";
    case EventOpenError::DoesNotSupportRequestedAmountOfNotifiers:
      return "DoesNotSupportRequestedAmountOfNotifiers";
    case EventOpenError::DoesNotSupportRequestedAmountOfNodes:
      return "DoesNotSupportRequestedAmountOfNodes";
    case EventOpenError::DoesNotSupportRequestedMaxEventId:
      return "DoesNotSupportRequestedMaxEventId";
    case EventOpenError::IncompatibleBackend: return "IncompatibleBackend";
    case EventOpenError::IncompatibleAccess:
      return "IncompatibleAccess";
    case EventOpenError::ExceedsMaxNodes: return "ExceedsMaxNodes";
    case EventOpenError::PermissionDenied: return "PermissionDenied";
    case EventOpenError::VersionMismatch: return "VersionMismatch";
    case EventOpenError::Corrupted: return "Corrupted";
    case EventOpenError::InternalFailure: return "InternalFailure";
    case EventOpenError::InsufficientResources: return "InsufficientResources";
  }
  return "Unknown";
}

const char* to_string(EventCreateError error) {
  switch (error) {
    case EventCreateError::AlreadyExists: return "AlreadyExists";
    case EventCreateError::InvalidSettings: return "InvalidSettings";
    case EventCreateError::PermissionDenied: return "PermissionDenied";
    case EventCreateError::InsufficientResources: return "InsufficientResources";
    case EventCreateError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(const EventOpenOrCreateError& error) {
  return std::visit([](auto e) { return to_string(e); }, error);
}

const ServiceName& EventService::name() const { return m_core->name(); }
const EventStaticConfig& EventService::static_config() const { return m_config; }
std::size_t EventService::number_of_listeners() const {
  return m_core->count_ports(detail::EventPattern::kListenerTable);
}
std::size_t EventService::number_of_notifiers() const {
  return m_core->count_ports(detail::EventPattern::kNotifierTable);
}
std::size_t EventService::number_of_nodes() const { return m_core->count_nodes(); }

EventService::EventService(std::shared_ptr<detail::ServiceCore> core)
    : m_core(std::move(core)),
      m_config(detail::event_static_config(m_core->static_config().event, m_core->access())) {}

EventServiceBuilder& EventServiceBuilder::max_listeners(std::uint32_t n) {
  m_max_listeners = n;
  return *this;
}
EventServiceBuilder& EventServiceBuilder::max_notifiers(std::uint32_t n) {
  m_max_notifiers = n;
  return *this;
}
EventServiceBuilder& EventServiceBuilder::max_nodes(std::uint32_t n) {
  m_max_nodes = n;
  return *this;
}
EventServiceBuilder& EventServiceBuilder::event_id_max_value(std::uint64_t n) {
  m_event_id_max = n;
  return *this;
}
EventServiceBuilder& EventServiceBuilder::backend(EventBackend backend) {
  m_backend = backend;
  return *this;
}
EventServiceBuilder& EventServiceBuilder::access(Access access) {
  m_access = access;
  return *this;
}

tl::expected<EventService, EventCreateError> EventServiceBuilder::create() {
  // What the builder was not given comes from the node's configuration (its file's [event]).
  const auto& d = m_node->config().defaults.event;
  core::StaticConfig settings{};
  settings.access = m_access.value_or(d.access) == Access::Group ? core::AccessKind::Group
                                                                 : core::AccessKind::Owner;
  auto& e = settings.event;
  e.max_listeners = m_max_listeners.value_or(d.max_listeners);
  e.max_notifiers = m_max_notifiers.value_or(d.max_notifiers);
  e.max_nodes = m_max_nodes.value_or(d.max_nodes);
  e.event_id_max = m_event_id_max.value_or(d.event_id_max_value);
  e.backend = m_backend.value_or(d.backend) == EventBackend::Fifo
                  ? core::EventBackendKind::Fifo
                  : core::EventBackendKind::EventFd;
  if (e.max_listeners == 0 || e.max_notifiers == 0 || e.max_nodes == 0 ||
      e.max_listeners > EventDefaults::kMaxPorts || e.max_notifiers > EventDefaults::kMaxPorts ||
      e.max_nodes > EventDefaults::kMaxPorts || e.event_id_max > EventDefaults::kEventIdMaxLimit) {
    return tl::unexpected(EventCreateError::InvalidSettings);
  }
  auto created = detail::create_service<detail::EventPattern, EventCreateError>(m_node, m_name,
                                                                                 settings);
  if (!created) return tl::unexpected(created.error());
  return EventService(std::move(*created));
}

tl::expected<EventService, EventOpenError> EventServiceBuilder::open() {
  auto requirements = [&](const core::StaticConfig& sc) -> std::optional<EventOpenError> {
    const auto& e = sc.event;
    if (m_max_listeners && e.max_listeners < *m_max_listeners) {
      return EventOpenError::DoesNotSupportRequestedAmountOfListeners;
    }
    if (m_max_notifiers && e.max_notifiers < *m_max_notifiers) {
      return EventOpenError::DoesNotSupportRequestedAmountOfNotifiers;
    }
    if (m_max_nodes && e.max_nodes < *m_max_nodes) {
      return EventOpenError::DoesNotSupportRequestedAmountOfNodes;
    }
    if (m_event_id_max && e.event_id_max < *m_event_id_max) {
      return EventOpenError::DoesNotSupportRequestedMaxEventId;
    }
    const auto existing = detail::event_static_config(e, detail::to_access(sc.access));
    if (m_backend && *m_backend != existing.backend) return EventOpenError::IncompatibleBackend;
    if (m_access && *m_access != existing.access) return EventOpenError::IncompatibleAccess;
    return std::nullopt;
  };
  auto opened =
      detail::open_service<detail::EventPattern, EventOpenError>(m_node, m_name, requirements);
  if (!opened) return tl::unexpected(opened.error());
  return EventService(std::move(*opened));
}

tl::expected<EventService, EventOpenOrCreateError> EventServiceBuilder::open_or_create() {
  return detail::open_or_create([&] { return EventServiceBuilder(*this).open(); },
                                [&] { return EventServiceBuilder(*this).create(); });
}

}  // namespace axon
