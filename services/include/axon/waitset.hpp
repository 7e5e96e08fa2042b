// A WaitSet waits on many event sources at once in one thread: listeners, any pollable fd,
// deadlines and intervals. It is an epoll instance with a fixed-capacity attachment table.
//
//   auto waitset = WaitSetBuilder().create();
//   auto guard = waitset->attach_notification(listener);
//   waitset->wait_and_process([&](AttachmentId id) {
//     if (id.has_event_from(*guard)) listener.try_wait(on_event);   // consume, or it fires again
//     return CallbackProgression::Continue;
//   });
//
// Level-triggered by default: an attachment whose readiness is not consumed (a listener not
// drained, a pipe not read, a socket that hung up and was not detached) is reported again by the
// next wait, immediately. A loop that does not consume therefore spins at 100% CPU; that is the
// price of never losing readiness. Readiness that existed before the attach is reported by the
// first wait. Deadlines and intervals consume their own timers, so they never spin.
//
// Each attach returns a WaitSetGuard; dropping it detaches. A detached attachment never gets
// another callback, not even one still pending in the batch being dispatched, so attaching and
// detaching inside a callback is allowed. The WaitSet identifies attachments by a unique 64-bit
// number, never by the fd, so an fd number reused after a detach gets no stale event.
//
// Signals: by default the WaitSet installs handlers for SIGINT and SIGTERM only (the same ones
// Node::wait uses) and watches their wake-up fd, so a signal ends a wait with Interrupt (SIGINT)
// or TerminationRequest (SIGTERM) even when it was delivered to another thread. A termination
// request is sticky: every later wait of the process, a WaitSet's or a Node's, returns it at
// once, so nested loops all end. Any other signal that interrupts a wait is
// retried with the time that remains, never reported. The handlers stay installed while any
// WaitSet that asked for them lives (unless someone installed them before: then they stay).
//
// Hot path: a wait and its dispatch make no allocation and cost O(ready attachments), not
// O(attachments): the epoll_event array and the attachment table are allocated at create().
//
// Busy-poll budget (off by default; WaitSetBuilder::busy_poll): before a wait enters the kernel
// it polls the shared memory of its listener and subscriber attachments for up to the budget and
// dispatches at once when one becomes ready. While it polls, their notifiers and publishers see
// that it is awake and write no wake-up: a ping-pong between two busy-polling WaitSets makes no
// system call when the WaitSet holds only listeners and subscribers (otherwise one epoll_wait
// that does not sleep, so that a batch still reports everything that is ready). The cost is CPU:
// a waiter burns up to the budget on one core before every sleep (a 20 µs budget in a loop that
// waits 1000 times a second is at most 2% of a core). Deadline attachments, fds and timers are
// not polled: one that becomes ready while the WaitSet polls is seen when the budget ends or when
// a polled attachment becomes ready, whichever comes first; so the budget is the longest they wait
// beyond what they would without it. Semantics are unchanged: level-triggered, no lost wake-up,
// detach in callbacks, signals (a termination signal ends the polling too).
//
// Thread-safety: none. Attach, detach (dropping a guard), modify and the waits run on one thread
// at a time, usually the one that waits. fd() may be polled from anywhere. Not usable across
// fork().
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <tl/expected.hpp>

#include "axon/function_ref.hpp"
#include "axon/event/listener.hpp"

