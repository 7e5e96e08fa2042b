#include "axon/waitset.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

#include "axon/axon.hpp"
#include "axon/platform/signals.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Watchdog for loops that wait for something that must happen: generous, never a verdict on
// speed, only a stop for a hang.
constexpr auto kWatchdog = 5s;

// The suite runs twice (tests/CMakeLists.txt): as is, and with every WaitSet busy-polling for
// this budget first, whose semantics must be the same.
#ifdef AXON_TEST_BUSY_POLL_US
constexpr std::chrono::nanoseconds kBusyPoll = std::chrono::microseconds(AXON_TEST_BUSY_POLL_US);
#else
constexpr std::chrono::nanoseconds kBusyPoll{0};
#endif

// Every WaitSet of the suite is made from this.
WaitSetBuilder builder() { return WaitSetBuilder().busy_poll(kBusyPoll); }

class Fd {
 public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.m_fd, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return m_fd; }
  void reset(int fd = -1) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }

 private:
  int m_fd;
};

Fd make_eventfd() { return Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)); }

void signal_eventfd(const Fd& fd) {
  const std::uint64_t one = 1;
  ASSERT_EQ(::write(fd.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
}

void consume_eventfd(const Fd& fd) {
  std::uint64_t value = 0;
  (void)::read(fd.get(), &value, sizeof value);
}

struct Pipe {
  Fd read_end;
  Fd write_end;
};

Pipe make_pipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

struct SocketPair {
  Fd a;
  Fd b;
};

SocketPair make_socketpair() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  return SocketPair{Fd(fds[0]), Fd(fds[1])};
}

WaitSet make_sut(std::size_t capacity = WaitSet::kDefaultCapacity) {
  auto sut = builder().capacity(capacity).create();
  EXPECT_TRUE(sut) << to_string(sut.error());
  return std::move(*sut);
}

// A real event service with one listener and one notifier, made by a real node.
struct EventRig {
  Node node;
  EventService service;
  Listener listener;
  Notifier notifier;

  std::size_t drain() {
    std::size_t seen = 0;
    auto r = listener.try_wait([&](EventId, std::uint64_t count) { seen += count; });
    EXPECT_TRUE(r);
    return seen;
  }
};

std::unique_ptr<EventRig> make_rig() {
  auto node = NodeBuilder().create();
  EXPECT_TRUE(node);
  auto name = ServiceName::create(test::unique_name("waitset"));
  EXPECT_TRUE(name);
  auto service = node->service_builder(*name).event().open_or_create();
  EXPECT_TRUE(service);
  auto listener = service->listener_builder().create();
  EXPECT_TRUE(listener);
  auto notifier = service->notifier_builder().default_event_id(EventId{7}).create();
  EXPECT_TRUE(notifier);
  if (!node || !service || !listener || !notifier) return nullptr;
  return std::unique_ptr<EventRig>(new EventRig{std::move(*node), std::move(*service),
                                                std::move(*listener), std::move(*notifier)});
}

template <typename Guard>
WaitSetGuard attached(Guard&& guard) {
  EXPECT_TRUE(guard) << to_string(guard.error());
  return std::move(*guard);
}

// Collects what one batch reported.
std::vector<AttachmentId> one_batch(WaitSet& sut, std::chrono::nanoseconds timeout) {
  std::vector<AttachmentId> ids;
  auto r = sut.wait_and_process_once_with_timeout(
      [&](AttachmentId id) {
        ids.push_back(id);
        return CallbackProgression::Continue;
      },
      timeout);
  EXPECT_TRUE(r);
  if (r) {
    EXPECT_EQ(*r, WaitSetRunResult::AllEventsHandled);
  }
  return ids;
}

TEST(WaitSet, EmptyWaitSetFailsWithNoAttachments) {
  auto sut = make_sut();
  EXPECT_TRUE(sut.is_empty());
  auto never = [](AttachmentId) { return CallbackProgression::Continue; };
  auto once = sut.wait_and_process_once_with_timeout(never, 10ms);
  ASSERT_FALSE(once);
  EXPECT_EQ(once.error(), WaitSetRunError::NoAttachments);
  auto loop = sut.wait_and_process(never);
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error(), WaitSetRunError::NoAttachments);
  auto batch = sut.wait(10ms);
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error(), WaitSetRunError::NoAttachments);
}

TEST(WaitSet, CreateRejectsCapacityZeroAndAboveTheMaximum) {
  auto zero = builder().capacity(0).create();
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error(), WaitSetCreateError::InvalidCapacity);
  auto huge = builder().capacity(WaitSet::kMaxCapacity + 1).create();
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error(), WaitSetCreateError::InvalidCapacity);
  auto sut = builder().create();
  ASSERT_TRUE(sut);
  EXPECT_EQ(sut->capacity(), WaitSet::kDefaultCapacity);
}

TEST(WaitSet, SameListenerTwiceIsAlreadyAttached) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_sut();
  auto first = attached(sut.attach_notification(rig->listener));
  auto again = sut.attach_notification(rig->listener);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), WaitSetAttachmentError::AlreadyAttached);
  auto as_deadline = sut.attach_deadline(rig->listener, 1s);
  ASSERT_FALSE(as_deadline);
  EXPECT_EQ(as_deadline.error(), WaitSetAttachmentError::AlreadyAttached);
  EXPECT_EQ(sut.len(), 1u);
}

