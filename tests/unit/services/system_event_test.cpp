// One-process tests of SystemEvent: real shared memory, real futexes and FIFOs, threads for
// concurrency. Multi-process behaviour is in tests/integration/system_event_*_test.cpp.
#include "axon/detail/system_event_paths.hpp"
#include "axon/system_event.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "axon/core/system_event_layout.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/shared_memory.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

constexpr auto kWatchdog = 20s;

// Removes the event when the test ends, passed or failed.
class EventGuard {
 public:
  explicit EventGuard(std::string name) : m_name(std::move(name)) {}
  EventGuard(const EventGuard&) = delete;
  EventGuard& operator=(const EventGuard&) = delete;
  ~EventGuard() { (void)SystemEvent::remove(m_name); }
  const std::string& name() const { return m_name; }

 private:
  std::string m_name;
};

SystemEvent open_event(const std::string& name) {
  auto event = SystemEvent::open(name);
  if (!event) {
    ADD_FAILURE() << "open(" << name << "): " << to_string(event.error());
    std::abort();
  }
  return std::move(*event);
}

std::string object_name(const std::string& name) {
  return detail::SystemEventPaths::shared_memory(Config::from_environment(),
                                                 detail::SystemEventPaths::hash(name));
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

// True once thread `tid` of this process sleeps in the futex system call (per /proc), false if
// it does not within `timeout` or /proc does not tell. Only a precondition, never a verdict.
bool sleeps_in_futex(pid_t tid, std::chrono::milliseconds timeout = 5000ms) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream in(path);
    long number = -1;
    if (!(in >> number)) return false;
    if (number == SYS_futex) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// ---- The layout, without shared memory -----------------------------------------------------

struct alignas(core::kCacheLine) LayoutBuffer {
  std::byte bytes[sizeof(core::SystemEventLayout)];
};

TEST(SystemEventLayout, ConstructedEventChecksValidAndClear) {
  LayoutBuffer buffer{};
  auto* sut = core::construct_system_event(buffer.bytes, sizeof buffer.bytes, "a/b");
  ASSERT_NE(sut, nullptr);
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a/b"),
            core::SystemEventCheck::Valid);
  EXPECT_FALSE(core::is_set_state(sut->state.load()));
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a/c"),
            core::SystemEventCheck::OtherName);
}

TEST(SystemEventLayout, ZeroedOrShortMemoryIsIncomplete) {
  LayoutBuffer buffer{};
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a"),
            core::SystemEventCheck::Incomplete);
  ASSERT_NE(core::construct_system_event(buffer.bytes, sizeof buffer.bytes, "a"), nullptr);
  EXPECT_EQ(core::check_system_event(buffer.bytes, 8, "a"), core::SystemEventCheck::Incomplete);
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes - 1, "a"),
            core::SystemEventCheck::Incomplete);
  EXPECT_EQ(core::construct_system_event(buffer.bytes, sizeof buffer.bytes - 1, "a"), nullptr);
}

TEST(SystemEventLayout, ForeignBytesAreCorruptedAndOtherVersionsMismatch) {
  LayoutBuffer buffer{};
  auto* sut = core::construct_system_event(buffer.bytes, sizeof buffer.bytes, "a");
  ASSERT_NE(sut, nullptr);
  sut->version = core::kSystemEventVersion + 1;
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a"),
            core::SystemEventCheck::VersionMismatch);
  sut->version = core::kSystemEventVersion;
  sut->name.m_len = 100000;
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a"),
            core::SystemEventCheck::Corrupted);
  sut->name.m_len = 1;
  sut->size_of_self = 12;
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a"),
            core::SystemEventCheck::Corrupted);
  sut->size_of_self = sizeof(core::SystemEventLayout);
  sut->magic.store(0x1234);
  EXPECT_EQ(core::check_system_event(buffer.bytes, sizeof buffer.bytes, "a"),
            core::SystemEventCheck::Corrupted);
}

// ---- Set, clear, wait ----------------------------------------------------------------------

