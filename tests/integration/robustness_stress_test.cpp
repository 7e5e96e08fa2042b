// Load across real processes where every count is checked exactly: 8 publishers x 8 subscribers
// under the Block policy, 64 listeners on one event service, and a million notifies into one
// listener. Each process is a fork with its own node; a child reports through its exit code (and
// one line on stderr when it fails). The parent makes no port that starts a thread before it
// forks.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <thread>
#include <vector>

#include "robustness_support.hpp"

namespace {

using namespace axon;
using namespace axon::test::robustness;
using test::ChildProcess;

struct Tag {
  static constexpr const char* AXON_TYPE_NAME = "axon::robust::Tag";
  std::uint32_t publisher;
  std::uint32_t reserved;
  std::uint64_t sequence;
};

/// Waits for every child; each must exit 0 within `budget` (a watchdog).
void expect_all_succeed(std::vector<ChildProcess>& children, const char* what,
                        std::chrono::seconds budget) {
  for (std::size_t i = 0; i < children.size(); ++i) {
    auto status = children[i].wait_for(budget);
    ASSERT_TRUE(status) << what << " " << i << " did not finish within " << budget.count() << " s";
    EXPECT_TRUE(status->success())
        << what << " " << i << (status->exited ? " exited " : " died of signal ") << status->code;
  }
}

TEST(RobustnessStress, EightPublishersTimesEightSubscribersLoseNothingUnderBlockPolicy) {
  constexpr std::uint32_t kPublishers = 8;
  constexpr std::uint32_t kSubscribers = 8;
  constexpr std::uint64_t kSamples = 10000;
  const auto name = test::service_name("grid8");
  auto node = test::make_node("parent");
  auto service = node.service_builder(name)
                     .publish_subscribe<Tag>()
                     .max_publishers(kPublishers)
                     .max_subscribers(kSubscribers)
                     .max_nodes(kPublishers + kSubscribers + 1)
                     .subscriber_max_buffer_size(8)
                     .overflow_policy(OverflowPolicy::Block)
                     .create();
  ASSERT_TRUE(service);

  std::vector<ChildProcess> subscribers;
  for (std::uint32_t s = 0; s < kSubscribers; ++s) {
    subscribers.push_back(ChildProcess::fork([&, s] {
      auto n = NodeBuilder().create();
      if (!n) return 10;
      auto svc = n->service_builder(name).publish_subscribe<Tag>().open();
      if (!svc) return 11;
      auto sub = svc->subscriber_builder().create();
      if (!sub) return 12;
      std::array<std::uint64_t, kPublishers> next{};
      std::uint64_t total = 0;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (total < kPublishers * kSamples) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::fprintf(stderr, "subscriber %u stalled after %llu samples\n", s,
                       static_cast<unsigned long long>(total));
          return 13;
        }
        auto sample = sub->receive();
        if (!sample) {
          std::fprintf(stderr, "subscriber %u: %s\n", s, to_string(sample.error()));
          return 14;
        }
        if (!*sample) {
          std::this_thread::yield();
          continue;
        }
        const auto& tag = (*sample)->payload();
        if (tag.publisher >= kPublishers) return 15;
        if (tag.sequence != next[tag.publisher]) {  // per-publisher order, no gap, no repeat
          std::fprintf(stderr, "subscriber %u: publisher %u sent %llu, expected %llu\n", s,
                       tag.publisher, static_cast<unsigned long long>(tag.sequence),
                       static_cast<unsigned long long>(next[tag.publisher]));
          return 16;
        }
        ++next[tag.publisher];
        ++total;
      }
      // Nothing more may come: every publisher sent exactly kSamples.
      return sub->receive().value_or(std::nullopt) ? 17 : 0;
    }));
  }
  ASSERT_TRUE(test::eventually([&] { return service->number_of_subscribers() == kSubscribers; }));

  std::vector<ChildProcess> publishers;
  for (std::uint32_t p = 0; p < kPublishers; ++p) {
    publishers.push_back(ChildProcess::fork([&, p] {
      auto n = NodeBuilder().create();
      if (!n) return 20;
      auto svc = n->service_builder(name).publish_subscribe<Tag>().open();
      if (!svc) return 21;
      auto pub = svc->publisher_builder().block_timeout(60s).create();
      if (!pub) return 22;
      for (std::uint64_t i = 0; i < kSamples; ++i) {
        auto sample = pub->loan_uninit();
        if (!sample) return 23;
        sample->payload() = Tag{p, 0, i};
        auto sent = pub->send(std::move(*sample));
        if (!sent || *sent != kSubscribers) {
          std::fprintf(stderr, "publisher %u: sample %llu reached %s\n", p,
                       static_cast<unsigned long long>(i),
                       sent ? std::to_string(*sent).c_str() : "an error");
          return 24;
        }
      }
      return 0;
    }));
  }
  expect_all_succeed(publishers, "publisher", 90s);
  expect_all_succeed(subscribers, "subscriber", 90s);
}