namespace axon {

namespace detail {
class WaitSetState;
}

/// What a callback asks the loop to do next.
enum class CallbackProgression {
  Continue,  ///< go on with the batch (and, in wait_and_process, with the next wait)
  Stop,      ///< end at once: the rest of the batch is not dispatched; the wait returns StopRequest
};

/// How a wait ended (when it did not fail).
enum class WaitSetRunResult {
  StopRequest,         ///< a callback returned CallbackProgression::Stop
  Interrupt,           ///< SIGINT arrived (signal handling on)
  TerminationRequest,  ///< SIGTERM arrived (signal handling on)
  AllEventsHandled,    ///< the batch was dispatched, or the timeout passed with nothing ready
};
const char* to_string(WaitSetRunResult result);

enum class WaitSetCreateError {
  InvalidCapacity,        ///< capacity is 0 or above WaitSet::kMaxCapacity
  InvalidBusyPoll,        ///< a busy-poll budget below 0 or above WaitSet::kMaxBusyPoll
  InsufficientResources,  ///< no fd left for the epoll instance, or not enough memory
  SignalHandlingFailed,   ///< the SIGINT/SIGTERM handlers or their fd could not be set up
  InternalFailure,        ///< any other system failure
};
const char* to_string(WaitSetCreateError error);

enum class WaitSetAttachmentError {
  AlreadyAttached,   ///< this listener or fd is attached already (in any form)
  CapacityExceeded,  ///< the WaitSet holds capacity() attachments already
  InvalidArgument,   ///< a negative or unpollable fd (e.g. a regular file), a duration <= 0, a
                     ///< guard of another WaitSet, or modify() of an attachment that is no fd
  NotWakeable,       ///< a subscriber created without wakeable(true): nothing would wake it
  InternalFailure,   ///< a timer could not be created, or epoll failed otherwise
};
const char* to_string(WaitSetAttachmentError error);

enum class WaitSetRunError {
  NoAttachments,    ///< nothing is attached, so nothing could ever wake the wait
  InternalFailure,  ///< epoll failed, or a wait was started from inside a callback
};
const char* to_string(WaitSetRunError error);

/// Which readiness of an fd attachment is watched.
enum class FdInterest : std::uint8_t {
  Read = 1,       ///< readable (EPOLLIN), including end-of-file and a peer's shutdown
  Write = 2,      ///< writable (EPOLLOUT)
  ReadWrite = 3,  ///< either
};

/// How readiness of an fd attachment is reported.
enum class TriggerMode : std::uint8_t {
  /// Reported at every wait while the fd is ready (the default; see the busy-loop note above).
  Level,
  /// Reported once per change of readiness (EPOLLET). The caller must then read (or write) until
  /// the call fails with EAGAIN, on a non-blocking fd: readiness left unconsumed is not reported
  /// again until new data arrives, so a partial read can stall the fd for ever. With several
  /// threads or processes on one fd, more than one may wake for the same data (see epoll(7)).
  Edge,
};

class WaitSet;
class WaitSetBuilder;
class UntypedSubscriber;
template <typename T, typename H>
class Subscriber;

/// Keeps an attachment alive; dropping it detaches. Move-only. Safe to drop after its WaitSet is
/// gone (it then does nothing); detaching twice is harmless. Drop it before closing the fd or
/// destroying the listener it watches: a detach after the close would unregister whatever fd
/// then has that number in the same WaitSet.
class WaitSetGuard {
 public:
  WaitSetGuard(WaitSetGuard&& other) noexcept;
  /// Detaches what this guard held, then takes over `other`'s attachment.
  WaitSetGuard& operator=(WaitSetGuard&& other) noexcept;
  WaitSetGuard(const WaitSetGuard&) = delete;
  WaitSetGuard& operator=(const WaitSetGuard&) = delete;
  ~WaitSetGuard();

  /// Detaches now; the destructor then does nothing.
  void detach();

 private:
  friend class WaitSet;
  friend class AttachmentId;
  WaitSetGuard(std::weak_ptr<detail::WaitSetState> state, std::uint64_t waitset_id,
               std::uint64_t number)
      : m_state(std::move(state)), m_waitset_id(waitset_id), m_number(number) {}

  std::weak_ptr<detail::WaitSetState> m_state;
  std::uint64_t m_waitset_id = 0;
  std::uint64_t m_number = 0;  ///< 0: holds nothing
};

/// Names an attachment that fired, with what happened to it in this batch. Copyable, hashable
/// and totally ordered; equality, order and hash look at the attachment only, not at the flags,
/// so it can key a map of handlers (see from_guard).
class AttachmentId {
 public:
  /// The id of a guard's attachment, with no flags set.
  static AttachmentId from_guard(const WaitSetGuard& guard);

  /// True when this attachment is `guard`'s and it had an event: its fd or listener was ready
  /// (or hung up), its interval elapsed, or its deadline attachment got an event in time.
  bool has_event_from(const WaitSetGuard& guard) const {
    return same_attachment(guard) && has_event();
  }
  /// True when this attachment is `guard`'s deadline and nothing came within its period.
  bool has_missed_deadline(const WaitSetGuard& guard) const {
    return same_attachment(guard) && missed_deadline();
  }