TEST(SystemEvent, OpenCreatesAClearEvent) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  EXPECT_FALSE(sut.is_set());
  EXPECT_EQ(sut.name(), guard.name());
  EXPECT_TRUE(platform::SharedMemory::exists(object_name(guard.name())));
}

TEST(SystemEvent, SetStaysSetUntilClear) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  sut.set();
  EXPECT_TRUE(sut.is_set());
  sut.set();
  EXPECT_TRUE(sut.is_set());
  sut.clear();
  EXPECT_FALSE(sut.is_set());
  sut.clear();
  EXPECT_FALSE(sut.is_set());
}

TEST(SystemEvent, SetIsLatchedForLaterWaitersAndOtherHandles) {
  EventGuard guard(test::unique_name("evt"));
  auto setter = open_event(guard.name());
  setter.set();
  auto sut = open_event(guard.name());
  EXPECT_TRUE(sut.is_set());
  auto waited = sut.wait();
  ASSERT_TRUE(waited);
  EXPECT_TRUE(*waited);
  auto looked = sut.wait_for(0ns);
  ASSERT_TRUE(looked);
  EXPECT_TRUE(*looked);
  auto timed = sut.wait_for(10s);
  ASSERT_TRUE(timed);
  EXPECT_TRUE(*timed);
}

TEST(SystemEvent, WaitForOnClearEventTimesOutNoEarlierThanItsTimeout) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  for (const auto timeout : {1ms, 20ms, 80ms}) {
    const auto start = std::chrono::steady_clock::now();
    auto waited = sut.wait_for(timeout);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(waited);
    EXPECT_FALSE(*waited);
    EXPECT_GE(elapsed, timeout);
  }
  auto looked = sut.wait_for(0ns);
  ASSERT_TRUE(looked);
  EXPECT_FALSE(*looked);
  auto negative = sut.wait_for(-5s);
  ASSERT_TRUE(negative);
  EXPECT_FALSE(*negative);
}

TEST(SystemEvent, SetReleasesEveryWaitingThread) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  constexpr std::size_t kWaiters = 8;
  std::vector<std::future<bool>> results;
  std::vector<std::atomic<pid_t>> tids(kWaiters);
  for (std::size_t i = 0; i < kWaiters; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      tids[i].store(static_cast<pid_t>(::syscall(SYS_gettid)));
      auto own = open_event(guard.name());
      // Half on this thread's own handle, half on the shared one.
      auto waited = (i % 2 == 0 ? own : sut).wait_for(kWatchdog);
      return waited && *waited;
    }));
  }
  for (auto& tid : tids) {
    while (tid.load() == 0) std::this_thread::sleep_for(1ms);
    (void)sleeps_in_futex(tid.load());
  }
  sut.set();
  for (auto& result : results) {
    ASSERT_EQ(result.wait_for(kWatchdog), std::future_status::ready);
    EXPECT_TRUE(result.get());
  }
}

TEST(SystemEvent, SetThenClearAtOnceStillReleasesAWaiterThatWasAsleep) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  std::atomic<pid_t> tid{0};
  auto result = std::async(std::launch::async, [&] {
    tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    auto waited = sut.wait_for(kWatchdog);
    return waited && *waited;
  });
  while (tid.load() == 0) std::this_thread::sleep_for(1ms);
  if (!sleeps_in_futex(tid.load())) {
    sut.set();  // lets the waiter go before skipping
    GTEST_SKIP() << "/proc does not show whether the waiter sleeps";
  }
  sut.set();
  sut.clear();
  ASSERT_EQ(result.wait_for(kWatchdog), std::future_status::ready);
  EXPECT_TRUE(result.get());
  EXPECT_FALSE(sut.is_set());
}

