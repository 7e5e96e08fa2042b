#include "axon/platform/signals.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "axon/platform/epoll.hpp"
#include "axon/platform/futex.hpp"
#include "process.hpp"

namespace {

using axon::platform::ErrorCode;
using axon::platform::TerminationSignals;
using axon::platform::wait_readable;
using namespace std::chrono_literals;

// Handlers are process-wide: every test starts and ends with none of ours installed.
class TerminationSignalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TerminationSignals::uninstall();
    TerminationSignals::reset();
  }
  void TearDown() override {
    TerminationSignals::uninstall();
    TerminationSignals::reset();
  }
};

struct sigaction disposition_of(int signal_number) {
  struct sigaction current {};
  ::sigaction(signal_number, nullptr, &current);
  return current;
}

bool fd_is_readable() {
  auto readable = wait_readable(TerminationSignals::fd(), 0ns);
  return readable && *readable;
}

// Waits (bounded) for the handler to have run, wherever the signal was delivered.
bool signal_arrived() {
  auto readable = wait_readable(TerminationSignals::fd(), 30s);
  return readable && *readable;
}

TEST_F(TerminationSignalsTest, InstallIsIdempotentAndUninstallUndoesIt) {
  ASSERT_TRUE(TerminationSignals::install());
  ASSERT_TRUE(TerminationSignals::install());
  EXPECT_TRUE(TerminationSignals::installed());
  EXPECT_GE(TerminationSignals::fd(), 0);
  EXPECT_NE(::fcntl(TerminationSignals::fd(), F_GETFD) & FD_CLOEXEC, 0);
  TerminationSignals::uninstall();
  EXPECT_FALSE(TerminationSignals::installed());
}

TEST_F(TerminationSignalsTest, HandlersDoNotRestartInterruptedCalls) {
  ASSERT_TRUE(TerminationSignals::install());
  for (const int signal_number : {SIGINT, SIGTERM}) {
    const auto action = disposition_of(signal_number);
    EXPECT_NE(action.sa_handler, SIG_DFL);
    EXPECT_NE(action.sa_handler, SIG_IGN);
    EXPECT_EQ(action.sa_flags & SA_RESTART, 0);
  }
}

TEST_F(TerminationSignalsTest, SigintToOurselvesIsRecordedAndMakesTheFdReadable) {
  ASSERT_TRUE(TerminationSignals::install());
  EXPECT_EQ(TerminationSignals::last_signal(), 0);
  EXPECT_FALSE(TerminationSignals::termination_requested());
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  ASSERT_TRUE(signal_arrived());
  EXPECT_EQ(TerminationSignals::last_signal(), SIGINT);
  EXPECT_TRUE(TerminationSignals::termination_requested());
}

TEST_F(TerminationSignalsTest, SigtermIsRecorded) {
  ASSERT_TRUE(TerminationSignals::install());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(signal_arrived());
  EXPECT_EQ(TerminationSignals::last_signal(), SIGTERM);
}

TEST_F(TerminationSignalsTest, ResetForgetsTheSignalAndDrainsTheFd) {
  ASSERT_TRUE(TerminationSignals::install());
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  ASSERT_TRUE(signal_arrived());
  TerminationSignals::reset();
  EXPECT_EQ(TerminationSignals::last_signal(), 0);
  EXPECT_FALSE(fd_is_readable());
}

TEST_F(TerminationSignalsTest, TakeSignalReturnsItOnceAndDrainsTheFd) {
  ASSERT_TRUE(TerminationSignals::install());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(signal_arrived());
  EXPECT_EQ(TerminationSignals::take_signal(), SIGTERM);
  EXPECT_EQ(TerminationSignals::take_signal(), 0);
  EXPECT_FALSE(fd_is_readable());
}

TEST_F(TerminationSignalsTest, OtherSignalsAreLeftAlone) {
  const auto usr1_before = disposition_of(SIGUSR1);
  const auto hup_before = disposition_of(SIGHUP);
  ASSERT_TRUE(TerminationSignals::install());
  EXPECT_EQ(disposition_of(SIGUSR1).sa_handler, usr1_before.sa_handler);
  EXPECT_EQ(disposition_of(SIGHUP).sa_handler, hup_before.sa_handler);
}

TEST_F(TerminationSignalsTest, UninstallRestoresTheHandlersThatWereThere) {
  struct sigaction mine {};
  mine.sa_handler = SIG_IGN;
  sigemptyset(&mine.sa_mask);
  struct sigaction original {};
  ASSERT_EQ(::sigaction(SIGTERM, &mine, &original), 0);
  ASSERT_TRUE(TerminationSignals::install());
  EXPECT_NE(disposition_of(SIGTERM).sa_handler, SIG_IGN);
  TerminationSignals::uninstall();
  EXPECT_EQ(disposition_of(SIGTERM).sa_handler, SIG_IGN);
  ::sigaction(SIGTERM, &original, nullptr);
}

TEST_F(TerminationSignalsTest, SignalInAForkedChildIsTheChildsAlone) {
  ASSERT_TRUE(TerminationSignals::install());
  auto child = axon::test::ChildProcess::fork([] {
    if (::kill(::getpid(), SIGINT) != 0) return 1;
    if (!signal_arrived()) return 2;
    return TerminationSignals::last_signal() == SIGINT ? 0 : 3;
  });
  const auto status = child.wait_for(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "exit " << status->code;
  // The child had its own eventfd under the same number; the parent saw nothing.
  EXPECT_EQ(TerminationSignals::last_signal(), 0);
  EXPECT_FALSE(fd_is_readable());
}

TEST_F(TerminationSignalsTest, SignalToAnotherThreadStillWakesAnEpollWaitOnTheFd) {
  ASSERT_TRUE(TerminationSignals::install());
  auto epoll = axon::platform::Epoll::create();
  ASSERT_TRUE(epoll);
  ASSERT_TRUE(epoll->add(TerminationSignals::fd(), EPOLLIN, 1));

  // The waiting thread blocks SIGINT, so the handler must run on the helper thread.
  sigset_t only_sigint;
  sigemptyset(&only_sigint);
  sigaddset(&only_sigint, SIGINT);
  sigset_t previous;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &only_sigint, &previous), 0);
  std::thread receiver([] {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    ::pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
    ::pthread_kill(::pthread_self(), SIGINT);
  });
  std::array<epoll_event, 1> events{};
  auto ready = epoll->wait(events, 30s);
  receiver.join();
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_TRUE(ready) << ready.error().describe();
  EXPECT_EQ(*ready, 1u);
  EXPECT_EQ(TerminationSignals::take_signal(), SIGINT);
}

TEST_F(TerminationSignalsTest, SignalInterruptsABlockingWait) {
  ASSERT_TRUE(TerminationSignals::install());
  const pthread_t waiter = ::pthread_self();
  std::atomic<bool> done{false};
  std::thread sender([&] {
    while (!done.load()) {
      // Our handler only records SIGTERM; nothing is terminated.
      ::pthread_kill(waiter, SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
      std::this_thread::sleep_for(5ms);
    }
  });
  std::atomic<std::uint32_t> word{0};
  auto sut = axon::platform::futex_wait(word, 0, std::chrono::steady_clock::now() + 30s);
  done.store(true);
  sender.join();
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::Interrupted);
  EXPECT_EQ(TerminationSignals::last_signal(), SIGTERM);
}

}  // namespace
