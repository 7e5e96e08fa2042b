// Node::wait(): a cycle of sleep that SIGINT and SIGTERM end, in a real process that gets the
// signals from another one (the test), as a user's Ctrl-C or a service manager's stop would.
#include <signal.h>

#include <chrono>
#include <thread>

#include "axon/axon.hpp"
#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

/// Exit codes of the child below: how its wait loop ended.
constexpr int kInterrupted = 20;
constexpr int kTerminated = 21;

/// A child that loops on node.wait(10ms) until it returns an error; it counts at least one
/// full cycle first (so the handlers are in place before the test signals it).
test::ChildProcess waiting_child() {
  return test::ChildProcess::fork([]() -> int {
    auto node = NodeBuilder().name("waiter").create();
    if (!node) return 10;
    // A first cycle, then say so through discovery of a service (a barrier the test can see).
    if (!node->wait(1ms)) return 11;
    auto service = node->service_builder(*ServiceName::create(test::unique_name("waiting")))
                       .event()
                       .create();
    if (!service) return 12;
    for (;;) {
      auto waited = node->wait(10ms);
      if (waited) continue;
      switch (waited.error()) {
        case NodeWaitError::InterruptSignal: return kInterrupted;
        case NodeWaitError::TerminationRequest: return kTerminated;
        case NodeWaitError::InternalFailure: return 13;
      }
    }
  });
}

bool child_waits() {
  return test::eventually([] {
    auto services = list_services();
    return services && !services->empty();
  });
}

TEST(NodeWait, SigtermEndsTheWaitLoopWithTerminationRequest) {
  auto child = waiting_child();
  ASSERT_TRUE(child_waits());
  child.kill(SIGTERM);
  const auto status = child.wait_for(10s);
  ASSERT_TRUE(status) << "SIGTERM did not end the loop";
  EXPECT_TRUE(status->exited) << "killed by signal " << status->code;
  EXPECT_EQ(status->code, kTerminated);
  (void)Node::cleanup_dead_nodes();
}

TEST(NodeWait, SigintEndsTheWaitLoopWithInterruptSignal) {
  auto child = waiting_child();
  ASSERT_TRUE(child_waits());
  child.kill(SIGINT);
  const auto status = child.wait_for(10s);
  ASSERT_TRUE(status) << "SIGINT did not end the loop";
  EXPECT_TRUE(status->exited) << "killed by signal " << status->code;
  EXPECT_EQ(status->code, kInterrupted);
  (void)Node::cleanup_dead_nodes();
}

TEST(NodeWait, WithoutASignalItSleepsItsWholeCycleAndTheSignalIsRemembered) {
  auto child = test::ChildProcess::fork([]() -> int {
    auto node = NodeBuilder().create();
    if (!node) return 10;
    const auto start = std::chrono::steady_clock::now();
    if (!node->wait(50ms)) return 11;
    if (std::chrono::steady_clock::now() - start < 50ms) return 12;
    ::raise(SIGTERM);  // handled: the process goes on
    for (int i = 0; i < 2; ++i) {
      auto waited = node->wait(10s);
      if (waited || waited.error() != NodeWaitError::TerminationRequest) return 13 + i;
    }
    return 0;
  });
  const auto status = child.wait_for(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "exit " << status->code << " (exited " << status->exited << ")";
}

}  // namespace
