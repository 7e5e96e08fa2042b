#include "axon/event/listener.hpp"

#include <new>

#include "axon/core/counting_bitset.hpp"
#include "axon/detail/busy_poll.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/event/backend/recommended.hpp"
#include "axon/event/service.hpp"
#include "axon/platform/clock.hpp"
#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/signals.hpp"

namespace axon {

const char* to_string(ListenerCreateError error) {
  switch (error) {
    case ListenerCreateError::ExceedsMaxListeners: return "ExceedsMaxListeners";
    case ListenerCreateError::ResourceCreationFailed: return "ResourceCreationFailed";
    case ListenerCreateError::Corrupted: return "Corrupted";
    case ListenerCreateError::InsufficientResources: return "InsufficientResources";
    case ListenerCreateError::InvalidBusyPoll: return "InvalidBusyPoll";
  }
  return "Unknown";
}

const char* to_string(ListenerWaitError error) {
  switch (error) {
    case ListenerWaitError::InterruptSignal: return "InterruptSignal";
    case ListenerWaitError::Corrupted: return "Corrupted";
    case ListenerWaitError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

namespace detail {

/// A listener's port: what Listener points to.
class ListenerPort {
 public:
  ListenerPort(std::shared_ptr<ServiceCore> owner, std::uint32_t slot_index,
               std::uint64_t port_id, const core::CountingBitset* counters, AnyListenerEnd wake,
               std::chrono::nanoseconds budget)
      : service(std::move(owner)),
        slot(slot_index),
        id(port_id),
        bitset(counters),
        channel(std::move(wake)),
        busy_poll(budget) {}
  ListenerPort(const ListenerPort&) = delete;
  ListenerPort& operator=(const ListenerPort&) = delete;
  /// The slot is released before the channel closes, as the slot names the channel.
  ~ListenerPort() { service->release_port(EventPattern::kListenerTable, slot); }

  std::shared_ptr<ServiceCore> service;
  std::uint32_t slot;
  std::uint64_t id;
  const core::CountingBitset* bitset;
  AnyListenerEnd channel;
  std::chrono::nanoseconds busy_poll;
};

}  // namespace detail

namespace {

bool uses_fifo(const detail::ServiceCore& service) {
  return service.static_config().event.backend == core::EventBackendKind::Fifo;
}

tl::expected<detail::AnyListenerEnd, platform::Error> make_channel(detail::ServiceCore& service,
                                                                   const detail::WakeAddress& at) {
  if (uses_fifo(service)) {
    if (auto checked = service.check_service_directory(); !checked) {
      return tl::unexpected(checked.error());
    }
    return detail::FifoBackend::create_listener(service.node(), at).map([](auto end) {
      return detail::AnyListenerEnd(std::in_place_index<1>, std::move(end));
    });
  }
  return detail::EventFdBackend::create_listener(service.node(), at).map([](auto end) {
    return detail::AnyListenerEnd(std::in_place_index<0>, std::move(end));
  });
}

}  // namespace

tl::expected<Listener, ListenerCreateError> ListenerBuilder::create() {
  if (m_busy_poll < std::chrono::nanoseconds::zero() || m_busy_poll > Listener::kMaxBusyPoll) {
    return tl::unexpected(ListenerCreateError::InvalidBusyPoll);
  }
  auto& service = *m_service;
  const auto claimed = service.claim_port(detail::EventPattern::kListenerTable);
  if (!claimed) return tl::unexpected(ListenerCreateError::ExceedsMaxListeners);
  const auto slot_index = claimed->slot;
  const auto id = claimed->id;
  auto& slot = service.port_slot<core::ListenerSlot>(detail::EventPattern::kListenerTable, slot_index);
  // release_port removes the FIFO too: the slot names it from its claim on.
  auto release_slot = [&](ListenerCreateError e) {
    service.release_port(detail::EventPattern::kListenerTable, slot_index);
    return tl::unexpected(e);
  };
  const auto* bitset = &service.region<detail::EventPattern>().bitsets[slot_index];
  // Counts left by the slot's previous listener are not ours.
  if (!bitset->drain([](std::uint64_t, std::uint64_t) {})) {
    return release_slot(ListenerCreateError::Corrupted);
  }
  auto channel = make_channel(service, service.wake_address(id, service.node().id().value));
  if (!channel) {
    const auto code = channel.error().code;
    return release_slot(code == platform::ErrorCode::LimitReached ||
                                code == platform::ErrorCode::InsufficientMemory
                            ? ListenerCreateError::InsufficientResources
                            : ListenerCreateError::ResourceCreationFailed);
  }
  std::unique_ptr<detail::ListenerPort> port;
  try {
    port = std::make_unique<detail::ListenerPort>(m_service, slot_index, id, bitset,
                                                  std::move(*channel), m_busy_poll);
  } catch (const std::bad_alloc&) {
    return release_slot(ListenerCreateError::InsufficientResources);
  }
  // From here the port releases the slot when it goes.
  slot.pending.store(0, std::memory_order_relaxed);
  service.publish_port(detail::EventPattern::kListenerTable, slot_index, id);
  return Listener(std::move(port));
}

Listener::Listener(std::unique_ptr<detail::ListenerPort> port) : m_port(std::move(port)) {}
Listener::Listener(Listener&& other) noexcept = default;

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    m_port.reset();  // our port goes first, as when we are destroyed
    m_port = std::move(other.m_port);
  }
  return *this;
}

Listener::~Listener() = default;

std::uint64_t Listener::id() const { return m_port->id; }

std::chrono::nanoseconds Listener::busy_poll() const { return m_port->busy_poll; }

detail::ListenerProbe Listener::probe() const {
  auto& port = *m_port;
  auto& slot =
      port.service->port_slot<core::ListenerSlot>(detail::EventPattern::kListenerTable, port.slot);
  return detail::ListenerProbe{&slot.pending, port.bitset};
}

int Listener::fd() const {
  return std::visit([](const auto& end) { return end.fd(); }, m_port->channel);
}

tl::expected<std::size_t, ListenerWaitError> Listener::try_wait(Callback callback) {
  auto& port = *m_port;
  auto& pending =
      port.service->port_slot<core::ListenerSlot>(detail::EventPattern::kListenerTable, port.slot)
          .pending;
  // A wake-up can be in the channel only while `pending` is 1. At 0 the read (a system call) is
  // spared: a ping-pong whose waiters busy-poll makes none. A notifier that sets it to 1 after
  // this load writes a wake-up that stays in the channel for the next wait, which then wakes
  // once for nothing; nothing is lost. ORDERING: relaxed: a stale 1 costs an empty read, a stale
  // 0 that wake-up for nothing.
  if (pending.load(std::memory_order_relaxed) != 0) {
    std::visit([](auto& end) { end.drain(); }, port.channel);
    // ORDERING: seq_cst pairs with the notifier's seq_cst exchange of `pending` after its counter
    // increment: either the notifier sees 0 and writes a new wake-up, or we see its count below.
    pending.store(0, std::memory_order_seq_cst);
  }
  std::size_t seen = 0;
  auto drained = port.bitset->drain([&](std::uint64_t id, std::uint64_t count) {
    callback(EventId{id}, count);
    ++seen;
  });
  if (!drained) return tl::unexpected(ListenerWaitError::Corrupted);
  return seen;
}

tl::expected<std::size_t, ListenerWaitError> Listener::wait_until(
    Callback callback, std::optional<std::chrono::nanoseconds> timeout) {
  const auto deadline =
      timeout ? platform::Deadline::after(*timeout) : platform::Deadline::never();
  for (;;) {
    auto seen = try_wait(callback);
    if (!seen || *seen > 0) return seen;
    if (deadline.expired()) return 0;
    if (m_port->busy_poll.count() > 0) {
      // A signal that comes while it polls interrupts nothing; one that axon's handlers caught
      // (SIGINT, SIGTERM: a Node or WaitSet installed them) ends the poll and the wait.
      detail::PolledListener polled{probe()};
      detail::busy_poll(std::span(&polled, 1), detail::poll_end(m_port->busy_poll, deadline),
                        [] { return platform::TerminationSignals::termination_requested(); });
      if (polled.probe.counts->has_pending()) continue;
      if (platform::TerminationSignals::termination_requested()) {
        return tl::unexpected(ListenerWaitError::InterruptSignal);
      }
    }
    // A wake-up without a count (a notify raced our drain) loops back here: no spin, the fd
    // only becomes readable again on the next notify.
    auto readable = platform::wait_readable(fd(), deadline.remaining());
    if (!readable) {
      return tl::unexpected(readable.error().code == platform::ErrorCode::Interrupted
                                ? ListenerWaitError::InterruptSignal
                                : ListenerWaitError::InternalFailure);
    }
    if (!*readable) return try_wait(callback);
  }
}

tl::expected<std::size_t, ListenerWaitError> Listener::timed_wait(
    Callback callback, std::chrono::nanoseconds timeout) {
  return wait_until(callback, timeout);
}

tl::expected<std::size_t, ListenerWaitError> Listener::blocking_wait(Callback callback) {
  return wait_until(callback, std::nullopt);
}

}  // namespace axon
