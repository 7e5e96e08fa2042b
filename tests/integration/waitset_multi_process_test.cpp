// WaitSet across real processes: real signals from kill(2), CPU use of an idle waiter read from
// /proc, and the three-process example scenario of DESIGN.md §8.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "axon/axon.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

constexpr auto kWatchdog = 10s;

ChildProcess spawn_probe(const std::vector<std::string>& args) {
  return ChildProcess::spawn(test::bin("axon_test_waitset_probe"), args, true);
}

ChildProcess spawn_waiter(const std::vector<std::string>& services) {
  return ChildProcess::spawn(test::bin("event_multiplexing_wait"), services, true);
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}


// CPU used by `pid` over `window` of wall time.
long cpu_milliseconds_over(pid_t pid, std::chrono::milliseconds window) {
  const long before = test::cpu_milliseconds(pid);
  std::this_thread::sleep_for(window);
  const long after = test::cpu_milliseconds(pid);
  EXPECT_GE(before, 0);
  return after - before;
}

std::size_t count_lines(const std::string& text, const std::string& line) {
  std::size_t n = 0;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) n += l == line ? 1 : 0;
  return n;
}

// Sums the counts of `<service> EventId(<id>) xN` lines per
// (service, id); every other line except the header and "exit" is counted as unexpected.
struct Received {
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> counts;
  std::size_t unexpected_lines = 0;
};

Received parse_received(const std::string& output) {
  static const std::regex kLine(
      R"re((\S+) EventId\((\d+)\) x(\d+))re");
  Received r;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kLine)) {
      r.counts[{m[1].str(), std::stoull(m[2].str())}] += std::stoull(m[3].str());
    } else if (line != "exit" && line.rfind("Waiting on the following services: ", 0) != 0) {
      ++r.unexpected_lines;
    }
  }
  return r;
}

TEST(WaitSetMultiProcess, SigintToAWaitingProcessGivesInterrupt) {
  auto sut = spawn_probe({"signal"});
  ASSERT_TRUE(contains(sut.read_until("ready\n", kWatchdog), "ready\n"));
  std::this_thread::sleep_for(50ms);  // into the wait
  sut.kill(SIGINT);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->code;
  EXPECT_TRUE(contains(sut.read_all(kWatchdog), "result Interrupt\n")) << sut.output();
}

TEST(WaitSetMultiProcess, SigtermToAWaitingProcessGivesTerminationRequest) {
  auto sut = spawn_probe({"signal"});
  ASSERT_TRUE(contains(sut.read_until("ready\n", kWatchdog), "ready\n"));
  std::this_thread::sleep_for(50ms);
  sut.kill(SIGTERM);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->code;
  EXPECT_TRUE(contains(sut.read_all(kWatchdog), "result TerminationRequest\n")) << sut.output();
}

TEST(WaitSetMultiProcess, OtherSignalsDoNotEndAWait) {
  auto sut = spawn_probe({"signal"});
  ASSERT_TRUE(contains(sut.read_until("ready\n", kWatchdog), "ready\n"));
  for (int i = 0; i < 5; ++i) {
    sut.kill(SIGUSR1);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(sut.wait_for(300ms)) << "SIGUSR1 ended the wait: " << sut.output();
  sut.kill(SIGTERM);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  const auto output = sut.read_all(kWatchdog);
  EXPECT_TRUE(contains(output, "result TerminationRequest\n")) << output;
  EXPECT_FALSE(contains(output, "usr1 0\n")) << "the SIGUSR1s never arrived: " << output;
}

TEST(WaitSetMultiProcess, ATimedWaitInterruptedByOtherSignalsStillLastsItsTimeout) {
  auto sut = spawn_probe({"timed", "400"});
  ASSERT_TRUE(contains(sut.read_until("ready\n", kWatchdog), "ready\n"));
  for (int i = 0; i < 10; ++i) {
    sut.kill(SIGUSR1);
    std::this_thread::sleep_for(15ms);
  }
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  const auto output = sut.read_all(kWatchdog);
  EXPECT_TRUE(contains(output, "result AllEventsHandled\n")) << output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(output, m, std::regex(R"(elapsed_ms (\d+))"))) << output;
  EXPECT_GE(std::stol(m[1].str()), 400);
}

