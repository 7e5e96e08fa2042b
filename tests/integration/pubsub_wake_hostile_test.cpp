// Wakeable subscribers against hostile or misbehaving peers (docs/design.md §6, "Wakeable
// subscribers", "Faults"): a peer that rewrites SubscriberSlot::flags in the service's dynamic
// config, squats or fills the wake service `__axon_wake/<H>`, notifies it itself, or stops while
// publishers connect to it; a publisher that cannot open the wake service and then goes idle; and
// processes racing to create the wake service. Every peer is a real process on real shared memory;
// the hostile one maps the service's dynamic config directly, as any process with access can.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "axon/core/publish_subscribe/layout.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::eventually;

struct Tick {
  static constexpr const char* AXON_TYPE_NAME = "test::Tick";
  std::uint64_t sequence;
  std::uint64_t check;
};
constexpr std::uint64_t kCheck = 0x9E3779B97F4A7C15ULL;

ServiceName wake_name(const ServiceName& name) {
  return *ServiceName::create("__axon_wake/" + detail::Paths::service_hash(name.as_string()));
}

bool readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & POLLIN) != 0;
}

/// A one-way signal between processes, made before the fork: `raise()` writes a byte, `wait()`
/// polls for one. `open()` closes the write end, so a reader blocked in `wait_closed()` goes on.
class Signal {
 public:
  Signal() {
    if (::pipe(m_fds) != 0) ADD_FAILURE() << "pipe failed";
  }
  ~Signal() {
    for (int fd : m_fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  void raise() const {
    const char c = 1;
    (void)!::write(m_fds[1], &c, 1);
  }
  bool wait(std::chrono::milliseconds timeout) const {
    if (!readable(m_fds[0], timeout)) return false;
    char c = 0;
    return ::read(m_fds[0], &c, 1) == 1;
  }
  /// In the child: forget our copy of the write end, so the parent's open() is an EOF.
  void child_side() {
    ::close(m_fds[1]);
    m_fds[1] = -1;
  }
  void open() {
    if (m_fds[1] >= 0) ::close(m_fds[1]);
    m_fds[1] = -1;
  }
  /// Blocks until open() in the other process (EOF on the read end).
  void wait_closed() const {
    char c = 0;
    while (::read(m_fds[0], &c, 1) > 0) {
    }
  }

 private:
  int m_fds[2] = {-1, -1};
};

/// A hostile peer's view of a publish-subscribe service: its dynamic config mapped read-write,
/// laid out from a copy of its static config (as tests/hostile/hostile_peer.cpp does).
class HostileView {
 public:
  static std::optional<HostileView> of(const ServiceName& name) {
    const auto config = Config::from_environment();
    const auto hash = detail::Paths::service_hash(name.as_string());
    auto s = platform::SharedMemory::open(detail::Paths::service_static(config, hash),
                                          platform::AccessMode::ReadOnly);
    auto d = platform::SharedMemory::open(detail::Paths::service_dynamic(config, hash),
                                          platform::AccessMode::ReadWrite);
    if (!s || !d || s->size() < sizeof(core::StaticConfig)) return std::nullopt;
    core::StaticConfig sc{};
    core::copy_static_config(sc, *static_cast<const core::StaticConfig*>(s->data()));
    const auto layout = core::compute_dynamic_layout(sc);
    if (layout.total_size > d->size()) return std::nullopt;
    return HostileView(std::move(*d), layout);
  }
  /// The slot of the subscriber whose id is `id`, or null.
  core::SubscriberSlot* subscriber(std::uint64_t id) {
    const auto& table = m_layout.ports[core::PubSubLayout::kSubscriberTable];
    for (std::uint32_t i = 0; i < table.count; ++i) {
      auto* slot = reinterpret_cast<core::SubscriberSlot*>(
          static_cast<std::byte*>(m_dynamic.data()) + table.offset + std::uint64_t{table.stride} * i);
      if (slot->port.port_id.load() == id) return slot;
    }
    return nullptr;
  }

 private:
  HostileView(platform::SharedMemory dynamic, core::DynamicLayout layout)
      : m_dynamic(std::move(dynamic)), m_layout(layout) {}
  platform::SharedMemory m_dynamic;
  core::DynamicLayout m_layout;
};

/// Settings the squatters copy: the wake service of a service made by `small_service`.
constexpr std::uint32_t kSubscribers = 4;
constexpr std::uint32_t kPublishers = 2;
constexpr std::uint32_t kNodes = 8;

PubSubService<Tick> small_service(Node& node, const ServiceName& name) {
  auto service = node.service_builder(name).publish_subscribe<Tick>().max_subscribers(kSubscribers)
                     .max_publishers(kPublishers).max_nodes(kNodes).subscriber_max_buffer_size(16)
                     .create();
  if (!service) {
    ADD_FAILURE() << "service: " << to_string(service.error());
    std::abort();
  }
  return std::move(*service);
}

/// The wake service as a squatter makes it before anyone needs it: exactly the settings the
/// library would choose, so nobody can tell it from a genuine one.
tl::expected<EventService, EventCreateError> squat_wake_service(Node& node, const ServiceName& name) {
  return node.service_builder(wake_name(name)).event().max_listeners(kSubscribers)
      .max_notifiers(kPublishers).max_nodes(kNodes).event_id_max_value(0).create();
}

// A hostile peer clears the flag of a wakeable subscriber (and sets every other bit) after a
// publisher of another process connected to it: read once, at connect, so every later send still
// wakes it.
TEST(PubSubWakeHostile, FlagsRewrittenAfterConnectChangeNothing) {
  const auto name = test::service_name("wflags");
  auto node = test::make_node("wflags");
  auto service = small_service(node, name);
  auto subscriber = service.subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber);
  constexpr std::uint64_t kTicks = 20;
  Signal connected;
  Signal rewritten;
  auto publisher = test::ChildProcess::fork([&] {
    rewritten.child_side();
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 31;
    auto pub = svc->publisher_builder().create();
    if (!pub) return 32;
    if (!pub->send_copy(Tick{0, 0})) return 33;  // connects: the flag is read here
    connected.raise();
    rewritten.wait_closed();
    for (std::uint64_t i = 1; i < kTicks; ++i) {
      if (!pub->send_copy(Tick{i, i * kCheck})) return 34;
      std::this_thread::sleep_for(5ms);  // pacing, so the subscriber falls asleep between ticks
    }
    return 0;
  });
  ASSERT_TRUE(connected.wait(10s));
  auto view = HostileView::of(name);
  ASSERT_TRUE(view);
  auto* slot = view->subscriber(subscriber->id());
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(slot->flags.load(), core::kSubscriberWakeable);
  slot->flags.store(~core::kSubscriberWakeable);  // wake bit cleared, every other bit set
  rewritten.open();
  std::uint64_t next = 0;
  while (next < kTicks) {
    ASSERT_TRUE(readable(subscriber->fd(), 3s)) << "tick " << next << " never woke us";
    for (;;) {
      auto got = subscriber->receive();
      ASSERT_TRUE(got) << to_string(got.error());
      if (!*got) break;
      ASSERT_EQ((**got).payload().sequence, next);
      ++next;
    }
  }
  auto status = publisher.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
}

// A hostile peer sets the flag of a plain subscriber before a publisher connects: the publisher
// opens the wake service and notifies it for nothing, and the plain subscriber still gets every
// sample. "At worst makes a publisher notify (or not) a subscriber that asked the other way."
TEST(PubSubWakeHostile, AFlagSetOnAPlainSubscriberOnlyCostsAWakeService) {
  const auto name = test::service_name("wplainflag");
  auto node = test::make_node("wplainflag");
  auto service = small_service(node, name);
  auto subscriber = service.subscriber_builder().create();
  ASSERT_TRUE(subscriber);
  auto view = HostileView::of(name);
  ASSERT_TRUE(view);
  auto* slot = view->subscriber(subscriber->id());
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(slot->flags.load(), 0u);
  slot->flags.store(core::kSubscriberWakeable);
  Signal sent;
  Signal done;
  auto publisher = test::ChildProcess::fork([&] {
    done.child_side();
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 31;
    auto pub = svc->publisher_builder().create();
    if (!pub) return 32;
    for (std::uint64_t i = 0; i < 3; ++i) {
      if (!pub->send_copy(Tick{i, i * kCheck})) return 33;
    }
    sent.raise();
    done.wait_closed();
    return 0;
  });
  ASSERT_TRUE(sent.wait(10s));
  // The publisher believed the flag: it made a notifier on the wake service.
  auto wake = describe_service(wake_name(name));
  ASSERT_TRUE(wake) << "the publisher made no wake service";
  EXPECT_EQ(wake->notifiers, 1u);
  EXPECT_EQ(wake->listeners, 0u);
  for (std::uint64_t i = 0; i < 3; ++i) {
    auto got = subscriber->receive();
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((**got).payload().sequence, i);
  }
  EXPECT_EQ(subscriber->fd(), -1);  // the subscriber itself is still a plain one
  done.open();
  auto status = publisher.wait_for(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
}

// A squatter holds `__axon_wake/<H>` as an event service with fewer listeners than the service has
// subscribers: wakeable subscribers are refused with WakeServiceUnavailable (plain ones are not).
// Once the squatter died, the service it left is removed by the next node created anywhere (its
// creation cleans up after dead nodes), and a wakeable subscriber is created again.
TEST(PubSubWakeHostile, ASquatterWithOtherSettingsRefusesWakeableSubscribersUntilCleanedUp) {
  const auto name = test::service_name("wsquat");
  auto node = test::make_node("wsquat");
  auto service = small_service(node, name);
  Signal ready;
  auto squatter = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto squat = n->service_builder(wake_name(name)).event().max_listeners(1).max_notifiers(1)
                     .create();
    if (!squat) return 31;
    ready.raise();
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(ready.wait(10s));
  auto refused = service.subscriber_builder().wakeable(true).create();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), SubscriberCreateError::WakeServiceUnavailable);
  EXPECT_TRUE(service.subscriber_builder().create());
  squatter.kill(SIGKILL);
  ASSERT_TRUE(squatter.wait_for(10s));
  auto newcomer = test::make_node("newcomer");  // cleans up after the dead squatter
  auto woken = service.subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(woken) << to_string(woken.error());
  auto wake = describe_service(wake_name(name));
  ASSERT_TRUE(wake);
  EXPECT_EQ(wake->event.max_listeners, kSubscribers);
}

