// Wakeable subscribers (docs/design.md §6, "Wakeable subscribers"): a subscriber created with
// wakeable(true) sleeps in a WaitSet and is woken by publishers of any process, with no wake-up
// lost at full speed. The publisher runs in a forked process with its own node.
#include <gtest/gtest.h>

#include <poll.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>

#include "axon/detail/node_core.hpp"
#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::eventually;

struct Tick {
  static constexpr const char* AXON_TYPE_NAME = "test::Tick";
  std::uint64_t sequence;
  std::uint64_t check;  ///< sequence * a constant: a torn or foreign sample shows
};
constexpr std::uint64_t kCheck = 0x9E3779B97F4A7C15ULL;

/// Sends `count` ticks as fast as the Block policy lets it; every `pause_every` samples (0: never)
/// sleeps a little, so that the subscriber keeps draining and going back to sleep.
int publish_ticks(const ServiceName& name, std::uint64_t count, std::uint64_t pause_every) {
  auto node = NodeBuilder().name("ticker").create();
  if (!node) return 30;
  auto service = node->service_builder(name).publish_subscribe<Tick>().open();
  if (!service) return 31;
  auto publisher = service->publisher_builder().block_timeout(30s).create();
  if (!publisher) return 32;
  for (std::uint64_t i = 0; i < count; ++i) {
    auto sample = publisher->loan_uninit();
    if (!sample) return 33;
    sample->payload() = Tick{i, i * kCheck};
    if (!publisher->send(std::move(*sample))) return 34;
    if (pause_every != 0 && i % pause_every == pause_every - 1) {
      std::this_thread::sleep_for(std::chrono::microseconds(50 + (i * 7919) % 200));
    }
  }
  return 0;
}

/// Sleeps in a WaitSet on `subscriber` and receives until `count` ticks came in order. A wait that
/// times out while ticks are still due is a lost wake-up (the publisher blocks on a full buffer
/// meanwhile, so nothing else could explain it). Returns the ticks received.
std::uint64_t receive_sleeping(Subscriber<Tick>& subscriber, std::uint64_t count,
                               std::uint64_t& wakeups,
                               std::chrono::nanoseconds busy_poll = std::chrono::nanoseconds(0)) {
  auto waitset = WaitSetBuilder().busy_poll(busy_poll).create();
  if (!waitset) {
    ADD_FAILURE() << "waitset: " << to_string(waitset.error());
    return 0;
  }
  auto guard = waitset->attach_notification(subscriber);
  if (!guard) {
    ADD_FAILURE() << "attach: " << to_string(guard.error());
    return 0;
  }
  std::uint64_t next = 0;
  while (next < count) {
    auto batch = waitset->wait(5s);
    if (!batch || batch->triggered.empty()) {
      ADD_FAILURE() << "no wake-up within 5 s with " << count - next << " ticks due after " << next;
      return next;
    }
    ++wakeups;
    for (;;) {
      auto got = subscriber.receive();
      if (!got) {
        ADD_FAILURE() << "receive: " << to_string(got.error());
        return next;
      }
      if (!*got) break;
      const Tick tick = (**got).payload();
      if (tick.sequence != next || tick.check != tick.sequence * kCheck) {
        ADD_FAILURE() << "tick " << tick.sequence << " where " << next << " was due";
        return next;
      }
      ++next;
    }
  }
  return next;
}

/// The wake service's name: `__axon_wake/` and the service's hash (docs/design.md §6).
ServiceName wake_name(const ServiceName& name) {
  return *ServiceName::create("__axon_wake/" + detail::Paths::service_hash(name.as_string()));
}

/// (pause every n ticks (0: never), the subscriber's WaitSet busy-poll budget in µs (0: off)).
class PubSubWake : public ::testing::TestWithParam<std::tuple<std::uint64_t, int>> {};