TEST(WaitSet, SameFdTwiceIsAlreadyAttached) {
  auto fd = make_eventfd();
  auto sut = make_sut();
  auto first = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  auto again = sut.attach_fd(fd.get(), FdInterest::Write);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), WaitSetAttachmentError::AlreadyAttached);
  auto as_deadline = sut.attach_deadline_fd(fd.get(), 1s);
  ASSERT_FALSE(as_deadline);
  EXPECT_EQ(as_deadline.error(), WaitSetAttachmentError::AlreadyAttached);
  EXPECT_EQ(sut.len(), 1u);
}

TEST(WaitSet, AttachBeyondCapacityIsCapacityExceededUntilOneIsDropped) {
  auto a = make_eventfd();
  auto b = make_eventfd();
  auto c = make_eventfd();
  auto sut = make_sut(2);
  auto first = attached(sut.attach_fd(a.get(), FdInterest::Read));
  auto second = attached(sut.attach_interval(1s));
  auto third = sut.attach_fd(c.get(), FdInterest::Read);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), WaitSetAttachmentError::CapacityExceeded);
  auto fourth = sut.attach_deadline_fd(b.get(), 1s);
  ASSERT_FALSE(fourth);
  EXPECT_EQ(fourth.error(), WaitSetAttachmentError::CapacityExceeded);
  first.detach();
  auto fits = sut.attach_fd(c.get(), FdInterest::Read);
  EXPECT_TRUE(fits);
  EXPECT_EQ(sut.len(), 2u);
}

TEST(WaitSet, InvalidArgumentsAreRejected) {
  auto sut = make_sut();
  auto negative = sut.attach_fd(-1, FdInterest::Read);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error(), WaitSetAttachmentError::InvalidArgument);

  Fd regular_file(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(regular_file.get(), 0);
  auto unpollable = sut.attach_fd(regular_file.get(), FdInterest::Read);
  ASSERT_FALSE(unpollable);
  EXPECT_EQ(unpollable.error(), WaitSetAttachmentError::InvalidArgument);

  auto itself = sut.attach_fd(sut.fd(), FdInterest::Read);
  ASSERT_FALSE(itself);
  EXPECT_EQ(itself.error(), WaitSetAttachmentError::InvalidArgument);

  auto fd = make_eventfd();
  auto zero_deadline = sut.attach_deadline_fd(fd.get(), 0ns);
  ASSERT_FALSE(zero_deadline);
  EXPECT_EQ(zero_deadline.error(), WaitSetAttachmentError::InvalidArgument);
  auto negative_interval = sut.attach_interval(-1ms);
  ASSERT_FALSE(negative_interval);
  EXPECT_EQ(negative_interval.error(), WaitSetAttachmentError::InvalidArgument);

  auto interval = attached(sut.attach_interval(1s));
  auto modify_interval = sut.modify(interval, FdInterest::Write);
  ASSERT_FALSE(modify_interval);
  EXPECT_EQ(modify_interval.error(), WaitSetAttachmentError::InvalidArgument);

  auto other = make_sut();
  auto foreign = attached(other.attach_fd(fd.get(), FdInterest::Read));
  auto modify_foreign = sut.modify(foreign, FdInterest::Write);
  ASSERT_FALSE(modify_foreign);
  EXPECT_EQ(modify_foreign.error(), WaitSetAttachmentError::InvalidArgument);
  EXPECT_EQ(sut.len(), 1u);
}

TEST(WaitSet, DroppingTheGuardDetaches) {
  auto fd = make_eventfd();
  auto other = make_eventfd();
  auto sut = make_sut();
  auto keep = attached(sut.attach_fd(other.get(), FdInterest::Read));
  {
    auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
    EXPECT_EQ(sut.len(), 2u);
  }
  EXPECT_EQ(sut.len(), 1u);
  signal_eventfd(fd);
  EXPECT_TRUE(one_batch(sut, 50ms).empty());
  // The fd is free again: it can be attached anew.
  auto again = sut.attach_fd(fd.get(), FdInterest::Read);
  EXPECT_TRUE(again);
}

TEST(WaitSet, DetachingTwiceAndDroppingAfterTheWaitSetAreHarmless) {
  auto fd = make_eventfd();
  std::optional<WaitSetGuard> outliving;
  {
    auto sut = make_sut();
    auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
    guard.detach();
    guard.detach();
    EXPECT_EQ(sut.len(), 0u);
    auto moved_from = attached(sut.attach_fd(fd.get(), FdInterest::Read));
    auto moved_to = std::move(moved_from);
    EXPECT_EQ(sut.len(), 1u);
    outliving.emplace(std::move(moved_to));
  }
  outliving->detach();
  outliving.reset();
  SUCCEED();
}

