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
    case EventOpenError::ExceedsMaxNodes: return "ExceedsMaxNodes";
    case EventOpenError::PermissionDenied: return "PermissionDenied";
    case EventOpenError::VersionMismatch: return "VersionMismatch";
    case EventOpenError::Corrupted: return "Corrupted";
    case EventOpenError::InternalFailure: return "InternalFailure";
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
const EventStaticConfig& EventService::static_config() const { return m_core->event_config(); }
std::size_t EventService::number_of_listeners() const { return m_core->count_listeners(); }
std::size_t EventService::number_of_notifiers() const { return m_core->count_notifiers(); }
std::size_t EventService::number_of_nodes() const { return m_core->count_nodes(); }

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

tl::expected<EventService, EventCreateError> EventServiceBuilder::create() && {
  EventStaticConfig settings;
  settings.max_listeners = m_max_listeners.value_or(EventDefaults::kMaxListeners);
  settings.max_notifiers = m_max_notifiers.value_or(EventDefaults::kMaxNotifiers);
  settings.max_nodes = m_max_nodes.value_or(EventDefaults::kMaxNodes);
  settings.event_id_max_value = m_event_id_max.value_or(EventDefaults::kEventIdMaxValue);
  settings.backend = m_backend.value_or(kDefaultEventBackend);
  return detail::ServiceCore::create_event(m_node, m_name, settings).map([](auto core) {
    return EventService(std::move(core));
  });
}

tl::expected<EventService, EventOpenError> EventServiceBuilder::open() && {
  detail::EventRequirements required{m_max_listeners, m_max_notifiers, m_max_nodes,
                                     m_event_id_max, m_backend};
  return detail::ServiceCore::open_event(m_node, m_name, required).map([](auto core) {
    return EventService(std::move(core));
  });
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
