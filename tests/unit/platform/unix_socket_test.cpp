#include "axon/platform/unix_socket.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string>

#include "axon/platform/event_fd.hpp"
#include "axon/platform/filesystem.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using axon::platform::ErrorCode;
using axon::platform::EventFd;
using axon::platform::FileDescriptor;
using axon::platform::UnixSocket;
using axon::platform::wait_readable;
using namespace std::chrono_literals;

struct TestPath {
  std::string value;
  explicit TestPath(const std::string& stem)
      : value(axon::test::root() + "/" + axon::test::unique_name(stem)) {}
  TestPath(const TestPath&) = delete;
  TestPath& operator=(const TestPath&) = delete;
  ~TestPath() { ::unlink(value.c_str()); }
};

std::span<const std::byte> bytes_of(const char* text) {
  return std::as_bytes(std::span(text, std::strlen(text)));
}

std::size_t open_descriptor_count() {
  std::size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = axon::platform::ensure_private_directory(axon::test::root());
    ASSERT_TRUE(root) << root.error().describe();
  }
};

TEST_F(UnixSocketTest, ListenCreatesASocketFileWithExactlyTheRequestedMode) {
  const mode_t previous = ::umask(077);
  TestPath path("sock");
  auto sut = UnixSocket::listen(path.value, 0660);
  ::umask(previous);
  ASSERT_TRUE(sut) << sut.error().describe();
  struct stat st {};
  ASSERT_EQ(::lstat(path.value.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_NE(::fcntl(sut->fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(UnixSocketTest, ListenOnATakenPathGivesAlreadyExists) {
  TestPath path("sock");
  auto first = UnixSocket::listen(path.value);
  ASSERT_TRUE(first);
  auto sut = UnixSocket::listen(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::AlreadyExists);
}

TEST_F(UnixSocketTest, PathLongerThanASocketAddressGivesNameTooLong) {
  const std::string path = axon::test::root() + "/" + std::string(120, 's');
  auto sut = UnixSocket::listen(path);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::NameTooLong);
  auto connected = UnixSocket::connect(path);
  ASSERT_FALSE(connected);
  EXPECT_EQ(connected.error().code, ErrorCode::NameTooLong);
}

TEST_F(UnixSocketTest, ConnectToAMissingPathGivesDoesNotExist) {
  TestPath path("sock");
  auto sut = UnixSocket::connect(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::DoesNotExist);
}

TEST_F(UnixSocketTest, ConnectToASocketNobodyListensOnGivesNoPeer) {
  TestPath path("sock");
  const int raw = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(raw, 0);
  FileDescriptor bound(raw);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.value.c_str());
  ASSERT_EQ(::bind(raw, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  auto sut = UnixSocket::connect(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::NoPeer);
}

TEST_F(UnixSocketTest, ListenerRemovesItsPathWhenDestroyed) {
  TestPath path("sock");
  {
    auto sut = UnixSocket::listen(path.value);
    ASSERT_TRUE(sut);
    auto moved = std::move(*sut);  // only the owner of the path removes it, once
  }
  EXPECT_FALSE(axon::platform::path_exists(path.value));
}

TEST_F(UnixSocketTest, ListenerLeavesAPathThatNoLongerNamesItsSocket) {
  TestPath path("sock");
  {
    auto sut = UnixSocket::listen(path.value);
    ASSERT_TRUE(sut);
    ASSERT_EQ(::unlink(path.value.c_str()), 0);  // a cleaner removed it ...
    const int fd = ::open(path.value.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);  // ... and someone else made something new there
    ::close(fd);
  }
  EXPECT_TRUE(axon::platform::path_exists(path.value));
}

TEST_F(UnixSocketTest, MessagesKeepTheirBoundaries) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  auto& [sender, sut] = *sockets;
  ASSERT_TRUE(sender.send(bytes_of("ab")));
  ASSERT_TRUE(sender.send(bytes_of("cde")));
  std::array<std::byte, 16> buffer{};
  auto first = sut.receive(buffer);
  auto second = sut.receive(buffer);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, 2u);
  EXPECT_EQ(*second, 3u);
  EXPECT_EQ(std::memcmp(buffer.data(), "cde", 3), 0);
}

TEST_F(UnixSocketTest, MessageLongerThanTheBufferGivesTruncated) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  ASSERT_TRUE(sockets->first.send(bytes_of("0123456789")));
  std::array<std::byte, 4> buffer{};
  auto sut = sockets->second.receive(buffer);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::Truncated);
}

TEST_F(UnixSocketTest, EmptyMessagesAreRejectedBecauseTheyWouldReadAsPeerClosed) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  auto sut = sockets->first.send({});
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::InvalidArgument);
}

