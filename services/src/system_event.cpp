#include "axon/detail/system_event_paths.hpp"
#include "axon/system_event.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <thread>
#include <utility>

#include "axon/core/hash.hpp"
#include "axon/core/service_name.hpp"
#include "axon/core/system_event_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/detail/root.hpp"
#include "axon/platform/clock.hpp"
#include "axon/platform/fifo.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/futex.hpp"
#include "axon/platform/process.hpp"
#include "axon/platform/signals.hpp"

namespace axon {
namespace {

using namespace std::chrono_literals;
using platform::ErrorCode;

// How long open() keeps retrying while another process creates or repairs the object. Creation
// takes microseconds; the budget covers a creator descheduled on a loaded machine.
constexpr auto kOpenBudget = 3s;
// A half-made object younger than this is left alone even when its creation lock is free: it
// guards against a creator that does not share our lock (same prefix, another root directory).
constexpr auto kCreationGrace = 100ms;
constexpr auto kFirstPause = 1ms;
constexpr auto kLongestPause = 16ms;
// Rounds of FIFO reconciliation before leaving the rest to the processes still changing the state.
constexpr int kMaxSyncRounds = 64;

SystemEventError to_event_error(const platform::Error& error) {
  switch (error.code) {
    case ErrorCode::PermissionDenied:
    case ErrorCode::WrongType:
      return SystemEventError::PermissionDenied;
    case ErrorCode::InsufficientMemory:
    case ErrorCode::LimitReached:
      return SystemEventError::InsufficientResources;
    case ErrorCode::InvalidArgument:
    case ErrorCode::NameTooLong:
      return SystemEventError::InvalidName;
    default:
      return SystemEventError::InternalFailure;
  }
}

enum class Found { Valid, Missing, Incomplete, Unusable };

struct Probe {
  Found found = Found::Missing;
  std::optional<platform::SharedMemory> memory;                ///< set when Valid
  SystemEventError error = SystemEventError::InternalFailure;  ///< meaningful when Unusable
};

Probe probe(const std::string& object, std::string_view name) {
  Probe result;
  auto memory = platform::SharedMemory::open(object, platform::AccessMode::ReadWrite);
  if (!memory) {
    if (memory.error().code == ErrorCode::DoesNotExist) return result;
    if (memory.error().code == ErrorCode::Truncated) {  // size 0: its creator never sized it
      result.found = Found::Incomplete;
      return result;
    }
    result.found = Found::Unusable;
    result.error = to_event_error(memory.error());
    return result;
  }
  // Names are predictable and /dev/shm is writable by everyone: an object another user made
  // under our name is not our event.
  if (auto status = memory->status(); !status || status->owner != platform::current_uid()) {
    result.found = Found::Unusable;
    result.error = SystemEventError::PermissionDenied;
    return result;
  }
  switch (core::check_system_event(memory->data(), memory->size(), name)) {
    case core::SystemEventCheck::Valid:
      result.found = Found::Valid;
      result.memory = std::move(*memory);
      return result;
    case core::SystemEventCheck::Incomplete:
      result.found = Found::Incomplete;
      return result;
    case core::SystemEventCheck::VersionMismatch:
      result.found = Found::Unusable;
      result.error = SystemEventError::VersionMismatch;
      return result;
    case core::SystemEventCheck::Corrupted:
    case core::SystemEventCheck::OtherName:
      break;
  }
  result.found = Found::Unusable;
  result.error = SystemEventError::Corrupted;
  return result;
}

// True when the object was last written at least kCreationGrace ago (or is gone). A modification
// time in the future means the wall clock was set back; then age tells nothing and the lock,
// which the caller holds, decides alone.
bool older_than_grace(const std::string& object) {
  auto modified = platform::SharedMemory::modification_time_ns(object);
  if (!modified) return true;
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const auto age = now - std::chrono::nanoseconds(*modified);
  return age < 0ns || age >= kCreationGrace;
}

// The creation lock file exists only while someone holds it (or its holder died holding it):
// every holder unlinks it, still holding the lock, before letting go.
class UnlinkOnExit {
 public:
  explicit UnlinkOnExit(platform::FileLock& lock) : m_lock(lock) {}
  UnlinkOnExit(const UnlinkOnExit&) = delete;
  UnlinkOnExit& operator=(const UnlinkOnExit&) = delete;
  ~UnlinkOnExit() { (void)m_lock.unlink(); }

