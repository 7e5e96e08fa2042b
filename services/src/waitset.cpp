#include "axon/waitset.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <limits>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "axon/detail/busy_poll.hpp"
#include "axon/publish_subscribe/pubsub_core.hpp"
#include "axon/publish_subscribe/untyped.hpp"
#include "axon/platform/clock.hpp"
#include "axon/platform/epoll.hpp"
#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/signals.hpp"
#include "axon/platform/timer_fd.hpp"

namespace axon {

const char* to_string(WaitSetRunResult result) {
  switch (result) {
    case WaitSetRunResult::StopRequest:
      return "StopRequest";
    case WaitSetRunResult::Interrupt:
      return "Interrupt";
    case WaitSetRunResult::TerminationRequest:
      return "TerminationRequest";
    case WaitSetRunResult::AllEventsHandled:
      return "AllEventsHandled";
  }
  return "Unknown";
}

const char* to_string(WaitSetCreateError error) {
  switch (error) {
    case WaitSetCreateError::InvalidCapacity:
      return "InvalidCapacity";
    case WaitSetCreateError::InvalidBusyPoll:
      return "InvalidBusyPoll";
    case WaitSetCreateError::InsufficientResources:
      return "InsufficientResources";
    case WaitSetCreateError::SignalHandlingFailed:
      return "SignalHandlingFailed";
    case WaitSetCreateError::InternalFailure:
      return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(WaitSetAttachmentError error) {
  switch (error) {
    case WaitSetAttachmentError::AlreadyAttached:
      return "AlreadyAttached";
    case WaitSetAttachmentError::CapacityExceeded:
      return "CapacityExceeded";
    case WaitSetAttachmentError::InvalidArgument:
      return "InvalidArgument";
    case WaitSetAttachmentError::NotWakeable:
      return "NotWakeable";
    case WaitSetAttachmentError::InternalFailure:
      return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(WaitSetRunError error) {
  switch (error) {
    case WaitSetRunError::NoAttachments:
      return "NoAttachments";
    case WaitSetRunError::InternalFailure:
      return "InternalFailure";
  }
  return "Unknown";
}

namespace detail {
namespace {

using platform::TerminationSignals;

// The epoll data of a registration: bits 0..31 the slot index, bit 32 the part (0: the watched
// source, 1: the timer of a deadline), bits 33..63 the slot's generation. The attachment number
// is the data with the part bit cleared. A generation is never 0, so no number is 0.
constexpr std::uint64_t kSlotMask = 0xFFFF'FFFFULL;
constexpr std::uint64_t kTimerPart = 1ULL << 32;
constexpr int kGenerationShift = 33;
constexpr std::uint32_t kGenerationMask = (1U << 31) - 1;
constexpr std::uint64_t kSignalToken = ~0ULL;
static_assert(WaitSet::kMaxCapacity < kSlotMask, "the signal token must never name a slot");

constexpr std::uint8_t kSeenSource = 1;
constexpr std::uint8_t kSeenTimer = 2;

enum class Kind : std::uint8_t { Free, Fd, Notification, Deadline, Interval };

constexpr std::uint32_t kHangupEvents = EPOLLHUP | EPOLLERR | EPOLLRDHUP;

// ORDERING: relaxed; it only hands out distinct numbers.
std::atomic<std::uint64_t> g_next_waitset_id{1};

// The SIGINT/SIGTERM handlers are process-wide; WaitSets that asked for them share one
// installation, removed with the last of them unless someone else had installed it before.
std::mutex g_signal_mutex;
std::size_t g_signal_users = 0;
bool g_signals_installed_here = false;

bool acquire_signal_handling() {
  std::lock_guard lock(g_signal_mutex);
  if (g_signal_users == 0 && !TerminationSignals::installed()) {
    // No handler ran since the last uninstall, so a remembered signal is a stale one.
    TerminationSignals::reset();
    if (!TerminationSignals::install()) return false;
    g_signals_installed_here = true;
  }
  ++g_signal_users;
  return true;
}

void release_signal_handling() {
  std::lock_guard lock(g_signal_mutex);
  if (--g_signal_users == 0 && g_signals_installed_here) {
    TerminationSignals::uninstall();
    g_signals_installed_here = false;
  }
}

std::uint32_t interest_events(FdInterest interest) {
  std::uint32_t events = 0;
  // EPOLLRDHUP only with read interest: on a write-only attachment a half-closed socket would
  // otherwise be reported for ever although the caller does not read.
  if ((static_cast<std::uint8_t>(interest) & static_cast<std::uint8_t>(FdInterest::Read)) != 0) {
    events |= EPOLLIN | EPOLLRDHUP;
  }
  if ((static_cast<std::uint8_t>(interest) & static_cast<std::uint8_t>(FdInterest::Write)) != 0) {
    events |= EPOLLOUT;
  }
  return events;
}

bool valid_interest(FdInterest interest) {
  return interest == FdInterest::Read || interest == FdInterest::Write ||
         interest == FdInterest::ReadWrite;
}

WaitSetAttachmentError attachment_error(const platform::Error& error) {
  switch (error.code) {
    case platform::ErrorCode::AlreadyExists:
      return WaitSetAttachmentError::AlreadyAttached;
    case platform::ErrorCode::InvalidArgument:   // EINVAL: this epoll itself, or a bad fd
    case platform::ErrorCode::PermissionDenied:  // EPERM: the fd does not support epoll
    case platform::ErrorCode::WrongType:         // ELOOP: epoll nesting would loop
      return WaitSetAttachmentError::InvalidArgument;
    default:
      return error.sys_errno == EBADF ? WaitSetAttachmentError::InvalidArgument
                                      : WaitSetAttachmentError::InternalFailure;
  }
}

}  // namespace

class WaitSetState {
 public:
  static tl::expected<std::shared_ptr<WaitSetState>, WaitSetCreateError> create(
      std::size_t capacity, bool signal_handling, std::chrono::nanoseconds busy_poll) {
    if (capacity == 0 || capacity > WaitSet::kMaxCapacity) {
      return tl::unexpected(WaitSetCreateError::InvalidCapacity);
    }
    if (busy_poll < std::chrono::nanoseconds::zero() || busy_poll > WaitSet::kMaxBusyPoll) {
      return tl::unexpected(WaitSetCreateError::InvalidBusyPoll);
    }
    auto epoll = platform::Epoll::create();
    if (!epoll) {
      const auto code = epoll.error().code;
      return tl::unexpected(code == platform::ErrorCode::LimitReached ||
                                    code == platform::ErrorCode::InsufficientMemory
                                ? WaitSetCreateError::InsufficientResources
                                : WaitSetCreateError::InternalFailure);
    }
    std::shared_ptr<WaitSetState> state;
    try {
      state.reset(new WaitSetState(std::move(*epoll), capacity));
    } catch (const std::bad_alloc&) {
      return tl::unexpected(WaitSetCreateError::InsufficientResources);
    }
    state->m_busy_poll = busy_poll;
    if (signal_handling) {
      if (!acquire_signal_handling())
        return tl::unexpected(WaitSetCreateError::SignalHandlingFailed);
      state->m_signal_handling = true;
      if (!state->m_epoll.add(TerminationSignals::fd(), EPOLLIN, kSignalToken)) {
        return tl::unexpected(WaitSetCreateError::SignalHandlingFailed);
      }
    }
    return state;
  }

  WaitSetState(const WaitSetState&) = delete;
  WaitSetState& operator=(const WaitSetState&) = delete;
  ~WaitSetState() {
    if (m_signal_handling) release_signal_handling();
  }

  std::uint64_t id() const { return m_id; }
  int fd() const { return m_epoll.fd(); }
  std::size_t len() const { return m_len; }
  std::size_t capacity() const { return m_slots.size(); }
  std::chrono::nanoseconds busy_poll() const { return m_busy_poll; }

  /// `probe`: the listener's shared state, polled by a busy-polling wait (Notification only).
  tl::expected<std::uint64_t, WaitSetAttachmentError> attach(Kind kind, int fd,
                                                             std::uint32_t events,
                                                             std::chrono::nanoseconds period,
                                                             ListenerProbe probe = {}) {
    const bool timed = kind == Kind::Deadline || kind == Kind::Interval;
    if (kind != Kind::Interval && fd < 0) {
      return tl::unexpected(WaitSetAttachmentError::InvalidArgument);
    }
    if (timed && period <= std::chrono::nanoseconds::zero()) {
      return tl::unexpected(WaitSetAttachmentError::InvalidArgument);
    }
    if (m_free.empty()) return tl::unexpected(WaitSetAttachmentError::CapacityExceeded);

    const std::uint32_t index = m_free.back();
    Slot& slot = m_slots[index];
    const std::uint64_t number = (std::uint64_t{slot.generation} << kGenerationShift) | index;

    std::optional<platform::TimerFd> timer;
    if (timed) {
      auto created = platform::TimerFd::create();
      if (!created) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
      timer.emplace(std::move(*created));
    }
    if (fd >= 0) {
      auto added = m_epoll.add(fd, events, number);
      if (!added) return tl::unexpected(attachment_error(added.error()));
    }
    if (timer) {
      // An interval's timer is its source; a deadline's timer is its second part.
      const std::uint64_t data = kind == Kind::Deadline ? (number | kTimerPart) : number;
      auto added = m_epoll.add(timer->fd(), EPOLLIN, data);
      auto armed = added ? timer->arm(period, period) : tl::expected<void, platform::Error>{};
      if (!added || !armed) {
        if (added) (void)m_epoll.remove(timer->fd());
        if (fd >= 0) (void)m_epoll.remove(fd);
        return tl::unexpected(WaitSetAttachmentError::InternalFailure);
      }
    }

    m_free.pop_back();
    slot.kind = kind;
    slot.fd = fd;
    slot.events = events;
    slot.timer = std::move(timer);
    slot.period = period;
    slot.batch = 0;
    slot.polled = static_cast<bool>(probe);
    if (probe) {
      // Never reallocate: reserved for every slot.
      slot.polled_index = static_cast<std::uint32_t>(m_polled.size());
      m_polled.push_back(PolledListener{probe, false});
      m_polled_slots.push_back(index);
    }
    ++m_len;
    return number;
  }

  tl::expected<void, WaitSetAttachmentError> modify(std::uint64_t number, FdInterest interest) {
    Slot* slot = lookup(number);
    if (slot == nullptr || slot->kind != Kind::Fd || !valid_interest(interest)) {
      return tl::unexpected(WaitSetAttachmentError::InvalidArgument);
    }
    const std::uint32_t events = interest_events(interest) | (slot->events & EPOLLET);
    auto changed = m_epoll.modify(slot->fd, events, number);
    if (!changed) return tl::unexpected(attachment_error(changed.error()));
    slot->events = events;
    return {};
  }

  void detach(std::uint64_t number) {
    Slot* slot = lookup(number);
    if (slot == nullptr) return;
    // Failure means the fd was closed already, which unregistered it: nothing left to undo.
    if (slot->fd >= 0) (void)m_epoll.remove(slot->fd);
    if (slot->timer) (void)m_epoll.remove(slot->timer->fd());
    slot->timer.reset();
    if (slot->polled) {
      // Swap-remove from the polled lists. Claims are only held inside a wait, never here.
      const std::uint32_t moved = m_polled_slots.back();
      m_polled[slot->polled_index] = m_polled.back();
      m_polled_slots[slot->polled_index] = moved;
      m_slots[moved].polled_index = slot->polled_index;
      m_polled.pop_back();
      m_polled_slots.pop_back();
      slot->polled = false;
    }
    slot->kind = Kind::Free;
    slot->fd = -1;
    // A new generation makes every pending event and id of the old attachment stale.
    slot->generation =
        (slot->generation & kGenerationMask) == kGenerationMask ? 1 : slot->generation + 1;
    // Never reallocates: the free list was reserved for every slot.
    m_free.push_back(static_cast<std::uint32_t>(number & kSlotMask));
    --m_len;
  }

  tl::expected<WaitSetRunResult, WaitSetRunError> run_once(
      WaitSet::Callback callback, std::optional<std::chrono::nanoseconds> timeout) {
    auto collected = collect(timeout);
    if (!collected) return tl::unexpected(collected.error());
    DispatchScope scope(*this);
    for (std::size_t i = 0; i < collected->count; ++i) {
      const AttachmentId id = m_triggered[i];
      // A callback earlier in this batch may have detached it (or reused its slot).
      if (lookup(id.m_number) == nullptr) continue;
      if (callback(id) == CallbackProgression::Stop) return WaitSetRunResult::StopRequest;
    }
    return collected->result;
  }

  tl::expected<WaitBatch, WaitSetRunError> wait(std::optional<std::chrono::nanoseconds> timeout) {
    auto collected = collect(timeout);
    if (!collected) return tl::unexpected(collected.error());
    return WaitBatch{collected->result,
                     std::span<const AttachmentId>(m_triggered.data(), collected->count)};
  }

 private:
  struct Slot {
    std::uint32_t generation = 1;
    Kind kind = Kind::Free;
    std::uint8_t seen = 0;  ///< kSeenSource / kSeenTimer in the batch being collected
    std::uint32_t events = 0;
    int fd = -1;  ///< the watched fd; -1 for an interval
    std::optional<platform::TimerFd> timer;
    std::chrono::nanoseconds period{0};
    std::uint64_t batch = 0;  ///< the last batch that collected it
    std::uint32_t batch_index = 0;
    bool polled = false;             ///< a listener (or subscriber) busy-polling looks at
    std::uint32_t polled_index = 0;  ///< its place in m_polled and m_polled_slots
  };

  struct Collected {
    std::size_t count = 0;
    WaitSetRunResult result = WaitSetRunResult::AllEventsHandled;
  };

  // Marks callbacks in flight: a wait started from one of them would overwrite the batch.
  class DispatchScope {
   public:
    explicit DispatchScope(WaitSetState& state) : m_state(state) { m_state.m_dispatching = true; }
    DispatchScope(const DispatchScope&) = delete;
    DispatchScope& operator=(const DispatchScope&) = delete;
    ~DispatchScope() { m_state.m_dispatching = false; }

   private:
    WaitSetState& m_state;
  };

  WaitSetState(platform::Epoll epoll, std::size_t capacity)
      : m_id(g_next_waitset_id.fetch_add(1, std::memory_order_relaxed)),
        m_epoll(std::move(epoll)),
        // Two registrations a deadline plus the signal fd: one wait sees everything that is ready.
        m_events(2 * capacity + 1),
        m_slots(capacity),
        m_triggered(capacity, AttachmentId(0, 0, 0)) {
    m_free.reserve(capacity);
    m_polled.reserve(capacity);
    m_polled_slots.reserve(capacity);
    for (std::size_t i = capacity; i > 0; --i) m_free.push_back(static_cast<std::uint32_t>(i - 1));
  }

  Slot* lookup(std::uint64_t number) {
    const std::uint64_t index = number & kSlotMask;
    if (index >= m_slots.size()) return nullptr;
    Slot& slot = m_slots[index];
    if (slot.kind == Kind::Free || (number >> kGenerationShift) != slot.generation) return nullptr;
    return &slot;
  }

  WaitSetRunResult signal_result() const {
    if (!m_signal_handling) return WaitSetRunResult::AllEventsHandled;
    switch (TerminationSignals::last_signal()) {
      case SIGINT:
        return WaitSetRunResult::Interrupt;
      case SIGTERM:
        return WaitSetRunResult::TerminationRequest;
      default:
        return WaitSetRunResult::AllEventsHandled;
    }
  }

  // Waits for one batch with something to report, or for the timeout, or a termination signal.
  tl::expected<Collected, WaitSetRunError> collect(
      std::optional<std::chrono::nanoseconds> timeout) {
    if (m_dispatching) return tl::unexpected(WaitSetRunError::InternalFailure);
    if (m_len == 0) return tl::unexpected(WaitSetRunError::NoAttachments);
    const auto deadline =
        timeout ? platform::Deadline::after(*timeout) : platform::Deadline::never();
    for (;;) {
      // Termination requests are sticky: checked before every wait so that one that was taken
      // from the signal fd by another thread is not missed.
      if (const auto signal = signal_result(); signal != WaitSetRunResult::AllEventsHandled) {
        return Collected{0, signal};
      }
      begin_batch();
      // A signal that ended the polling is seen by the wait below (its fd is readable).
      if (m_busy_poll.count() > 0 && !m_polled.empty() && poll_listeners(deadline)) {
        // One batch reports everything that is ready: attachments that are not polled get a
        // look without sleeping (a system call only where there are any).
        if (m_polled.size() == m_len) {
          return Collected{settle_batch(), WaitSetRunResult::AllEventsHandled};
        }
        auto ready = m_epoll.wait(m_events, std::chrono::nanoseconds::zero());
        if (!ready) return Collected{settle_batch(), WaitSetRunResult::AllEventsHandled};
        bool signal_seen = false;
        gather(std::span(m_events.data(), *ready), signal_seen);
        const std::size_t count = settle_batch();
        if (signal_seen) {
          if (const auto signal = signal_result(); signal != WaitSetRunResult::AllEventsHandled) {
            return Collected{count, signal};
          }
          TerminationSignals::drain_fd();
        }
        return Collected{count, WaitSetRunResult::AllEventsHandled};
      }
      auto ready = m_epoll.wait(m_events, deadline.remaining());
      if (!ready) {
        // Any signal: look at the termination flag again, then wait for what remains.
        if (ready.error().code == platform::ErrorCode::Interrupted) continue;
        return tl::unexpected(WaitSetRunError::InternalFailure);
      }
      bool signal_seen = false;
      gather(std::span(m_events.data(), *ready), signal_seen);
      const std::size_t count = settle_batch();
      if (signal_seen) {
        const auto signal = signal_result();
        if (signal != WaitSetRunResult::AllEventsHandled) return Collected{count, signal};
        // Readable without a signal: a wake-up whose signal was reset. Drained, or it would spin.
        TerminationSignals::drain_fd();
      }
      if (count > 0 || deadline.expired())
        return Collected{count, WaitSetRunResult::AllEventsHandled};
    }
  }

  // A batch is collected into m_triggered (m_count entries, one per attachment), then settled.
  void begin_batch() {
    ++m_batch;
    m_count = 0;
  }

  // The entry of `slot` (whose attachment is `number`) in the batch, added if it has none yet.
  AttachmentId& entry(Slot& slot, std::uint64_t number) {
    if (slot.batch != m_batch) {
      slot.batch = m_batch;
      slot.seen = 0;
      slot.batch_index = static_cast<std::uint32_t>(m_count);
      m_triggered[m_count++] = AttachmentId(m_id, number, 0);
    }
    return m_triggered[slot.batch_index];
  }

  // Adds the epoll events to the batch.
  void gather(std::span<const epoll_event> ready, bool& signal_seen) {
    for (const auto& event : ready) {
      if (event.data.u64 == kSignalToken) {
        signal_seen = true;
        continue;
      }
      const std::uint64_t number = event.data.u64 & ~kTimerPart;
      Slot* slot = lookup(number);
      if (slot == nullptr) continue;
      AttachmentId& id = entry(*slot, number);
      if ((event.data.u64 & kTimerPart) != 0) {
        slot->seen |= kSeenTimer;
      } else {
        slot->seen |= kSeenSource;
        id.m_flags |= readiness_flags(event.events);
      }
    }
  }

  // Settles every entry of the batch (consuming timers); returns how many are reported, which
  // are moved to the front of m_triggered.
  std::size_t settle_batch() {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m_count; ++i) {
      AttachmentId id = m_triggered[i];
      if (settle(m_slots[id.m_number & kSlotMask], id.m_flags)) m_triggered[kept++] = id;
    }
    return kept;
  }

  // Busy-polls the listeners (and wakeable subscribers) for up to the budget, or until
  // `deadline` or a termination signal (detail::busy_poll); adds those with something pending to
  // the batch. True when it found one.
  bool poll_listeners(const platform::Deadline& deadline) {
    detail::busy_poll(std::span(m_polled), poll_end(m_busy_poll, deadline),
                      [this] { return signal_result() != WaitSetRunResult::AllEventsHandled; });
    bool found = false;
    for (std::size_t i = 0; i < m_polled.size(); ++i) {
      if (!m_polled[i].probe.counts->has_pending()) continue;
      const std::uint32_t index = m_polled_slots[i];
      Slot& slot = m_slots[index];
      const std::uint64_t number = (std::uint64_t{slot.generation} << kGenerationShift) | index;
      entry(slot, number).m_flags |= AttachmentId::kReadable;
      slot.seen |= kSeenSource;
      found = true;
    }
    return found;
  }

  static std::uint8_t readiness_flags(std::uint32_t events) {
    std::uint8_t flags = 0;
    if ((events & EPOLLIN) != 0) flags |= AttachmentId::kReadable;
    if ((events & EPOLLOUT) != 0) flags |= AttachmentId::kWritable;
    if ((events & kHangupEvents) != 0) flags |= AttachmentId::kHangup;
    return flags;
  }

  // Decides what a collected attachment reports and consumes its timer; false: nothing to report.
  static bool settle(Slot& slot, std::uint8_t& flags) {
    switch (slot.kind) {
      case Kind::Fd:
      case Kind::Notification:
        flags |= AttachmentId::kEvent;
        return true;
      case Kind::Interval: {
        auto expirations = slot.timer->try_read();
        if (!expirations || *expirations == 0) return false;
        flags = AttachmentId::kEvent;
        return true;
      }
      case Kind::Deadline: {
        if ((slot.seen & kSeenSource) == 0) {
          if (!slot.timer->try_read()) return false;  // no expiry after all
          // The source may have become ready after the timer, before this wait: an event.
          auto readable = platform::wait_readable(slot.fd, std::chrono::nanoseconds::zero());
          if (!readable || !*readable) {
            flags = AttachmentId::kMissedDeadline;
            return true;  // the periodic timer fires again one deadline later
          }
          flags |= AttachmentId::kReadable;
        }
        flags |= AttachmentId::kEvent;
        // Restarts the deadline and discards an expiry that raced the event.
        (void)slot.timer->arm(slot.period, slot.period);
        return true;
      }
      case Kind::Free:
        return false;
    }
    return false;
  }

  std::uint64_t m_id;
  platform::Epoll m_epoll;
  bool m_signal_handling = false;
  bool m_dispatching = false;
  std::size_t m_len = 0;
  std::uint64_t m_batch = 0;
  std::size_t m_count = 0;  ///< entries of the batch being collected
  std::chrono::nanoseconds m_busy_poll{0};
  /// The attachments busy-polling looks at, and their slots (same order).
  std::vector<PolledListener> m_polled;
  std::vector<std::uint32_t> m_polled_slots;
  std::vector<epoll_event> m_events;
  std::vector<Slot> m_slots;
  std::vector<std::uint32_t> m_free;  ///< a stack of free slot indices
  std::vector<AttachmentId> m_triggered;
};

}  // namespace detail

WaitSetGuard::WaitSetGuard(WaitSetGuard&& other) noexcept
    : m_state(std::move(other.m_state)),
      m_waitset_id(other.m_waitset_id),
      m_number(std::exchange(other.m_number, 0)) {}

WaitSetGuard& WaitSetGuard::operator=(WaitSetGuard&& other) noexcept {
  if (this != &other) {
    detach();
    m_state = std::move(other.m_state);
    m_waitset_id = other.m_waitset_id;
    m_number = std::exchange(other.m_number, 0);
  }
  return *this;
}

WaitSetGuard::~WaitSetGuard() { detach(); }

void WaitSetGuard::detach() {
  if (m_number == 0) return;
  if (auto state = m_state.lock()) state->detach(m_number);
  m_number = 0;
  m_state.reset();
}

AttachmentId AttachmentId::from_guard(const WaitSetGuard& guard) {
  return AttachmentId(guard.m_waitset_id, guard.m_number, 0);
}

WaitSetBuilder& WaitSetBuilder::capacity(std::size_t n) {
  m_capacity = n;
  return *this;
}

WaitSetBuilder& WaitSetBuilder::signal_handling(bool on) {
  m_signal_handling = on;
  return *this;
}

WaitSetBuilder& WaitSetBuilder::busy_poll(std::chrono::nanoseconds budget) {
  m_busy_poll = budget;
  return *this;
}

tl::expected<WaitSet, WaitSetCreateError> WaitSetBuilder::create() {
  return detail::WaitSetState::create(m_capacity, m_signal_handling, m_busy_poll).map([](auto state) {
    return WaitSet(std::move(state));
  });
}

WaitSet::WaitSet(WaitSet&&) noexcept = default;
WaitSet& WaitSet::operator=(WaitSet&&) noexcept = default;
WaitSet::~WaitSet() = default;

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::guard_for(
    tl::expected<std::uint64_t, WaitSetAttachmentError> number) {
  if (!number) return tl::unexpected(number.error());
  return WaitSetGuard(m_state, m_state->id(), *number);
}

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::attach_notification(
    const Listener& listener) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  return guard_for(m_state->attach(detail::Kind::Notification, listener.fd(), EPOLLIN,
                                   std::chrono::nanoseconds::zero(), listener.probe()));
}

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::attach_notification(
    const UntypedSubscriber& subscriber) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  const int wake_fd = subscriber.fd();
  if (wake_fd < 0) return tl::unexpected(WaitSetAttachmentError::NotWakeable);
  // The wake channel is a listener's: level-triggered like one, quieted by an empty receive, and
  // busy-polled like one (each send notifies it).
  return guard_for(m_state->attach(detail::Kind::Notification, wake_fd, EPOLLIN,
                                   std::chrono::nanoseconds::zero(),
                                   subscriber.m_core->wake_probe()));
}

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::attach_fd(int fd, FdInterest interest,
                                                                      TriggerMode mode) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  if (!detail::valid_interest(interest)) {
    return tl::unexpected(WaitSetAttachmentError::InvalidArgument);
  }
  const std::uint32_t events =
      detail::interest_events(interest) | (mode == TriggerMode::Edge ? EPOLLET : 0U);
  return guard_for(m_state->attach(detail::Kind::Fd, fd, events, std::chrono::nanoseconds::zero()));
}

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::attach_deadline(
    const Listener& listener, std::chrono::nanoseconds deadline) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  return guard_for(m_state->attach(detail::Kind::Deadline, listener.fd(), EPOLLIN, deadline));
}

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::attach_deadline_fd(
    int fd, std::chrono::nanoseconds deadline) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  return guard_for(m_state->attach(detail::Kind::Deadline, fd, EPOLLIN | EPOLLRDHUP, deadline));
}