TEST(WaitSet, MoveAssigningAGuardDetachesWhatItHeld) {
  auto a = make_eventfd();
  auto b = make_eventfd();
  auto sut = make_sut();
  auto first = attached(sut.attach_fd(a.get(), FdInterest::Read));
  auto second = attached(sut.attach_fd(b.get(), FdInterest::Read));
  first = std::move(second);
  EXPECT_EQ(sut.len(), 1u);
  signal_eventfd(a);
  signal_eventfd(b);
  auto ids = one_batch(sut, 50ms);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(first));
}

TEST(WaitSet, OneBatchReportsEveryReadyAttachmentAndOnlyThose) {
  auto sut = make_sut();
  std::vector<Fd> fds;
  std::vector<WaitSetGuard> guards;
  for (int i = 0; i < 8; ++i) {
    fds.push_back(make_eventfd());
    guards.push_back(attached(sut.attach_fd(fds.back().get(), FdInterest::Read)));
  }
  const std::set<std::size_t> ready = {1, 4, 7};
  for (auto i : ready) signal_eventfd(fds[i]);

  auto ids = one_batch(sut, 1s);
  ASSERT_EQ(ids.size(), ready.size());
  std::set<std::size_t> reported;
  for (const auto& id : ids) {
    EXPECT_TRUE(id.readable());
    EXPECT_FALSE(id.writable());
    EXPECT_FALSE(id.hangup());
    EXPECT_FALSE(id.missed_deadline());
    for (std::size_t i = 0; i < guards.size(); ++i) {
      if (id.has_event_from(guards[i])) {
        EXPECT_TRUE(reported.insert(i).second) << "twice: " << i;
      }
    }
  }
  EXPECT_EQ(reported, ready);
}

TEST(WaitSet, TimeoutReturnsAllEventsHandledAfterAtLeastTheTimeout) {
  auto fd = make_eventfd();
  auto sut = make_sut();
  auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  for (const auto timeout : {std::chrono::nanoseconds(30ms), std::chrono::nanoseconds(1500us)}) {
    int calls = 0;
    const auto start = Clock::now();
    auto r = sut.wait_and_process_once_with_timeout(
        [&](AttachmentId) {
          ++calls;
          return CallbackProgression::Continue;
        },
        timeout);
    const auto elapsed = Clock::now() - start;
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, WaitSetRunResult::AllEventsHandled);
    EXPECT_EQ(calls, 0);
    EXPECT_GE(elapsed, timeout);
  }
  const auto start = Clock::now();
  auto batch = sut.wait(20ms);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->result, WaitSetRunResult::AllEventsHandled);
  EXPECT_TRUE(batch->triggered.empty());
  EXPECT_GE(Clock::now() - start, 20ms);
}

TEST(WaitSet, ZeroTimeoutOnlyLooks) {
  auto fd = make_eventfd();
  auto sut = make_sut();
  auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  EXPECT_TRUE(one_batch(sut, 0ns).empty());
  signal_eventfd(fd);
  EXPECT_EQ(one_batch(sut, 0ns).size(), 1u);
}

TEST(WaitSet, IntervalFiresAtItsPeriod) {
  constexpr auto kPeriod = 40ms;
  constexpr int kFirings = 4;
  auto sut = make_sut();
  const auto start = Clock::now();
  auto guard = attached(sut.attach_interval(kPeriod));
  int firings = 0;
  while (firings < kFirings && Clock::now() - start < kWatchdog) {
    for (const auto& id : one_batch(sut, 1s)) {
      EXPECT_TRUE(id.has_event_from(guard));
      EXPECT_FALSE(id.has_missed_deadline(guard));
      ++firings;
    }
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(firings, kFirings);
  EXPECT_GE(elapsed, kFirings * kPeriod);
}

TEST(WaitSet, MissedDeadlineIsReportedAndAnEventResetsIt) {
  constexpr auto kDeadline = 100ms;
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_sut();
  auto start = Clock::now();
  auto guard = attached(sut.attach_deadline(rig->listener, kDeadline));

  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_missed_deadline(guard));
  EXPECT_FALSE(ids[0].has_event_from(guard));
  EXPECT_GE(Clock::now() - start, kDeadline);

  // Halfway through the next period an event arrives: it is an event, and restarts the deadline.
  std::this_thread::sleep_for(kDeadline / 2);
  ASSERT_TRUE(rig->notifier.notify());
  start = Clock::now();  // the deadline restarts after this point, when the event is handled
  ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(guard));
  EXPECT_TRUE(ids[0].readable());
  EXPECT_FALSE(ids[0].has_missed_deadline(guard));
  EXPECT_EQ(rig->drain(), 1u);

  // The next miss comes a whole deadline after the event; without the reset it would come
  // one deadline after the previous miss, about half a deadline from `start`.
  ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_missed_deadline(guard));
  EXPECT_GE(Clock::now() - start, kDeadline);
}

TEST(WaitSet, EventAfterTheDeadlineButBeforeTheWaitCountsAsAnEvent) {
  constexpr auto kDeadline = 30ms;
  auto fd = make_eventfd();
  auto sut = make_sut();
  auto guard = attached(sut.attach_deadline_fd(fd.get(), kDeadline));
  std::this_thread::sleep_for(kDeadline * 3);  // the timer has expired
  signal_eventfd(fd);
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(guard));
  EXPECT_FALSE(ids[0].has_missed_deadline(guard));
  consume_eventfd(fd);
}

