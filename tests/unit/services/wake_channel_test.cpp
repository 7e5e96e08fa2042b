// Conformance suite of the listener wake channels: every backend must pass the same tests.
#include <gtest/gtest.h>

#include <chrono>

#include "axon/event/backend/eventfd_backend.hpp"
#include "axon/event/backend/fifo_backend.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

bool readable_now(int fd) { return *platform::wait_readable(fd, std::chrono::nanoseconds(0)); }

template <typename Backend>
class WakeChannel : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(platform::ensure_private_directory(test::root() + "/channels"));
    address.listener_id = 42;
    address.server_key = "test/42";
    address.fifo_path = test::root() + "/channels/" + test::unique_name("wake") + ".fifo";
    address.owner_socket_path = detail::Paths::node_socket(node.config(), node.id());
  }
  Node node = test::make_node("wake-channel-test");
  detail::WakeAddress address;

  typename Backend::ListenerEnd listener() {
    auto end = Backend::create_listener(*detail::core_of(node), address);
    EXPECT_TRUE(end.has_value()) << end.error().describe();
    return std::move(*end);
  }
  typename Backend::NotifierEnd notifier() {
    auto end = Backend::connect_notifier(address);
    EXPECT_TRUE(end.has_value()) << end.error().describe();
    return std::move(*end);
  }
};

using Backends = ::testing::Types<detail::EventFdBackend, detail::FifoBackend>;
struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, detail::EventFdBackend> ? "eventfd" : "fifo";
  }
};
TYPED_TEST_SUITE(WakeChannel, Backends, BackendNames);

TYPED_TEST(WakeChannel, FreshListenerIsNotReadable) {
  auto sut = this->listener();
  EXPECT_FALSE(readable_now(sut.fd()));
}

TYPED_TEST(WakeChannel, WakeMakesTheListenerReadableUntilDrained) {
  auto sut = this->listener();
  auto notifier = this->notifier();
  ASSERT_TRUE(notifier.wake());
  EXPECT_TRUE(readable_now(sut.fd()));
  EXPECT_TRUE(readable_now(sut.fd())) << "level-triggered: still readable until drained";
  sut.drain();
  EXPECT_FALSE(readable_now(sut.fd()));
}

TYPED_TEST(WakeChannel, AFullChannelIsNotAnError) {
  auto sut = this->listener();
  auto notifier = this->notifier();
  // More than a pipe buffer (64 KiB) of wake-ups.
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(notifier.wake()) << "wake " << i;
  sut.drain();
  EXPECT_FALSE(readable_now(sut.fd()));
}

TYPED_TEST(WakeChannel, WakeFromAnotherProcessReachesTheListener) {
  auto sut = this->listener();
  const auto target = this->address;
  auto child = test::ChildProcess::fork([target] {
    auto end = TypeParam::connect_notifier(target);
    return end && end->wake() ? 0 : 1;
  });
  auto status = child.wait_for(10s);
  ASSERT_TRUE(status && status->success());
  EXPECT_TRUE(*platform::wait_readable(sut.fd(), std::chrono::nanoseconds(5s)));
}

TYPED_TEST(WakeChannel, WakeAfterTheListenerIsGoneIsHarmless) {
  auto notifier = [&] {
    auto sut = this->listener();
    return this->notifier();
  }();
  // No SIGPIPE, no error: the wake-up simply reaches nobody.
  EXPECT_TRUE(notifier.wake());
}

TYPED_TEST(WakeChannel, ConnectingToAMissingListenerFails) {
  EXPECT_FALSE(TypeParam::connect_notifier(this->address));
}

}  // namespace
