// Exhaustion (RELIABILITY.md, matrix line 13): file-descriptor limits in a listener's process, in
// a notifier's process and in a node's fd server; thousands of services and ports. Each must be a
// clear error, with no spinning thread, no lost count, and nothing left behind.
//
// Regressions of issue 14, defect 3: a waiter out of fds lost the notification ("notified 0
// listener(s)"), its fd-server thread spun on accept() failing with EMFILE, one notify to a node
// that does not answer cost 1 s per listener, and running out of fds read as InternalFailure.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

/// CPU time (user + system) a process has used so far.
std::chrono::milliseconds cpu_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which ends at the last ')': state is field 3, utime 14.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return std::chrono::milliseconds((utime + stime) * 1000 / ::sysconf(_SC_CLK_TCK));
}

/// Lowers this (child) process's fd limit and opens /dev/null until none is left.
std::vector<int> exhaust_fds() {
  const rlimit limit{256, 256};
  (void)::setrlimit(RLIMIT_NOFILE, &limit);
  std::vector<int> held;
  held.reserve(256);
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) held.push_back(fd);
  return held;
}

void release_fds(std::vector<int>& held) {
  for (const int fd : held) ::close(fd);
  held.clear();
}

ChildProcess start_starved_listener(const std::string& service, int listeners, int nofile,
                                    bool fill) {
  auto child = ChildProcess::spawn(test::bin("axon_test_fd_starved_listener"),
                                   {service, std::to_string(listeners), std::to_string(nofile),
                                    fill ? "1" : "0"});
  const auto out = child.read_until("ready", 30s);
  EXPECT_NE(out.find("ready"), std::string::npos) << out;
  return child;
}

// Issue 14, defect 3 as reported: the waiter has no fd left when the notify comes. Old code: the
// notify reported 0 listeners, the event never arrived, and the waiter burned a core on accept().
// The spare fd lets the server take the connection and hand out the eventfd (sending needs no
// new fd), so the event arrives with its count; the server never spins.
TEST(FdExhaustion, ListenerOutOfFdsGetsTheEventAndItsFdServerDoesNotSpin) {
  const auto name = test::unique_name("starved");
  auto waiter = start_starved_listener(name, 1, 64, true);
  auto node = test::make_node();
  auto service = node.service_builder(*ServiceName::create(name)).event().open();
  ASSERT_TRUE(service) << to_string(service.error());
  auto sut = service->notifier_builder().create();
  ASSERT_TRUE(sut);

  const auto start = std::chrono::steady_clock::now();
  auto reached = sut->notify(EventId{5});
  const auto took = std::chrono::steady_clock::now() - start;
  RecordProperty("notify_ms", static_cast<int>(took / 1ms));
  EXPECT_LT(took, 1s);

  const auto cpu_before = cpu_time(waiter.pid());
  std::this_thread::sleep_for(2s);
  const auto cpu_used = cpu_time(waiter.pid()) - cpu_before;
  RecordProperty("waiter_cpu_ms_in_2s", static_cast<int>(cpu_used.count()));
  // An idle waiter uses nothing measurable (0 ms here). A spinning accept() loop uses a whole
  // core, or its share of a loaded machine: with a load of 17 on 2 cores the old code still took
  // 70 ms in these 2 s, so the threshold is low (3 clock ticks), not generous.
  EXPECT_LT(cpu_used, 30ms) << "the waiter's fd server spins";

  ASSERT_TRUE(reached) << to_string(reached.error());
  EXPECT_EQ(*reached, 1u);
  const auto out = waiter.read_until("got 5 1", 5s);
  EXPECT_NE(out.find("got 5 1"), std::string::npos) << out;
}

// The notifier is the one out of fds: it cannot connect to the listener. Old code: notify said
// "0 listeners", the count was never recorded, and later notifies skipped the listener until the
// listener set changed. Now the count is recorded, notify says InsufficientResources, and the
// first notify after fds are free again wakes the listener, which sees both counts.
TEST(FdExhaustion, NotifierOutOfFdsKeepsTheCountAndWakesOnceItCan) {
  auto node = test::make_node();
  const auto name = test::service_name("notifier_starved");
  auto service = node.service_builder(name).event().backend(EventBackend::EventFd).create();
  ASSERT_TRUE(service);
  auto listener = service->listener_builder().create();
  ASSERT_TRUE(listener);

  auto child = ChildProcess::fork([&]() -> int {
    auto own = NodeBuilder().create();
    if (!own) return 10;
    auto opened = own->service_builder(name).event().open();
    if (!opened) return 11;
    auto notifier = opened->notifier_builder().create();
    if (!notifier) return 12;
    auto held = exhaust_fds();
    const auto start = std::chrono::steady_clock::now();
    auto first = notifier->notify(EventId{7});
    if (std::chrono::steady_clock::now() - start > 1s) return 13;
    if (first || first.error() != NotifierNotifyError::InsufficientResources) return 14;
    release_fds(held);
    // Past the first retry back-off (10 ms).
    std::this_thread::sleep_for(50ms);
    auto second = notifier->notify(EventId{7});
    if (!second) return 15;
    return *second == 1 ? 0 : 16;
  });
  const auto status = child.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "child exit code " << status->code;

  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
  auto waited = listener->timed_wait(
      [&](EventId id, std::uint64_t count) { seen.emplace_back(id.value, count); }, 5s);
  ASSERT_TRUE(waited);
  // Both notifies counted, though the first could not wake: one (id 7, count 2).
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, 7u);
  EXPECT_EQ(seen[0].second, 2u);
}

