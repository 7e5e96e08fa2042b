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
  if (m_default_id.value > service.event_config().event_id_max_value) {
    return tl::unexpected(NotifierCreateError::EventIdOutOfBounds);
  }
  const auto self = service.node().id().value;
  const auto max = service.event_config().max_notifiers;
  for (std::uint32_t i = 0; i < max; ++i) {
    auto& slot = service.notifier_slot(i);
    std::uint64_t expected = 0;
    // ORDERING: acq_rel: see the previous owner's release; publish the claim.
    if (slot.owner_node.compare_exchange_strong(expected, self, std::memory_order_acq_rel)) {
      const auto id = service.next_port_id();
      slot.notifier_id.store(id, std::memory_order_relaxed);
      return Notifier(m_service, i, id, m_default_id);
    }
  }
  return tl::unexpected(NotifierCreateError::ExceedsMaxNotifiers);
}

Notifier::Notifier(std::shared_ptr<detail::ServiceCore> service, std::uint32_t slot,
                   std::uint64_t id, EventId default_id)
    : m_service(std::move(service)), m_slot(slot), m_id(id), m_default_id(default_id) {
  m_connections.resize(m_service->event_config().max_listeners);
}

Notifier::Notifier(Notifier&& other) noexcept
    : m_service(std::move(other.m_service)),
      m_slot(other.m_slot),
      m_id(other.m_id),
      m_default_id(other.m_default_id),
      m_seen_generation(other.m_seen_generation),
      m_connections(std::move(other.m_connections)) {}

Notifier::~Notifier() {
  if (!m_service) return;
  auto& slot = m_service->notifier_slot(m_slot);
  slot.notifier_id.store(0, std::memory_order_relaxed);
  // ORDERING: release hands the slot back after our last use of it.
  slot.owner_node.store(0, std::memory_order_release);
}

void Notifier::refresh_connections() {
  auto& service = *m_service;
  for (std::uint32_t i = 0; i < m_connections.size(); ++i) {
    auto& slot = service.listener_slot(i);
    auto& connection = m_connections[i];
    // ORDERING: acquire pairs with the listener's release of its id: its channel exists.
    const auto listener_id = slot.listener_id.load(std::memory_order_acquire);
    if (listener_id == connection.listener_id) continue;
    connection = Connection{};
    if (listener_id == 0) continue;
    const auto owner = slot.owner_node.load(std::memory_order_acquire);
    const auto address = service.wake_address(listener_id, owner);
    tl::expected<detail::AnyNotifierEnd, platform::Error> channel =
        service.event_config().backend == EventBackend::Fifo
            ? detail::FifoBackend::connect_notifier(address).map([](auto end) {
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
  if (id.value > m_service->event_config().event_id_max_value) {
    return tl::unexpected(NotifierNotifyError::EventIdOutOfBounds);
  }
  // ORDERING: acquire pairs with the release bump by listeners that came or went.
  const auto generation = m_service->dynamic().listener_generation.load(std::memory_order_acquire);
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