TEST(WaitSet, DeadlineTimerReArmsSoNothingSpinsAfterAMiss) {
  constexpr auto kDeadline = 50ms;
  constexpr auto kWindow = 600ms;
  auto fd = make_eventfd();
  auto sut = make_sut();
  auto guard = attached(sut.attach_deadline_fd(fd.get(), kDeadline));
  int misses = 0;
  int callbacks = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < kWindow) {
    for (const auto& id : one_batch(sut, kWindow)) {
      ++callbacks;
      if (id.has_missed_deadline(guard)) ++misses;
    }
  }
  // At most one miss per deadline (plus slack for the edges of the window); a timer that was
  // not re-armed or not read would have produced thousands.
  EXPECT_GE(misses, 1);
  EXPECT_EQ(callbacks, misses);
  EXPECT_LE(misses, static_cast<int>(kWindow / kDeadline) + 1);
}

TEST(WaitSet, AfterEventsAreConsumedThreeTimedWaitsEachBlockTheirFullTimeout) {
  constexpr auto kTimeout = 100ms;
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_sut();
  auto guard = attached(sut.attach_notification(rig->listener));
  ASSERT_TRUE(rig->notifier.notify());
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(guard));
  EXPECT_EQ(rig->drain(), 1u);
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(one_batch(sut, kTimeout).empty()) << "wait " << i;
    EXPECT_GE(Clock::now() - start, kTimeout) << "wait " << i;
  }
}

TEST(WaitSet, AnEventNotConsumedFiresAgain) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto fd = make_eventfd();
  auto sut = make_sut();
  auto listener_guard = attached(sut.attach_notification(rig->listener));
  auto fd_guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  ASSERT_TRUE(rig->notifier.notify());
  signal_eventfd(fd);
  for (int round = 0; round < 3; ++round) {
    auto ids = one_batch(sut, kWatchdog);
    EXPECT_EQ(ids.size(), 2u) << "round " << round;
  }
  EXPECT_EQ(rig->drain(), 1u);
  consume_eventfd(fd);
  EXPECT_TRUE(one_batch(sut, 20ms).empty());
}

TEST(WaitSet, ReadinessBeforeAttachIsReportedOnTheFirstWait) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  ASSERT_TRUE(rig->notifier.notify());
  auto pipe = make_pipe();
  ASSERT_EQ(::write(pipe.write_end.get(), "x", 1), 1);
  auto sut = make_sut();
  auto listener_guard = attached(sut.attach_notification(rig->listener));
  auto pipe_guard = attached(sut.attach_fd(pipe.read_end.get(), FdInterest::Read));
  auto ids = one_batch(sut, 0ns);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_TRUE(ids[0].has_event_from(listener_guard) || ids[1].has_event_from(listener_guard));
  EXPECT_TRUE(ids[0].has_event_from(pipe_guard) || ids[1].has_event_from(pipe_guard));
}

TEST(WaitSet, StopEndsTheBatchAtOnce) {
  auto sut = make_sut();
  std::vector<Fd> fds;
  std::vector<WaitSetGuard> guards;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(make_eventfd());
    guards.push_back(attached(sut.attach_fd(fds.back().get(), FdInterest::Read)));
    signal_eventfd(fds.back());
  }
  int calls = 0;
  auto r = sut.wait_and_process_once([&](AttachmentId) {
    ++calls;
    return CallbackProgression::Stop;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, WaitSetRunResult::StopRequest);
  EXPECT_EQ(calls, 1);
}