class RobustnessStressEvent : public ::testing::TestWithParam<EventBackend> {};
INSTANTIATE_TEST_SUITE_P(Backends, RobustnessStressEvent,
                         ::testing::Values(EventBackend::EventFd, EventBackend::Fifo),
                         test::backend_name);

TEST_P(RobustnessStressEvent, SixtyFourListenersInEightProcessesEachCountExactlyWhatWasSent) {
  constexpr int kListenerProcesses = 8;
  constexpr int kListenersPerProcess = 8;
  constexpr std::uint32_t kListeners = kListenerProcesses * kListenersPerProcess;
  constexpr int kNotifiers = 4;
  constexpr std::uint64_t kPerNotifier = 10000;
  // Each notifier sends its own id, so a count landing on the wrong id shows.
  auto id_of = [](int notifier) { return EventId{static_cast<std::uint64_t>(3 + 7 * notifier)}; };
  const auto name = test::service_name("listeners64");
  auto node = test::make_node("parent");
  auto service = node.service_builder(name)
                     .event()
                     .backend(GetParam())
                     .max_listeners(kListeners)
                     .max_notifiers(kNotifiers)
                     .max_nodes(kListenerProcesses + kNotifiers + 1)
                     .create();
  ASSERT_TRUE(service);

  std::vector<ChildProcess> listeners;
  for (int l = 0; l < kListenerProcesses; ++l) {
    listeners.push_back(ChildProcess::fork([&, l] {
      auto n = NodeBuilder().create();
      if (!n) return 10;
      auto svc = n->service_builder(name).event().open();
      if (!svc) return 11;
      std::vector<Listener> ports;
      for (int k = 0; k < kListenersPerProcess; ++k) {
        auto listener = svc->listener_builder().create();
        if (!listener) return 12;
        ports.push_back(std::move(*listener));
      }
      auto waitset = WaitSetBuilder().signal_handling(false).create();
      if (!waitset) return 13;
      std::vector<WaitSetGuard> guards;
      for (auto& port : ports) {
        auto guard = waitset->attach_notification(port);
        if (!guard) return 14;
        guards.push_back(std::move(*guard));
      }
      // counts[listener][notifier]; anything on another id is counted in `stray`.
      std::array<std::array<std::uint64_t, kNotifiers>, kListenersPerProcess> counts{};
      std::uint64_t stray = 0;
      std::uint64_t total = 0;
      constexpr std::uint64_t kExpected = kListenersPerProcess * kNotifiers * kPerNotifier;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (total < kExpected) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::fprintf(stderr, "listener process %d stalled at %llu of %llu\n", l,
                       static_cast<unsigned long long>(total),
                       static_cast<unsigned long long>(kExpected));
          return 15;
        }
        bool failed = false;
        auto r = waitset->wait_and_process_once_with_timeout(
            [&](AttachmentId id) {
              for (int k = 0; k < kListenersPerProcess; ++k) {
                if (!id.has_event_from(guards[static_cast<std::size_t>(k)])) continue;
                auto got =
                    ports[static_cast<std::size_t>(k)].try_wait([&](EventId e, std::uint64_t c) {
                      total += c;
                      for (int n2 = 0; n2 < kNotifiers; ++n2) {
                        if (e == id_of(n2)) {
                          counts[static_cast<std::size_t>(k)][static_cast<std::size_t>(n2)] += c;
                          return;
                        }
                      }
                      stray += c;
                    });
                failed = failed || !got;
              }
              return CallbackProgression::Continue;
            },
            1s);
        if (!r || failed) return 16;
      }
      if (stray != 0) return 17;
      for (const auto& per_listener : counts) {
        for (const auto c : per_listener) {
          if (c != kPerNotifier) {
            std::fprintf(stderr, "listener process %d: a count of %llu, expected %llu\n", l,
                         static_cast<unsigned long long>(c),
                         static_cast<unsigned long long>(kPerNotifier));
            return 18;
          }
        }
      }
      return 0;
    }));
  }
  ASSERT_TRUE(test::eventually([&] { return service->number_of_listeners() == kListeners; }, 30s));

  std::vector<ChildProcess> notifiers;
  for (int n = 0; n < kNotifiers; ++n) {
    notifiers.push_back(ChildProcess::fork([&, n] {
      auto nd = NodeBuilder().create();
      if (!nd) return 20;
      auto svc = nd->service_builder(name).event().open();
      if (!svc) return 21;
      auto notifier = svc->notifier_builder().create();
      if (!notifier) return 22;
      for (std::uint64_t i = 0; i < kPerNotifier; ++i) {
        auto reached = notifier->notify(id_of(n));
        if (!reached || *reached != kListeners) {
          std::fprintf(stderr, "notifier %d: notify %llu reached %s\n", n,
                       static_cast<unsigned long long>(i),
                       reached ? std::to_string(*reached).c_str() : "an error");
          return 23;
        }
      }
      return 0;
    }));
  }
  expect_all_succeed(notifiers, "notifier", 90s);
  expect_all_succeed(listeners, "listener process", 90s);
}