  /// Something happened (anything but a missed deadline).
  bool has_event() const { return (m_flags & kEvent) != 0; }
  /// The fd or listener is readable (EPOLLIN).
  bool readable() const { return (m_flags & kReadable) != 0; }
  /// The fd is writable (EPOLLOUT).
  bool writable() const { return (m_flags & kWritable) != 0; }
  /// The peer hung up or the fd is in error (EPOLLHUP, EPOLLERR, EPOLLRDHUP). Level-triggered:
  /// reported at every wait until the attachment is detached.
  bool hangup() const { return (m_flags & kHangup) != 0; }
  /// A deadline passed with nothing from its source.
  bool missed_deadline() const { return (m_flags & kMissedDeadline) != 0; }

  friend bool operator==(const AttachmentId& a, const AttachmentId& b) {
    return a.m_waitset_id == b.m_waitset_id && a.m_number == b.m_number;
  }
  friend std::strong_ordering operator<=>(const AttachmentId& a, const AttachmentId& b) {
    if (auto order = a.m_waitset_id <=> b.m_waitset_id; order != 0) return order;
    return a.m_number <=> b.m_number;
  }

 private:
  friend class detail::WaitSetState;
  friend struct std::hash<AttachmentId>;
  static constexpr std::uint8_t kEvent = 1;
  static constexpr std::uint8_t kReadable = 2;
  static constexpr std::uint8_t kWritable = 4;
  static constexpr std::uint8_t kHangup = 8;
  static constexpr std::uint8_t kMissedDeadline = 16;

  AttachmentId(std::uint64_t waitset_id, std::uint64_t number, std::uint8_t flags)
      : m_waitset_id(waitset_id), m_number(number), m_flags(flags) {}
  bool same_attachment(const WaitSetGuard& guard) const {
    return guard.m_number != 0 && guard.m_number == m_number && guard.m_waitset_id == m_waitset_id;
  }

  std::uint64_t m_waitset_id = 0;
  std::uint64_t m_number = 0;
  std::uint8_t m_flags = 0;
};

/// One wait's outcome for the loop-style API (WaitSet::wait): no callbacks, the caller walks
/// `triggered`. The span points into the WaitSet and is valid until its next wait.
struct WaitBatch {
  /// AllEventsHandled, or Interrupt / TerminationRequest (then `triggered` may still hold what
  /// was ready in the same batch). Never StopRequest.
  WaitSetRunResult result = WaitSetRunResult::AllEventsHandled;
  /// Every attachment that fired, each once; empty after a timeout.
  std::span<const AttachmentId> triggered;
};

class WaitSet {
 public:
  using Callback = FunctionRef<CallbackProgression(AttachmentId)>;

  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 20;
  /// The longest busy-poll budget: beyond it sleeping costs nothing next to the spin.
  static constexpr std::chrono::nanoseconds kMaxBusyPoll = std::chrono::seconds(1);

  WaitSet(WaitSet&&) noexcept;
  WaitSet& operator=(WaitSet&&) noexcept;
  WaitSet(const WaitSet&) = delete;
  WaitSet& operator=(const WaitSet&) = delete;
  /// Detaches everything; guards that outlive it do nothing when dropped.
  ~WaitSet();

  /// Fires while `listener` has a notification pending. Drain it (try_wait) in the callback.
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_notification(const Listener& listener);
  /// Fires while a sample may be waiting for a wakeable subscriber (`wakeable(true)`; others are
  /// NotWakeable). Receive until nothing comes in the callback: a receive that finds nothing is
  /// what quiets it. The subscriber must outlive the guard.
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_notification(
      const UntypedSubscriber& subscriber);
  template <typename T, typename H>
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_notification(
      const Subscriber<T, H>& subscriber) {
    return attach_notification(subscriber.m_port);
  }
  /// Fires while `fd` is ready for `interest` (Level) or when it becomes ready (Edge). The fd is
  /// not owned; it must stay open until the guard is dropped.
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_fd(
      int fd, FdInterest interest, TriggerMode mode = TriggerMode::Level);
  /// Fires like attach_notification, and reports a missed deadline whenever `deadline` passes
  /// without a notification. Every event restarts the deadline; after a miss it restarts too, so
  /// a silent source is reported once per `deadline`, never in a loop. An event that arrived after
  /// the deadline but before the wait counts as an event, not as a miss.
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_deadline(
      const Listener& listener, std::chrono::nanoseconds deadline);
  /// As attach_deadline, for an fd's read readiness (level-triggered).
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_deadline_fd(
      int fd, std::chrono::nanoseconds deadline);
  /// Fires every `period` (a timerfd the WaitSet reads itself). Periods that passed while nobody
  /// waited are reported as one event.
  tl::expected<WaitSetGuard, WaitSetAttachmentError> attach_interval(
      std::chrono::nanoseconds period);
  /// Changes what an attach_fd attachment watches, in place; its trigger mode stays.
  tl::expected<void, WaitSetAttachmentError> modify(const WaitSetGuard& guard, FdInterest interest);

