#include "axon/event_service.hpp"

#include <thread>

#include "axon/detail/service_core.hpp"

namespace axon {

const char* to_string(EventBackend backend) {
  return backend == EventBackend::Fifo ? "fifo" : "eventfd";
}

const char* to_string(MessagingPattern pattern) {
  return pattern == MessagingPattern::Event ? "event" : "publish_subscribe";
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

std::string to_string(const EventOpenOrCreateError& error) {
  return std::visit([](auto e) { return std::string(to_string(e)); }, error);
}

const ServiceName& EventService::name() const { return m_core->name(); }
const EventStaticConfig& EventService::static_config() const { return m_config; }
std::size_t EventService::number_of_listeners() const {
  return m_core->count_ports(detail::kListenerTable);
}
std::size_t EventService::number_of_notifiers() const {
  return m_core->count_ports(detail::kNotifierTable);
}
std::size_t EventService::number_of_nodes() const { return m_core->count_nodes(); }

EventService::EventService(std::shared_ptr<detail::ServiceCore> core) : m_core(std::move(core)) {
  const auto& e = m_core->static_config().event;
  m_config.max_listeners = e.max_listeners;
  m_config.max_notifiers = e.max_notifiers;
  m_config.max_nodes = e.max_nodes;
  m_config.event_id_max_value = e.event_id_max;
  m_config.backend = e.backend == core::EventBackendKind::Fifo ? EventBackend::Fifo
                                                               : EventBackend::EventFd;
  m_config.access = m_core->access();
}

EventServiceBuilder&& EventServiceBuilder::max_listeners(std::uint32_t n) && {
  m_max_listeners = n;
  return std::move(*this);
}
EventServiceBuilder&& EventServiceBuilder::max_notifiers(std::uint32_t n) && {
  m_max_notifiers = n;
  return std::move(*this);
}
EventServiceBuilder&& EventServiceBuilder::max_nodes(std::uint32_t n) && {
  m_max_nodes = n;
  return std::move(*this);
}
EventServiceBuilder&& EventServiceBuilder::event_id_max_value(std::uint64_t n) && {
  m_event_id_max = n;
  return std::move(*this);
}
EventServiceBuilder&& EventServiceBuilder::backend(EventBackend backend) && {
  m_backend = backend;
  return std::move(*this);
}
EventServiceBuilder&& EventServiceBuilder::access(Access access) && {
  m_access = access;
  return std::move(*this);
}

tl::expected<EventService, EventCreateError> EventServiceBuilder::create() && {
  core::StaticConfig settings{};
  settings.pattern = core::MessagingPattern::Event;
  settings.access = m_access.value_or(kDefaultAccess) == Access::Group ? core::AccessKind::Group
                                                                       : core::AccessKind::Owner;
  auto& e = settings.event;
  e.max_listeners = m_max_listeners.value_or(EventDefaults::kMaxListeners);
  e.max_notifiers = m_max_notifiers.value_or(EventDefaults::kMaxNotifiers);
  e.max_nodes = m_max_nodes.value_or(EventDefaults::kMaxNodes);
  e.event_id_max = m_event_id_max.value_or(EventDefaults::kEventIdMaxValue);
  e.backend = m_backend.value_or(kDefaultEventBackend) == EventBackend::Fifo
                  ? core::EventBackendKind::Fifo
                  : core::EventBackendKind::EventFd;
  if (e.max_listeners == 0 || e.max_notifiers == 0 || e.max_nodes == 0 ||
      e.max_listeners > EventDefaults::kMaxPorts || e.max_notifiers > EventDefaults::kMaxPorts ||
      e.max_nodes > EventDefaults::kMaxPorts || e.event_id_max > EventDefaults::kEventIdMaxLimit) {
    return tl::unexpected(EventCreateError::InvalidSettings);
  }
  auto created = detail::ServiceCore::create(m_node, m_name, settings);
  if (!created) {
    switch (created.error()) {
      case detail::CreateFailure::AlreadyExists:
        return tl::unexpected(EventCreateError::AlreadyExists);
      case detail::CreateFailure::InvalidSettings:
        return tl::unexpected(EventCreateError::InvalidSettings);
      case detail::CreateFailure::PermissionDenied:
        return tl::unexpected(EventCreateError::PermissionDenied);
      case detail::CreateFailure::InsufficientResources:
        return tl::unexpected(EventCreateError::InsufficientResources);
      case detail::CreateFailure::InternalFailure:
        return tl::unexpected(EventCreateError::InternalFailure);
    }
  }
  return EventService(std::move(*created));
}

tl::expected<EventService, EventOpenError> EventServiceBuilder::open() && {
  auto check = [&](const core::StaticConfig& sc) -> int {
    const auto& e = sc.event;
    EventOpenError error{};
    if (m_max_listeners && e.max_listeners < *m_max_listeners) {
      error = EventOpenError::DoesNotSupportRequestedAmountOfListeners;
    } else if (m_max_notifiers && e.max_notifiers < *m_max_notifiers) {
      error = EventOpenError::DoesNotSupportRequestedAmountOfNotifiers;
    } else if (m_max_nodes && e.max_nodes < *m_max_nodes) {
      error = EventOpenError::DoesNotSupportRequestedAmountOfNodes;
    } else if (m_event_id_max && e.event_id_max < *m_event_id_max) {
      error = EventOpenError::DoesNotSupportRequestedMaxEventId;
    } else if (e.backend != core::EventBackendKind::Fifo &&
               e.backend != core::EventBackendKind::EventFd) {
      error = EventOpenError::Corrupted;
    } else if (m_backend && (*m_backend == EventBackend::Fifo) !=
                                (e.backend == core::EventBackendKind::Fifo)) {
      error = EventOpenError::IncompatibleBackend;
    } else if (m_access && *m_access != (sc.access == core::AccessKind::Group ? Access::Group
                                                                              : Access::Owner)) {
      error = EventOpenError::IncompatibleAccess;
    } else {
      return 0;
    }
    return static_cast<int>(error) + 1;
  };
  auto opened = detail::ServiceCore::open(m_node, m_name, core::MessagingPattern::Event, check);
  if (!opened) {
    using Kind = detail::OpenFailure::Kind;
    switch (opened.error().kind) {
      case Kind::DoesNotExist: return tl::unexpected(EventOpenError::DoesNotExist);
      case Kind::IncompatibleMessagingPattern:
        return tl::unexpected(EventOpenError::IncompatibleMessagingPattern);
      case Kind::Requirement:
        return tl::unexpected(static_cast<EventOpenError>(opened.error().requirement - 1));
      case Kind::ExceedsMaxNodes: return tl::unexpected(EventOpenError::ExceedsMaxNodes);
      case Kind::PermissionDenied: return tl::unexpected(EventOpenError::PermissionDenied);
      case Kind::VersionMismatch: return tl::unexpected(EventOpenError::VersionMismatch);
      case Kind::Corrupted: return tl::unexpected(EventOpenError::Corrupted);
      case Kind::InternalFailure: return tl::unexpected(EventOpenError::InternalFailure);
      case Kind::InsufficientResources:
        return tl::unexpected(EventOpenError::InsufficientResources);
    }
  }
  return EventService(std::move(*opened));
}

tl::expected<EventService, EventOpenOrCreateError> EventServiceBuilder::open_or_create() && {
  // Open and create each run under the service lock, but not together: another process may
  // create or remove the service between them. Each lap is decided by that process's success,
  // so a few laps suffice; the bound only guards against a pathological create/remove loop.
  constexpr int kAttempts = 100;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto opened = EventServiceBuilder(*this).open();
    if (opened) return std::move(*opened);
    if (opened.error() != EventOpenError::DoesNotExist) return tl::unexpected(opened.error());
    auto created = EventServiceBuilder(*this).create();
    if (created) return std::move(*created);
    if (created.error() != EventCreateError::AlreadyExists) {
      return tl::unexpected(created.error());
    }
    std::this_thread::yield();
  }
  return tl::unexpected(EventOpenError::InternalFailure);
}

}  // namespace axon