TEST(WaitSet, WaitAndProcessLoopsUntilACallbackStops) {
  auto sut = make_sut();
  auto guard = attached(sut.attach_interval(5ms));
  int calls = 0;
  auto r = sut.wait_and_process([&](AttachmentId id) {
    EXPECT_TRUE(id.has_event_from(guard));
    return ++calls == 5 ? CallbackProgression::Stop : CallbackProgression::Continue;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, WaitSetRunResult::StopRequest);
  EXPECT_EQ(calls, 5);
}

TEST(WaitSet, DetachInsideCallbackSuppressesPendingCallbackOfSameBatch) {
  auto sut = make_sut();
  auto a = make_eventfd();
  auto b = make_eventfd();
  std::optional<WaitSetGuard> guard_a = attached(sut.attach_fd(a.get(), FdInterest::Read));
  std::optional<WaitSetGuard> guard_b = attached(sut.attach_fd(b.get(), FdInterest::Read));
  signal_eventfd(a);
  signal_eventfd(b);
  int calls = 0;
  auto r = sut.wait_and_process_once([&](AttachmentId id) {
    ++calls;
    // Whichever comes first drops the other, whose callback is still pending in this batch.
    if (guard_a && id.has_event_from(*guard_a)) {
      guard_b.reset();
    } else if (guard_b && id.has_event_from(*guard_b)) {
      guard_a.reset();
    } else {
      ADD_FAILURE() << "a callback for a detached attachment";
    }
    return CallbackProgression::Continue;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sut.len(), 1u);
}

TEST(WaitSet, DetachingItselfInsideItsCallbackIsAllowed) {
  auto sut = make_sut();
  auto fd = make_eventfd();
  auto keep_fd = make_eventfd();
  auto keep = attached(sut.attach_fd(keep_fd.get(), FdInterest::Read));
  std::optional<WaitSetGuard> guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  signal_eventfd(fd);
  auto r = sut.wait_and_process_once([&](AttachmentId) {
    guard.reset();
    return CallbackProgression::Continue;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(sut.len(), 1u);
  EXPECT_TRUE(one_batch(sut, 20ms).empty());
}

TEST(WaitSet, AttachInsideCallbackWorks) {
  auto sut = make_sut();
  auto first = make_eventfd();
  auto second = make_eventfd();
  auto guard = attached(sut.attach_fd(first.get(), FdInterest::Read));
  std::optional<WaitSetGuard> added;
  signal_eventfd(first);
  signal_eventfd(second);
  int calls = 0;
  auto r = sut.wait_and_process_once([&](AttachmentId id) {
    ++calls;
    EXPECT_TRUE(id.has_event_from(guard));
    consume_eventfd(first);
    auto attach = sut.attach_fd(second.get(), FdInterest::Read);
    EXPECT_TRUE(attach);
    if (attach) added.emplace(std::move(*attach));
    return CallbackProgression::Continue;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(calls, 1);  // the new attachment was not part of the batch in flight
  ASSERT_TRUE(added);
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(*added));
}

TEST(WaitSet, AnFdNumberReusedAfterDetachGetsNoStaleEvent) {
  auto sut = make_sut();
  auto trigger = make_eventfd();
  auto trigger_guard = attached(sut.attach_fd(trigger.get(), FdInterest::Read));
  auto old_fd = make_eventfd();
  const int number = old_fd.get();
  std::optional<WaitSetGuard> old_guard = attached(sut.attach_fd(number, FdInterest::Read));
  std::optional<WaitSetGuard> new_guard;
  Fd new_fd;
  signal_eventfd(trigger);
  signal_eventfd(old_fd);
  int calls = 0;
  auto r = sut.wait_and_process_once([&](AttachmentId id) {
    ++calls;
    if (new_guard && id.has_event_from(*new_guard)) ADD_FAILURE() << "stale event for the new fd";
    if (!id.has_event_from(trigger_guard)) return CallbackProgression::Continue;
    // Both were ready in this batch: replace the old fd by a new one under the same number.
    old_guard.reset();
    old_fd.reset();
    new_fd = make_eventfd();
    EXPECT_EQ(new_fd.get(), number);
    auto attach = sut.attach_fd(new_fd.get(), FdInterest::Read);
    EXPECT_TRUE(attach);
    if (attach) new_guard.emplace(std::move(*attach));
    consume_eventfd(trigger);
    return CallbackProgression::Continue;
  });
  ASSERT_TRUE(r);
  ASSERT_TRUE(new_guard);
  // Either the old fd came first (2 calls, before the swap) or it was suppressed (1 call).
  EXPECT_LE(calls, 2);
  for (const auto& id : one_batch(sut, 50ms)) {
    EXPECT_FALSE(id.has_event_from(*new_guard)) << "the new fd is not ready";
  }
}

TEST(WaitSet, APeerClosingASocketIsReportedAsHangup) {
  auto sut = make_sut();
  auto pair = make_socketpair();
  auto guard = attached(sut.attach_fd(pair.a.get(), FdInterest::Read));
  EXPECT_TRUE(one_batch(sut, 20ms).empty());
  pair.b.reset();
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(guard));
  EXPECT_TRUE(ids[0].hangup());
}

TEST(WaitSet, APipeWhoseWriterClosedIsReportedAsHangup) {
  auto sut = make_sut();
  auto pipe = make_pipe();
  auto guard = attached(sut.attach_fd(pipe.read_end.get(), FdInterest::Read));
  pipe.write_end.reset();
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].hangup());
}

TEST(WaitSet, ModifySwitchesReadAndWriteInterest) {
  auto sut = make_sut();
  auto pair = make_socketpair();
  auto guard = attached(sut.attach_fd(pair.a.get(), FdInterest::Write));
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].writable());
  EXPECT_FALSE(ids[0].readable());

  ASSERT_TRUE(sut.modify(guard, FdInterest::Read));
  EXPECT_TRUE(one_batch(sut, 30ms).empty()) << "nothing to read yet";
  ASSERT_EQ(::write(pair.b.get(), "x", 1), 1);
  ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].readable());
  EXPECT_FALSE(ids[0].writable());

  ASSERT_TRUE(sut.modify(guard, FdInterest::ReadWrite));
  ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].readable());
  EXPECT_TRUE(ids[0].writable());
}

