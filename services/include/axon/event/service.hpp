// The event messaging pattern: a service of notifiers and listeners in shared memory.
//
//   auto service = node.service_builder(name).event().max_listeners(4).open_or_create();
//   auto notifier = service->notifier_builder().create();
//   auto listener = service->listener_builder().create();
//
// Settings given to create() are the service's; given to open() they are requirements the
// existing service must meet (at least that many ports, at least that max event id, exactly
// that backend). A service lives while any node holds it; the last one out removes every object
// of it (shared memory, FIFOs, lock file).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <variant>

#include "axon/access.hpp"
#include "axon/event/event_id.hpp"
#include "axon/event/listener.hpp"
#include "axon/event/static_config.hpp"
#include "axon/messaging_pattern.hpp"
#include "axon/event/notifier.hpp"
#include "axon/service_name.hpp"

namespace axon {

namespace detail {
class NodeCore;
class ServiceCore;
}  // namespace detail

enum class EventOpenError {
  DoesNotExist,                              ///< no service of that name
  IncompatibleMessagingPattern,              ///< the name belongs to another pattern
  DoesNotSupportRequestedAmountOfListeners,  ///< its max_listeners is below the request
  DoesNotSupportRequestedAmountOfNotifiers,  ///< its max_notifiers is below the request
  DoesNotSupportRequestedAmountOfNodes,      ///< its max_nodes is below the request
  DoesNotSupportRequestedMaxEventId,         ///< its event_id_max_value is below the request
  IncompatibleBackend,                       ///< it uses another listener backend
  IncompatibleAccess,                        ///< it was created with another Access
  ExceedsMaxNodes,                           ///< every node slot is taken by live nodes
  PermissionDenied,                          ///< its objects belong to someone else (another
                                             ///< user's, or owner-only), or the root refused us
  VersionMismatch,                           ///< created by an incompatible axon version
  Corrupted,                                 ///< its shared memory fails validation
  InternalFailure,                           ///< a system call failed unexpectedly
  InsufficientResources,                     ///< out of file descriptors (EMFILE/ENFILE) or memory
};
const char* to_string(EventOpenError error);

enum class EventCreateError {
  AlreadyExists,          ///< a service of that name exists (any pattern)
  InvalidSettings,        ///< a setting is 0 or above its limit
  PermissionDenied,       ///< the root directory or /dev/shm refused us
  InsufficientResources,  ///< not enough shared memory or fds
  InternalFailure,        ///< a system call failed unexpectedly
};
const char* to_string(EventCreateError error);

/// open_or_create fails with the error of the step that failed.
using EventOpenOrCreateError = std::variant<EventOpenError, EventCreateError>;
/// The name of whichever error it holds (every to_string of axon returns a static string).
const char* to_string(const EventOpenOrCreateError& error);

class EventService;

class NotifierBuilder {
 public:
  /// The id sent by notify() without an argument (default 0).
  NotifierBuilder& default_event_id(EventId id);
  tl::expected<Notifier, NotifierCreateError> create();

 private:
  friend class EventService;
  explicit NotifierBuilder(std::shared_ptr<detail::ServiceCore> service)
      : m_service(std::move(service)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  EventId m_default_id{0};
};

class ListenerBuilder {
 public:
  /// The listener's own timed_wait and blocking_wait poll its counts in shared memory for up to
  /// `budget` before they sleep (as WaitSetBuilder::busy_poll does, waitset.hpp; a notifier that
  /// finds it polling writes no wake-up). Zero (default): off. Up to Listener::kMaxBusyPoll;
  /// anything else makes create() fail with InvalidBusyPoll. A WaitSet the listener is attached
  /// to polls by its own budget, not this one. While it polls, a signal interrupts nothing,
  /// except a SIGINT or SIGTERM that axon's handlers caught (InterruptSignal).
  ListenerBuilder& busy_poll(std::chrono::nanoseconds budget) {
    m_busy_poll = budget;
    return *this;
  }
  tl::expected<Listener, ListenerCreateError> create();

 private:
  friend class EventService;
  explicit ListenerBuilder(std::shared_ptr<detail::ServiceCore> service)
      : m_service(std::move(service)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  std::chrono::nanoseconds m_busy_poll{0};
};

/// A handle on an open event service; ports made from it keep the service alive.
class EventService {
 public:
  const ServiceName& name() const;
  const EventStaticConfig& static_config() const;
  std::size_t number_of_listeners() const;
  std::size_t number_of_notifiers() const;
  std::size_t number_of_nodes() const;

  NotifierBuilder notifier_builder() const { return NotifierBuilder(m_core); }
  ListenerBuilder listener_builder() const { return ListenerBuilder(m_core); }

 private:
  friend class EventServiceBuilder;
  explicit EventService(std::shared_ptr<detail::ServiceCore> core);
  std::shared_ptr<detail::ServiceCore> m_core;
  EventStaticConfig m_config;
};

class EventServiceBuilder {
 public:
  EventServiceBuilder& max_listeners(std::uint32_t n);
  EventServiceBuilder& max_notifiers(std::uint32_t n);
  EventServiceBuilder& max_nodes(std::uint32_t n);
  EventServiceBuilder& event_id_max_value(std::uint64_t n);
  EventServiceBuilder& backend(EventBackend backend);
  /// Who may use the service besides our user (default Access::Owner); see access.hpp.
  EventServiceBuilder& access(Access access);

  tl::expected<EventService, EventCreateError> create();
  tl::expected<EventService, EventOpenError> open();
  /// Opens, or creates when absent; safe when many processes race for the same name.
  tl::expected<EventService, EventOpenOrCreateError> open_or_create();

 private:
  friend class ServiceBuilder;
  EventServiceBuilder(std::shared_ptr<detail::NodeCore> node, ServiceName name)
      : m_node(std::move(node)), m_name(std::move(name)) {}
  std::shared_ptr<detail::NodeCore> m_node;
  ServiceName m_name;
  std::optional<std::uint32_t> m_max_listeners;
  std::optional<std::uint32_t> m_max_notifiers;
  std::optional<std::uint32_t> m_max_nodes;
  std::optional<std::uint64_t> m_event_id_max;
  std::optional<EventBackend> m_backend;
  std::optional<Access> m_access;
};

}  // namespace axon
