#include "axon/platform/file_lock.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "axon/platform/event_fd.hpp"
#include "axon/platform/filesystem.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using axon::platform::ErrorCode;
using axon::platform::EventFd;
using axon::platform::FileLock;
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

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = axon::platform::ensure_private_directory(axon::test::root());
    ASSERT_TRUE(root) << root.error().describe();
  }
};

// A child that takes the lock, says so through `ready`, and then holds it until killed.
axon::test::ChildProcess child_holding(const std::string& path, EventFd& ready) {
  return axon::test::ChildProcess::fork([&] {
    auto lock = FileLock::create_locked(path);
    if (!lock) return 1;
    if (!ready.notify()) return 2;
    for (;;) ::pause();
  });
}

void wait_until_ready(EventFd& ready) {
  auto readable = wait_readable(ready.fd(), 30s);
  ASSERT_TRUE(readable && *readable) << "the child never took the lock";
  ASSERT_TRUE(ready.try_read());
}

TEST_F(FileLockTest, CreateLockedMakesTheFileWithExactlyTheRequestedMode) {
  const mode_t previous = ::umask(077);
  TestPath path("lock");
  auto sut = FileLock::create_locked(path.value, 0640);
  ::umask(previous);
  ASSERT_TRUE(sut) << sut.error().describe();
  EXPECT_EQ(sut->path(), path.value);
  struct stat st {};
  ASSERT_EQ(::lstat(path.value.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(sut->is_still_linked());
}

TEST_F(FileLockTest, LockHeldByALiveChildGivesWouldBlockInTheParent) {
  TestPath path("lock");
  auto ready = EventFd::create();
  ASSERT_TRUE(ready);
  auto child = child_holding(path.value, *ready);
  wait_until_ready(*ready);

  auto tried = FileLock::try_lock(path.value);
  ASSERT_FALSE(tried);
  EXPECT_EQ(tried.error().code, ErrorCode::WouldBlock);
  auto created = FileLock::create_locked(path.value);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::WouldBlock);
  auto held = FileLock::is_held(path.value);
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);
}

TEST_F(FileLockTest, LockOfAKilledAndReapedChildCanBeTaken) {
  TestPath path("lock");
  auto ready = EventFd::create();
  ASSERT_TRUE(ready);
  auto child = child_holding(path.value, *ready);
  wait_until_ready(*ready);
  child.kill(SIGKILL);
  const auto status = child.wait_for(30s);  // reaped: a zombie would still hold the lock
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->exited);

  auto held = FileLock::is_held(path.value);
  ASSERT_TRUE(held);
  EXPECT_FALSE(*held);
  auto sut = FileLock::try_lock(path.value);
  ASSERT_TRUE(sut) << sut.error().describe();
  EXPECT_TRUE(sut->is_still_linked());
}

TEST_F(FileLockTest, TryLockOnAMissingPathGivesDoesNotExist) {
  TestPath path("lock");
  auto sut = FileLock::try_lock(path.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::DoesNotExist);
  auto held = FileLock::is_held(path.value);
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code, ErrorCode::DoesNotExist);
}

TEST_F(FileLockTest, LockIsReleasedWhenDestroyed) {
  TestPath path("lock");
  {
    auto sut = FileLock::create_locked(path.value);
    ASSERT_TRUE(sut);
  }
  auto again = FileLock::try_lock(path.value);
  EXPECT_TRUE(again);
}

TEST_F(FileLockTest, TwoLocksOnOnePathConflictEvenInOneProcess) {
  TestPath path("lock");
  auto sut = FileLock::create_locked(path.value);
  ASSERT_TRUE(sut);
  auto second = FileLock::try_lock(path.value);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::WouldBlock);
}

TEST_F(FileLockTest, UnlinkRemovesThePathAndLeavesTheLockStale) {
  TestPath path("lock");
  auto sut = FileLock::create_locked(path.value);
  ASSERT_TRUE(sut);
  ASSERT_TRUE(sut->unlink());
  EXPECT_FALSE(axon::platform::path_exists(path.value));
  EXPECT_FALSE(sut->is_still_linked());
  auto again = sut->unlink();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::DoesNotExist);
}

TEST_F(FileLockTest, LockOnAnInodeWhosePathWasReplacedIsNotLinked) {
  TestPath path("lock");
  auto sut = FileLock::create_locked(path.value);
  ASSERT_TRUE(sut);
  ASSERT_EQ(::unlink(path.value.c_str()), 0);            // a cleaner removed it ...
  auto successor = FileLock::create_locked(path.value);  // ... and a new owner took the path
  ASSERT_TRUE(successor);
  EXPECT_FALSE(sut->is_still_linked());
  EXPECT_TRUE(successor->is_still_linked());
  auto unlinked = sut->unlink();  // must not remove the successor's file
  ASSERT_FALSE(unlinked);
  EXPECT_TRUE(axon::platform::path_exists(path.value));
}

TEST_F(FileLockTest, PublishedLockIsHeldUnderItsNewPathAndNeverSeenUnlocked) {
  TestPath hidden("hidden");
  TestPath published("lock");
  auto sut = FileLock::create_locked(hidden.value);
  ASSERT_TRUE(sut);
  ASSERT_TRUE(sut->publish_as(published.value));
  EXPECT_EQ(sut->path(), published.value);
  EXPECT_FALSE(axon::platform::path_exists(hidden.value));
  EXPECT_TRUE(sut->is_still_linked());
  auto held = FileLock::is_held(published.value);
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);
}

TEST_F(FileLockTest, SymlinkOrNonRegularFileGivesWrongType) {
  TestPath target("lock");
  TestPath link("link");
  TestPath fifo("fifo");
  {
    auto made = FileLock::create_locked(target.value);
    ASSERT_TRUE(made);
  }
  ASSERT_EQ(::symlink(target.value.c_str(), link.value.c_str()), 0);
  ASSERT_EQ(::mkfifo(fifo.value.c_str(), 0600), 0);  // a FIFO must not hang the open
  for (const auto* path : {&link.value, &fifo.value}) {
    auto created = FileLock::create_locked(*path);
    ASSERT_FALSE(created) << *path;
    EXPECT_EQ(created.error().code, ErrorCode::WrongType) << *path;
    auto tried = FileLock::try_lock(*path);
    ASSERT_FALSE(tried) << *path;
    EXPECT_EQ(tried.error().code, ErrorCode::WrongType) << *path;
  }
}

}  // namespace