tl::expected<WaitSetGuard, WaitSetAttachmentError> WaitSet::attach_interval(
    std::chrono::nanoseconds period) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  return guard_for(m_state->attach(detail::Kind::Interval, -1, 0, period));
}

tl::expected<void, WaitSetAttachmentError> WaitSet::modify(const WaitSetGuard& guard,
                                                           FdInterest interest) {
  if (!m_state) return tl::unexpected(WaitSetAttachmentError::InternalFailure);
  if (guard.m_waitset_id != m_state->id()) {
    return tl::unexpected(WaitSetAttachmentError::InvalidArgument);
  }
  return m_state->modify(guard.m_number, interest);
}

tl::expected<WaitSetRunResult, WaitSetRunError> WaitSet::wait_and_process(Callback callback) {
  if (!m_state) return tl::unexpected(WaitSetRunError::InternalFailure);
  for (;;) {
    auto result = m_state->run_once(callback, std::nullopt);
    if (!result || *result != WaitSetRunResult::AllEventsHandled) return result;
  }
}

tl::expected<WaitSetRunResult, WaitSetRunError> WaitSet::wait_and_process_once(Callback callback) {
  if (!m_state) return tl::unexpected(WaitSetRunError::InternalFailure);
  return m_state->run_once(callback, std::nullopt);
}

tl::expected<WaitSetRunResult, WaitSetRunError> WaitSet::wait_and_process_once_with_timeout(
    Callback callback, std::chrono::nanoseconds timeout) {
  if (!m_state) return tl::unexpected(WaitSetRunError::InternalFailure);
  return m_state->run_once(callback, std::max(timeout, std::chrono::nanoseconds::zero()));
}

tl::expected<WaitBatch, WaitSetRunError> WaitSet::wait(
    std::optional<std::chrono::nanoseconds> timeout) {
  if (!m_state) return tl::unexpected(WaitSetRunError::InternalFailure);
  return m_state->wait(timeout);
}

int WaitSet::fd() const { return m_state ? m_state->fd() : -1; }
std::size_t WaitSet::len() const { return m_state ? m_state->len() : 0; }
std::size_t WaitSet::capacity() const { return m_state ? m_state->capacity() : 0; }
std::chrono::nanoseconds WaitSet::busy_poll() const {
  return m_state ? m_state->busy_poll() : std::chrono::nanoseconds::zero();
}

}  // namespace axon