// At full speed (pause 0) and with pauses that let the subscriber fall asleep between bursts:
// every tick arrives, in order, and the subscriber never needs to poll. With a busy-poll budget,
// the publisher writes no wake-up while the subscriber polls, and none may be lost by that.
TEST_P(PubSubWake, ASleepingSubscriberGetsEveryTickFromAnotherProcess) {
  const auto [pause_every, busy_poll_us] = GetParam();
  const std::uint64_t count = pause_every == 0 ? 200000 : 20000;
  const auto name = test::service_name("wake");
  auto node = test::make_node("sleeper");
  auto service = node.service_builder(name).publish_subscribe<Tick>().subscriber_max_buffer_size(16)
                     .overflow_policy(OverflowPolicy::Block).create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber) << to_string(subscriber.error());
  auto publisher =
      test::ChildProcess::fork([&] { return publish_ticks(name, count, pause_every); });
  std::uint64_t wakeups = 0;
  EXPECT_EQ(receive_sleeping(*subscriber, count, wakeups, std::chrono::microseconds(busy_poll_us)),
            count);
  auto status = publisher.wait_for(60s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
  // Wake-ups coalesce while the subscriber is busy: never more than one per tick.
  EXPECT_GE(wakeups, 1u);
  EXPECT_LE(wakeups, count);
  std::printf("%llu ticks, %llu wake-ups\n", static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(wakeups));
}

INSTANTIATE_TEST_SUITE_P(Pauses, PubSubWake,
                         ::testing::Combine(::testing::Values(0, 7), ::testing::Values(0, 20)),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) == 0 ? "FullSpeed"
                                                                           : "WithPauses") +
                                  (std::get<1>(p.param) == 0 ? "" : "BusyPolling");
                         });

TEST(PubSubWakeRules, AnEmptyReceiveQuietsTheFdAndTheNextSendWakesItAgain) {
  const auto name = test::service_name("quiet");
  auto node = test::make_node("quiet");
  auto service = node.service_builder(name).publish_subscribe<Tick>().create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber);
  const auto readable = [&] {
    pollfd p{subscriber->fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  };
  ASSERT_GE(subscriber->fd(), 0);
  EXPECT_FALSE(readable());
  // The publisher stays (a publisher that leaves before the subscriber mapped its segment takes
  // its samples with it).
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 30;
    auto pub = svc->publisher_builder().create();
    if (!pub || !pub->send_copy(Tick{0, 0})) return 31;
    for (;;) std::this_thread::sleep_for(1s);
    return 0;
  });
  ASSERT_TRUE(eventually([&] { return readable(); }));
  // Readable (level) until a receive finds nothing.
  EXPECT_TRUE(readable());
  auto first = subscriber->receive();
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE(readable());  // nothing said yet that the queue is empty
  auto none = subscriber->receive();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_FALSE(readable());
  publisher.kill(SIGKILL);
  ASSERT_TRUE(publisher.wait_for(10s));
}

TEST(PubSubWakeRules, AHistorySampleDeliveredAtConnectWakesALateSubscriber) {
  const auto name = test::service_name("history");
  auto node = test::make_node("late");
  auto service = node.service_builder(name).publish_subscribe<Tick>().history_size(3)
                     .subscriber_max_buffer_size(4).create();
  ASSERT_TRUE(service);
  auto publisher = service->publisher_builder().create();
  ASSERT_TRUE(publisher);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(publisher->send_copy(Tick{i, i * kCheck}));
  // The late subscriber lives in another process; the publisher connects it outside a send.
  auto late = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 40;
    auto sub = svc->subscriber_builder().wakeable(true).create();
    if (!sub) return 41;
    std::uint64_t wakeups = 0;
    return receive_sleeping(*sub, 3, wakeups) == 3 ? 0 : 42;
  });
  ASSERT_TRUE(test::wait_for_ports(std::string(name.as_string()), &ServiceInfo::subscribers, 1));
  // Any call that looks at the subscribers connects it (a loan, a send, or this one).
  EXPECT_EQ(publisher->chunks_in_use(), 3u);
  auto status = late.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "late subscriber exit " << status->code;
}

TEST(PubSubWakeRules, ASubscriberThatIsNotWakeableIsRefusedByTheWaitSet) {
  const auto name = test::service_name("plain");
  auto node = test::make_node("plain");
  auto service = node.service_builder(name).publish_subscribe<Tick>().create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(subscriber);
  EXPECT_EQ(subscriber->fd(), -1);
  auto waitset = WaitSetBuilder().create();
  ASSERT_TRUE(waitset);
  auto guard = waitset->attach_notification(*subscriber);
  ASSERT_FALSE(guard);
  EXPECT_EQ(guard.error(), WaitSetAttachmentError::NotWakeable);
  EXPECT_STREQ(to_string(guard.error()), "NotWakeable");
  // Nothing was made for it: no wake service exists.
  EXPECT_FALSE(node.service_builder(wake_name(name)).event().open());
}

