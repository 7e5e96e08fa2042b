// A latched, named event shared by every process of one user: Python's threading.Event across
// processes. set() releases every waiter in every process and stays set until clear().
//
//   auto ready = axon::SystemEvent::open("robot/ready");   // creates it, clear, if missing
//   ready->set();                                          // in one process
//   auto was_set = ready->wait_for(std::chrono::seconds(2));  // in another
//
// One shared-memory object per event (`<prefix>evt_<16-hex fnv1a_64 of the name>`) holds the
// name and a 32-bit state word; waiters sleep on that word with a shared futex in the kernel,
// never polling. A waiter keeps no record in shared memory, so a waiter killed mid-wait changes
// nothing. Events are not tied to a Node and outlive every process that opened them: remove()
// deletes one (a process that still has it open keeps using the removed object, as with unlink).
//
// The command-line tools evt_set, evt_clear and evt_wait work on the same events.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "axon/config.hpp"

namespace axon {

namespace core {
struct SystemEventLayout;
}

enum class SystemEventError {
  /// Not a valid name: the rules of service names (1..255 printable ASCII bytes, no space, `/`
  /// separated segments, none empty, `.` or `..`), or an AXON_PREFIX / AXON_ROOT that
  /// Config::validate() refuses.
  InvalidName,
  /// Its object, FIFO or our root directory belongs to someone else or is not what axon made.
  PermissionDenied,
  /// Its object is not a usable event: garbage, another name with the same hash, or half-made
  /// by a creator that neither finished nor died within the retry budget.
  Corrupted,
  /// Its object was made by an incompatible version of axon.
  VersionMismatch,
  /// Out of memory, /dev/shm space or file descriptors.
  InsufficientResources,
  /// remove(): there is no event of that name.
  DoesNotExist,
  /// A system call failed in a way none of the above describes.
  InternalFailure,
};
const char* to_string(SystemEventError error);

enum class SystemEventWaitError {
  /// A signal arrived while waiting (EINTR); the caller decides whether to wait again.
  Interrupted,
  /// The futex system call failed in an unexpected way.
  InternalFailure,
};
const char* to_string(SystemEventWaitError error);

/// One latched event as SystemEvent::list() and describe() find it, without opening (or creating)
/// it.
struct SystemEventInfo {
  /// The event's name; for an unreadable object whose stored name is not intact (not a valid
  /// name, or not one that hashes to its object), its 16-digit `hash`.
  std::string name;
  std::string hash;  ///< 16 hex digits, as in its object's name `<prefix>evt_<hash>`
  bool is_set = false;  ///< the state at the instant it was read; false when `error` is set
  /// Processes that map the event's object now (SystemEvent handles, e.g. a waiting evt_wait),
  /// sorted, the caller included when it holds a handle. Read from /proc/<pid>/maps, so it sees
  /// only processes whose maps the caller may read (its own user's, or all for root) in its own
  /// PID namespace; a handle that was opened and closed between two looks leaves no trace.
  std::vector<int> holders;
  /// Set when the object exists but is not a usable event: Corrupted (garbage, or another name
  /// with the same hash) or VersionMismatch. Only list() reports these; describe() fails.
  std::optional<SystemEventError> error;
};

/// A handle to one named event. Move-only; a moved-from handle may only be destroyed or assigned.
/// Closing a handle (destruction) leaves the event as it is.
///
/// Thread-safety: every method may be called concurrently from any number of threads on one
/// handle, and from other handles and processes on the same event.
class SystemEvent {
 public:
  /// Opens the event `name`, creating it (clear) if it does not exist. Safe when many processes
  /// open the same new name at once: exactly one creates it, the others open that object. An
  /// object left half-made by a creator that died is removed and made anew; one whose creator
  /// is alive but does not finish within a few seconds gives Corrupted rather than a hang.
  /// Errors: InvalidName (before any file is made), PermissionDenied, Corrupted, VersionMismatch,
  /// InsufficientResources, InternalFailure.
  static tl::expected<SystemEvent, SystemEventError> open(
      std::string_view name, const Config& config = Config::from_environment());
  /// Deletes the event's object and FIFO. Handles still open keep working on the removed object
  /// and no longer meet handles opened afterwards. Errors: InvalidName, DoesNotExist,
  /// PermissionDenied, InternalFailure.
  static tl::expected<void, SystemEventError> remove(
      std::string_view name, const Config& config = Config::from_environment());