TEST(WaitSet, EdgeTriggeredFdIsReportedOncePerChange) {
  auto sut = make_sut();
  auto pipe = make_pipe();
  auto guard = attached(sut.attach_fd(pipe.read_end.get(), FdInterest::Read, TriggerMode::Edge));
  ASSERT_EQ(::write(pipe.write_end.get(), "x", 1), 1);
  EXPECT_EQ(one_batch(sut, kWatchdog).size(), 1u);
  EXPECT_TRUE(one_batch(sut, 30ms).empty()) << "not read, but edge-triggered: no repeat";
  ASSERT_EQ(::write(pipe.write_end.get(), "y", 1), 1);
  EXPECT_EQ(one_batch(sut, kWatchdog).size(), 1u);
}

TEST(WaitSet, WaitSetFdIsReadableWhenAnAttachmentIsReady) {
  auto sut = make_sut();
  auto fd = make_eventfd();
  auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  pollfd outer{sut.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&outer, 1, 0), 0);
  signal_eventfd(fd);
  EXPECT_EQ(::poll(&outer, 1, 1000), 1);
  EXPECT_TRUE(outer.revents & POLLIN);
  // Nested in another WaitSet, it reports as an ordinary fd.
  auto outer_sut = make_sut();
  auto nested = attached(outer_sut.attach_fd(sut.fd(), FdInterest::Read));
  auto ids = one_batch(outer_sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(nested));
  EXPECT_EQ(one_batch(sut, 0ns).size(), 1u);
}

TEST(WaitSet, ListenerNotificationsAreReportedUntilDrained) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_sut();
  auto guard = attached(sut.attach_notification(rig->listener));
  EXPECT_TRUE(one_batch(sut, 20ms).empty());
  ASSERT_TRUE(rig->notifier.notify());
  ASSERT_TRUE(rig->notifier.notify());
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(guard));
  EXPECT_TRUE(ids[0].readable());
  EXPECT_EQ(rig->drain(), 2u);
  EXPECT_TRUE(one_batch(sut, 20ms).empty());
}

TEST(WaitSet, LoopStyleWaitReturnsTheTriggeredAttachmentsWithTheirFlags) {
  auto sut = make_sut();
  auto fd = make_eventfd();
  auto idle = make_eventfd();
  auto pair = make_socketpair();
  auto fd_guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  auto idle_guard = attached(sut.attach_fd(idle.get(), FdInterest::Read));
  auto socket_guard = attached(sut.attach_fd(pair.a.get(), FdInterest::Write));
  auto deadline_guard = attached(sut.attach_deadline_fd(pair.b.get(), 1ms));
  signal_eventfd(fd);
  std::this_thread::sleep_for(5ms);
  auto batch = sut.wait(kWatchdog);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->result, WaitSetRunResult::AllEventsHandled);
  ASSERT_EQ(batch->triggered.size(), 3u);
  int seen = 0;
  for (const auto& id : batch->triggered) {
    EXPECT_FALSE(id.has_event_from(idle_guard));
    if (id.has_event_from(fd_guard)) {
      EXPECT_TRUE(id.readable());
      ++seen;
    }
    if (id.has_event_from(socket_guard)) {
      EXPECT_TRUE(id.writable());
      ++seen;
    }
    if (id.has_missed_deadline(deadline_guard)) {
      EXPECT_FALSE(id.has_event());
      ++seen;
    }
  }
  EXPECT_EQ(seen, 3);
}

TEST(WaitSet, AWaitStartedInsideACallbackFails) {
  auto sut = make_sut();
  auto fd = make_eventfd();
  auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  signal_eventfd(fd);
  auto r = sut.wait_and_process_once([&](AttachmentId) {
    auto nested = sut.wait(0ns);
    EXPECT_FALSE(nested);
    if (!nested) {
      EXPECT_EQ(nested.error(), WaitSetRunError::InternalFailure);
    }
    return CallbackProgression::Continue;
  });
  EXPECT_TRUE(r);
}

TEST(WaitSet, DetachingTheLastAttachmentEndsTheLoopWithNoAttachments) {
  auto sut = make_sut();
  std::optional<WaitSetGuard> guard = attached(sut.attach_interval(1ms));
  auto r = sut.wait_and_process([&](AttachmentId) {
    guard.reset();
    return CallbackProgression::Continue;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), WaitSetRunError::NoAttachments);
}

TEST(WaitSet, AttachmentIdIsHashableOrderedAndNamesItsGuard) {
  auto sut = make_sut();
  auto a = make_eventfd();
  auto b = make_eventfd();
  auto guard_a = attached(sut.attach_fd(a.get(), FdInterest::Read));
  auto guard_b = attached(sut.attach_fd(b.get(), FdInterest::Read));
  const auto id_a = AttachmentId::from_guard(guard_a);
  const auto id_b = AttachmentId::from_guard(guard_b);
  EXPECT_NE(id_a, id_b);
  EXPECT_TRUE((id_a < id_b) != (id_b < id_a));
  EXPECT_FALSE(id_a.has_event_from(guard_a)) << "an id from a guard carries no event";

  std::unordered_set<AttachmentId> handlers = {id_a, id_b};
  std::set<AttachmentId> ordered = {id_b, id_a};
  EXPECT_EQ(ordered.size(), 2u);
  signal_eventfd(a);
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], id_a);  // the flags do not take part
  EXPECT_EQ(handlers.count(ids[0]), 1u);
  EXPECT_EQ(std::hash<AttachmentId>{}(ids[0]), std::hash<AttachmentId>{}(id_a));

  // The same slot in another WaitSet is another attachment.
  auto other = make_sut();
  auto c = make_eventfd();
  auto guard_c = attached(other.attach_fd(c.get(), FdInterest::Read));
  EXPECT_NE(AttachmentId::from_guard(guard_c), id_a);
  signal_eventfd(c);
  auto other_ids = one_batch(other, kWatchdog);
  ASSERT_EQ(other_ids.size(), 1u);
  EXPECT_FALSE(other_ids[0].has_event_from(guard_a));
  EXPECT_TRUE(other_ids[0].has_event_from(guard_c));
}

