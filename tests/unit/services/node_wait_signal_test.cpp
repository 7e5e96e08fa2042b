// Node::clear_termination_signal(): a process that handled a signal goes on. Each test runs in a
// process of its own (gtest_discover_tests), which signals itself once Node::wait has installed
// the handlers; the remembered signal is process-wide, so every test starts by forgetting it.
#include <signal.h>

#include <chrono>

#include "axon/axon.hpp"
#include "axon_test.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class NodeWaitSignal : public ::testing::Test {
 protected:
  void SetUp() override {
    auto node = NodeBuilder().name("waiter").create();
    ASSERT_TRUE(node);
    m_node.emplace(std::move(*node));
    // The first wait installs the handlers: from then on a signal only sets the flag.
    ASSERT_TRUE(m_node->wait(0ns));
    Node::clear_termination_signal(NodeWaitError::InterruptSignal);
    Node::clear_termination_signal(NodeWaitError::TerminationRequest);
  }
  const Node& node() const { return *m_node; }

  /// True when node().wait(cycle) sleeps at least `cycle` and returns success.
  bool sleeps_whole_cycle(std::chrono::milliseconds cycle) const {
    const auto start = Clock::now();
    return node().wait(cycle).has_value() && Clock::now() - start >= cycle;
  }

 private:
  std::optional<Node> m_node;
};

TEST_F(NodeWaitSignal, ClearingTheInterruptLetsTheNextWaitSleepItsCycle) {
  ::raise(SIGINT);
  auto waited = node().wait(10s);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error(), NodeWaitError::InterruptSignal);
  waited = node().wait(10s);
  ASSERT_FALSE(waited) << "remembered until cleared";
  EXPECT_EQ(waited.error(), NodeWaitError::InterruptSignal);

  EXPECT_TRUE(Node::clear_termination_signal(waited.error()));
  EXPECT_TRUE(sleeps_whole_cycle(30ms));
  EXPECT_FALSE(Node::clear_termination_signal(NodeWaitError::InterruptSignal))
      << "nothing left to clear";

  ::raise(SIGINT);  // a later Ctrl-C is seen again
  waited = node().wait(10s);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error(), NodeWaitError::InterruptSignal);
}

TEST_F(NodeWaitSignal, ClearingTheInterruptKeepsATerminationRequestThatCameSince) {
  ::raise(SIGINT);
  auto waited = node().wait(10s);
  ASSERT_FALSE(waited);
  ASSERT_EQ(waited.error(), NodeWaitError::InterruptSignal);
  ::raise(SIGTERM);  // while the program handles its Ctrl-C

  EXPECT_FALSE(Node::clear_termination_signal(waited.error()));
  waited = node().wait(10s);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error(), NodeWaitError::TerminationRequest);
  EXPECT_FALSE(Node::clear_termination_signal(NodeWaitError::InternalFailure));

  EXPECT_TRUE(Node::clear_termination_signal(NodeWaitError::TerminationRequest));
  EXPECT_TRUE(sleeps_whole_cycle(30ms));
}

TEST_F(NodeWaitSignal, AWaitSetSleepsAgainAfterTheClear) {
  auto waitset = WaitSetBuilder().create();
  ASSERT_TRUE(waitset);
  auto interval = waitset->attach_interval(5ms);
  ASSERT_TRUE(interval);
  ::raise(SIGINT);
  auto batch = waitset->wait(10s);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->result, WaitSetRunResult::Interrupt);

  EXPECT_TRUE(Node::clear_termination_signal(NodeWaitError::InterruptSignal));
  batch = waitset->wait(10s);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->result, WaitSetRunResult::AllEventsHandled);
}

}  // namespace
