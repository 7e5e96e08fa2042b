#include "axon/event/notifier.hpp"

#include <algorithm>
#include <chrono>
#include <new>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/fd_server.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/event/backend/recommended.hpp"
#include "axon/event/service.hpp"

namespace axon {

namespace detail {

/// A notifier's port: what Notifier points to.
class NotifierPort {
 public:
  NotifierPort(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id,
               EventId default_id);
  NotifierPort(const NotifierPort&) = delete;
  NotifierPort& operator=(const NotifierPort&) = delete;
  ~NotifierPort() { m_service->release_port(EventPattern::kNotifierTable, m_slot); }

  tl::expected<std::size_t, NotifierNotifyError> notify(EventId id);
  EventId default_id() const { return m_default_id; }
  std::uint64_t id() const { return m_id; }

 private:
  struct Connection {
    std::uint64_t listener_id = 0;  ///< 0: no listener in this slot, or one that is gone
    std::uint64_t owner_node = 0;
    core::ListenerSlot* slot = nullptr;
    const core::CountingBitset* bitset = nullptr;
    std::optional<AnyNotifierEnd> channel;  ///< empty: not connected yet, wake-up owed
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::milliseconds backoff{0};
    NotifierNotifyError failure = NotifierNotifyError::ListenerUnresponsive;
  };
  enum class Connect { Connected, Gone, Deferred };
  void refresh_connections();
  Connect connect(Connection& connection, std::chrono::milliseconds timeout);
  /// Gives every other unconnected listener of `failed`'s node its back-off.
  void defer_node(const Connection& failed);

