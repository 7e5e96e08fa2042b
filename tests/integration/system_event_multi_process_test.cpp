// SystemEvent between real processes: killed waiters, many processes creating one name at once,
// creators killed half-way, the fd across processes. Exit codes decide; timings are watchdogs.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "axon/detail/system_event_paths.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon/system_event.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

constexpr auto kWatchdog = 20000ms;

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

test::ExitStatus run_tool(const std::string& tool, const std::vector<std::string>& args) {
  auto child = ChildProcess::spawn(test::bin(tool), args);
  auto status = child.wait_for(kWatchdog);
  EXPECT_TRUE(status) << tool << " did not finish";
  return status.value_or(test::ExitStatus{});
}

// True once process `pid` (its main thread) sleeps in the futex system call, per /proc.
// A precondition only, never a verdict.
bool waits_in_futex(pid_t pid) {
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  const std::string path = "/proc/" + std::to_string(pid) + "/syscall";
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream in(path);
    long number = -1;
    if (!(in >> number)) return false;
    if (number == SYS_futex) return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

bool readable_within(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & POLLIN) != 0;
}

std::string creation_lock_of(const std::string& name) {
  return detail::SystemEventPaths::creation_lock(Config::from_environment(),
                                                 detail::SystemEventPaths::hash(name));
}

std::string object_of(const std::string& name) {
  return detail::SystemEventPaths::shared_memory(Config::from_environment(),
                                                 detail::SystemEventPaths::hash(name));
}

TEST(SystemEventMultiProcess, WaiterKilledMidWaitChangesNothing) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = SystemEvent::open(guard.name());
  ASSERT_TRUE(sut);
  std::vector<ChildProcess> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(ChildProcess::spawn(test::bin("evt_wait"), {guard.name(), "10"}));
  }
  for (auto& w : waiters) (void)waits_in_futex(w.pid());

  waiters[0].kill(SIGKILL);
  auto killed = waiters[0].wait_for(kWatchdog);
  ASSERT_TRUE(killed);
  EXPECT_FALSE(killed->exited);
  EXPECT_EQ(killed->code, SIGKILL);
  EXPECT_FALSE(sut->is_set());

  EXPECT_TRUE(run_tool("evt_set", {guard.name()}).success());
  for (std::size_t i = 1; i < waiters.size(); ++i) {
    auto status = waiters[i].wait_for(kWatchdog);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->success());
  }
  EXPECT_TRUE(sut->is_set());
  sut->clear();
  EXPECT_FALSE(sut->is_set());
  // Nothing the dead waiter left makes a new waiter think the event is set.
  EXPECT_EQ(run_tool("evt_wait", {guard.name(), "0.05"}).code, 1);
}

TEST(SystemEventMultiProcess, EightProcessesOpeningANewNameAtOnceMeetInOneEvent) {
  for (int round = 0; round < 10; ++round) {
    EventGuard guard(test::unique_name("evt"));
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<ChildProcess> openers;
    for (int i = 0; i < 8; ++i) {
      openers.push_back(ChildProcess::fork([&] {
        ::close(gate[1]);
        char byte = 0;
        (void)::read(gate[0], &byte, 1);  // end-of-file once the parent opens the gate
        auto event = SystemEvent::open(guard.name());
        if (!event) return 3;
        // Released only if this is the object the parent sets, not one of its own making.
        auto waited = event->wait_for(10s);
        return waited && *waited ? 0 : 1;
      }));
    }
    ::close(gate[0]);
    ::close(gate[1]);
    auto sut = SystemEvent::open(guard.name());
    ASSERT_TRUE(sut);
    sut->set();
    for (auto& opener : openers) {
      auto status = opener.wait_for(kWatchdog);
      ASSERT_TRUE(status);
      EXPECT_TRUE(status->success())
          << "round " << round << " exited " << status->exited << " code " << status->code;
    }
  }
}

