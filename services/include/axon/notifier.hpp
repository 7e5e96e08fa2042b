// A Notifier wakes every listener of its service that exists when it notifies: it bumps the
// id's counter in each listener's bitset, then writes to the listener's wake channel only when
// no wake-up is already pending there. notify() takes no lock and allocates nothing; it makes one
// system call per listener that was idle, none for one already woken. When the set of listeners
// changed since the last notify, it first connects to the new ones (this part makes system
// calls). Not thread-safe: one thread notifies through a notifier at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/event_backend/recommended.hpp"
#include "axon/event_id.hpp"

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
};
const char* to_string(NotifierNotifyError error);

class Notifier {
 public:
  Notifier(Notifier&&) noexcept;
  Notifier& operator=(Notifier&&) = delete;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();

  /// Notifies with the default event id; returns how many listeners it reached (0 is fine).
  tl::expected<std::size_t, NotifierNotifyError> notify();
  /// Notifies with `id`; returns how many listeners it reached (0 is fine).
  tl::expected<std::size_t, NotifierNotifyError> notify(EventId id);

  EventId default_event_id() const { return m_default_id; }
  std::uint64_t id() const { return m_id; }

 private:
  friend class NotifierBuilder;
  struct Connection {
    std::uint64_t listener_id = 0;  ///< 0: no listener in this slot
    core::ListenerSlot* slot = nullptr;
    const core::CountingBitset* bitset = nullptr;
    std::optional<detail::AnyNotifierEnd> channel;
  };
  Notifier(std::shared_ptr<detail::ServiceCore> service, std::uint32_t slot, std::uint64_t id,
           EventId default_id);
  void refresh_connections();

  std::shared_ptr<detail::ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  EventId m_default_id;
  std::uint64_t m_event_id_max;
  std::uint64_t m_seen_generation = ~0ULL;
  std::vector<Connection> m_connections;  ///< one per listener slot, sized once at creation
};

}  // namespace axon
