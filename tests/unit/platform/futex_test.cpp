#include "axon/platform/futex.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <new>
#include <string>
#include <thread>

#include "axon/platform/shared_memory.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using axon::platform::ErrorCode;
using axon::platform::futex_wait;
using axon::platform::futex_wake;
using axon::platform::SharedMemory;
using namespace std::chrono_literals;

struct ShmName {
  std::string value = axon::test::prefix() + axon::test::unique_name("x");
  ShmName() = default;
  ShmName(const ShmName&) = delete;
  ShmName& operator=(const ShmName&) = delete;
  ~ShmName() { (void)SharedMemory::remove(value); }
};

TEST(Futex, WaitOnAWordThatDiffersGivesWouldBlock) {
  std::atomic<std::uint32_t> word{1};
  auto sut = futex_wait(word, 0, std::nullopt);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::WouldBlock);
}

TEST(Futex, WaitEndsWithTimedOutNoEarlierThanTheDeadline) {
  std::atomic<std::uint32_t> word{0};
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + 20ms;
  auto sut = futex_wait(word, 0, deadline);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::TimedOut);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(Futex, DeadlineInThePastTimesOutAtOnce) {
  std::atomic<std::uint32_t> word{0};
  for (const auto deadline :
       {std::chrono::steady_clock::now() - 1s, std::chrono::steady_clock::time_point{}}) {
    auto sut = futex_wait(word, 0, deadline);
    ASSERT_FALSE(sut);
    EXPECT_EQ(sut.error().code, ErrorCode::TimedOut);
  }
}

TEST(Futex, WakeWithoutWaitersWakesNobodyAndZeroAsksForNobody) {
  std::atomic<std::uint32_t> word{0};
  auto woken = futex_wake(word, INT_MAX);
  ASSERT_TRUE(woken);
  EXPECT_EQ(*woken, 0);
  auto none = futex_wake(word, 0);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  auto negative = futex_wake(word, -1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code, ErrorCode::InvalidArgument);
}

TEST(Futex, WaiterInAChildProcessIsWokenByTheParent) {
  ShmName name;
  auto memory = SharedMemory::create(name.value, 4096);
  ASSERT_TRUE(memory);
  // SAFETY: fresh zero-filled shared memory, page-aligned; the atomic is lock-free and its
  // all-zero representation is the value 0.
  auto* word = new (memory->data()) std::atomic<std::uint32_t>(0);

  auto child = axon::test::ChildProcess::fork([&] {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    // ORDERING: acquire pairs with the parent's release store of 1.
    while (word->load(std::memory_order_acquire) == 0) {
      auto waited = futex_wait(*word, 0, deadline);
      if (!waited && waited.error().code == ErrorCode::TimedOut) return 1;
    }
    return 0;
  });

  // A wake that finds the child proves the futex is shared across processes: a private futex
  // would be keyed by our own address space and never meet the child's waiter. Waking while the
  // word is still 0 only makes the child wait again.
  int woken = 0;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (woken == 0 && std::chrono::steady_clock::now() < give_up) {
    auto result = futex_wake(*word, INT_MAX);
    ASSERT_TRUE(result);
    woken = *result;
    if (woken == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(woken, 1);
  word->store(1, std::memory_order_release);  // ORDERING: see the child's acquire load
  ASSERT_TRUE(futex_wake(*word, INT_MAX));
  const auto status = child.wait_for(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "exit " << status->code;
}

TEST(Futex, SignalEndsTheWaitWithInterrupted) {
  struct sigaction action {};
  action.sa_handler = +[](int) {};
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR2, &action, &previous), 0);
  std::atomic<bool> done{false};
  const pthread_t target = ::pthread_self();
  std::thread sender([&] {
    while (!done.load()) {
      ::pthread_kill(target, SIGUSR2);
      std::this_thread::sleep_for(5ms);
    }
  });
  std::atomic<std::uint32_t> word{0};
  auto sut = futex_wait(word, 0, std::chrono::steady_clock::now() + 30s);
  done.store(true);
  sender.join();
  ::sigaction(SIGUSR2, &previous, nullptr);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::Interrupted);
}

}  // namespace