  /// Waits and dispatches batch after batch until a callback returns Stop (StopRequest) or a
  /// termination signal arrives. Fails with NoAttachments when the set is (or becomes) empty.
  tl::expected<WaitSetRunResult, WaitSetRunError> wait_and_process(Callback callback);
  /// Waits until something fires, then calls `callback` once for each attachment that fired, in
  /// one batch. Returns AllEventsHandled after the batch.
  tl::expected<WaitSetRunResult, WaitSetRunError> wait_and_process_once(Callback callback);
  /// As wait_and_process_once, but returns AllEventsHandled with no callback once `timeout`
  /// passed with nothing ready; never earlier (the timeout is rounded up, and waits interrupted
  /// by other signals go on for the time that remains). Zero: only looks.
  tl::expected<WaitSetRunResult, WaitSetRunError> wait_and_process_once_with_timeout(
      Callback callback, std::chrono::nanoseconds timeout);
  /// The loop-style form: one batch, no callbacks. `timeout` nullopt waits until something fires.
  tl::expected<WaitBatch, WaitSetRunError> wait(std::optional<std::chrono::nanoseconds> timeout);

  /// The epoll fd: readable while an attachment (or a termination signal) is ready, so the
  /// WaitSet nests in another poll loop. Owned by the WaitSet.
  int fd() const;
  /// Attachments held (the internal signal fd is not counted).
  std::size_t len() const;
  /// The busy-poll budget it was created with (zero: off).
  std::chrono::nanoseconds busy_poll() const;
  bool is_empty() const { return len() == 0; }
  std::size_t capacity() const;

 private:
  friend class WaitSetBuilder;
  explicit WaitSet(std::shared_ptr<detail::WaitSetState> state) : m_state(std::move(state)) {}
  tl::expected<WaitSetGuard, WaitSetAttachmentError> guard_for(
      tl::expected<std::uint64_t, WaitSetAttachmentError> number);

  std::shared_ptr<detail::WaitSetState> m_state;
};

/// `WaitSetBuilder().capacity(64).create()`.
class WaitSetBuilder {
 public:
  /// The most attachments the WaitSet holds (default WaitSet::kDefaultCapacity). Its tables are
  /// allocated once, at create().
  WaitSetBuilder& capacity(std::size_t n);
  /// true (default): install the SIGINT/SIGTERM handlers and end waits on them. false: install
  /// nothing; a signal that interrupts a wait is retried like any other.
  WaitSetBuilder& signal_handling(bool on);
  /// Busy-poll listeners and subscribers for up to `budget` before each sleep (see the top of
  /// this header for what it costs and what it changes). Zero (default): off. Up to
  /// WaitSet::kMaxBusyPoll; anything else makes create() fail with InvalidBusyPoll.
  WaitSetBuilder& busy_poll(std::chrono::nanoseconds budget);
  tl::expected<WaitSet, WaitSetCreateError> create();

 private:
  std::size_t m_capacity = WaitSet::kDefaultCapacity;
  bool m_signal_handling = true;
  std::chrono::nanoseconds m_busy_poll{0};
};

}  // namespace axon

template <>
struct std::hash<axon::AttachmentId> {
  std::size_t operator()(const axon::AttachmentId& id) const noexcept {
    return std::hash<std::uint64_t>{}(id.m_number ^ (id.m_waitset_id * 0x9E3779B97F4A7C15ULL));
  }
};
