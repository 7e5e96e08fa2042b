#include "axon/platform/epoll.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>

#include "axon/platform/event_fd.hpp"

namespace {

using axon::platform::Epoll;
using axon::platform::ErrorCode;
using axon::platform::EventFd;
using namespace std::chrono_literals;

// SIGUSR2 with a do-nothing handler and no SA_RESTART, for the duration of a test; a helper
// thread sends it to the waiting thread until told to stop, so the wait is interrupted whenever
// it starts.
class InterruptingSignal {
 public:
  InterruptingSignal() : m_target(::pthread_self()) {
    struct sigaction action {};
    action.sa_handler = +[](int) {};
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR2, &action, &m_previous);
    m_sender = std::thread([this] {
      while (!m_stop.load()) {
        ::pthread_kill(m_target, SIGUSR2);
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  InterruptingSignal(const InterruptingSignal&) = delete;
  InterruptingSignal& operator=(const InterruptingSignal&) = delete;
  ~InterruptingSignal() {
    m_stop.store(true);
    m_sender.join();
    ::sigaction(SIGUSR2, &m_previous, nullptr);
  }

 private:
  pthread_t m_target;
  struct sigaction m_previous {};
  std::atomic<bool> m_stop{false};
  std::thread m_sender;
};

TEST(Epoll, WaitWithNothingReadyLastsAtLeastTheTimeout) {
  auto sut = Epoll::create();
  ASSERT_TRUE(sut);
  std::array<epoll_event, 4> events{};
  for (const auto timeout : {std::chrono::nanoseconds(20ms), std::chrono::nanoseconds(1500us)}) {
    const auto start = std::chrono::steady_clock::now();
    auto ready = sut->wait(events, timeout);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(ready) << ready.error().describe();
    EXPECT_EQ(*ready, 0u);
    EXPECT_GE(elapsed, timeout);
  }
}

TEST(Epoll, ZeroTimeoutOnlyLooks) {
  auto sut = Epoll::create();
  ASSERT_TRUE(sut);
  std::array<epoll_event, 1> events{};
  auto ready = sut->wait(events, 0ns);
  ASSERT_TRUE(ready);
  EXPECT_EQ(*ready, 0u);
}

TEST(Epoll, UnconsumedReadinessIsReportedAgainWithItsToken) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 42));
  ASSERT_TRUE(event->notify());
  std::array<epoll_event, 4> events{};
  for (int round = 0; round < 2; ++round) {
    auto ready = sut->wait(events, 0ns);
    ASSERT_TRUE(ready);
    ASSERT_EQ(*ready, 1u);
    EXPECT_EQ(events[0].data.u64, 42u);
    EXPECT_NE(events[0].events & EPOLLIN, 0u);
  }
  ASSERT_TRUE(event->try_read());
  auto ready = sut->wait(events, 0ns);
  ASSERT_TRUE(ready);
  EXPECT_EQ(*ready, 0u);
}

TEST(Epoll, ReadinessThatExistedBeforeAddIsReported) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(event->notify());
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 1));
  std::array<epoll_event, 4> events{};
  auto ready = sut->wait(events, 0ns);
  ASSERT_TRUE(ready);
  EXPECT_EQ(*ready, 1u);
}

TEST(Epoll, EdgeTriggeredReadinessIsReportedOncePerEdge) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN | EPOLLET, 1));
  ASSERT_TRUE(event->notify());
  std::array<epoll_event, 4> events{};
  auto first = sut->wait(events, 0ns);
  auto second = sut->wait(events, 0ns);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, 1u);
  EXPECT_EQ(*second, 0u);
}

TEST(Epoll, ModifyReplacesInterestAndToken) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 1));
  std::array<epoll_event, 4> events{};
  auto idle = sut->wait(events, 0ns);
  ASSERT_TRUE(idle);
  EXPECT_EQ(*idle, 0u);
  ASSERT_TRUE(sut->modify(event->fd(), EPOLLOUT, 2));  // an eventfd is writable when not full
  auto ready = sut->wait(events, 0ns);
  ASSERT_TRUE(ready);
  ASSERT_EQ(*ready, 1u);
  EXPECT_EQ(events[0].data.u64, 2u);
  EXPECT_NE(events[0].events & EPOLLOUT, 0u);
}

TEST(Epoll, RemovedDescriptorIsNoLongerReported) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 1));
  ASSERT_TRUE(event->notify());
  ASSERT_TRUE(sut->remove(event->fd()));
  std::array<epoll_event, 4> events{};
  auto ready = sut->wait(events, 0ns);
  ASSERT_TRUE(ready);
  EXPECT_EQ(*ready, 0u);
}

TEST(Epoll, MisuseGivesDistinctErrors) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  auto unknown_modify = sut->modify(event->fd(), EPOLLIN, 1);
  ASSERT_FALSE(unknown_modify);
  EXPECT_EQ(unknown_modify.error().code, ErrorCode::DoesNotExist);
  auto unknown_remove = sut->remove(event->fd());
  ASSERT_FALSE(unknown_remove);
  EXPECT_EQ(unknown_remove.error().code, ErrorCode::DoesNotExist);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 1));
  auto twice = sut->add(event->fd(), EPOLLIN, 1);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::AlreadyExists);
  auto empty = sut->wait({}, 0ns);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::InvalidArgument);
}

TEST(Epoll, NotificationFromAnotherThreadEndsAnUnboundedWait) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 7));
  std::thread notifier([&] {
    std::this_thread::sleep_for(10ms);
    (void)event->notify();
  });
  std::array<epoll_event, 4> events{};
  auto ready = sut->wait(events, std::nullopt);
  notifier.join();
  ASSERT_TRUE(ready);
  ASSERT_EQ(*ready, 1u);
  EXPECT_EQ(events[0].data.u64, 7u);
}

TEST(Epoll, SignalEndsTheWaitWithInterruptedInsteadOfRetrying) {
  auto sut = Epoll::create();
  ASSERT_TRUE(sut);
  std::array<epoll_event, 4> events{};
  tl::expected<std::size_t, axon::platform::Error> ready;
  {
    const InterruptingSignal signal;
    ready = sut->wait(events, 30s);
  }
  ASSERT_FALSE(ready);
  EXPECT_EQ(ready.error().code, ErrorCode::Interrupted);
}

TEST(Epoll, OwnDescriptorIsReadableWhileSomethingIsReady) {
  auto sut = Epoll::create();
  auto event = EventFd::create();
  ASSERT_TRUE(sut && event);
  ASSERT_TRUE(sut->add(event->fd(), EPOLLIN, 1));
  auto idle = axon::platform::wait_readable(sut->fd(), 0ns);
  ASSERT_TRUE(idle);
  EXPECT_FALSE(*idle);
  ASSERT_TRUE(event->notify());
  auto ready = axon::platform::wait_readable(sut->fd(), 0ns);
  ASSERT_TRUE(ready);
  EXPECT_TRUE(*ready);
}

}  // namespace