TEST(WaitSet, SignalHandlersLiveAsLongAsAWaitSetThatAskedForThem) {
  if (platform::TerminationSignals::installed()) GTEST_SKIP() << "installed by someone else";
  {
    auto opted_out = builder().signal_handling(false).create();
    ASSERT_TRUE(opted_out);
    EXPECT_FALSE(platform::TerminationSignals::installed());
    auto first = make_sut();
    {
      auto second = make_sut();
      EXPECT_TRUE(platform::TerminationSignals::installed());
    }
    EXPECT_TRUE(platform::TerminationSignals::installed());
  }
  EXPECT_FALSE(platform::TerminationSignals::installed());
}

// Sends `signal` to `target` every few milliseconds until destroyed.
class SignalSender {
 public:
  SignalSender(pthread_t target, int signal, std::chrono::milliseconds first_after)
      : m_thread([this, target, signal, first_after] {
          std::this_thread::sleep_for(first_after);
          while (!m_stop.load()) {
            ::pthread_kill(target, signal);
            std::this_thread::sleep_for(3ms);
          }
        }) {}
  SignalSender(const SignalSender&) = delete;
  SignalSender& operator=(const SignalSender&) = delete;
  ~SignalSender() {
    m_stop.store(true);
    m_thread.join();
  }

 private:
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

TEST(WaitSet, OtherSignalsAreRetriedAndTheTimeoutStillHolds) {
  struct sigaction action {};
  action.sa_handler = +[](int) {};
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  for (const bool handling : {true, false}) {
    auto sut = builder().signal_handling(handling).create();
    ASSERT_TRUE(sut);
    auto fd = make_eventfd();
    auto guard = attached(sut->attach_fd(fd.get(), FdInterest::Read));
    const auto start = Clock::now();
    std::optional<tl::expected<WaitSetRunResult, WaitSetRunError>> r;
    {
      SignalSender sender(::pthread_self(), SIGUSR1, 0ms);
      r = sut->wait_and_process_once_with_timeout(
          [](AttachmentId) { return CallbackProgression::Continue; }, 150ms);
    }
    ASSERT_TRUE(*r);
    EXPECT_EQ(**r, WaitSetRunResult::AllEventsHandled);
    EXPECT_GE(Clock::now() - start, 150ms);
  }
  ::sigaction(SIGUSR1, &previous, nullptr);
}

TEST(WaitSet, SigintEndsTheWaitWithInterruptAndStaysUntilReset) {
  auto sut = make_sut();
  auto fd = make_eventfd();
  auto guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  platform::TerminationSignals::reset();
  std::thread sender([] {
    std::this_thread::sleep_for(20ms);
    ::kill(::getpid(), SIGINT);
  });
  auto r = sut.wait_and_process([](AttachmentId) { return CallbackProgression::Continue; });
  sender.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, WaitSetRunResult::Interrupt);
  auto again = sut.wait(kWatchdog);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result, WaitSetRunResult::Interrupt) << "termination requests are sticky";

  ::kill(::getpid(), SIGTERM);
  again = sut.wait(kWatchdog);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result, WaitSetRunResult::TerminationRequest);

  platform::TerminationSignals::reset();
  EXPECT_TRUE(one_batch(sut, 20ms).empty());
}

// Busy-polling (WaitSetBuilder::busy_poll): what it changes and what it must not.

WaitSet make_polling_sut(std::chrono::nanoseconds budget) {
  auto sut = WaitSetBuilder().busy_poll(budget).create();
  EXPECT_TRUE(sut) << to_string(sut.error());
  return std::move(*sut);
}

bool fd_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(WaitSetBusyPoll, CreateRejectsANegativeBudgetAndOneAboveTheMaximum) {
  auto negative = WaitSetBuilder().busy_poll(-1ns).create();
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error(), WaitSetCreateError::InvalidBusyPoll);
  auto huge = WaitSetBuilder().busy_poll(WaitSet::kMaxBusyPoll + 1ns).create();
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error(), WaitSetCreateError::InvalidBusyPoll);
  auto most = WaitSetBuilder().busy_poll(WaitSet::kMaxBusyPoll).create();
  ASSERT_TRUE(most);
  EXPECT_EQ(most->busy_poll(), WaitSet::kMaxBusyPoll);
  auto off = WaitSetBuilder().create();
  ASSERT_TRUE(off);
  EXPECT_EQ(off->busy_poll(), 0ns);
}