// Was a bug (open_service checked the pattern and requirements before it purged dead nodes): a
// wake service whose every user died was removed by the next open only if its settings met the
// opener's requirements. A long-lived process (its node made before those users died, so no node
// creation cleans up for it) that recreated the service with more subscribers got
// WakeServiceUnavailable for every wakeable subscriber until someone ran `axon clean`. Now a
// service of dead nodes is removed before its pattern and settings are looked at.
TEST(PubSubWakeHostile, AWakeServiceLeftByDeadProcessesDoesNotBlockARecreatedService) {
  const auto name = test::service_name("wstale");
  auto node = test::make_node("wstale");  // long-lived: made before the others die
  Signal ready;
  auto old_deployment = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto svc = small_service(*n, name);  // 4 subscribers
    auto sub = svc.subscriber_builder().wakeable(true).create();
    if (!sub) return 31;
    ready.raise();
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(ready.wait(10s));
  old_deployment.kill(SIGKILL);
  ASSERT_TRUE(old_deployment.wait_for(10s));
  // Its pub-sub service goes on this open (every user dead), and comes back with the defaults.
  auto service = node.service_builder(name).publish_subscribe<Tick>().open_or_create();
  ASSERT_TRUE(service);
  ASSERT_EQ(describe_service(name)->pubsub.max_subscribers, PubSubDefaults::kMaxSubscribers);
  // What blocks it: the dead deployment's wake service, still there with 4 listeners.
  auto stale = describe_service(wake_name(name));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->event.max_listeners, kSubscribers);
  auto woken = service->subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(woken) << to_string(woken.error());
}

