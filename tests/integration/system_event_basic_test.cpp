// The evt_set, evt_clear and evt_wait tools as real processes: release, latching, timeout,
// signals. Timings are lower bounds; exit codes decide.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "axon/detail/system_event_paths.hpp"
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

using Run = test::Finished;

Run run_tool(const std::string& tool, const std::vector<std::string>& args) {
  return test::run_to_end(test::bin(tool), args, /*merge_stderr=*/true, kWatchdog);
}

// True once process `pid` (its main thread) sleeps in the futex system call with a SIGINT
// handler installed, per /proc; false if not within the watchdog or /proc does not tell.
// A precondition only: it makes sure a signal or a set() meets a waiter that really waits.
bool waits_in_futex(pid_t pid) {
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  const std::string proc = "/proc/" + std::to_string(pid);
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream syscall_file(proc + "/syscall");
    long number = -1;
    if (!(syscall_file >> number)) return false;
    if (number == SYS_futex) return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

bool catches_sigint(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) == 0) {
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask & (1ULL << (SIGINT - 1))) != 0;
    }
  }
  return false;
}

// True once the main thread of process `pid` sleeps in a futex wait on a word of a mapping whose
// path holds `object` (a system event's shared memory), per /proc/<pid>/syscall and maps; false
// if not within 5 s. Stricter than waits_in_futex(): a futex wait of the C library (a lock, a
// thread start) does not count.
bool sleeps_on_futex_in(pid_t pid, const std::string& object) {
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  const std::string proc = "/proc/" + std::to_string(pid);
  for (; std::chrono::steady_clock::now() < give_up; std::this_thread::sleep_for(2ms)) {
    std::ifstream syscall_file(proc + "/syscall");
    long number = -1;
    std::string address_text;
    if (!(syscall_file >> number >> address_text) || number != SYS_futex) continue;  // "running"
    const auto address = std::stoull(address_text, nullptr, 16);
    std::ifstream maps(proc + "/maps");
    for (std::string line; std::getline(maps, line);) {
      const auto dash = line.find('-');
      const auto space = line.find(' ');
      if (dash == std::string::npos || space == std::string::npos) continue;
      const auto start = std::stoull(line.substr(0, dash), nullptr, 16);
      const auto end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      if (address >= start && address < end && line.find(object) != std::string::npos) return true;
    }
  }
  return false;
}

TEST(SystemEventTools, FiveWaiterProcessesAreAllReleasedByOneEvtSet) {
  EventGuard guard(test::unique_name("evt"));
  ASSERT_EQ(run_tool("evt_clear", {guard.name()}).status.code, 0);
  std::vector<ChildProcess> waiters;
  for (int i = 0; i < 5; ++i) {
    waiters.push_back(ChildProcess::spawn(test::bin("evt_wait"), {guard.name(), "10"}));
  }
  for (auto& w : waiters) (void)waits_in_futex(w.pid());
  auto handle = SystemEvent::open(guard.name());
  ASSERT_TRUE(handle);
  EXPECT_FALSE(handle->is_set());

  const auto set = run_tool("evt_set", {guard.name()});
  EXPECT_TRUE(set.status.success()) << set.output;
  for (auto& w : waiters) {
    auto status = w.wait_for(kWatchdog);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->success()) << "exited " << status->exited << " code " << status->code;
  }
  EXPECT_TRUE(handle->is_set());
}

TEST(SystemEventTools, EvtWaitAfterEvtSetReturnsAtOnceBecauseTheEventIsLatched) {
  EventGuard guard(test::unique_name("evt"));
  ASSERT_TRUE(run_tool("evt_set", {guard.name()}).status.success());
  // A 10 s timeout: were the set not latched, this would end in exit 1 after 10 s.
  const auto waited = run_tool("evt_wait", {guard.name(), "10"});
  EXPECT_TRUE(waited.status.success()) << waited.output;
  const auto forever = run_tool("evt_wait", {guard.name()});
  EXPECT_TRUE(forever.status.success()) << forever.output;
  const auto looked = run_tool("evt_wait", {guard.name(), "0"});
  EXPECT_TRUE(looked.status.success()) << looked.output;
}