TEST(PubSubWakeRules, AWakeServiceNameTakenByAnotherPatternIsAClearError) {
  const auto name = test::service_name("squatted");
  auto node = test::make_node("squat");
  auto squatter = node.service_builder(wake_name(name)).publish_subscribe<Tick>().create();
  ASSERT_TRUE(squatter);
  auto service = node.service_builder(name).publish_subscribe<Tick>().create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().wakeable(true).create();
  ASSERT_FALSE(subscriber);
  EXPECT_EQ(subscriber.error(), SubscriberCreateError::WakeServiceUnavailable);
  // A plain subscriber and a publisher are unaffected.
  EXPECT_TRUE(service->subscriber_builder().create());
  auto publisher = service->publisher_builder().create();
  ASSERT_TRUE(publisher);
  EXPECT_TRUE(publisher->send_copy(Tick{0, 0}));
}

TEST(PubSubWakeRules, AServiceOfTheLongestNameCanBeWokenAndItsWakeServiceIsReported) {
  const auto stem = std::string(test::service_name("long").as_string());
  auto name = ServiceName::create(stem + "/" + std::string(ServiceName::kMaxLength - stem.size() - 1, 'x'));
  ASSERT_TRUE(name);
  auto node = test::make_node("long");
  auto service = node.service_builder(*name).publish_subscribe<Tick>().create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber) << to_string(subscriber.error());
  // Discovery shows the wake service as the event service it is, with our listener.
  auto info = describe_service(wake_name(*name));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pattern, MessagingPattern::Event);
  EXPECT_EQ(info->listeners, 1u);
  auto publisher = service->publisher_builder().create();
  ASSERT_TRUE(publisher);
  ASSERT_TRUE(publisher->send_copy(Tick{0, 0}));
  pollfd p{subscriber->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_EQ(describe_service(wake_name(*name))->notifiers, 1u);
}

// A wakeable subscriber killed while the publisher runs costs the publisher nothing, and a second
// wakeable subscriber is still woken for every sample.
TEST(PubSubWakeRules, AKilledWakeableSubscriberDoesNotDisturbTheOthers) {
  const auto name = test::service_name("killed");
  auto node = test::make_node("survivor");
  auto service = node.service_builder(name).publish_subscribe<Tick>().subscriber_max_buffer_size(16)
                     .overflow_policy(OverflowPolicy::OverwriteOldest).create();
  ASSERT_TRUE(service);
  auto victim = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 50;
    auto sub = svc->subscriber_builder().wakeable(true).create();
    if (!sub) return 51;
    for (;;) std::this_thread::sleep_for(1s);  // never receives: its channel stays readable
    return 0;
  });
  ASSERT_TRUE(test::wait_for_ports(std::string(name.as_string()), &ServiceInfo::subscribers, 1));
  auto survivor = service->subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(survivor);
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 60;
    auto pub = svc->publisher_builder().create();
    if (!pub) return 61;
    for (std::uint64_t i = 0; i < 2000; ++i) {
      if (!pub->send_copy(Tick{i, i * kCheck})) return 62;
      if (i == 500) std::this_thread::sleep_for(300ms);  // the victim dies meanwhile
      std::this_thread::sleep_for(100us);
    }
    return 0;
  });
  std::this_thread::sleep_for(100ms);
  victim.kill(SIGKILL);
  ASSERT_TRUE(victim.wait_for(10s));
  // OverwriteOldest may drop what a slow wake-up left behind; order and content must hold, and the
  // last tick must come without polling.
  auto waitset = WaitSetBuilder().create();
  ASSERT_TRUE(waitset);
  auto guard = waitset->attach_notification(*survivor);
  ASSERT_TRUE(guard);
  std::uint64_t next = 0;
  while (next < 2000) {
    auto batch = waitset->wait(5s);
    ASSERT_TRUE(batch && !batch->triggered.empty()) << "no wake-up within 5 s after " << next;
    while (auto got = survivor->receive()) {
      if (!*got) break;
      const Tick tick = (**got).payload();
      ASSERT_GE(tick.sequence, next);
      ASSERT_EQ(tick.check, tick.sequence * kCheck);
      next = tick.sequence + 1;
    }
  }
  auto status = publisher.wait_for(60s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
}

}  // namespace
