#include "axon/platform/fifo.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "axon/platform/filesystem.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using axon::platform::ErrorCode;
using axon::platform::Fifo;
using axon::platform::wait_readable;
using namespace std::chrono_literals;

// A fresh path under the test root, unlinked again however the test ends.
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

class FifoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = axon::platform::ensure_private_directory(axon::test::root());
    ASSERT_TRUE(root) << root.error().describe();
  }
};

TEST_F(FifoTest, MakeCreatesAFifoWithExactlyTheRequestedMode) {
  const mode_t previous = ::umask(077);
  TestPath path("fifo");
  auto made = Fifo::make(path.value, 0620);
  ::umask(previous);
  ASSERT_TRUE(made) << made.error().describe();
  struct stat st {};
  ASSERT_EQ(::lstat(path.value.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
}

TEST_F(FifoTest, MakingAnExistingPathGivesAlreadyExists) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::make(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::AlreadyExists);
}

TEST_F(FifoTest, OpeningAMissingPathGivesDoesNotExist) {
  TestPath path("fifo");
  auto sut = Fifo::open(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::DoesNotExist);
}

TEST_F(FifoTest, OpeningARegularFileGivesWrongType) {
  TestPath path("file");
  const int fd = ::open(path.value.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  for (auto open_fn : {&Fifo::open, &Fifo::open_reader, &Fifo::open_writer}) {
    auto sut = open_fn(path.value);
    ASSERT_FALSE(sut);
    EXPECT_EQ(sut.error().code, ErrorCode::WrongType);
  }
}

TEST_F(FifoTest, OpeningASymlinkToAFifoGivesWrongType) {
  TestPath target("fifo");
  TestPath link("link");
  ASSERT_TRUE(Fifo::make(target.value));
  ASSERT_EQ(::symlink(target.value.c_str(), link.value.c_str()), 0);
  auto sut = Fifo::open(link.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::WrongType);
}

TEST_F(FifoTest, ReadWriteEndNeverSeesEndOfFileWhenEmpty) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::open(path.value);
  ASSERT_TRUE(sut) << sut.error().describe();
  std::array<std::byte, 8> buffer{};
  auto empty = sut->read(buffer);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::WouldBlock);
  auto written = sut->write(bytes_of("ping"));
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 4u);
  auto got = sut->read(buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 4u);
  EXPECT_EQ(std::memcmp(buffer.data(), "ping", 4), 0);
}

TEST_F(FifoTest, IsNonBlockingAndCloseOnExec) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::open(path.value);
  ASSERT_TRUE(sut);
  EXPECT_NE(::fcntl(sut->fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(sut->fd(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(FifoTest, BytesWrittenByAChildArriveAndItsExitIsNoEndOfFile) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::open(path.value);
  ASSERT_TRUE(sut);
  auto child = axon::test::ChildProcess::fork([&] {
    auto notifier = Fifo::open(path.value);
    if (!notifier) return 1;
    return notifier->write(bytes_of("hello")) ? 0 : 2;
  });
  const auto status = child.wait_for(10s);
  ASSERT_TRUE(status && status->success());

  auto readable = wait_readable(sut->fd(), 10s);
  ASSERT_TRUE(readable && *readable);
  std::array<std::byte, 16> buffer{};
  auto got = sut->read(buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), *got), "hello");
  auto after = sut->read(buffer);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::WouldBlock);
}

TEST_F(FifoTest, WriteToAFullPipeGivesWouldBlockAndDrainEmptiesIt) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::open(path.value);
  ASSERT_TRUE(sut);
  const std::vector<std::byte> chunk(PIPE_BUF, std::byte{1});  // atomic: all or nothing
  std::size_t total = 0;
  for (;;) {
    auto written = sut->write(chunk);
    if (!written) {
      EXPECT_EQ(written.error().code, ErrorCode::WouldBlock);
      break;
    }
    total += *written;
    ASSERT_LT(total, std::size_t{64} << 20) << "the pipe never filled";
  }
  EXPECT_GT(total, 0u);
  auto drained = sut->drain();
  ASSERT_TRUE(drained);
  EXPECT_EQ(*drained, total);
  auto again = sut->drain();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

TEST_F(FifoTest, WriteOnlyOpenWithoutReaderGivesNoPeer) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::open_writer(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::NoPeer);
}

TEST_F(FifoTest, WriteOnlyEndAfterTheLastReaderLeftGivesNoPeerAndNoSigpipe) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  std::optional<Fifo> sut;
  {
    auto reader = Fifo::open_reader(path.value);
    ASSERT_TRUE(reader);
    auto writer = Fifo::open_writer(path.value);
    ASSERT_TRUE(writer);
    sut.emplace(std::move(*writer));
  }                                          // the only reader closes here
  auto written = sut->write(bytes_of("x"));  // SIGPIPE's default action would end this process
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::NoPeer);
  sigset_t pending;
  sigemptyset(&pending);
  ASSERT_EQ(::sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST_F(FifoTest, ReadOnlyEndReportsNoPeerOnceEveryWriterLeft) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  auto sut = Fifo::open_reader(path.value);
  ASSERT_TRUE(sut);
  {
    auto writer = Fifo::open_writer(path.value);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(bytes_of("ab")));
  }
  std::array<std::byte, 8> buffer{};
  auto got = sut->read(buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 2u);
  auto eof = sut->read(buffer);
  ASSERT_FALSE(eof);
  EXPECT_EQ(eof.error().code, ErrorCode::NoPeer);
}

TEST_F(FifoTest, RemoveDeletesThePathAndAMissingPathGivesDoesNotExist) {
  TestPath path("fifo");
  ASSERT_TRUE(Fifo::make(path.value));
  ASSERT_TRUE(Fifo::remove(path.value));
  EXPECT_FALSE(axon::platform::path_exists(path.value));
  auto again = Fifo::remove(path.value);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::DoesNotExist);
}

}  // namespace