TEST(SystemEvent, IsSetIsExactUnderConcurrentWaitersAndSetters) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> others;
  // Waiters and readers that hammer the word while the owner below toggles it.
  for (int i = 0; i < 3; ++i) {
    others.emplace_back([&] {
      auto own = open_event(guard.name());
      while (!stop.load()) {
        auto waited = own.wait_for(100us);
        if (!waited) failures.fetch_add(1);
        (void)own.is_set();
      }
    });
  }
  // Redundant setters on a second event never change what the owner's event reads.
  EventGuard other_guard(test::unique_name("evt_other"));
  for (int i = 0; i < 2; ++i) {
    others.emplace_back([&] {
      auto own = open_event(other_guard.name());
      bool seen_set = false;
      while (!stop.load()) {
        own.set();
        // Once set and never cleared, it must read set for ever.
        if (!own.is_set()) failures.fetch_add(1);
        seen_set = true;
      }
      if (!seen_set) own.set();
    });
  }
  // The only thread that changes `sut`: each of its reads must show its own last change.
  for (int round = 0; round < 20000; ++round) {
    sut.set();
    if (!sut.is_set()) failures.fetch_add(1);
    sut.clear();
    if (sut.is_set()) failures.fetch_add(1);
  }
  stop.store(true);
  sut.set();
  for (auto& t : others) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(sut.is_set());
}

TEST(SystemEvent, MovedHandleKeepsWorking) {
  EventGuard guard(test::unique_name("evt"));
  auto first = open_event(guard.name());
  SystemEvent sut = std::move(first);
  sut.set();
  EXPECT_TRUE(sut.is_set());
  auto second = open_event(guard.name());
  second = std::move(sut);
  second.clear();
  EXPECT_FALSE(second.is_set());
}

// ---- The fd --------------------------------------------------------------------------------

TEST(SystemEvent, FdIsReadableExactlyWhileSet) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  auto fd = sut.fd();
  ASSERT_TRUE(fd) << to_string(fd.error());
  EXPECT_FALSE(readable(*fd));
  sut.set();
  EXPECT_TRUE(readable(*fd));
  sut.set();
  EXPECT_TRUE(readable(*fd));
  sut.clear();
  EXPECT_FALSE(readable(*fd));
  auto again = sut.fd();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *fd);
}

TEST(SystemEvent, FdOfEveryHandleFollowsChangesMadeThroughAnyHandle) {
  EventGuard guard(test::unique_name("evt"));
  auto a = open_event(guard.name());
  auto b = open_event(guard.name());
  auto setter = open_event(guard.name());  // never asks for an fd
  setter.set();
  auto a_fd = a.fd();  // made while set: readable from the start
  ASSERT_TRUE(a_fd);
  EXPECT_TRUE(readable(*a_fd));
  setter.clear();
  EXPECT_FALSE(readable(*a_fd));
  auto b_fd = b.fd();
  ASSERT_TRUE(b_fd);
  EXPECT_FALSE(readable(*b_fd));
  setter.set();
  EXPECT_TRUE(readable(*a_fd));
  EXPECT_TRUE(readable(*b_fd));
  b.clear();
  EXPECT_FALSE(readable(*a_fd));
  EXPECT_FALSE(readable(*b_fd));
}

TEST(SystemEvent, FdSettlesToTheStateAfterConcurrentSetAndClear) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = open_event(guard.name());
  auto fd = sut.fd();
  ASSERT_TRUE(fd);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::thread> togglers;
    for (int t = 0; t < 4; ++t) {
      togglers.emplace_back([&, t] {
        auto own = open_event(guard.name());
        for (int i = 0; i < 200; ++i) {
          if ((i + t) % 2 == 0) {
            own.set();
          } else {
            own.clear();
          }
        }
      });
    }
    for (auto& t : togglers) t.join();
    EXPECT_EQ(readable(*fd), sut.is_set()) << "trial " << trial;
    sut.set();
    EXPECT_TRUE(readable(*fd));
    sut.clear();
    EXPECT_FALSE(readable(*fd));
  }
}

// ---- Names, removal, foreign objects -------------------------------------------------------