// Out of fds, creating a node, opening a service or creating a listener is InsufficientResources
// (old code: InternalFailure, Corrupted or ResourceCreationFailed), as the docs promise.
TEST(FdExhaustion, OpeningAndCreatingOutOfFdsIsInsufficientResources) {
  auto node = test::make_node();
  const auto events = test::service_name("events");
  const auto samples = test::service_name("samples");
  auto event_service = node.service_builder(events).event().create();
  ASSERT_TRUE(event_service);
  auto pubsub_service = node.service_builder(samples).publish_subscribe<std::uint64_t>().create();
  ASSERT_TRUE(pubsub_service);

  auto child = ChildProcess::fork([&]() -> int {
    auto own = NodeBuilder().create();
    if (!own) return 10;
    auto opened = own->service_builder(events).event().open();
    if (!opened) return 11;
    auto held = exhaust_fds();
    int code = 0;
    auto event_open = own->service_builder(events).event().open();
    if (event_open || event_open.error() != EventOpenError::InsufficientResources) code |= 1;
    auto pubsub_open = own->service_builder(samples).publish_subscribe<std::uint64_t>().open();
    if (pubsub_open || pubsub_open.error() != PubSubOpenError::InsufficientResources) code |= 2;
    auto listener = opened->listener_builder().create();
    if (listener || listener.error() != ListenerCreateError::InsufficientResources) code |= 4;
    auto other_node = NodeBuilder().create();
    if (other_node || other_node.error() != NodeCreateError::InsufficientResources) code |= 8;
    release_fds(held);
    // Nothing was half-made: with fds back, the same calls work.
    if (!opened->listener_builder().create()) code |= 16;
    if (!own->service_builder(events).event().open()) code |= 32;
    return code;
  });
  const auto status = child.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "child exit code (bits of failed checks) " << status->code;
}

// A subscriber out of fds when a publisher appears cannot map its data segment. Old code: it
// looked again only when the set of publishers changed, so every sample of that publisher waited
// (for ever, on a quiet service). Now it looks again while the mapping fails, and receives the
// sample once it has an fd, with no publisher coming or going.
TEST(FdExhaustion, ASubscriberOutOfFdsReceivesOnceItCanMapThePublishersSegment) {
  auto node = test::make_node();
  const auto samples = test::service_name("remap");
  auto service = node.service_builder(samples).publish_subscribe<std::uint64_t>().create();
  ASSERT_TRUE(service);

  auto child = ChildProcess::fork([&]() -> int {
    auto own = NodeBuilder().create();
    if (!own) return 10;
    auto opened = own->service_builder(samples).publish_subscribe<std::uint64_t>().open();
    if (!opened) return 11;
    auto subscriber = opened->subscriber_builder().create();
    if (!subscriber) return 12;
    if (auto none = subscriber->receive(); !none || *none) return 13;  // no publisher seen yet
    auto publisher = opened->publisher_builder().create();
    if (!publisher) return 14;
    auto held = exhaust_fds();
    if (auto sent = publisher->send_copy(77); !sent || *sent != 1) return 15;
    // The segment cannot be mapped: nothing, and no error (the sample waits in the queue).
    if (auto starved = subscriber->receive(); !starved || *starved) return 16;
    release_fds(held);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = subscriber->receive();
      if (!got) return 17;
      if (*got) return (*got)->payload() == 77 ? 0 : 18;
      std::this_thread::sleep_for(1ms);
    }
    return 19;  // never received: the subscriber did not look again
  });
  const auto status = child.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "child exit code " << status->code;
}

