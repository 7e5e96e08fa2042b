// The event pattern across real processes (fork; each child makes its own node), both backends.
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

using test::eventually;

class EventMultiProcess : public ::testing::TestWithParam<EventBackend> {
 protected:
  ServiceName name = test::service_name("mp");

  EventServiceBuilder builder(Node& node) const {
    return node.service_builder(name).event().backend(GetParam()).max_listeners(8).max_notifiers(8);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, EventMultiProcess,
                         ::testing::Values(EventBackend::EventFd, EventBackend::Fifo),
                         test::backend_name);

TEST_P(EventMultiProcess, NNotifiersTimesMListenersLoseNoCount) {
  constexpr int kListeners = 3;
  constexpr int kNotifiers = 3;
  constexpr std::uint64_t kPerNotifier = 3000;
  constexpr std::uint64_t kIds = 10;
  auto node = test::make_node("parent");
  auto service = builder(node).create();
  ASSERT_TRUE(service);

  std::vector<test::ChildProcess> listeners;
  for (int l = 0; l < kListeners; ++l) {
    listeners.push_back(test::ChildProcess::fork([&] {
      auto n = NodeBuilder().create();
      auto s = n->service_builder(name).event().open();
      if (!s) return 10;
      auto listener = s->listener_builder().create();
      if (!listener) return 11;
      std::array<std::uint64_t, kIds> counts{};
      std::uint64_t total = 0;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (total < kNotifiers * kPerNotifier) {
        if (std::chrono::steady_clock::now() > deadline) return 12;
        auto r = listener->timed_wait(
            [&](EventId id, std::uint64_t count) {
              if (id.value < kIds) counts[id.value] += count;
              total += count;
            },
            1s);
        if (!r) return 13;
      }
      for (const auto c : counts) {
        if (c != kNotifiers * kPerNotifier / kIds) return 14;
      }
      return total == kNotifiers * kPerNotifier ? 0 : 15;
    }));
  }
  ASSERT_TRUE(eventually([&] { return service->number_of_listeners() == kListeners; }));

  std::vector<test::ChildProcess> notifiers;
  for (int n = 0; n < kNotifiers; ++n) {
    notifiers.push_back(test::ChildProcess::fork([&] {
      auto nd = NodeBuilder().create();
      auto s = nd->service_builder(name).event().open();
      if (!s) return 20;
      auto notifier = s->notifier_builder().create();
      if (!notifier) return 21;
      for (std::uint64_t i = 0; i < kPerNotifier; ++i) {
        auto reached = notifier->notify(EventId{i % kIds});
        if (!reached || *reached != kListeners) return 22;
      }
      return 0;
    }));
  }
  for (auto& c : notifiers) {
    auto s = c.wait_for(60s);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->success()) << "notifier exit " << s->code;
  }
  for (auto& c : listeners) {
    auto s = c.wait_for(60s);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->success()) << "listener exit " << s->code;
  }
}

TEST_P(EventMultiProcess, TenThousandRoundTripsWithoutDeadlock) {
  constexpr int kRounds = 10'000;
  const auto ping = test::service_name("ping");
  const auto pong = test::service_name("pong");
  auto node = test::make_node("parent");
  auto ping_service = node.service_builder(ping).event().backend(GetParam()).create();
  auto pong_service = node.service_builder(pong).event().backend(GetParam()).create();
  ASSERT_TRUE(ping_service && pong_service);

  auto run = [&](const ServiceName& in, const ServiceName& out, bool starts) {
    return test::ChildProcess::fork([=] {
      auto n = NodeBuilder().create();
      auto in_service = n->service_builder(in).event().open();
      auto out_service = n->service_builder(out).event().open();
      if (!in_service || !out_service) return 30;
      auto listener = in_service->listener_builder().create();
      auto notifier = out_service->notifier_builder().create();
      if (!listener || !notifier) return 31;
      if (!eventually([&] { return out_service->number_of_listeners() == 1; })) return 32;
      for (int i = 0; i < kRounds; ++i) {
        if (starts && !notifier->notify(EventId{1})) return 33;
        std::uint64_t got = 0;
        auto r = listener->blocking_wait([&](EventId, std::uint64_t c) { got += c; });
        if (!r || got != 1) return 34;
        if (!starts && !notifier->notify(EventId{1})) return 35;
      }
      return 0;
    });
  };
  auto a = run(pong, ping, true);
  auto b = run(ping, pong, false);
  auto sa = a.wait_for(60s);
  auto sb = b.wait_for(60s);
  ASSERT_TRUE(sa && sb) << "deadlock: a round trip never completed";
  EXPECT_TRUE(sa->success()) << sa->code;
  EXPECT_TRUE(sb->success()) << sb->code;
}

