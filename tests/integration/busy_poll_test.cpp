// Busy-poll budgets (WaitSetBuilder::busy_poll, ListenerBuilder::busy_poll) between real
// processes: a ping-pong at full speed where each side polls before it sleeps, so most notifies
// find the peer awake and write no wake-up; not one may be lost or duplicated by that. And a
// waiter with a budget and nothing arriving must sleep once its budget has run out.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

constexpr std::uint64_t kRounds = 20000;
constexpr auto kBudget = 20us;
/// A wait that passes this with a round due is a lost wake-up.
constexpr auto kLost = 5s;

enum class Waiter { WaitSet, Listener };

/// Waits for one notification on `listener` and returns its (id, count), or nullopt after kLost.
/// Every round carries one notification, so anything but exactly one id with count 1 is wrong.
class OneWaiter {
 public:
  OneWaiter(Waiter kind, Listener& listener) : m_listener(listener) {
    if (kind == Waiter::WaitSet) {
      auto waitset = WaitSetBuilder().busy_poll(kBudget).create();
      if (!waitset) return;
      m_waitset.emplace(std::move(*waitset));
      auto guard = m_waitset->attach_notification(listener);
      if (guard) m_guard.emplace(std::move(*guard));
    }
  }
  bool ready(Waiter kind) const { return kind == Waiter::Listener || m_guard.has_value(); }

  /// The ids and counts of the next notifications (at least one), or an empty result on a loss.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> next() {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> got;
    auto collect = [&](EventId id, std::uint64_t count) { got.emplace_back(id.value, count); };
    const auto deadline = std::chrono::steady_clock::now() + kLost;
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
      if (m_waitset) {
        auto batch = m_waitset->wait(kLost);
        if (!batch || batch->triggered.empty()) break;
        if (!m_listener.try_wait(collect)) break;
      } else if (!m_listener.timed_wait(collect, kLost)) {
        break;
      }
    }
    return got;
  }

 private:
  Listener& m_listener;
  std::optional<WaitSet> m_waitset;
  std::optional<WaitSetGuard> m_guard;
};

struct Ends {
  EventService ping;
  EventService pong;
};

std::optional<Ends> open_ends(Node& node, const ServiceName& ping, const ServiceName& pong) {
  auto a = node.service_builder(ping).event().open_or_create();
  auto b = node.service_builder(pong).event().open_or_create();
  if (!a || !b) return std::nullopt;
  return Ends{std::move(*a), std::move(*b)};
}

/// The responder: answers each ping id with the same id on pong, kRounds times.
int respond(Waiter kind, const ServiceName& ping, const ServiceName& pong) {
  auto node = NodeBuilder().name("responder").create();
  if (!node) return 20;
  auto ends = open_ends(*node, ping, pong);
  if (!ends) return 21;
  auto listener = ends->ping.listener_builder().busy_poll(kBudget).create();
  auto notifier = ends->pong.notifier_builder().create();
  if (!listener || !notifier) return 22;
  OneWaiter waiter(kind, *listener);
  if (!waiter.ready(kind)) return 23;
  for (std::uint64_t round = 0; round < kRounds; ++round) {
    const auto got = waiter.next();
    if (got.size() != 1 || got[0].first != round % 4096 || got[0].second != 1) return 24;
    if (!notifier->notify(EventId{round % 4096})) return 25;
  }
  return 0;
}

class BusyPollPingPong : public ::testing::TestWithParam<Waiter> {};

TEST_P(BusyPollPingPong, EveryRoundArrivesOnceBetweenTwoPollingProcesses) {
  const Waiter kind = GetParam();
  const auto ping = test::service_name("bp-ping");
  const auto pong = test::service_name("bp-pong");
  // Forked before this process has a node (and its fd server's thread): the child starts one of
  // its own, which ThreadSanitizer refuses after a multi-threaded fork.
  auto responder = test::ChildProcess::fork([&] { return respond(kind, ping, pong); });
  auto node = test::make_node("initiator");
  auto ends = open_ends(node, ping, pong);
  ASSERT_TRUE(ends);
  // The pong listener exists before the responder can answer; the ping listener is the
  // responder's, so the first notify waits until its listener is there.
  auto listener = ends->pong.listener_builder().busy_poll(kBudget).create();
  ASSERT_TRUE(listener) << to_string(listener.error());
  EXPECT_EQ(listener->busy_poll(), kBudget);
  auto notifier = ends->ping.notifier_builder().create();
  ASSERT_TRUE(notifier);
  OneWaiter waiter(kind, *listener);
  ASSERT_TRUE(waiter.ready(kind));
  ASSERT_TRUE(test::eventually([&] { return ends->ping.number_of_listeners() == 1; }));
  for (std::uint64_t round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(notifier->notify(EventId{round % 4096})) << "round " << round;
    const auto got = waiter.next();
    ASSERT_EQ(got.size(), 1u) << "round " << round << ": a lost or split notification";
    ASSERT_EQ(got[0].first, round % 4096) << "round " << round;
    ASSERT_EQ(got[0].second, 1u) << "round " << round << ": a duplicated notification";
  }
  auto status = responder.wait_for(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "responder exit " << status->code;
}

INSTANTIATE_TEST_SUITE_P(Waiters, BusyPollPingPong,
                         ::testing::Values(Waiter::WaitSet, Waiter::Listener),
                         [](const auto& p) {
                           return std::string(p.param == Waiter::WaitSet ? "WaitSet"
                                                                         : "ListenerOwnWait");
                         });


// A budget is spent once per wait, not for ever: a waiter with nothing arriving sleeps. A spin
// that never stopped would show as ~1000 ms of CPU in the 1 s window after its 200 ms budget.
TEST(BusyPollIdle, AWaiterWithNothingArrivingSleepsOnceItsBudgetRanOut) {
  const auto name = test::service_name("bp-idle");
  for (const Waiter kind : {Waiter::WaitSet, Waiter::Listener}) {
    auto waiter = test::ChildProcess::fork([&] {
      auto node = NodeBuilder().name("idle").create();
      if (!node) return 30;
      auto service = node->service_builder(name).event().open_or_create();
      if (!service) return 31;
      auto listener = service->listener_builder().busy_poll(200ms).create();
      if (!listener) return 32;
      if (kind == Waiter::Listener) {
        (void)listener->timed_wait([](EventId, std::uint64_t) {}, 30s);
        return 0;
      }
      auto waitset = WaitSetBuilder().busy_poll(200ms).create();
      if (!waitset) return 33;
      auto guard = waitset->attach_notification(*listener);
      if (!guard) return 34;
      (void)waitset->wait(30s);
      return 0;
    });
    // The child's budget (200 ms from its first wait) is over by then, start-up included.
    std::this_thread::sleep_for(1500ms);
    const long before = test::cpu_milliseconds(waiter.pid());
    std::this_thread::sleep_for(1s);
    const long after = test::cpu_milliseconds(waiter.pid());
    ASSERT_GE(before, 0);
    EXPECT_LT(after - before, 100) << (kind == Waiter::WaitSet ? "WaitSet" : "Listener")
                                   << " still spinning after its budget";
  }
}

}  // namespace
