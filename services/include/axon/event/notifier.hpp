// A Notifier wakes every listener of its service that exists when it notifies: it bumps the
// id's counter in each listener's bitset, then writes to the listener's wake channel only when
// no wake-up is already pending there. notify() takes no lock and allocates nothing; it makes one
// system call per listener that was idle, none for one already woken. When the set of listeners
// changed since the last notify, it first connects to the new ones (this part makes system
// calls). Not thread-safe: one thread notifies through a notifier at a time. A moved-from
// notifier may only be destroyed or assigned to.
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

#include <tl/expected.hpp>

#include "axon/event/event_id.hpp"

namespace axon {

namespace detail {
class NotifierPort;
}

enum class NotifierCreateError {
  ExceedsMaxNotifiers,  ///< every notifier slot of the service is taken
  EventIdOutOfBounds,   ///< the default event id is above the service's max event id
  Corrupted,            ///< the service's shared memory fails validation
  InsufficientResources,  ///< not enough memory for the port
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

  EventId default_event_id() const;
  std::uint64_t id() const;

  /// The most time one notify() spends on connections that fail (time out); listeners not
  /// tried within it are tried by the next notify.
  static constexpr std::chrono::milliseconds kConnectBudget{500};

 private:
  friend class NotifierBuilder;
  explicit Notifier(std::unique_ptr<detail::NotifierPort> port);

  /// The port's state (its service, slot and one connection per listener slot) lives in the
  /// library, so this header needs neither the OS wrappers nor the shared-memory layout. Null
  /// once moved from.
  std::unique_ptr<detail::NotifierPort> m_port;
};

}  // namespace axon
