// A Notifier wakes every listener of its service that exists when it notifies: it bumps the
// id's counter in each listener's bitset, then writes to the listener's wake channel only when
// no wake-up is already pending there. notify() takes no lock and allocates nothing; it makes one
// system call per listener that was idle, none for one already woken. When the set of listeners
// changed since the last notify, it first connects to the new ones (this part makes system
// calls). Not thread-safe: one thread notifies through a notifier at a time.
//
// A listener the notifier cannot connect to for a passing reason (its node does not answer, or a
// process is out of file descriptors) still gets its count; the wake-up is owed and retried on
// later notifies (backing off per listener: 10 ms, or 1 s after a time-out, doubling to 5 s),
// and notify() says so with ListenerUnresponsive or InsufficientResources. Failing connections
// never hold one notify() longer than kConnectBudget, however many listeners wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/event/backend/recommended.hpp"
#include "axon/event/event_id.hpp"

namespace axon {

namespace detail {
class ServiceCore;
}

enum class NotifierCreateError {
  ExceedsMaxNotifiers,  ///< every notifier slot of the service is taken
  EventIdOutOfBounds,   ///< the default event id is above the service's max event id
  Corrupted,            ///< the service's shared memory fails validation
};
const char* to_string(NotifierCreateError error);

enum class NotifierNotifyError {
  EventIdOutOfBounds,  ///< the id is above the service's max event id; nothing was delivered
  Corrupted,           ///< a listener's bitset fails validation; other listeners were notified
  /// a listener could not be woken because this process or the listener's is out of file
  /// descriptors; its count is recorded, the wake-up is retried by later notifies
  InsufficientResources,
  /// a listener's node did not hand out its wake channel in time (stopped, or stuck), or the
  /// wake-up write failed; its count is recorded, the wake-up is retried by later notifies
  ListenerUnresponsive,
};
const char* to_string(NotifierNotifyError error);

class Notifier {
 public:
  Notifier(Notifier&&) noexcept;
  /// Releases this notifier's port first, then takes `other`'s.
  Notifier& operator=(Notifier&& other) noexcept;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();

  /// Notifies with the default event id; returns how many listeners it reached (0 is fine).
  tl::expected<std::size_t, NotifierNotifyError> notify();
  /// Notifies with `id`; returns how many listeners it reached (0 is fine).
  tl::expected<std::size_t, NotifierNotifyError> notify(EventId id);

  EventId default_event_id() const { return m_default_id; }
  std::uint64_t id() const { return m_id; }

  /// The most time one notify() spends on connections that fail (time out); listeners not
  /// tried within it are tried by the next notify.
  static constexpr std::chrono::milliseconds kConnectBudget{500};

 private:
  friend class NotifierBuilder;
  struct Connection {
    std::uint64_t listener_id = 0;  ///< 0: no listener in this slot, or one that is gone
    std::uint64_t owner_node = 0;
    core::ListenerSlot* slot = nullptr;
    const core::CountingBitset* bitset = nullptr;
    std::optional<detail::AnyNotifierEnd> channel;  ///< empty: not connected yet, wake-up owed
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::milliseconds backoff{0};
    NotifierNotifyError failure = NotifierNotifyError::ListenerUnresponsive;
  };
  enum class Connect { Connected, Gone, Deferred };
  Notifier(std::shared_ptr<detail::ServiceCore> service, std::uint32_t slot, std::uint64_t id,
           EventId default_id);
  void refresh_connections();
  Connect connect(Connection& connection, std::chrono::milliseconds timeout);
  /// Gives every other unconnected listener of `failed`'s node its back-off.
  void defer_node(const Connection& failed);

  std::shared_ptr<detail::ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  EventId m_default_id;
  std::uint64_t m_event_id_max;
  std::uint64_t m_seen_generation = ~0ULL;
  std::vector<Connection> m_connections;  ///< one per listener slot, sized once at creation
};

}  // namespace axon
