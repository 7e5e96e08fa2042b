// A Listener receives notifications of an event service. Each listener owns one counting bitset
// in shared memory (one counter per event id) and one wake channel whose fd is readable while a
// notification is pending, so it can sit in a WaitSet, poll or epoll like any fd.
//
// A wait drains the wake channel, then the counters: the same id notified n times arrives as one
// (id, n), ids in ascending order. No wake-up is lost between a notify and a drain. A wait spins
// only when the listener was built with a busy-poll budget (ListenerBuilder::busy_poll). Not thread-safe: one thread waits on a listener at a time. A moved-from listener may
// only be destroyed or assigned to.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <tl/expected.hpp>

#include "axon/event/event_id.hpp"
#include "axon/function_ref.hpp"

namespace axon {

class WaitSet;
namespace detail {
class ListenerPort;
class SubscriberCore;
struct ListenerProbe;  // detail/listener_probe.hpp, internal
}

enum class ListenerCreateError {
  ExceedsMaxListeners,     ///< every listener slot of the service is taken
  ResourceCreationFailed,  ///< the eventfd, FIFO or fd server could not be made
  Corrupted,               ///< the service's shared memory fails validation
  InsufficientResources,   ///< out of file descriptors (EMFILE/ENFILE) or memory
  InvalidBusyPoll,         ///< a busy-poll budget below 0 or above Listener::kMaxBusyPoll
};
const char* to_string(ListenerCreateError error);

enum class ListenerWaitError {
  InterruptSignal,  ///< a signal (SIGINT, SIGTERM, ...) interrupted a blocking wait
  Corrupted,        ///< the listener's bitset in shared memory fails validation
  InternalFailure,  ///< waiting on the fd failed
};
const char* to_string(ListenerWaitError error);

class Listener {
 public:
  using Callback = FunctionRef<void(EventId, std::uint64_t)>;
  /// The longest busy-poll budget (ListenerBuilder::busy_poll).
  static constexpr std::chrono::nanoseconds kMaxBusyPoll = std::chrono::seconds(1);

  Listener(Listener&&) noexcept;
  /// Releases this listener's port first, then takes `other`'s.
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  /// Calls `callback(id, count)` for every pending id, ascending; returns how many ids it saw.
  /// Never blocks.
  tl::expected<std::size_t, ListenerWaitError> try_wait(Callback callback);
  /// As try_wait, but when nothing is pending waits up to `timeout` for a notification (polling
  /// for up to the busy-poll budget first, when it has one). Returns 0 only when the timeout
  /// passed with nothing.
  tl::expected<std::size_t, ListenerWaitError> timed_wait(Callback callback,
                                                          std::chrono::nanoseconds timeout);
  /// As try_wait, but waits until at least one notification arrives (or a signal).
  tl::expected<std::size_t, ListenerWaitError> blocking_wait(Callback callback);

  /// Readable while a notification is pending (level-triggered); for a WaitSet or epoll.
  int fd() const;
  /// Unique within the service for its life.
  std::uint64_t id() const;
  /// The busy-poll budget it was built with (zero: off).
  std::chrono::nanoseconds busy_poll() const;

 private:
  friend class ListenerBuilder;
  friend class WaitSet;               // busy-polls it (probe)
  friend class detail::SubscriberCore;  // a wakeable subscriber's WaitSet busy-polls its listener
  explicit Listener(std::unique_ptr<detail::ListenerPort> port);
  /// Its slot's `pending` flag and its counts, for a busy-polling wait.
  detail::ListenerProbe probe() const;
  tl::expected<std::size_t, ListenerWaitError> wait_until(Callback callback,
                                                          std::optional<std::chrono::nanoseconds>);

  /// The port's state (its service, slot, bitset and wake channel) lives in the library, so this
  /// header needs neither the OS wrappers nor the shared-memory layout. Null once moved from.
  std::unique_ptr<detail::ListenerPort> m_port;
};

}  // namespace axon