TEST(WaitSetMultiProcess, ExampleWaiterPrintsExitAndExitsZeroOnSigintAndSigterm) {
  for (const int signal : {SIGINT, SIGTERM}) {
    const auto service = test::unique_name("sig");
    auto sut = spawn_waiter({service});
    const auto header = "Waiting on the following services: " + service + "\n";
    ASSERT_TRUE(contains(sut.read_until(header, kWatchdog), header)) << sut.output();
    sut.kill(signal);
    auto status = sut.wait_for(kWatchdog);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->success()) << "signal " << signal << " status " << status->code;
    EXPECT_TRUE(contains(sut.read_all(kWatchdog), "exit\n")) << sut.output();
  }
}

TEST(WaitSetMultiProcess, ExampleWaiterWithoutServicePrintsUsageAndExitsTwo) {
  auto sut = spawn_waiter({});
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 2);
  EXPECT_TRUE(contains(sut.read_all(kWatchdog), "usage: event_multiplexing_wait")) << sut.output();
}

TEST(WaitSetMultiProcess, ExampleWaiterWithAnInvalidServiceNameExitsOne) {
  auto sut = spawn_waiter({"fine", "not//valid"});
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 1);
  const auto output = sut.read_all(kWatchdog);
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

TEST(WaitSetMultiProcess, ExampleNotifierRejectsAnIdAboveTheMaximumAndBadArguments) {
  const auto service = test::unique_name("bad");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {service, "99999999"}, {service, "12x"}, {service}, {"a//b", "1"}}) {
    auto sut = ChildProcess::spawn(test::bin("event_multiplexing_notifier"), args, true);
    auto status = sut.wait_for(kWatchdog);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->exited);
    EXPECT_NE(status->code, 0);
    EXPECT_FALSE(sut.read_all(kWatchdog).empty()) << "no message";
  }
}

// RELIABILITY.md matrix item 7.
TEST(WaitSetMultiProcess, AnIdleWaiterUsesUnderOnePercentCpuAfterHandlingAnEvent) {
  const auto service_name = test::unique_name("idle");
  auto sut = spawn_waiter({service_name});
  const auto header = "Waiting on the following services: " + service_name + "\n";
  ASSERT_TRUE(contains(sut.read_until(header, kWatchdog), header)) << sut.output();

  auto node = NodeBuilder().create();
  ASSERT_TRUE(node);
  auto service = node->service_builder(*ServiceName::create(service_name)).event().open();
  ASSERT_TRUE(service);
  auto notifier = service->notifier_builder().default_event_id(EventId{5}).create();
  ASSERT_TRUE(notifier);
  auto reached = notifier->notify();
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 1u);
  const auto line = service_name + " EventId(5) x1\n";
  ASSERT_TRUE(contains(sut.read_until(line, kWatchdog), line)) << sut.output();

  const auto used = cpu_milliseconds_over(sut.pid(), 2s);
  EXPECT_LT(used, 20) << "ms of CPU in 2 s of idle";
  sut.kill(SIGTERM);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
}

TEST(WaitSetMultiProcess, AnIdleWaiterWithAMissedDeadlineUsesUnderOnePercentCpu) {
  const auto service_name = test::unique_name("deadline");
  auto sut = spawn_probe({"deadline", service_name, "100"});
  ASSERT_TRUE(contains(sut.read_until("ready\n", kWatchdog), "ready\n")) << sut.output();
  auto node = NodeBuilder().create();
  ASSERT_TRUE(node);
  auto service = node->service_builder(*ServiceName::create(service_name)).event().open();
  ASSERT_TRUE(service);
  auto notifier = service->notifier_builder().default_event_id(EventId{9}).create();
  ASSERT_TRUE(notifier);
  ASSERT_TRUE(notifier->notify());
  ASSERT_TRUE(contains(sut.read_until("event 9 1\n", kWatchdog), "event 9 1\n")) << sut.output();
  ASSERT_TRUE(contains(sut.read_until("missed\n", kWatchdog), "missed\n")) << sut.output();

  const auto used = cpu_milliseconds_over(sut.pid(), 2s);
  EXPECT_LT(used, 20) << "ms of CPU in 2 s of idle with a deadline";
  sut.kill(SIGTERM);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  const auto output = sut.read_all(kWatchdog);
  // One miss per deadline at most: ~20 in 2 s, never a loop.
  EXPECT_LE(count_lines(output, "missed"), 40u) << output;
}