  /// Every event of this prefix that is ours (another user's objects under the prefix are left
  /// out), sorted by name, unreadable ones included (`error` set). An object still being made by
  /// its creator, or left half-made by one that died (the next open() of its name repairs it), is
  /// left out. Opens nothing for writing and creates nothing. Errors: InvalidName (a malformed
  /// prefix or root), PermissionDenied (/dev/shm cannot be read), InsufficientResources,
  /// InternalFailure.
  static tl::expected<std::vector<SystemEventInfo>, SystemEventError> list(
      const Config& config = Config::from_environment());
  /// The event `name`, as list() would show it; creates nothing. Errors: InvalidName,
  /// DoesNotExist (also while half-made), PermissionDenied (also another user's object),
  /// Corrupted, VersionMismatch, InsufficientResources, InternalFailure.
  static tl::expected<SystemEventInfo, SystemEventError> describe(
      std::string_view name, const Config& config = Config::from_environment());

  SystemEvent(SystemEvent&&) noexcept;
  SystemEvent& operator=(SystemEvent&&) noexcept;
  SystemEvent(const SystemEvent&) = delete;
  SystemEvent& operator=(const SystemEvent&) = delete;
  ~SystemEvent();

  /// The name given to open().
  const std::string& name() const { return m_name; }

  /// Sets the event and wakes every waiter in every process. Setting a set event changes
  /// nothing but wakes again, which releases waiters left asleep by a setter that died between
  /// its store and its wake.
  void set();
  /// Clears the event; waiters from now on block until the next set().
  void clear();
  /// Whether the event is set now (one atomic load; exact at that instant).
  bool is_set() const;

  /// Blocks until the event is set; returns true then. Returns true at once if it is set.
  /// Errors: Interrupted (a signal handler ran; handlers installed without SA_RESTART, such as
  /// those of a WaitSet or Node::wait, cause this; and, with those handlers installed, at once
  /// while a SIGINT or SIGTERM they caught is remembered, as a Node's or WaitSet's wait returns
  /// it: a signal that came just before the wait is not slept through), InternalFailure.
  tl::expected<bool, SystemEventWaitError> wait() const;
  /// As wait(), but gives up after `timeout` (measured on the monotonic clock against an absolute
  /// deadline, so it never returns false early). True when the event was set at entry or a set()
  /// happened during the wait, even if a clear() followed at once (as Python's Event.wait);
  /// false on timeout. A zero or negative timeout only looks.
  tl::expected<bool, SystemEventWaitError> wait_for(std::chrono::nanoseconds timeout) const;

  /// A descriptor that is readable while the event is set and not readable while it is clear, in
  /// every process, for an epoll loop or a WaitSet. It belongs to this handle: do not read from
  /// it or close it. Level-triggered epoll reports it on every wait while the event stays set, so
  /// a loop that does not clear the event spins; a clear() and set() in quick succession may pass
  /// unseen (wait() does not miss them). Made on the first call: a FIFO
  /// `<root>/events/<hash>.fifo`, after which every set() and clear() that changes the state, in
  /// any process, also writes one byte into it or drains it, then checks that the state did not
  /// move meanwhile and repeats if it did, so the last FIFO operation always matches the last
  /// state. What remains: while set() and clear() run at the same time in several threads or
  /// processes, the fd may show the previous state for the few system calls until they return;
  /// a process killed between changing the state and updating the FIFO leaves the fd wrong until
  /// the next change of state; and a handle to a removed event (see remove()) that first touches
  /// the FIFO after a new event of the same name made one disturbs that event's fd.
  /// Errors: PermissionDenied, InsufficientResources, InternalFailure.
  tl::expected<int, SystemEventError> fd();

 private:
  struct Mapping;
  struct FifoCache;

  SystemEvent(std::string name, std::unique_ptr<Mapping> memory, Config config,
              std::string fifo_path);
  tl::expected<bool, SystemEventWaitError> wait_until(
      std::optional<std::chrono::steady_clock::time_point> deadline) const;
  /// After this process changed the state: brings the FIFO, if any, in line with the state.
  void sync_fifo();

  std::string m_name;
  /// The event's shared memory, on the heap: m_layout points into it and stays valid when the
  /// handle moves.
  std::unique_ptr<Mapping> m_memory;
  core::SystemEventLayout* m_layout;
  Config m_config;  ///< where the FIFO lives: its directory is checked before every use by path
  std::string m_fifo_path;
  std::unique_ptr<FifoCache> m_fifo;  ///< on the heap: it holds a mutex, the handle moves
};

}  // namespace axon