TEST_F(UnixSocketTest, PeerClosedGivesNoPeerOnReceiveAndOnSendWithoutSigpipe) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  UnixSocket sut = std::move(sockets->first);
  { UnixSocket gone = std::move(sockets->second); }
  std::array<std::byte, 4> buffer{};
  auto received = sut.receive(buffer);
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code, ErrorCode::NoPeer);
  auto sent = sut.send(bytes_of("x"));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::NoPeer);
}

TEST_F(UnixSocketTest, TryReceiveWithNothingQueuedGivesWouldBlock) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  std::array<std::byte, 4> buffer{};
  auto sut = sockets->first.try_receive(buffer);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::WouldBlock);
}

TEST_F(UnixSocketTest, ReceiveTimeoutGivesTimedOut) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  ASSERT_TRUE(sockets->first.set_receive_timeout(30ms));
  std::array<std::byte, 4> buffer{};
  const auto start = std::chrono::steady_clock::now();
  auto sut = sockets->first.receive(buffer);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::TimedOut);
  // SO_RCVTIMEO counts whole scheduler ticks and the first may be partial: at most 10 ms early.
  EXPECT_GE(elapsed, 20ms);
  auto negative = sockets->first.set_receive_timeout(-1ms);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code, ErrorCode::InvalidArgument);
}

TEST_F(UnixSocketTest, TryAcceptWithoutPendingConnectionGivesWouldBlock) {
  TestPath path("sock");
  auto sut = UnixSocket::listen(path.value);
  ASSERT_TRUE(sut);
  auto accepted = sut->try_accept();
  ASSERT_FALSE(accepted);
  EXPECT_EQ(accepted.error().code, ErrorCode::WouldBlock);
}

TEST_F(UnixSocketTest, DescriptorSentToAConnectedChildWorksThere) {
  TestPath path("sock");
  auto sut = UnixSocket::listen(path.value);
  ASSERT_TRUE(sut);
  auto child = axon::test::ChildProcess::fork([&] {
    auto connection = UnixSocket::connect(path.value);
    if (!connection) return 1;
    std::array<std::byte, 16> buffer{};
    FileDescriptor received;
    auto got = connection->receive(buffer, &received);
    if (!got || *got != 5 || !received) return 2;
    if ((::fcntl(received.native(), F_GETFD) & FD_CLOEXEC) == 0) return 3;
    auto event = EventFd::adopt(std::move(received));
    return event.notify(9) ? 0 : 4;
  });
  auto connection = sut->accept();
  ASSERT_TRUE(connection) << connection.error().describe();
  auto peer = connection->peer_credentials();
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->pid, child.pid());
  EXPECT_EQ(peer->uid, ::geteuid());

  auto event = EventFd::create();
  ASSERT_TRUE(event);
  ASSERT_TRUE(connection->send(bytes_of("event"), event->fd()));
  auto readable = wait_readable(event->fd(), 10s);
  ASSERT_TRUE(readable && *readable);
  auto count = event->try_read();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 9u);
  const auto status = child.wait_for(10s);
  EXPECT_TRUE(status && status->success());
}

TEST_F(UnixSocketTest, DescriptorArrivingWithoutASlotIsClosedNotLeaked) {
  auto sockets = UnixSocket::pair();
  ASSERT_TRUE(sockets);
  auto event = EventFd::create();
  ASSERT_TRUE(event);
  const std::size_t before = open_descriptor_count();
  ASSERT_TRUE(sockets->first.send(bytes_of("fd"), event->fd()));
  std::array<std::byte, 4> buffer{};
  auto got = sockets->second.receive(buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(open_descriptor_count(), before);
}

}  // namespace