 private:
  platform::FileLock& m_lock;
};

// One attempt to create the object, or to replace a half-made one, under the creation lock.
// nullopt: someone else is at it, or the half-made object is too young to judge; try again.
tl::expected<std::optional<platform::SharedMemory>, SystemEventError> create_or_repair(
    const Config& config, const std::string& hash, const std::string& object,
    std::string_view name) {
  using Result = std::optional<platform::SharedMemory>;
  const auto directory = detail::SystemEventPaths::directory(config);
  if (auto made = detail::prepare_directory(config, &directory); !made) {
    return tl::unexpected(to_event_error(made.error()));
  }
  auto lock =
      platform::FileLock::create_locked(detail::SystemEventPaths::creation_lock(config, hash));
  if (!lock) {
    if (lock.error().code == ErrorCode::WouldBlock) return Result{};
    return tl::unexpected(to_event_error(lock.error()));
  }
  const UnlinkOnExit unlink_on_exit(*lock);

  // Every creator holds this lock from its exclusive create until its magic is stored, so a
  // half-made object found while we hold it was left by a creator that died.
  auto again = probe(object, name);
  switch (again.found) {
    case Found::Valid:
      return std::move(again.memory);
    case Found::Unusable:
      return tl::unexpected(again.error);
    case Found::Incomplete: {
      if (!older_than_grace(object)) return Result{};
      auto removed = platform::SharedMemory::remove(object);
      if (!removed && removed.error().code != ErrorCode::DoesNotExist) {
        return tl::unexpected(to_event_error(removed.error()));
      }
      break;
    }
    case Found::Missing:
      break;
  }

  auto memory = platform::SharedMemory::create(object, sizeof(core::SystemEventLayout), 0600);
  if (!memory) {
    // Made meanwhile by a process that does not share our lock: open it on the next round.
    if (memory.error().code == ErrorCode::AlreadyExists) return Result{};
    return tl::unexpected(to_event_error(memory.error()));
  }
  // create() maps exactly the requested, zero-filled size at a page boundary.
  if (core::construct_system_event(memory->data(), memory->size(), name) == nullptr) {
    (void)platform::SharedMemory::remove(object);
    return tl::unexpected(SystemEventError::InternalFailure);
  }
  return Result{std::move(*memory)};
}

// A creator killed while holding its creation lock (e.g. `evt_set` by SIGKILL) left the lock
// file; once the event is whole nobody takes that lock again, so the next opener removes it.
// Costs one lstat when there is none.
void remove_stale_creation_lock(const Config& config, const std::string& hash) {
  const std::string lock_path = detail::SystemEventPaths::creation_lock(config, hash);
  if (!platform::path_exists(lock_path)) return;
  const auto directory = detail::SystemEventPaths::directory(config);
  if (!detail::check_directory(config, &directory)) return;
  (void)detail::remove_stale_lock_file(lock_path, [] { return true; });
}

// Makes the FIFO's content match the state: at least one byte while set, none while clear.
// Every process that changes the state runs this afterwards. Each round acts on the state it
// read and then checks that the state did not move; so the last FIFO operation of all, made after
// the last change of state, acts on the final state. Extra bytes while set are harmless.
void reconcile(std::atomic<std::uint32_t>& state, platform::Fifo& fifo) {
  for (int round = 0; round < kMaxSyncRounds; ++round) {
    // ORDERING: seq_cst: read after our own change of state and after fifo_enabled.
    const std::uint32_t seen = state.load(std::memory_order_seq_cst);
    if (core::is_set_state(seen)) {
      const std::array<std::byte, 1> one{std::byte{1}};
      // WouldBlock means full, which is readable as well.
      (void)fifo.write(one);
    } else {
      (void)fifo.drain();
    }
    // ORDERING: seq_cst: a change of state after our FIFO operation is seen here, or its own
    // reconciliation runs after ours.
    if (state.load(std::memory_order_seq_cst) == seen) return;
  }
}

constexpr std::string_view kShmDirectory = "/dev/shm/";
constexpr std::string_view kDeletedMark = " (deleted)";

// Which processes map which event objects, by one pass over /proc/<pid>/maps. SystemEvent keeps
// no record of its holders in shared memory (a killed waiter must change nothing), but a handle
// keeps its object mapped for its whole life, and the kernel lists every mapping with the path of
// its object, " (deleted)" appended once that name was removed. So a process that maps
// `/dev/shm/<object>` without the mark holds the event now; one still on a removed event's object
// does not hold a new event of the same name. Processes whose maps cannot be read (another user's
// unless we are root, another PID namespace, gone meanwhile) are not seen. Plain file reads: a
// process that cannot be read is skipped, never an error.
std::map<std::string, std::vector<int>, std::less<>> holders_of_objects(std::string_view stem) {
  std::map<std::string, std::vector<int>, std::less<>> holders;
  std::error_code error;
  std::filesystem::directory_iterator processes("/proc", error);
  if (error) return holders;
  const std::string needle = std::string(kShmDirectory) + std::string(stem);
  for (const auto& entry : processes) {
    const std::string pid_text = entry.path().filename().string();
    int pid = 0;
    const auto [end, parsed] =
        std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
    if (parsed != std::errc{} || end != pid_text.data() + pid_text.size() || pid <= 0) continue;
    std::ifstream maps(entry.path() / "maps");
    for (std::string line; std::getline(maps, line);) {
      // "<range> <perms> <offset> <dev> <inode>   <path>": the path is the rest from its '/'.
      const auto at = line.find(needle);
      if (at == std::string::npos || line.ends_with(kDeletedMark)) continue;
      auto& pids = holders[line.substr(at + kShmDirectory.size())];
      if (pids.empty() || pids.back() != pid) pids.push_back(pid);  // one entry a mapping
    }
  }
  for (auto& [object, pids] : holders) {
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  }
  return holders;
}

enum class Inspected { Found, Missing, Incomplete, Refused };

struct Inspection {
  Inspected outcome = Inspected::Missing;
  SystemEventInfo info;                                        ///< when Found
  SystemEventError error = SystemEventError::InternalFailure;  ///< when Refused
};

// Reads the event object of `hash` without changing it: its name (copied out once, trusted only
// when it is a valid name that hashes to `hash`), its validity and its state. An object that is
// ours but not a usable event is Found with `info.error` set.
Inspection inspect(const Config& config, const std::string& hash) {
  Inspection result;
  const std::string object = detail::SystemEventPaths::shared_memory(config, hash);
  auto memory = platform::SharedMemory::open(object, platform::AccessMode::ReadOnly);
  if (!memory) {
    switch (memory.error().code) {
      case ErrorCode::DoesNotExist:
        return result;
      case ErrorCode::Truncated:  // size 0: its creator has not sized it yet, or died first
        result.outcome = Inspected::Incomplete;
        return result;
      default:
        result.outcome = Inspected::Refused;
        result.error = to_event_error(memory.error());
        return result;
    }
  }
  if (auto status = memory->status(); !status || status->owner != platform::current_uid()) {
    result.outcome = Inspected::Refused;
    result.error = SystemEventError::PermissionDenied;
    return result;
  }
  result.outcome = Inspected::Found;
  result.info.hash = hash;
  result.info.name = hash;
  if (memory->size() >= sizeof(core::SystemEventLayout)) {
    core::FixedString<core::kMaxSystemEventNameLength> stored;
    // SAFETY: the mapping holds at least a whole layout (checked above); the name is copied out
    // as bytes (a writer can only change the copy's value, view() clamps its length) and is
    // trusted only once checked below.
    const auto* layout = static_cast<const core::SystemEventLayout*>(memory->data());
    std::memcpy(&stored, &layout->name, sizeof(stored));
    const std::string name(stored.view());
    if (core::ServiceName::create(name) && detail::SystemEventPaths::hash(name) == hash) {
      result.info.name = name;
    }
  }
  switch (core::check_system_event(memory->data(), memory->size(), result.info.name)) {
    case core::SystemEventCheck::Valid: {
      // SAFETY: Valid: a complete layout of this version at the start of the mapping.
      const auto* layout = static_cast<const core::SystemEventLayout*>(memory->data());
      // ORDERING: acquire, as is_set().
      result.info.is_set = core::is_set_state(layout->state.load(std::memory_order_acquire));
      return result;
    }
    case core::SystemEventCheck::Incomplete:
      result.outcome = Inspected::Incomplete;
      return result;
    case core::SystemEventCheck::VersionMismatch:
      result.info.error = SystemEventError::VersionMismatch;
      return result;
    case core::SystemEventCheck::Corrupted:
    case core::SystemEventCheck::OtherName:  // also a name that was not intact: the hash
      break;
  }
  result.info.error = SystemEventError::Corrupted;
  return result;
}

}  // namespace

const char* to_string(SystemEventError error) {
  switch (error) {
    case SystemEventError::InvalidName:
      return "InvalidName";
    case SystemEventError::PermissionDenied:
      return "PermissionDenied";
    case SystemEventError::Corrupted:
      return "Corrupted";
    case SystemEventError::VersionMismatch:
      return "VersionMismatch";
    case SystemEventError::InsufficientResources:
      return "InsufficientResources";
    case SystemEventError::DoesNotExist:
      return "DoesNotExist";
    case SystemEventError::InternalFailure:
      return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(SystemEventWaitError error) {
  switch (error) {
    case SystemEventWaitError::Interrupted:
      return "Interrupted";
    case SystemEventWaitError::InternalFailure:
      return "InternalFailure";
  }
  return "Unknown";
}

std::string detail::SystemEventPaths::hash(std::string_view name) {
  return core::hex16(core::fnv1a_64(name));
}

struct SystemEvent::Mapping {
  platform::SharedMemory memory;
};

struct SystemEvent::FifoCache {
  std::mutex mutex;
  /// Once set, never reset: its descriptor stays valid for the handle's life.
  std::optional<platform::Fifo> fifo;
};

SystemEvent::SystemEvent(std::string name, std::unique_ptr<Mapping> memory, Config config,
                         std::string fifo_path)
    : m_name(std::move(name)),
      m_memory(std::move(memory)),
      // SAFETY: the mapping was validated by check_system_event (or built by
      // construct_system_event): at least sizeof(SystemEventLayout) bytes, page-aligned, holding
      // a complete event; it stays mapped, at this address, for the handle's life.
      m_layout(static_cast<core::SystemEventLayout*>(m_memory->memory.data())),
      m_config(std::move(config)),
      m_fifo_path(std::move(fifo_path)),
      m_fifo(std::make_unique<FifoCache>()) {}

SystemEvent::SystemEvent(SystemEvent&&) noexcept = default;
SystemEvent& SystemEvent::operator=(SystemEvent&&) noexcept = default;
SystemEvent::~SystemEvent() = default;

tl::expected<SystemEvent, SystemEventError> SystemEvent::open(std::string_view name,
                                                              const Config& config) {
  if (!core::ServiceName::create(name) || !config.validate()) {
    return tl::unexpected(SystemEventError::InvalidName);
  }
  try {
    const std::string hash = detail::SystemEventPaths::hash(name);
    const std::string object = detail::SystemEventPaths::shared_memory(config, hash);
    auto make = [&](platform::SharedMemory memory) {
      return SystemEvent(std::string(name), std::make_unique<Mapping>(Mapping{std::move(memory)}),
                         config,
                         detail::SystemEventPaths::fifo(config, hash));
    };

    const auto give_up = platform::MonotonicClock::now() + kOpenBudget;
    auto pause = std::chrono::duration_cast<std::chrono::nanoseconds>(kFirstPause);
    for (;;) {
      // The common case, an existing event, needs no lock and no file in the root directory.
      auto found = probe(object, name);
      if (found.found == Found::Valid) {
        remove_stale_creation_lock(config, hash);
        return make(std::move(*found.memory));
      }
      if (found.found == Found::Unusable) return tl::unexpected(found.error);

      auto created = create_or_repair(config, hash, object, name);
      if (!created) return tl::unexpected(created.error());
      if (*created) return make(std::move(**created));

      if (platform::MonotonicClock::now() >= give_up) {
        return tl::unexpected(found.found == Found::Incomplete ? SystemEventError::Corrupted
                                                               : SystemEventError::InternalFailure);
      }
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::nanoseconds>(pause * 2, kLongestPause);
    }
  } catch (const std::bad_alloc&) {
    return tl::unexpected(SystemEventError::InsufficientResources);
  }
}

tl::expected<void, SystemEventError> SystemEvent::remove(std::string_view name,
                                                         const Config& config) {
  if (!core::ServiceName::create(name) || !config.validate()) {
    return tl::unexpected(SystemEventError::InvalidName);
  }
  try {
    const std::string hash = detail::SystemEventPaths::hash(name);
    auto removed =
        platform::SharedMemory::remove(detail::SystemEventPaths::shared_memory(config, hash));
    if (!removed && removed.error().code != ErrorCode::DoesNotExist) {
      return tl::unexpected(to_event_error(removed.error()));
    }
    // The files below are reached through the events directory: never through a symlink.
    const auto directory = detail::SystemEventPaths::directory(config);
    if (!detail::check_directory(config, &directory)) {
      if (!removed) return tl::unexpected(SystemEventError::DoesNotExist);
      return {};
    }
    auto fifo_removed = platform::Fifo::remove(detail::SystemEventPaths::fifo(config, hash));
    if (!fifo_removed && fifo_removed.error().code != ErrorCode::DoesNotExist) {
      return tl::unexpected(to_event_error(fifo_removed.error()));
    }
    // A creator that died holding the creation lock left its file; a live one keeps it.
    const std::string lock_path = detail::SystemEventPaths::creation_lock(config, hash);
    if (platform::path_exists(lock_path)) {
      (void)detail::remove_stale_lock_file(lock_path, [] { return true; });
    }
    if (!removed) return tl::unexpected(SystemEventError::DoesNotExist);
    return {};
  } catch (const std::bad_alloc&) {
    return tl::unexpected(SystemEventError::InsufficientResources);
  }
}

tl::expected<std::vector<SystemEventInfo>, SystemEventError> SystemEvent::list(
    const Config& config) {
  if (!config.validate()) return tl::unexpected(SystemEventError::InvalidName);
  try {
    const std::string stem = config.prefix + "evt_";
    auto objects = platform::SharedMemory::list(stem);
    if (!objects) {
      return tl::unexpected(objects.error().code == ErrorCode::PermissionDenied
                                ? SystemEventError::PermissionDenied
                                : SystemEventError::InternalFailure);
    }
    std::vector<SystemEventInfo> events;
    for (const auto& object : *objects) {
      const std::string hash = object.substr(stem.size());
      // Anything else under the stem (a longer prefix's objects) is not an event of ours.
      if (!detail::Paths::is_hash(hash)) continue;
      auto found = inspect(config, hash);
      // Refused: another user's object, or one we may not read; neither listed nor an error.
      if (found.outcome == Inspected::Found) events.push_back(std::move(found.info));
    }
    // After every inspection, so that our own short-lived mappings above are gone.
    const auto holders = holders_of_objects(stem);
    for (auto& event : events) {
      const auto held = holders.find(stem + event.hash);
      if (held != holders.end()) event.holders = held->second;
    }
    std::sort(events.begin(), events.end(),
              [](const SystemEventInfo& a, const SystemEventInfo& b) { return a.name < b.name; });
    return events;
  } catch (const std::bad_alloc&) {
    return tl::unexpected(SystemEventError::InsufficientResources);
  }
}

tl::expected<SystemEventInfo, SystemEventError> SystemEvent::describe(std::string_view name,
                                                                      const Config& config) {
  if (!core::ServiceName::create(name) || !config.validate()) {
    return tl::unexpected(SystemEventError::InvalidName);
  }
  try {
    auto found = inspect(config, detail::SystemEventPaths::hash(name));
    switch (found.outcome) {
      case Inspected::Missing:
      case Inspected::Incomplete:
        return tl::unexpected(SystemEventError::DoesNotExist);
      case Inspected::Refused:
        return tl::unexpected(found.error);
      case Inspected::Found:
        break;
    }
    if (found.info.error) return tl::unexpected(*found.info.error);
    const std::string stem = config.prefix + "evt_";
    const auto holders = holders_of_objects(stem);
    if (const auto held = holders.find(stem + found.info.hash); held != holders.end()) {
      found.info.holders = held->second;
    }
    return std::move(found.info);
  } catch (const std::bad_alloc&) {
    return tl::unexpected(SystemEventError::InsufficientResources);
  }
}

void SystemEvent::set() {
  auto& state = m_layout->state;
  // ORDERING: relaxed: only the first guess of the compare-exchange below.
  std::uint32_t seen = state.load(std::memory_order_relaxed);
  bool changed = false;
  while (!core::is_set_state(seen)) {
    // ORDERING: seq_cst on success: its release half hands what this thread wrote before set()
    // to waiters that acquire the state; being seq_cst orders it before the fifo_enabled load in
    // sync_fifo() (the Dekker pair with fd()). relaxed on failure: we only retry.
    if (state.compare_exchange_weak(seen, seen + 1, std::memory_order_seq_cst,
                                    std::memory_order_relaxed)) {
      changed = true;
      break;
    }
  }
  // Wake even when it was set already: a setter that died between its store and its wake left
  // waiters asleep on a set event, and this releases them. Waking with no waiter costs a syscall.
  // futex_wake only fails for a negative count.
  (void)platform::futex_wake(state, INT_MAX);
  if (changed) sync_fifo();
}

void SystemEvent::clear() {
  auto& state = m_layout->state;
  // ORDERING: relaxed: only the first guess of the compare-exchange below.
  std::uint32_t seen = state.load(std::memory_order_relaxed);
  bool changed = false;
  while (core::is_set_state(seen)) {
    // ORDERING: seq_cst on success, for the Dekker pair with fd() as in set(); relaxed on
    // failure: we only retry. No wake: nobody sleeps while the event is set.
    if (state.compare_exchange_weak(seen, seen + 1, std::memory_order_seq_cst,
                                    std::memory_order_relaxed)) {
      changed = true;
      break;
    }
  }
  if (changed) sync_fifo();
}

bool SystemEvent::is_set() const {
  // ORDERING: acquire: pairs with set(): who sees it set also sees what the setter wrote before.
  return core::is_set_state(m_layout->state.load(std::memory_order_acquire));
}

tl::expected<bool, SystemEventWaitError> SystemEvent::wait() const {
  return wait_until(std::nullopt);
}

tl::expected<bool, SystemEventWaitError> SystemEvent::wait_for(
    std::chrono::nanoseconds timeout) const {
  if (timeout <= 0ns) return is_set();
  // A timeout too large to represent as a deadline is no deadline.
  return wait_until(platform::Deadline::after(timeout).time_point());
}

tl::expected<bool, SystemEventWaitError> SystemEvent::wait_until(
    std::optional<std::chrono::steady_clock::time_point> deadline) const {
  auto& state = m_layout->state;
  // ORDERING: acquire: pairs with set(), as in is_set().
  const std::uint32_t entry = state.load(std::memory_order_acquire);
  if (core::is_set_state(entry)) return true;
  // A termination signal the handlers caught before we sleep would not interrupt the sleep: it
  // is remembered (until Node::clear_termination_signal), so it is looked at first. One that lands
  // between this look and the futex call still waits for the timeout (a few instructions wide).
  if (platform::TerminationSignals::installed() &&
      platform::TerminationSignals::termination_requested()) {
    return tl::unexpected(SystemEventWaitError::Interrupted);
  }
  for (;;) {
    // Sleeps only while the word still holds `entry`: a set() between our load and the sleep
    // makes the kernel return at once (WouldBlock) instead of losing the wake-up.
    auto slept = platform::futex_wait(state, entry, deadline);
    // ORDERING: acquire: as above. From an even value the first change is always a set, so any
    // change means a set() happened during the wait, even if a clear() has followed it.
    if (state.load(std::memory_order_acquire) != entry) return true;
    if (slept) continue;  // a spurious wake-up
    switch (slept.error().code) {
      case ErrorCode::WouldBlock:
        continue;
      case ErrorCode::TimedOut:
        if (deadline && platform::MonotonicClock::now() >= *deadline) return false;
        continue;
      case ErrorCode::Interrupted:
        return tl::unexpected(SystemEventWaitError::Interrupted);
      default:
        return tl::unexpected(SystemEventWaitError::InternalFailure);
    }
  }
}

tl::expected<int, SystemEventError> SystemEvent::fd() {
  try {
    const std::lock_guard guard(m_fifo->mutex);
    if (m_fifo->fifo) return m_fifo->fifo->fd();

    const std::string directory = m_fifo_path.substr(0, m_fifo_path.rfind('/'));
    if (auto made = detail::prepare_directory(m_config, &directory); !made) {
      return tl::unexpected(to_event_error(made.error()));
    }
    // Another handle may have made it already; then it is ours to share.
    auto made = platform::Fifo::make(m_fifo_path, 0600);
    if (!made && made.error().code != ErrorCode::AlreadyExists) {
      return tl::unexpected(to_event_error(made.error()));
    }
    auto opened = platform::Fifo::open(m_fifo_path);
    if (!opened) return tl::unexpected(to_event_error(opened.error()));
    m_fifo->fifo.emplace(std::move(*opened));

    // ORDERING: seq_cst: a Dekker pair with set() and clear(), which change the state (seq_cst)
    // and then load this flag: either they see 1 and update the FIFO after their change, or the
    // load of the state in reconcile() below sees their change.
    m_layout->fifo_enabled.store(1, std::memory_order_seq_cst);
    // The pipe may hold stale bytes (it keeps them only while someone has it open, and it may be
    // left from an earlier life of the event): start from the state, not from its content.
    reconcile(m_layout->state, *m_fifo->fifo);
    return m_fifo->fifo->fd();
  } catch (const std::bad_alloc&) {
    return tl::unexpected(SystemEventError::InsufficientResources);
  }
}

void SystemEvent::sync_fifo() {
  // ORDERING: seq_cst: the other half of the Dekker pair with fd(), after our seq_cst change of
  // the state. Either we see 1 here, or fd()'s reconciliation reads the state we made.
  if (m_layout->fifo_enabled.load(std::memory_order_seq_cst) == 0) return;
  platform::Fifo* fifo = nullptr;
  {
    const std::lock_guard guard(m_fifo->mutex);
    if (!m_fifo->fifo) {
      // Gone when the event was removed or the root directory cleaned: nothing to keep in step.
      // Opened by path: only through an events directory that is not a symlink.
      const std::string directory = m_fifo_path.substr(0, m_fifo_path.rfind('/'));
      if (!detail::check_directory(m_config, &directory)) return;
      auto opened = platform::Fifo::open(m_fifo_path);
      if (!opened) return;
      m_fifo->fifo.emplace(std::move(*opened));
    }
    fifo = &*m_fifo->fifo;
  }
  reconcile(m_layout->state, *fifo);
}

}  // namespace axon
