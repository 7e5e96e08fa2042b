#include "axon/platform/process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "process.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Process, CurrentIdsAreThoseOfThisProcess) {
  EXPECT_EQ(axon::platform::current_pid(), ::getpid());
  EXPECT_EQ(axon::platform::current_uid(), static_cast<unsigned>(::geteuid()));
}

TEST(Process, ThisProcessExistsAndAReapedChildDoesNot) {
  EXPECT_TRUE(axon::platform::process_exists(::getpid()));
  auto child = axon::test::ChildProcess::fork([] { return 0; });
  const int pid = child.pid();
  const auto status = child.wait_for(30s);
  ASSERT_TRUE(status && status->success());
  EXPECT_FALSE(axon::platform::process_exists(pid));
}

TEST(Process, NonPositivePidsNameNoProcess) {
  EXPECT_FALSE(axon::platform::process_exists(0));
  EXPECT_FALSE(axon::platform::process_exists(-1));
}

TEST(Process, RandomValuesDiffer) {
  auto first = axon::platform::random_u64();
  auto second = axon::platform::random_u64();
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);  // equal with probability 2^-64
}

}  // namespace