  std::shared_ptr<ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  EventId m_default_id;
  std::uint64_t m_event_id_max;
  std::uint64_t m_seen_generation = ~0ULL;
  std::vector<Connection> m_connections;  ///< one per listener slot, sized once at creation
};

}  // namespace detail

const char* to_string(NotifierCreateError error) {
  switch (error) {
    case NotifierCreateError::ExceedsMaxNotifiers: return "ExceedsMaxNotifiers";
    case NotifierCreateError::EventIdOutOfBounds: return "EventIdOutOfBounds";
    case NotifierCreateError::Corrupted: return "Corrupted";
    case NotifierCreateError::InsufficientResources: return "InsufficientResources";
  }
  return "Unknown";
}

const char* to_string(NotifierNotifyError error) {
  switch (error) {
    case NotifierNotifyError::EventIdOutOfBounds: return "EventIdOutOfBounds";
    case NotifierNotifyError::Corrupted: return "Corrupted";
    case NotifierNotifyError::InsufficientResources: return "InsufficientResources";
    case NotifierNotifyError::ListenerUnresponsive: return "ListenerUnresponsive";
  }
  return "Unknown";
}

NotifierBuilder& NotifierBuilder::default_event_id(EventId id) {
  m_default_id = id;
  return *this;
}

tl::expected<Notifier, NotifierCreateError> NotifierBuilder::create() {
  auto& service = *m_service;
  if (m_default_id.value > service.static_config().event.event_id_max) {
    return tl::unexpected(NotifierCreateError::EventIdOutOfBounds);
  }
  const auto claimed = service.claim_port(detail::EventPattern::kNotifierTable);
  if (!claimed) return tl::unexpected(NotifierCreateError::ExceedsMaxNotifiers);
  std::unique_ptr<detail::NotifierPort> port;
  try {
    port = std::make_unique<detail::NotifierPort>(m_service, claimed->slot, claimed->id,
                                                  m_default_id);
  } catch (const std::bad_alloc&) {
    service.release_port(detail::EventPattern::kNotifierTable, claimed->slot);
    return tl::unexpected(NotifierCreateError::InsufficientResources);
  }
  // From here the port releases the slot when it goes.
  service.publish_port(detail::EventPattern::kNotifierTable, claimed->slot, claimed->id);
  return Notifier(std::move(port));
}

Notifier::Notifier(std::unique_ptr<detail::NotifierPort> port) : m_port(std::move(port)) {}
Notifier::Notifier(Notifier&& other) noexcept = default;

Notifier& Notifier::operator=(Notifier&& other) noexcept {
  if (this != &other) {
    m_port.reset();  // our port goes first, as when we are destroyed
    m_port = std::move(other.m_port);
  }
  return *this;
}

Notifier::~Notifier() = default;

EventId Notifier::default_event_id() const { return m_port->default_id(); }
std::uint64_t Notifier::id() const { return m_port->id(); }

tl::expected<std::size_t, NotifierNotifyError> Notifier::notify() {
  return m_port->notify(m_port->default_id());
}

tl::expected<std::size_t, NotifierNotifyError> Notifier::notify(EventId id) {
  return m_port->notify(id);
}

detail::NotifierPort::NotifierPort(std::shared_ptr<ServiceCore> service, std::uint32_t slot,
                                   std::uint64_t id, EventId default_id)
    : m_service(std::move(service)),
      m_slot(slot),
      m_id(id),
      m_default_id(default_id),
      m_event_id_max(m_service->static_config().event.event_id_max) {
  m_connections.resize(m_service->port_capacity(EventPattern::kListenerTable));
}

namespace {

// Out of fds passes quickly: retried after 10 ms. A node that did not answer in
// kAnswerTimeout is asked again after 1 s: while it stays stopped, it costs a notify that time
// at most once a second, doubling to once per kMaxRetry.
constexpr auto kFirstRetry = std::chrono::milliseconds(10);
constexpr auto kFirstRetryAfterTimeout = std::chrono::milliseconds(1000);
constexpr auto kMaxRetry = std::chrono::milliseconds(5000);

/// Whether a failure to reach a listener passes (retry later) or means it is gone (its process
/// died; a cleaner removes it and the next change of the listener set is looked at again).
std::optional<NotifierNotifyError> passing_failure(const platform::Error& error) {
  switch (error.code) {
    case platform::ErrorCode::LimitReached:
    case platform::ErrorCode::InsufficientMemory:
      return NotifierNotifyError::InsufficientResources;
    case platform::ErrorCode::TimedOut:
    case platform::ErrorCode::WouldBlock:
    case platform::ErrorCode::Interrupted:
    case platform::ErrorCode::Unknown:
      return NotifierNotifyError::ListenerUnresponsive;
    default: return std::nullopt;
  }
}

}  // namespace

void detail::NotifierPort::refresh_connections() {
  auto& service = *m_service;
  for (std::uint32_t i = 0; i < m_connections.size(); ++i) {
    auto& slot = service.port_slot<core::ListenerSlot>(detail::EventPattern::kListenerTable, i);
    auto& connection = m_connections[i];
    // ORDERING: acquire pairs with the listener's release of its id: its channel exists.
    const auto listener_id = slot.port.port_id.load(std::memory_order_acquire);
    if (listener_id == connection.listener_id) continue;
    connection = Connection{};
    if (listener_id == 0) continue;
    connection.listener_id = listener_id;
    connection.owner_node = slot.port.owner_node.load(std::memory_order_acquire);
    connection.slot = &slot;
    connection.bitset = &service.region<detail::EventPattern>().bitsets[i];
  }
}

detail::NotifierPort::Connect detail::NotifierPort::connect(Connection& connection, std::chrono::milliseconds timeout) {
  auto& service = *m_service;
  const bool fifo = service.static_config().event.backend == core::EventBackendKind::Fifo;
  const auto address = service.wake_address(connection.listener_id, connection.owner_node);
  // Both channels are found by path: only through directories that are what they claim to be.
  const auto nodes = service.config().nodes_dir();
  tl::expected<detail::AnyNotifierEnd, platform::Error> channel =
      tl::unexpected(platform::make_error("notifier.connect", platform::ErrorCode::Unknown));
  if (auto checked = fifo ? service.check_service_directory()
                          : detail::check_directory(service.config(), &nodes).map([](auto&&) {});
      !checked) {
    channel = tl::unexpected(checked.error());
  } else if (fifo) {
    channel = detail::FifoBackend::connect_notifier(address).map([](auto end) {
      return detail::AnyNotifierEnd(std::in_place_index<1>, std::move(end));
    });
  } else {
    channel = detail::EventFdBackend::connect_notifier(address, timeout).map([](auto end) {
      return detail::AnyNotifierEnd(std::in_place_index<0>, std::move(end));
    });
  }
  if (channel) {
    connection.channel.emplace(std::move(*channel));
    connection.backoff = std::chrono::milliseconds(0);
    return Connect::Connected;
  }
  const auto failure = passing_failure(channel.error());
  if (!failure) {
    // An unreachable listener (its process died, a cleaner will remove it) is skipped until
    // the listener set changes again.
    connection = Connection{};
    return Connect::Gone;
  }
  connection.failure = *failure;
  const auto first = *failure == NotifierNotifyError::ListenerUnresponsive
                         ? std::chrono::milliseconds(kFirstRetryAfterTimeout)
                         : std::chrono::milliseconds(kFirstRetry);
  connection.backoff = connection.backoff.count() == 0
                           ? first
                           : std::min(std::max(connection.backoff * 2, first), kMaxRetry);
  connection.retry_at = std::chrono::steady_clock::now() + connection.backoff;
  return Connect::Deferred;
}

void detail::NotifierPort::defer_node(const Connection& failed) {
  for (auto& other : m_connections) {
    if (&other == &failed || other.listener_id == 0 || other.channel ||
        other.owner_node != failed.owner_node || other.retry_at >= failed.retry_at) {
      continue;
    }
    other.retry_at = failed.retry_at;
    other.backoff = failed.backoff;
    other.failure = failed.failure;
  }
}

tl::expected<std::size_t, NotifierNotifyError> detail::NotifierPort::notify(EventId id) {
  if (id.value > m_event_id_max) {
    return tl::unexpected(NotifierNotifyError::EventIdOutOfBounds);
  }
  // ORDERING: acquire pairs with the release bump by listeners that came or went.
  const auto generation =
      m_service->dynamic().generation[detail::EventPattern::kListenerTable].load(std::memory_order_acquire);
  if (generation != m_seen_generation) {
    m_seen_generation = generation;
    refresh_connections();
  }
  std::size_t reached = 0;
  bool corrupted = false;
  std::optional<NotifierNotifyError> unwoken;
  // Failed connecting is bounded for the whole notify (connecting to listeners that answer
  // costs what it costs).
  std::chrono::steady_clock::duration failing{0};
  for (auto& connection : m_connections) {
    if (connection.listener_id == 0) continue;
    if (!connection.channel) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= connection.retry_at && failing < Notifier::kConnectBudget) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(Notifier::kConnectBudget - failing);
        const auto result = connect(connection, std::min(left, detail::FdServer::kAnswerTimeout));
        if (result == Connect::Gone) continue;
        if (result == Connect::Deferred) {
          failing += std::chrono::steady_clock::now() - now;
          // A node that did not answer is not asked for its other listeners before its
          // back-off is over either: one stopped process costs one time-out, not one per
          // listener, in this notify and the next ones.
          if (connection.failure == NotifierNotifyError::ListenerUnresponsive) {
            defer_node(connection);
          }
        }
      }
    }
    if (!connection.bitset->add(id.value)) {
      corrupted = true;
      continue;
    }
    if (!connection.channel) {
      // The count is recorded; the wake-up is owed unless one is pending already.
      // ORDERING: seq_cst after the counter increment pairs with the listener's seq_cst store of
      // 0 before it drains: a 1 seen here means that drain is still to come and sees our count.
      if (connection.slot->pending.load(std::memory_order_seq_cst) == 0) {
        unwoken = unwoken.value_or(connection.failure);
      } else {
        ++reached;
      }
      continue;
    }
    // ORDERING: seq_cst after the counter increment pairs with the listener's seq_cst store of
    // 0 before it drains: a wake-up is written whenever the listener might have missed the count.
    if (connection.slot->pending.exchange(1, std::memory_order_seq_cst) == 0) {
      if (!std::visit([](auto& end) { return end.wake(); }, *connection.channel)) {
        // The count stays; clearing `pending` lets the next notify (ours or another's) write
        // the wake-up this one could not.
        // ORDERING: seq_cst, as the exchange above.
        connection.slot->pending.store(0, std::memory_order_seq_cst);
        unwoken = unwoken.value_or(NotifierNotifyError::ListenerUnresponsive);
        continue;
      }
    }
    ++reached;
  }
  if (corrupted) return tl::unexpected(NotifierNotifyError::Corrupted);
  if (unwoken) return tl::unexpected(*unwoken);
  return reached;
}

}  // namespace axon