TEST_P(EventMultiProcess, ListenerKilledWithSigkillLeavesNotifiersWorkingAndIsCleanedUp) {
  auto node = test::make_node("survivor");
  auto service = builder(node).create();
  ASSERT_TRUE(service);
  auto notifier = service->notifier_builder().create();
  ASSERT_TRUE(notifier);

  // The victim is forked before this process makes an eventfd listener (which starts the
  // node's fd-server thread): ThreadSanitizer cannot follow a fork of a threaded process.
  auto victim = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto s = n->service_builder(name).event().open();
    auto l = s->listener_builder().create();
    for (;;) (void)l->blocking_wait([](EventId, std::uint64_t) {});
    return 0;
  });
  ASSERT_TRUE(eventually([&] { return service->number_of_listeners() == 1; }));
  auto survivor = service->listener_builder().create();
  ASSERT_TRUE(survivor);
  auto info = describe_service(name);
  ASSERT_TRUE(info);
  ASSERT_EQ(info->node_ids.size(), 2u);
  const auto victim_id = info->node_ids[0] == node.id() ? info->node_ids[1] : info->node_ids[0];
  ASSERT_EQ(*notifier->notify(EventId{1}), 2u);
  victim.kill(SIGKILL);
  ASSERT_TRUE(victim.wait_for(10s));

  // Still works: the dead listener is counted until cleaned, the survivor still gets it all.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(notifier->notify(EventId{2}));
  std::uint64_t got = 0;
  ASSERT_TRUE(survivor->try_wait([&](EventId, std::uint64_t c) { got += c; }));
  EXPECT_EQ(got, 1001u);

  const auto report = Node::cleanup_dead_nodes();
  ASSERT_EQ(report.dead_nodes.size(), 1u);
  EXPECT_EQ(report.dead_nodes[0], victim_id);
  EXPECT_EQ(report.removed_ports, 1u);
  EXPECT_EQ(service->number_of_listeners(), 1u);
  EXPECT_EQ(service->number_of_nodes(), 1u);
  EXPECT_EQ(*notifier->notify(EventId{3}), 1u);
  for (const auto& file : test::root_files()) {
    EXPECT_EQ(file.find(victim_id.to_string()), std::string::npos) << "left by the dead node: " << file;
  }
  for (const auto& object : test::shm_objects()) {
    EXPECT_EQ(object.find(victim_id.to_string()), std::string::npos) << "left by the dead node: " << object;
  }
}

TEST_P(EventMultiProcess, OpenOrCreateFromEightProcessesAtOnceAllSucceed) {
  constexpr int kProcesses = 8;
  std::vector<test::ChildProcess> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(test::ChildProcess::fork([&] {
      for (int round = 0; round < 20; ++round) {
        auto n = NodeBuilder().create();
        if (!n) { std::fprintf(stderr, "node: %s\n", to_string(n.error())); return 40; }
        auto s = n->service_builder(name).event().backend(GetParam()).max_nodes(16)
                     .open_or_create();
        if (!s) return 41;
        auto l = s->listener_builder().create();
        if (!l) return 42;
      }
      return 0;
    }));
  }
  for (auto& c : children) {
    auto s = c.wait_for(60s);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->success()) << "child exit " << s->code;
  }
  EXPECT_TRUE(test::shm_objects().empty()) << "the last one out removes the service";
}

TEST_P(EventMultiProcess, NodeLimitHoldsAcrossProcessesAndFreesWhenAHolderDies) {
  auto node = test::make_node("first");
  auto service = builder(node).max_nodes(2).create();
  ASSERT_TRUE(service);
  auto holder = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto s = n->service_builder(name).event().open();
    if (!s) return 50;
    for (;;) std::this_thread::sleep_for(1s);
    return 0;
  });
  ASSERT_TRUE(eventually([&] { return service->number_of_nodes() == 2; }));
  auto third = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto s = n->service_builder(name).event().open();
    return !s && s.error() == EventOpenError::ExceedsMaxNodes ? 0 : 51;
  });
  auto third_status = third.wait_for(10s);
  ASSERT_TRUE(third_status);
  EXPECT_TRUE(third_status->success());
  holder.kill(SIGKILL);
  ASSERT_TRUE(holder.wait_for(10s));
  // The next open cleans the dead holder's slot by itself.
  auto fourth = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto s = n->service_builder(name).event().open();
    return s ? 0 : 52;
  });
  auto fourth_status = fourth.wait_for(10s);
  ASSERT_TRUE(fourth_status);
  EXPECT_TRUE(fourth_status->success());
}

}  // namespace

namespace {

TEST(EventPermissions, AnotherUsersServiceIsPermissionDeniedNotACrash) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  const auto name = test::service_name("private");
  auto node = test::make_node("owner");
  auto service = node.service_builder(name).event().create();
  ASSERT_TRUE(service);
  auto stranger = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();  // as root, before dropping privileges
    if (!n) return 60;
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 61;
    auto s = n->service_builder(name).event().open();
    if (s) return 62;
    return s.error() == EventOpenError::PermissionDenied ? 0 : 63;
  });
  auto status = stranger.wait_for(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "exit " << status->code;
}

}  // namespace