TEST(SystemEvent, InvalidNamesAreRefusedAndCreateNoFile) {
  const auto shm_before = test::shm_objects();
  const auto files_before = test::root_files();
  const std::vector<std::string> names = {"",
                                          "..",
                                          ".",
                                          "../x",
                                          "/etc/passwd",
                                          "a//b",
                                          "a/../b",
                                          "x/",
                                          "/x",
                                          "a b",
                                          "tab\there",
                                          "new\nline",
                                          std::string("nul\0x", 5),
                                          "caf\xc3\xa9",
                                          std::string(256, 'a')};
  for (const auto& name : names) {
    auto opened = SystemEvent::open(name);
    ASSERT_FALSE(opened) << "accepted \"" << name << "\"";
    EXPECT_EQ(opened.error(), SystemEventError::InvalidName) << name;
    auto removed = SystemEvent::remove(name);
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error(), SystemEventError::InvalidName) << name;
  }
  EXPECT_EQ(test::shm_objects(), shm_before);
  EXPECT_EQ(test::root_files(), files_before);
}

TEST(SystemEvent, LongestValidNameWorks) {
  EventGuard guard(std::string(255, 'n'));
  auto sut = open_event(guard.name());
  sut.set();
  EXPECT_TRUE(open_event(guard.name()).is_set());
}

TEST(SystemEvent, RemoveDeletesObjectAndFifoAndLeavesNothing) {
  const auto shm_before = test::shm_objects();
  const auto files_before = test::root_files();
  const std::string name = test::unique_name("evt");
  {
    EventGuard guard(name);
    auto sut = open_event(name);
    ASSERT_TRUE(sut.fd());
    sut.set();
    EXPECT_NE(test::shm_objects(), shm_before);
    EXPECT_NE(test::root_files(), files_before);
    ASSERT_TRUE(SystemEvent::remove(name));
    EXPECT_EQ(test::shm_objects(), shm_before);
    EXPECT_EQ(test::root_files(), files_before);
    // The removed event is gone for new handles.
    auto again = open_event(name);
    EXPECT_FALSE(again.is_set());
  }
  EXPECT_EQ(test::shm_objects(), shm_before);
  EXPECT_EQ(test::root_files(), files_before);
  auto missing = SystemEvent::remove(name);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), SystemEventError::DoesNotExist);
}

// Overwrites the header of an existing event's object.
template <typename Edit>
void edit_object(const std::string& name, Edit edit) {
  auto memory = platform::SharedMemory::open(object_name(name), platform::AccessMode::ReadWrite);
  ASSERT_TRUE(memory);
  ASSERT_GE(memory->size(), sizeof(core::SystemEventLayout));
  edit(*static_cast<core::SystemEventLayout*>(memory->data()));
}

TEST(SystemEvent, ObjectOfAnotherNameUnderTheSameHashIsCorrupted) {
  EventGuard guard(test::unique_name("evt"));
  (void)open_event(guard.name());
  edit_object(guard.name(), [](core::SystemEventLayout& l) {
    l.name = *core::FixedString<core::kMaxSystemEventNameLength>::from("someone/else");
  });
  auto sut = SystemEvent::open(guard.name());
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error(), SystemEventError::Corrupted);
  EXPECT_TRUE(platform::SharedMemory::exists(object_name(guard.name())));  // not destroyed
}

TEST(SystemEvent, ObjectOfAnotherVersionIsVersionMismatch) {
  EventGuard guard(test::unique_name("evt"));
  (void)open_event(guard.name());
  edit_object(guard.name(), [](core::SystemEventLayout& l) { l.version = 99; });
  auto sut = SystemEvent::open(guard.name());
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error(), SystemEventError::VersionMismatch);
}

TEST(SystemEvent, ObjectWithForeignMagicIsCorrupted) {
  EventGuard guard(test::unique_name("evt"));
  (void)open_event(guard.name());
  edit_object(guard.name(), [](core::SystemEventLayout& l) { l.magic.store(0xdeadbeef); });
  auto sut = SystemEvent::open(guard.name());
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error(), SystemEventError::Corrupted);
}