// A hostile peer that takes every listener slot of the wake service leaves wakeable subscribers
// WakeServiceUnavailable although subscriber slots are free (documented); plain ones still come,
// and its death frees the slots for the next wakeable subscriber.
TEST(PubSubWakeHostile, AHostileThatTakesEveryListenerRefusesWakeableSubscribersUntilItDies) {
  const auto name = test::service_name("wlisteners");
  auto node = test::make_node("wlisteners");
  auto service = small_service(node, name);
  Signal ready;
  auto hostile = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto wake = squat_wake_service(*n, name);
    if (!wake) return 31;
    std::vector<Listener> listeners;
    for (std::uint32_t i = 0; i < kSubscribers; ++i) {
      auto l = wake->listener_builder().create();
      if (!l) return 32;
      listeners.push_back(std::move(*l));
    }
    ready.raise();
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(ready.wait(10s));
  auto refused = service.subscriber_builder().wakeable(true).create();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), SubscriberCreateError::WakeServiceUnavailable);
  EXPECT_EQ(describe_service(name)->subscribers, 0u);  // nothing claimed on the way out
  EXPECT_TRUE(service.subscriber_builder().create());
  hostile.kill(SIGKILL);
  ASSERT_TRUE(hostile.wait_for(10s));
  auto woken = service.subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(woken) << to_string(woken.error());
}

