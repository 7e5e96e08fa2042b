#include "axon/notifier.hpp"

#include "axon/detail/service_core.hpp"
#include "axon/event_service.hpp"

namespace axon {

const char* to_string(NotifierCreateError error) {
  switch (error) {
    case NotifierCreateError::ExceedsMaxNotifiers: return "ExceedsMaxNotifiers";
    case NotifierCreateError::EventIdOutOfBounds: return "EventIdOutOfBounds";
    case NotifierCreateError::Corrupted: return "Corrupted";
  }
  return "Unknown";
}

const char* to_string(NotifierNotifyError error) {
  switch (error) {
    case NotifierNotifyError::EventIdOutOfBounds: return "EventIdOutOfBounds";
    case NotifierNotifyError::Corrupted: return "Corrupted";
  }
  return "Unknown";
}

NotifierBuilder&& NotifierBuilder::default_event_id(EventId id) && {
  m_default_id = id;
  return std::move(*this);
}

tl::expected<Notifier, NotifierCreateError> NotifierBuilder::create() && {
  auto& service = *m_service;
  if (m_default_id.value > service.static_config().event.event_id_max) {
    return tl::unexpected(NotifierCreateError::EventIdOutOfBounds);
  }
  const auto claimed = service.claim_port(detail::kNotifierTable);
  if (!claimed) return tl::unexpected(NotifierCreateError::ExceedsMaxNotifiers);
  service.publish_port(detail::kNotifierTable, claimed->slot, claimed->id);
  return Notifier(m_service, claimed->slot, claimed->id, m_default_id);
}

Notifier::Notifier(std::shared_ptr<detail::ServiceCore> service, std::uint32_t slot,
                   std::uint64_t id, EventId default_id)
    : m_service(std::move(service)),
      m_slot(slot),
      m_id(id),
      m_default_id(default_id),
      m_event_id_max(m_service->static_config().event.event_id_max) {
  m_connections.resize(m_service->port_capacity(detail::kListenerTable));
}

Notifier::Notifier(Notifier&& other) noexcept
    : m_service(std::move(other.m_service)),
      m_slot(other.m_slot),
      m_id(other.m_id),
      m_default_id(other.m_default_id),
      m_event_id_max(other.m_event_id_max),
      m_seen_generation(other.m_seen_generation),
      m_connections(std::move(other.m_connections)) {}

Notifier::~Notifier() {
  if (m_service) m_service->release_port(detail::kNotifierTable, m_slot);
}

void Notifier::refresh_connections() {
  auto& service = *m_service;
  const bool fifo = service.static_config().event.backend == core::EventBackendKind::Fifo;
  for (std::uint32_t i = 0; i < m_connections.size(); ++i) {
    auto& slot = service.port_slot<core::ListenerSlot>(detail::kListenerTable, i);
    auto& connection = m_connections[i];
    // ORDERING: acquire pairs with the listener's release of its id: its channel exists.
    const auto listener_id = slot.port.port_id.load(std::memory_order_acquire);
    if (listener_id == connection.listener_id) continue;
    connection = Connection{};
    if (listener_id == 0) continue;
    const auto owner = slot.port.owner_node.load(std::memory_order_acquire);
    const auto address = service.wake_address(listener_id, owner);
    // Both channels are found by path: only through directories that are what they claim to be.
    const auto nodes = service.config().nodes_dir();
    if (fifo ? !service.check_service_directory()
             : !detail::check_directory(service.config(), &nodes)) {
      continue;
    }
    tl::expected<detail::AnyNotifierEnd, platform::Error> channel =
        fifo ? detail::FifoBackend::connect_notifier(address).map([](auto end) {
                 return detail::AnyNotifierEnd(std::in_place_index<1>, std::move(end));
               })
             : detail::EventFdBackend::connect_notifier(address).map([](auto end) {
                 return detail::AnyNotifierEnd(std::in_place_index<0>, std::move(end));
               });
    // An unreachable listener (its process died, a cleaner will remove it) is skipped until
    // the listener set changes again.
    if (!channel) continue;
    connection.listener_id = listener_id;
    connection.slot = &slot;
    connection.bitset = service.bitset(i);
    connection.channel.emplace(std::move(*channel));
  }
}

tl::expected<std::size_t, NotifierNotifyError> Notifier::notify() { return notify(m_default_id); }

tl::expected<std::size_t, NotifierNotifyError> Notifier::notify(EventId id) {
  if (id.value > m_event_id_max) {
    return tl::unexpected(NotifierNotifyError::EventIdOutOfBounds);
  }
  // ORDERING: acquire pairs with the release bump by listeners that came or went.
  const auto generation =
      m_service->dynamic().generation[detail::kListenerTable].load(std::memory_order_acquire);
  if (generation != m_seen_generation) {
    m_seen_generation = generation;
    refresh_connections();
  }
  std::size_t reached = 0;
  bool corrupted = false;
  for (auto& connection : m_connections) {
    if (connection.listener_id == 0) continue;
    if (!connection.bitset->add(id.value)) {
      corrupted = true;
      continue;
    }
    // ORDERING: seq_cst after the counter increment pairs with the listener's seq_cst store of
    // 0 before it drains: a wake-up is written whenever the listener might have missed the count.
    if (connection.slot->pending.exchange(1, std::memory_order_seq_cst) == 0) {
      // A failed wake (the listener's channel is gone) does not undo the recorded count.
      (void)std::visit([](auto& end) { return end.wake(); }, *connection.channel);
    }
    ++reached;
  }
  if (corrupted) return tl::unexpected(NotifierNotifyError::Corrupted);
  return reached;
}

}  // namespace axon