TEST(SystemEventTools, EvtWaitAfterEvtClearTimesOutWithExitOneNoEarlierThanItsTimeout) {
  EventGuard guard(test::unique_name("evt"));
  ASSERT_TRUE(run_tool("evt_set", {guard.name()}).status.success());
  ASSERT_TRUE(run_tool("evt_clear", {guard.name()}).status.success());
  const auto start = std::chrono::steady_clock::now();
  const auto waited = run_tool("evt_wait", {guard.name(), "0.2"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(waited.status.exited);
  EXPECT_EQ(waited.status.code, 1) << waited.output;
  EXPECT_GE(elapsed, 200ms);
  const auto looked = run_tool("evt_wait", {guard.name(), "0"});
  EXPECT_EQ(looked.status.code, 1);
}

TEST(SystemEventTools, EvtWaitOnANewNameCreatesItClear) {
  EventGuard guard(test::unique_name("evt"));
  const auto waited = run_tool("evt_wait", {guard.name(), "0.05"});
  EXPECT_EQ(waited.status.code, 1);
  auto handle = SystemEvent::open(guard.name());
  ASSERT_TRUE(handle);
  EXPECT_FALSE(handle->is_set());
}

void expect_signal_ends_wait(int signal_number, int expected_code, const char* expected_text) {
  EventGuard guard(test::unique_name("evt"));
  auto waiter = ChildProcess::spawn(test::bin("evt_wait"), {guard.name()}, /*merge_stderr=*/true);
  // Until the handler is installed the default action would kill it instead.
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (!catches_sigint(waiter.pid()) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(catches_sigint(waiter.pid()));
  (void)waits_in_futex(waiter.pid());
  waiter.kill(signal_number);
  auto status = waiter.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, expected_code);
  const auto output = waiter.read_all(1000ms);
  EXPECT_NE(output.find(expected_text), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

TEST(SystemEventTools, SigintEndsEvtWaitWithExit130AndOneLine) {
  expect_signal_ends_wait(SIGINT, 130, "SIGINT");
}

TEST(SystemEventTools, SigtermEndsEvtWaitWithExit143AndOneLine) {
  expect_signal_ends_wait(SIGTERM, 143, "SIGTERM");
}

// The signal goes out the moment the handler shows in /proc, so across the runs it lands while
// evt_wait opens the event, just before its futex wait, or in it: wherever it lands, evt_wait
// ends with its status and one line (the window before a futex wait is the one EINTR cannot
// close; the signal thread must). 20 runs, both signals.
TEST(SystemEventTools, ASignalEndsEvtWaitWhereverItLandsAfterTheHandlerIsInstalled) {
  for (int run = 0; run < 20; ++run) {
    const int signal_number = run % 2 == 0 ? SIGTERM : SIGINT;
    EventGuard guard(test::unique_name("evt_race"));
    auto waiter = ChildProcess::spawn(test::bin("evt_wait"), {guard.name()}, /*merge_stderr=*/true);
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (!catches_sigint(waiter.pid()) && std::chrono::steady_clock::now() < give_up) {
      // no sleep: the signal is to go out as early as the handler allows
    }
    ASSERT_TRUE(catches_sigint(waiter.pid())) << "run " << run;

    waiter.kill(signal_number);
    auto status = waiter.wait_for(kWatchdog);

    ASSERT_TRUE(status) << "run " << run << ": still waiting after the signal";
    EXPECT_TRUE(status->exited) << "run " << run;
    EXPECT_EQ(status->code, 128 + signal_number) << "run " << run;
    const auto output = waiter.read_all(1000ms);
    EXPECT_EQ(output, std::string("evt_wait: error: interrupted by ") +
                          (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") + "\n")
        << "run " << run;
  }
}

// A set() that a clear() follows at once still releases a waiter that was asleep: evt_wait waits
// on the futex, which sees every set(), not on the event's fd(), which may not.
TEST(SystemEventTools, EvtWaitIsReleasedByASetThatAClearFollowsAtOnce) {
  EventGuard guard(test::unique_name("evt_pulse"));
  auto handle = SystemEvent::open(guard.name());
  ASSERT_TRUE(handle);
  auto waiter = ChildProcess::spawn(test::bin("evt_wait"), {guard.name(), "20"},
                                    /*merge_stderr=*/true);
  // So that the set() meets a waiter that sleeps on the event, not one still opening it.
  ASSERT_TRUE(
      sleeps_on_futex_in(waiter.pid(), "evt_" + detail::SystemEventPaths::hash(guard.name())));

  handle->set();
  handle->clear();
  auto status = waiter.wait_for(kWatchdog);

  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "exited " << status->exited << " code " << status->code << ": "
                                 << waiter.read_all(1000ms);
  EXPECT_FALSE(handle->is_set());
}

TEST(SystemEventTools, HelpExitsZeroWithUsage) {
  for (const char* tool : {"evt_set", "evt_clear", "evt_wait"}) {
    const auto help = run_tool(tool, {"--help"});
    EXPECT_TRUE(help.status.success()) << tool;
    EXPECT_NE(help.output.find(std::string("usage: ") + tool), std::string::npos) << help.output;
  }
}

}  // namespace