// A hostile peer that notifies the wake service itself only causes spurious wake-ups: the fd fires,
// a receive finds nothing, reports no error, and quiets it again.
TEST(PubSubWakeHostile, AHostileNotifyIsASpuriousWakeUpThatAnEmptyReceiveQuiets) {
  const auto name = test::service_name("wnotify");
  auto node = test::make_node("wnotify");
  auto service = small_service(node, name);
  auto subscriber = service.subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber);
  ASSERT_FALSE(*subscriber->receive());
  ASSERT_FALSE(readable(subscriber->fd(), 0ms));
  auto hostile = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto wake = n->service_builder(wake_name(name)).event().open();
    if (!wake) return 31;
    auto notifier = wake->notifier_builder().create();
    if (!notifier) return 32;
    for (int i = 0; i < 1000; ++i) {
      if (!notifier->notify()) return 33;
    }
    return 0;
  });
  auto status = hostile.wait_for(10s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(status->success()) << "hostile exit " << status->code;
  EXPECT_TRUE(readable(subscriber->fd(), 1000ms));
  auto none = subscriber->receive();
  ASSERT_TRUE(none) << to_string(none.error());
  EXPECT_FALSE(*none);
  EXPECT_FALSE(readable(subscriber->fd(), 0ms));
}

// KNOWN GAP (docs/design.md §6, "Faults"; PublisherCore::wake_subscribers): a hostile peer that
// takes every notifier slot of the wake service (max_notifiers =
// max_publishers) makes each publisher's notifier creation fail (ExceedsMaxNotifiers). send()
// succeeds and says nothing, and the wakeable subscriber, created without error, sleeps with a
// sample waiting: a silent lost wake-up. The design says a squatter makes wakeable subscribers
// fail with WakeServiceUnavailable; here nothing fails. Disabled while the gap is open.
TEST(PubSubWakeHostile, DISABLED_AHostileThatTakesEveryNotifierSlotMustNotSilenceWakeUps) {
  const auto name = test::service_name("wnotifiers");
  auto node = test::make_node("wnotifiers");
  auto service = small_service(node, name);
  auto subscriber = service.subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber);
  Signal ready;
  auto hostile = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto wake = n->service_builder(wake_name(name)).event().open();
    if (!wake) return 31;
    std::vector<Notifier> notifiers;
    for (std::uint32_t i = 0; i < kPublishers; ++i) {
      auto made = wake->notifier_builder().create();
      if (!made) return 32;
      notifiers.push_back(std::move(*made));
    }
    ready.raise();
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(ready.wait(10s));
  auto publisher = service.publisher_builder().create();
  ASSERT_TRUE(publisher);
  ASSERT_TRUE(publisher->send_copy(Tick{0, 0}));  // says nothing of the wake-up it could not send
  EXPECT_EQ(describe_service(wake_name(name))->notifiers, kPublishers);  // all the hostile's
  // The sample is there; the fd must say so.
  EXPECT_TRUE(readable(subscriber->fd(), 1000ms)) << "a sample waits and the fd is quiet";
  auto got = subscriber->receive();
  ASSERT_TRUE(got && *got);
}