TEST(SystemEventMultiProcess, CreatorKilledHalfWayIsReplacedByTheNextOpener) {
  const auto shm_before = test::shm_objects();
  const auto files_before = test::root_files();
  for (const std::string mode : {"empty", "tiny", "zeroed"}) {
    {
      EventGuard guard(test::unique_name("evt"));
      auto creator = ChildProcess::spawn(test::bin("axon_test_system_event_half_creator"),
                                         {guard.name(), mode});
      auto died = creator.wait_for(kWatchdog);
      ASSERT_TRUE(died);
      ASSERT_FALSE(died->exited) << mode << ": helper failed with " << died->code;
      ASSERT_EQ(died->code, SIGKILL);
      ASSERT_TRUE(platform::SharedMemory::exists(object_of(guard.name()))) << mode;
      ASSERT_TRUE(platform::path_exists(creation_lock_of(guard.name()))) << mode;

      auto sut = SystemEvent::open(guard.name());
      ASSERT_TRUE(sut) << mode << ": " << to_string(sut.error());
      EXPECT_FALSE(sut->is_set());
      sut->set();
      EXPECT_TRUE(run_tool("evt_wait", {guard.name(), "0"}).success()) << mode;
      EXPECT_FALSE(platform::path_exists(creation_lock_of(guard.name()))) << mode;
    }
    EXPECT_EQ(test::shm_objects(), shm_before) << mode;
    EXPECT_EQ(test::root_files(), files_before) << mode;
  }
}

TEST(SystemEventMultiProcess, CreatorThatNeverFinishesMakesOpenGiveUpInsteadOfHanging) {
  EventGuard guard(test::unique_name("evt"));
  auto creator = ChildProcess::spawn(test::bin("axon_test_system_event_half_creator"),
                                     {guard.name(), "stall"});
  ASSERT_NE(creator.read_until("stalled", kWatchdog).find("stalled"), std::string::npos);
  auto sut = SystemEvent::open(guard.name());
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error(), SystemEventError::Corrupted);
  // Once the stalled creator is dead its object is replaced.
  creator.kill(SIGKILL);
  ASSERT_TRUE(creator.wait_for(kWatchdog));
  auto reopened = SystemEvent::open(guard.name());
  ASSERT_TRUE(reopened) << to_string(reopened.error());
  EXPECT_FALSE(reopened->is_set());
}

TEST(SystemEventMultiProcess, FdFollowsSetAndClearMadeByOtherProcesses) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = SystemEvent::open(guard.name());
  ASSERT_TRUE(sut);
  auto fd = sut->fd();
  ASSERT_TRUE(fd) << to_string(fd.error());
  EXPECT_FALSE(readable_within(*fd, 0ms));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(run_tool("evt_set", {guard.name()}).success());
    EXPECT_TRUE(readable_within(*fd, kWatchdog));
    EXPECT_TRUE(sut->is_set());
    ASSERT_TRUE(run_tool("evt_clear", {guard.name()}).success());
    // evt_clear drained the FIFO before it exited.
    EXPECT_FALSE(readable_within(*fd, 0ms));
    EXPECT_FALSE(sut->is_set());
  }
}

TEST(SystemEventMultiProcess, WaitersInForkedProcessesAreReleasedBySetInAnother) {
  EventGuard guard(test::unique_name("evt"));
  auto sut = SystemEvent::open(guard.name());
  ASSERT_TRUE(sut);
  std::vector<ChildProcess> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.push_back(ChildProcess::fork([&] {
      auto event = SystemEvent::open(guard.name());
      if (!event) return 3;
      auto waited = event->wait();
      return waited && *waited ? 0 : 1;
    }));
  }
  for (auto& w : waiters) (void)waits_in_futex(w.pid());
  auto setter = ChildProcess::fork([&] {
    auto event = SystemEvent::open(guard.name());
    if (!event) return 3;
    event->set();
    return 0;
  });
  auto set_status = setter.wait_for(kWatchdog);
  ASSERT_TRUE(set_status);
  EXPECT_TRUE(set_status->success());
  for (auto& w : waiters) {
    auto status = w.wait_for(kWatchdog);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->success());
  }
}

}  // namespace