TEST(WaitSetMultiProcess, TheHotPathMakesNoAllocation) {
  auto sut = ChildProcess::spawn(test::bin("axon_test_waitset_alloc_probe"), {}, true);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->code;
  const auto output = sut.read_all(kWatchdog);
  EXPECT_TRUE(contains(output, "allocations 0\n")) << output;
  EXPECT_FALSE(contains(output, "callbacks 0\n")) << output;
}

// DESIGN.md §8: `event_multiplexing_wait fuu bar`, `event_multiplexing_notifier fuu 123` and
// `event_multiplexing_notifier bar 456`. Every notification the notifiers report arrives exactly
// once: the counts the waiter prints sum to the notifier's lines.
void run_seed_scenario(const std::string& fuu, const std::string& bar) {
  auto waiter = spawn_waiter({fuu, bar});
  const auto header = "Waiting on the following services: " + fuu + ", " + bar + "\n";
  ASSERT_TRUE(contains(waiter.read_until(header, kWatchdog), header)) << waiter.output();

  auto notifier_fuu =
      ChildProcess::spawn(test::bin("event_multiplexing_notifier"), {fuu, "123"}, true);
  auto notifier_bar =
      ChildProcess::spawn(test::bin("event_multiplexing_notifier"), {bar, "456"}, true);
  std::this_thread::sleep_for(3s);
  notifier_fuu.kill(SIGINT);
  notifier_bar.kill(SIGINT);
  for (auto* notifier : {&notifier_fuu, &notifier_bar}) {
    auto status = notifier->wait_for(kWatchdog);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->success()) << status->code;
    notifier->read_all(kWatchdog);
    EXPECT_TRUE(contains(notifier->output(), "exit\n")) << notifier->output();
  }
  const auto sent_fuu = count_lines(notifier_fuu.output(),
                                    "[service: \"" + fuu + "\"] Trigger event with id 123 ...");
  const auto sent_bar = count_lines(notifier_bar.output(),
                                    "[service: \"" + bar + "\"] Trigger event with id 456 ...");
  EXPECT_GE(sent_fuu, 3u);
  EXPECT_GE(sent_bar, 3u);

  // Give the waiter a few seconds to print the last ones, then stop it.
  const auto start = std::chrono::steady_clock::now();
  Received received;
  while (std::chrono::steady_clock::now() - start < 3s) {
    received = parse_received(waiter.output());
    if (received.counts[{fuu, 123}] >= sent_fuu && received.counts[{bar, 456}] >= sent_bar) break;
    waiter.read_until("\n\n", 50ms);  // reads whatever comes within 50 ms
  }
  waiter.kill(SIGTERM);
  auto status = waiter.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->code;
  const auto output = waiter.read_all(kWatchdog);
  EXPECT_TRUE(contains(output, "exit\n")) << output;
  received = parse_received(output);
  const auto got_fuu = received.counts[{fuu, 123}];
  const auto got_bar = received.counts[{bar, 456}];
  EXPECT_EQ(got_fuu, sent_fuu) << output;
  EXPECT_EQ(got_bar, sent_bar) << output;
  EXPECT_EQ(received.counts.size(), 2u) << "other ids or services reported: " << output;
  EXPECT_EQ(received.unexpected_lines, 0u) << output;
}

TEST(WaitSetMultiProcess, SeedScenarioDeliversEveryNotificationExactlyOnce) {
  run_seed_scenario(test::unique_name("fuu"), test::unique_name("bar"));
}

// The same over FIFO wake channels: the services are made by this process first, and the
// example opens them with default settings, which accept either backend.
TEST(WaitSetMultiProcess, SeedScenarioDeliversEveryNotificationExactlyOnceOverFifos) {
  const auto fuu = test::unique_name("fuu");
  const auto bar = test::unique_name("bar");
  auto node = NodeBuilder().create();
  ASSERT_TRUE(node);
  auto fuu_service =
      node->service_builder(*ServiceName::create(fuu)).event().backend(EventBackend::Fifo).create();
  auto bar_service =
      node->service_builder(*ServiceName::create(bar)).event().backend(EventBackend::Fifo).create();
  ASSERT_TRUE(fuu_service && bar_service);
  run_seed_scenario(fuu, bar);
}

}  // namespace
