#include "axon/platform/event_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>

#include "axon/platform/unix_socket.hpp"
#include "process.hpp"

namespace {

using axon::platform::ErrorCode;
using axon::platform::EventFd;
using axon::platform::FileDescriptor;
using axon::platform::UnixSocket;
using axon::platform::wait_readable;
using namespace std::chrono_literals;

TEST(EventFd, ReadWithoutNotificationGivesWouldBlock) {
  auto sut = EventFd::create();
  ASSERT_TRUE(sut);
  auto got = sut->try_read();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::WouldBlock);
}

TEST(EventFd, NotificationsAddUpUntilOneReadTakesThemAll) {
  auto sut = EventFd::create();
  ASSERT_TRUE(sut);
  ASSERT_TRUE(sut->notify());
  ASSERT_TRUE(sut->notify(2));
  auto got = sut->try_read();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 3u);
  EXPECT_FALSE(sut->try_read());
}

TEST(EventFd, NotifyThatWouldOverflowTheCounterGivesWouldBlock) {
  auto sut = EventFd::create();
  ASSERT_TRUE(sut);
  // The counter holds at most 2^64 - 2.
  ASSERT_TRUE(sut->notify(std::numeric_limits<std::uint64_t>::max() - 1));
  auto overflow = sut->notify(1);
  ASSERT_FALSE(overflow);
  EXPECT_EQ(overflow.error().code, ErrorCode::WouldBlock);
  auto got = sut->try_read();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::numeric_limits<std::uint64_t>::max() - 1);
}

TEST(EventFd, IsNonBlockingAndCloseOnExec) {
  auto sut = EventFd::create();
  ASSERT_TRUE(sut);
  EXPECT_NE(::fcntl(sut->fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(sut->fd(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(EventFd, NotificationFromForkedChildReachesParent) {
  auto sut = EventFd::create();
  ASSERT_TRUE(sut);
  auto child = axon::test::ChildProcess::fork([&] { return sut->notify(5) ? 0 : 1; });
  auto readable = wait_readable(sut->fd(), 10s);
  ASSERT_TRUE(readable && *readable);
  auto got = sut->try_read();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 5u);
  const auto status = child.wait_for(10s);
  EXPECT_TRUE(status && status->success());
}

TEST(EventFd, DescriptorPassedOverASocketReachesAChildThatNeverInheritedIt) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  auto& parent_end = sockets->first;
  auto& child_end = sockets->second;
  // The child is forked before the eventfd exists, so it can only have it from the socket.
  auto child = axon::test::ChildProcess::fork([&] {
    std::array<std::byte, 16> buffer{};
    FileDescriptor received;
    auto got = child_end.receive(buffer, &received);
    if (!got || !received) return 1;
    auto adopted = EventFd::adopt(std::move(received));
    return adopted.notify(7) ? 0 : 2;
  });
  auto sut = EventFd::create();
  ASSERT_TRUE(sut);
  const std::array<std::byte, 1> hello{std::byte{'e'}};
  ASSERT_TRUE(parent_end.send(hello, sut->fd()));

  auto readable = wait_readable(sut->fd(), 10s);
  ASSERT_TRUE(readable && *readable);
  auto got = sut->try_read();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 7u);
  const auto status = child.wait_for(10s);
  EXPECT_TRUE(status && status->success());
}

}  // namespace