// KNOWN GAP (docs/design.md §6, "Faults"; PublisherCore::wake_subscribers): a publisher whose
// open of the wake service fails for a passing reason (here: out of fds) owes that wake-up and
// retries it at its next loan, send or chunks_in_use() (at most every 100 ms); one that sends once
// and makes no call after leaves the wakeable subscriber asleep with the sample waiting: nothing
// of the publisher runs to retry. The second half shows the next send recovers. Disabled while
// the gap is open.
TEST(PubSubWakeHostile, DISABLED_AWakeUpThatCouldNotBeSentIsNotLostWhenThePublisherGoesIdle) {
  const auto name = test::service_name("wemfile");
  auto node = test::make_node("wemfile");
  auto service = small_service(node, name);
  auto subscriber = service.subscriber_builder().wakeable(true).create();
  ASSERT_TRUE(subscriber);
  Signal sent;
  Signal again;
  auto publisher = test::ChildProcess::fork([&] {
    again.child_side();
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 31;
    auto pub = svc->publisher_builder().create();
    if (!pub) return 32;
    // Out of fds from here: every fd below the limit is taken, and no new one can be made.
    rlimit limit{256, 256};
    rlimit current{};
    if (::getrlimit(RLIMIT_NOFILE, &current) == 0) limit.rlim_max = current.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 33;
    std::vector<int> filler;
    for (int fd = ::dup(2); fd >= 0; fd = ::dup(2)) filler.push_back(fd);
    if (!pub->send_copy(Tick{0, 0})) return 34;
    sent.raise();
    again.wait_closed();
    for (int fd : filler) ::close(fd);
    if (!pub->send_copy(Tick{1, kCheck})) return 35;
    sent.raise();
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(sent.wait(10s));
  EXPECT_TRUE(readable(subscriber->fd(), 1000ms)) << "a sample waits and the fd is quiet";
  again.open();
  ASSERT_TRUE(sent.wait(10s));
  EXPECT_TRUE(readable(subscriber->fd(), 1000ms)) << "the next send did not wake it either";
  for (std::uint64_t i = 0; i < 2; ++i) {
    auto got = subscriber->receive();
    ASSERT_TRUE(got && *got) << "tick " << i;
    EXPECT_EQ((**got).payload().sequence, i);
  }
}

char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

// A wakeable subscriber whose process is stopped (SIGSTOP, a debugger) before a publisher first
// reaches its listener costs that publisher's send one answer time-out (the event pattern's
// notify, §5), then nothing until the back-off ends. Any peer allowed to subscribe can impose this
// on every publisher of the service; the test bounds it and prints what it measured.
TEST(PubSubWakeHostile, AStoppedWakeableSubscriberCostsASendAtMostOneConnectBudget) {
  const auto name = test::service_name("wstopped");
  auto node = test::make_node("wstopped");
  auto service = small_service(node, name);
  Signal ready;
  auto stopped = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    if (!n) return 30;
    auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
    if (!svc) return 31;
    auto sub = svc->subscriber_builder().wakeable(true).create();
    if (!sub) return 32;
    ready.raise();
    ::raise(SIGSTOP);
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(ready.wait(10s));
  ASSERT_TRUE(eventually([&] { return process_state(stopped.pid()) == 'T'; }));
  auto publisher = service.publisher_builder().create();
  ASSERT_TRUE(publisher);
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  ASSERT_TRUE(publisher->send_copy(Tick{0, 0}));
  const auto first = Clock::now() - t0;
  const auto t1 = Clock::now();
  ASSERT_TRUE(publisher->send_copy(Tick{1, kCheck}));
  const auto second = Clock::now() - t1;
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0;
  };
  std::printf("send to a stopped wakeable subscriber: first %.1f ms, second %.3f ms\n", ms(first),
              ms(second));
  EXPECT_LE(first, Notifier::kConnectBudget + 250ms);
  EXPECT_LE(second, 50ms);
  stopped.kill(SIGKILL);
  ASSERT_TRUE(stopped.wait_for(10s));
}

// Processes racing to make the first wakeable subscribers of a service all succeed: the wake
// service is created by exactly one of them and opened by the rest (open_or_create).
TEST(PubSubWakeHostile, ProcessesRacingToCreateTheWakeServiceAllSucceed) {
  const auto name = test::service_name("wrace");
  auto node = test::make_node("wrace");
  auto service = node.service_builder(name).publish_subscribe<Tick>().max_subscribers(8)
                     .max_nodes(10).create();
  ASSERT_TRUE(service);
  Signal go;
  Signal made;
  Signal done;
  constexpr int kRacers = 6;
  std::vector<test::ChildProcess> racers;
  for (int r = 0; r < kRacers; ++r) {
    racers.push_back(test::ChildProcess::fork([&] {
      go.child_side();
      done.child_side();
      auto n = NodeBuilder().create();
      if (!n) return 30;
      auto svc = n->service_builder(name).publish_subscribe<Tick>().open();
      if (!svc) return 31;
      go.wait_closed();
      auto sub = svc->subscriber_builder().wakeable(true).create();
      if (!sub) return 40 + static_cast<int>(sub.error());
      made.raise();
      done.wait_closed();
      return 0;
    }));
  }
  go.open();
  for (int r = 0; r < kRacers; ++r) ASSERT_TRUE(made.wait(10s)) << "racer " << r;
  auto wake = describe_service(wake_name(name));
  ASSERT_TRUE(wake);
  EXPECT_EQ(wake->listeners, static_cast<std::size_t>(kRacers));
  done.open();
  for (auto& racer : racers) {
    auto status = racer.wait_for(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->success()) << "racer exit " << status->code;
  }
}

}  // namespace