// The point of the budget: a notify that comes while the WaitSet polls finds the listener
// awake and writes no wake-up (its fd stays unreadable), and the wait still returns with it.
// Another thread notifies 50 ms into a 1 s budget; a run where the waiter was not polling yet
// (a thread scheduled that late) proves nothing, so up to 5 runs are made.
TEST(WaitSetBusyPoll, ANotifyWhileItPollsWritesNoWakeUpAndIsReported) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_polling_sut(1s);
  auto guard = attached(sut.attach_notification(rig->listener));
  bool unwritten = false;
  for (int run = 0; run < 5 && !unwritten; ++run) {
    std::thread notifier([&] {
      std::this_thread::sleep_for(50ms);
      EXPECT_TRUE(rig->notifier.notify());
    });
    auto ids = one_batch(sut, kWatchdog);
    notifier.join();
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_TRUE(ids[0].has_event_from(guard));
    unwritten = !fd_readable(rig->listener.fd());
    EXPECT_EQ(rig->drain(), 1u);
    EXPECT_FALSE(fd_readable(rig->listener.fd()));
  }
  EXPECT_TRUE(unwritten) << "every notify wrote a wake-up although the waiter was polling";
}

// After the budget the waiter sleeps; a notify then must write the wake-up and wake it: the
// claim on `pending` was given back.
TEST(WaitSetBusyPoll, ANotifyAfterTheBudgetWakesTheSleepingWait) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_polling_sut(1ms);
  auto guard = attached(sut.attach_notification(rig->listener));
  for (int round = 0; round < 20; ++round) {
    std::thread notifier([&] {
      std::this_thread::sleep_for(5ms);
      EXPECT_TRUE(rig->notifier.notify());
    });
    auto ids = one_batch(sut, kWatchdog);
    notifier.join();
    ASSERT_EQ(ids.size(), 1u) << "round " << round;
    EXPECT_TRUE(ids[0].has_event_from(guard));
    EXPECT_EQ(rig->drain(), 1u);
  }
}

// A listener that is always busy must not starve an fd: each batch reports every ready one.
TEST(WaitSetBusyPoll, AnFdIsServedWhileAPolledListenerKeepsTheWaitSetBusy) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_polling_sut(200us);
  auto listener_guard = attached(sut.attach_notification(rig->listener));
  auto fd = make_eventfd();
  auto fd_guard = attached(sut.attach_fd(fd.get(), FdInterest::Read));
  signal_eventfd(fd);
  bool served = false;
  const auto start = Clock::now();
  while (!served && Clock::now() - start < kWatchdog) {
    ASSERT_TRUE(rig->notifier.notify());
    for (const auto& id : one_batch(sut, kWatchdog)) {
      if (id.has_event_from(listener_guard)) rig->drain();
      served = served || id.has_event_from(fd_guard);
    }
  }
  EXPECT_TRUE(served);
}

// A termination signal ends the polling, not only the sleep after it.
TEST(WaitSetBusyPoll, SigintEndsThePolling) {
  auto rig = make_rig();
  ASSERT_TRUE(rig);
  auto sut = make_polling_sut(WaitSet::kMaxBusyPoll);
  auto guard = attached(sut.attach_notification(rig->listener));
  platform::TerminationSignals::reset();
  std::thread sender([] {
    std::this_thread::sleep_for(20ms);
    ::kill(::getpid(), SIGINT);
  });
  const auto start = Clock::now();
  auto r = sut.wait(std::nullopt);
  const auto took = Clock::now() - start;
  sender.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result, WaitSetRunResult::Interrupt);
  // Generous: only a wait that polled out its whole 1 s budget first fails.
  EXPECT_LT(took, 900ms);
  platform::TerminationSignals::reset();
}

// Detaching a polled attachment inside a callback (the swap-remove of the polled list) leaves
// the others polled and reported.
TEST(WaitSetBusyPoll, DetachingAPolledListenerInACallbackKeepsTheOthers) {
  auto a = make_rig();
  auto b = make_rig();
  auto c = make_rig();
  ASSERT_TRUE(a && b && c);
  auto sut = make_polling_sut(100us);
  std::optional<WaitSetGuard> guard_a = attached(sut.attach_notification(a->listener));
  auto guard_b = attached(sut.attach_notification(b->listener));
  auto guard_c = attached(sut.attach_notification(c->listener));
  ASSERT_TRUE(a->notifier.notify());
  ASSERT_TRUE(b->notifier.notify());
  auto r = sut.wait_and_process_once([&](AttachmentId id) {
    if (guard_a && id.has_event_from(*guard_a)) guard_a.reset();
    if (id.has_event_from(guard_b)) b->drain();
    return CallbackProgression::Continue;
  });
  ASSERT_TRUE(r);
  EXPECT_FALSE(guard_a);
  EXPECT_EQ(sut.len(), 2u);
  ASSERT_TRUE(c->notifier.notify());
  auto ids = one_batch(sut, kWatchdog);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0].has_event_from(guard_c));
  EXPECT_EQ(c->drain(), 1u);
  EXPECT_TRUE(one_batch(sut, 1ms).empty()) << "a's notification must not be reported after detach";
}

}  // namespace