TEST_P(RobustnessStressEvent, OneMillionNotifiesFromFourProcessesOverTenIdsArriveWithExactCounts) {
  constexpr int kNotifiers = 4;
  constexpr std::uint64_t kPerNotifier = 250'000;
  constexpr std::uint64_t kIds = 10;
  constexpr std::uint64_t kTotal = kNotifiers * kPerNotifier;
  const auto name = test::service_name("million");
  auto node = test::make_node("parent");
  auto service =
      node.service_builder(name).event().backend(GetParam()).max_notifiers(kNotifiers).create();
  ASSERT_TRUE(service);

  auto listener = ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 10;
    auto svc = n->service_builder(name).event().open();
    if (!svc) return 11;
    auto l = svc->listener_builder().create();
    if (!l) return 12;
    std::array<std::uint64_t, kIds> counts{};
    std::uint64_t total = 0;
    std::uint64_t wakes = 0;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (total < kTotal) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "listener stalled at %llu\n", static_cast<unsigned long long>(total));
        return 13;
      }
      auto r = l->timed_wait(
          [&](EventId id, std::uint64_t count) {
            if (id.value < kIds) counts[id.value] += count;
            total += count;
          },
          1s);
      if (!r) return 14;
      ++wakes;
    }
    for (std::uint64_t id = 0; id < kIds; ++id) {
      if (counts[id] != kTotal / kIds) {
        std::fprintf(stderr, "id %llu counted %llu times, expected %llu\n",
                     static_cast<unsigned long long>(id),
                     static_cast<unsigned long long>(counts[id]),
                     static_cast<unsigned long long>(kTotal / kIds));
        return 15;
      }
    }
    // Nothing more may arrive.
    std::uint64_t extra = 0;
    if (!l->try_wait([&](EventId, std::uint64_t c) { extra += c; }) || extra != 0) return 16;
    std::fprintf(stderr, "one million notifies arrived in %llu wake-ups\n",
                 static_cast<unsigned long long>(wakes));
    return total == kTotal ? 0 : 17;
  });
  ASSERT_TRUE(test::eventually([&] { return service->number_of_listeners() == 1; }));

  std::vector<ChildProcess> notifiers;
  for (int n = 0; n < kNotifiers; ++n) {
    notifiers.push_back(ChildProcess::fork([&] {
      auto nd = NodeBuilder().create();
      if (!nd) return 20;
      auto svc = nd->service_builder(name).event().open();
      if (!svc) return 21;
      auto notifier = svc->notifier_builder().create();
      if (!notifier) return 22;
      for (std::uint64_t i = 0; i < kPerNotifier; ++i) {
        auto reached = notifier->notify(EventId{i % kIds});
        if (!reached || *reached != 1) return 23;
      }
      return 0;
    }));
  }
  expect_all_succeed(notifiers, "notifier", 120s);
  auto status = listener.wait_for(120s);
  ASSERT_TRUE(status) << "the listener did not finish";
  EXPECT_TRUE(status->success()) << (status->exited ? "listener exited "
                                                    : "listener died of signal ")
                                 << status->code;
}

}  // namespace
