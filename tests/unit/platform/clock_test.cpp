#include "axon/platform/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

using axon::platform::Deadline;
using axon::platform::monotonic_now;
using namespace std::chrono_literals;

TEST(Deadline, NeverHasNoRemainingTimeAndNeverExpires) {
  const auto sut = Deadline::never();
  EXPECT_FALSE(sut.expired());
  EXPECT_FALSE(sut.remaining().has_value());
  EXPECT_FALSE(sut.time_point().has_value());
}

TEST(Deadline, ZeroOrNegativeTimeoutIsExpiredAtOnceWithZeroRemaining) {
  for (const std::chrono::nanoseconds timeout : {0ns, std::chrono::nanoseconds(-5ms)}) {
    const auto sut = Deadline::after(timeout);
    EXPECT_TRUE(sut.expired());
    ASSERT_TRUE(sut.remaining().has_value());
    EXPECT_EQ(*sut.remaining(), 0ns);
  }
}

TEST(Deadline, TimeoutTooLargeToRepresentIsNever) {
  const auto sut = Deadline::after(std::chrono::nanoseconds::max());
  EXPECT_FALSE(sut.time_point().has_value());
  EXPECT_FALSE(sut.expired());
}

TEST(Deadline, RemainingShrinksAndExpiresOnceTheTimeoutHasPassed) {
  const auto start = std::chrono::steady_clock::now();
  const auto sut = Deadline::after(20ms);
  ASSERT_TRUE(sut.remaining().has_value());
  EXPECT_LE(*sut.remaining(), 20ms);
  ASSERT_TRUE(sut.time_point().has_value());
  EXPECT_GE(*sut.time_point(), start + 20ms);
  std::this_thread::sleep_until(*sut.time_point());
  EXPECT_TRUE(sut.expired());
  EXPECT_EQ(*sut.remaining(), 0ns);
}

TEST(MonotonicNow, NeverGoesBackwards) {
  auto previous = monotonic_now();
  for (int i = 0; i < 1000; ++i) {
    const auto now = monotonic_now();
    ASSERT_GE(now, previous);
    previous = now;
  }
}

}  // namespace
