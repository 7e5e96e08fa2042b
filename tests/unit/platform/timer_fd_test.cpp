#include "axon/platform/timer_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace {

using axon::platform::ErrorCode;
using axon::platform::TimerFd;
using axon::platform::wait_readable;
using namespace std::chrono_literals;

TEST(TimerFd, UnarmedTimerGivesWouldBlock) {
  auto sut = TimerFd::create();
  ASSERT_TRUE(sut);
  EXPECT_NE(::fcntl(sut->fd(), F_GETFD) & FD_CLOEXEC, 0);
  auto got = sut->try_read();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::WouldBlock);
}

TEST(TimerFd, OneShotExpiresOnceAndNoEarlierThanAsked) {
  auto sut = TimerFd::create();
  ASSERT_TRUE(sut);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->arm(20ms, 0ns));
  auto readable = wait_readable(sut->fd(), 10s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(readable && *readable);
  EXPECT_GE(elapsed, 20ms);
  auto got = sut->try_read();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 1u);
  EXPECT_FALSE(sut->try_read());
}

TEST(TimerFd, PeriodicTimerKeepsExpiring) {
  auto sut = TimerFd::create();
  ASSERT_TRUE(sut);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->arm(5ms, 5ms));
  std::uint64_t total = 0;
  while (total < 4) {
    auto readable = wait_readable(sut->fd(), 10s);
    ASSERT_TRUE(readable && *readable);
    auto got = sut->try_read();
    ASSERT_TRUE(got);
    EXPECT_GE(*got, 1u);
    total += *got;
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms * static_cast<int>(total));
}

TEST(TimerFd, ZeroInitialDelayStillArms) {
  auto sut = TimerFd::create();
  ASSERT_TRUE(sut);
  ASSERT_TRUE(sut->arm(0ns, 0ns));
  auto readable = wait_readable(sut->fd(), 10s);
  ASSERT_TRUE(readable && *readable);
  auto got = sut->try_read();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 1u);
}

TEST(TimerFd, DisarmedTimerNeverExpires) {
  auto sut = TimerFd::create();
  ASSERT_TRUE(sut);
  ASSERT_TRUE(sut->arm(10ms, 10ms));
  ASSERT_TRUE(sut->disarm());
  auto readable = wait_readable(sut->fd(), 50ms);
  ASSERT_TRUE(readable);
  EXPECT_FALSE(*readable);
}

TEST(TimerFd, NegativeIntervalIsInvalid) {
  auto sut = TimerFd::create();
  ASSERT_TRUE(sut);
  auto armed = sut->arm(1ms, -1ms);
  ASSERT_FALSE(armed);
  EXPECT_EQ(armed.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