// One notify to many listeners whose node does not answer (a stopped process; a node out of fds
// with no spare looks the same). Old code: 1 s per listener, here minutes. Now the notify
// returns within the connect budget, says ListenerUnresponsive, keeps every count, and once the
// node answers again a later notify wakes it with all counts.
TEST(FdExhaustion, NotifyToManyListenersOfAnUnresponsiveNodeReturnsInBoundedTime) {
  constexpr int kListeners = 400;
  const auto name = test::unique_name("stopped");
  auto waiter = start_starved_listener(name, kListeners, 4096, false);
  auto node = test::make_node();
  auto service = node.service_builder(*ServiceName::create(name)).event().open();
  ASSERT_TRUE(service) << to_string(service.error());
  auto sut = service->notifier_builder().create();
  ASSERT_TRUE(sut);

  waiter.kill(SIGSTOP);
  auto attempt = std::async(std::launch::async, [&] {
    const auto start = std::chrono::steady_clock::now();
    auto reached = sut->notify(EventId{3});
    return std::make_pair(reached, std::chrono::steady_clock::now() - start);
  });
  if (attempt.wait_for(10s) != std::future_status::ready) {
    waiter.kill(SIGKILL);  // lets the stuck notify fail fast, so the test can end
    attempt.wait();
    FAIL() << "one notify to " << kListeners << " listeners of a stopped node took over 10 s";
  }
  const auto [first, took] = attempt.get();
  RecordProperty("notify_ms", static_cast<int>(took / 1ms));
  EXPECT_LT(took, 1s);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), NotifierNotifyError::ListenerUnresponsive);

  // While it stays stopped, notifies keep returning fast and keep counting.
  std::uint64_t sent = 1;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i, ++sent) {
    auto again = sut->notify(EventId{3});
    EXPECT_FALSE(again);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  waiter.kill(SIGCONT);
  bool woken = false;
  for (int i = 0; i < 100 && !woken; ++i, ++sent) {
    auto reached = sut->notify(EventId{3});
    woken = reached && *reached == kListeners;
    if (!woken) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(woken);
  // Every notify counted, none lost: the waiter's first listener sees them all, in one drain or
  // several (a notify after SIGCONT may wake it before another listener fails to connect).
  std::uint64_t counted = 0;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       counted < sent && std::chrono::steady_clock::now() < until;) {
    waiter.read_until("never printed", 100ms);  // whatever came within 100 ms
    counted = 0;
    std::istringstream lines(waiter.output());
    for (std::string word, id, count; lines >> word;) {
      if (word == "got" && lines >> id >> count && id == "3") counted += std::stoull(count);
    }
  }
  EXPECT_EQ(counted, sent) << waiter.output();
}

// Thousands of services and ports, in a process with 256 fds: services until 2,000, listeners
// until the fd limit. Every failure is a named error (InsufficientResources for fds), and after
// the ports and services are dropped and `axon clean` ran, nothing is left in /dev/shm or root.
TEST(ResourceExhaustion, ThousandsOfServicesAndPortsFailClearlyAndLeaveNothing) {
  constexpr int kServices = 2000;
  const auto stem = test::unique_name("many");
  auto child = ChildProcess::fork([&]() -> int {
    const rlimit limit{256, 256};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 10;
    auto own = NodeBuilder().create();
    if (!own) return 11;
    auto ports = own->service_builder(*ServiceName::create(stem + "_ports"))
                     .event()
                     .max_listeners(4096)
                     .event_id_max_value(7)
                     .backend(EventBackend::EventFd)
                     .create();
    if (!ports) return 12;
    auto notifier = ports->notifier_builder().create();
    if (!notifier) return 13;
    std::vector<Listener> listeners;
    for (int i = 0; i < 4096; ++i) {
      auto listener = ports->listener_builder().create();
      if (!listener) {
        if (listener.error() != ListenerCreateError::InsufficientResources) return 14;
        break;
      }
      listeners.push_back(std::move(*listener));
    }
    // 256 fds, two per eventfd listener (its own and the fd server's): the limit must be hit.
    if (listeners.size() >= 4096 || listeners.size() < 10) return 15;
    // The notifier needs one fd per listener it wakes: out of them, it says so, quickly. The
    // node's fd server is in this process, out of fds as well: whether the notifier's socket or
    // the server's accept fails first is timing (a slow server is ListenerUnresponsive), and
    // either is this contract's answer.
    const auto start = std::chrono::steady_clock::now();
    auto reached = notifier->notify(EventId{1});
    if (std::chrono::steady_clock::now() - start > 2s) return 16;
    if (!reached && reached.error() != NotifierNotifyError::InsufficientResources &&
        reached.error() != NotifierNotifyError::ListenerUnresponsive) {
      return 17;
    }
    std::printf("listeners %zu notify %s\n", listeners.size(),
                reached ? "reached all" : to_string(reached.error()));
    listeners.clear();

    std::vector<EventService> services;
    services.reserve(kServices);
    for (int i = 0; i < kServices; ++i) {
      auto created = own->service_builder(*ServiceName::create(stem + "_" + std::to_string(i)))
                         .event()
                         .max_listeners(1)
                         .event_id_max_value(7)
                         .create();
      if (!created) {
        if (created.error() != EventCreateError::InsufficientResources) return 18;
        break;
      }
      services.push_back(std::move(*created));
    }
    if (services.size() < 100) return 19;
    std::printf("services %zu\n", services.size());
    std::fflush(stdout);
    return 0;  // everything above is dropped here, before the child exits
  });
  const auto status = child.wait_for(120s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(status->success()) << "child exit code " << status->code;

  auto clean = ChildProcess::spawn(test::bin("axon"), {"clean"}, true);
  ASSERT_TRUE(clean.wait_for(60s));
  // This test process made no node: whatever is under the prefix or the root is a leftover.
  EXPECT_EQ(test::shm_objects(), std::vector<std::string>{});
  EXPECT_EQ(test::root_files(), std::vector<std::string>{});
}

}  // namespace