TEST(SystemEvent, HalfMadeObjectWhoseCreatorIsGoneIsMadeAnew) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{8}, sizeof(core::SystemEventLayout)}) {
    EventGuard guard(test::unique_name("evt"));
    {
      // A creator that sized the object and died before its magic (no creation lock is held).
      auto half = platform::SharedMemory::create(object_name(guard.name()), size);
      ASSERT_TRUE(half);
    }
    auto sut = SystemEvent::open(guard.name());
    ASSERT_TRUE(sut) << "size " << size << ": " << to_string(sut.error());
    EXPECT_FALSE(sut->is_set());
    sut->set();
    EXPECT_TRUE(open_event(guard.name()).is_set());
    EXPECT_FALSE(platform::path_exists(detail::SystemEventPaths::creation_lock(
        Config::from_environment(), detail::SystemEventPaths::hash(guard.name()))));
  }
}

TEST(SystemEvent, HalfMadeObjectOfALiveCreatorIsWaitedForNotReplaced) {
  EventGuard guard(test::unique_name("evt"));
  const Config config = Config::from_environment();
  const std::string hash = detail::SystemEventPaths::hash(guard.name());
  ASSERT_TRUE(platform::ensure_private_directory(detail::SystemEventPaths::directory(config)));
  // This thread plays a slow creator: it holds the creation lock over a half-made object.
  auto locked =
      platform::FileLock::create_locked(detail::SystemEventPaths::creation_lock(config, hash));
  ASSERT_TRUE(locked);
  std::optional<platform::FileLock> lock(std::move(*locked));
  auto half =
      platform::SharedMemory::create(object_name(guard.name()), sizeof(core::SystemEventLayout));
  ASSERT_TRUE(half);
  auto opener = std::async(std::launch::async, [&] {
    auto sut = SystemEvent::open(guard.name());
    return sut && sut->is_set();
  });
  // Longer than the grace period, so only the lock keeps the opener from replacing the object.
  std::this_thread::sleep_for(300ms);
  auto* layout = core::construct_system_event(half->data(), half->size(), guard.name());
  ASSERT_NE(layout, nullptr);
  layout->state.store(1);  // set, so the opener proves it opened this very object
  ASSERT_TRUE(lock->unlink());
  lock.reset();
  ASSERT_EQ(opener.wait_for(kWatchdog), std::future_status::ready);
  EXPECT_TRUE(opener.get());
}

TEST(SystemEvent, ThreadsOpeningANewNameAtOnceMeetInOneEvent) {
  for (int round = 0; round < 20; ++round) {
    EventGuard guard(test::unique_name("evt"));
    constexpr int kThreads = 8;
    std::atomic<int> ready{0};
    std::vector<std::future<std::optional<SystemEvent>>> opened;
    for (int i = 0; i < kThreads; ++i) {
      opened.push_back(std::async(std::launch::async, [&]() -> std::optional<SystemEvent> {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        auto event = SystemEvent::open(guard.name());
        if (!event) return std::nullopt;
        return std::move(*event);
      }));
    }
    std::vector<SystemEvent> events;
    for (auto& f : opened) {
      auto event = f.get();
      ASSERT_TRUE(event);
      events.push_back(std::move(*event));
    }
    events.front().set();
    for (const auto& event : events) EXPECT_TRUE(event.is_set());
  }
}

TEST(SystemEvent, ErrorsHaveDistinctNames) {
  std::vector<std::string> names;
  for (const auto e : {SystemEventError::InvalidName, SystemEventError::PermissionDenied,
                       SystemEventError::Corrupted, SystemEventError::VersionMismatch,
                       SystemEventError::InsufficientResources, SystemEventError::DoesNotExist,
                       SystemEventError::InternalFailure}) {
    names.emplace_back(to_string(e));
  }
  names.emplace_back(to_string(SystemEventWaitError::Interrupted));
  names.emplace_back(std::string("wait:") + to_string(SystemEventWaitError::InternalFailure));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  for (const auto& n : names) EXPECT_FALSE(n.empty());
}

}  // namespace
