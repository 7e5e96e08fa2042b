// The platform pieces that keep axon from following symlinks and from trusting what it did not
// make: directory checks, removal relative to a descriptor, mode changes pinned to an inode,
// exclusive lock-file creation, FIFOs whose mode is set through a descriptor, the group of
// created objects, unlinked mappings, and received eventfds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "axon/platform/event_fd.hpp"
#include "axon/platform/fifo.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/shared_memory.hpp"
#include "test_env.hpp"

namespace {

using namespace axon::platform;
namespace fs = std::filesystem;

struct Tree {
  std::string value;
  explicit Tree(const std::string& stem)
      : value(axon::test::root() + "/" + axon::test::unique_name(stem)) {
    EXPECT_TRUE(ensure_private_directory(value));
  }
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;
  ~Tree() {
    std::error_code ignored;
    fs::remove_all(value, ignored);
  }
  std::string operator/(const std::string& name) const { return value + "/" + name; }
};

std::string write_victim(const std::string& path) {
  std::ofstream(path) << "victim";
  ::chmod(path.c_str(), 0644);
  return path;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

std::string content_of(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(NoFollow, CheckDirectoryRefusesASymlinkAWorldWritableDirectoryAndAFile) {
  Tree tree("check");
  ASSERT_TRUE(ensure_private_directory(tree / "real"));
  ASSERT_EQ(::symlink((tree / "real").c_str(), (tree / "link").c_str()), 0);
  write_victim(tree / "file");
  EXPECT_TRUE(check_directory(tree / "real", DirectoryOwners::Us));
  EXPECT_EQ(check_directory(tree / "link", DirectoryOwners::UsOrGroup).error().code,
            ErrorCode::WrongType);
  EXPECT_EQ(check_directory(tree / "file", DirectoryOwners::Us).error().code, ErrorCode::WrongType);
  EXPECT_EQ(check_directory(tree / "none", DirectoryOwners::Us).error().code,
            ErrorCode::DoesNotExist);
  ASSERT_EQ(::chmod((tree / "real").c_str(), 0777), 0);
  EXPECT_EQ(check_directory(tree / "real", DirectoryOwners::Us).error().code,
            ErrorCode::PermissionDenied);
}

TEST(NoFollow, EnsureDirectoryGivesANewDirectoryExactlyItsModeSetgidIncluded) {
  Tree tree("ensure");
  const mode_t previous = ::umask(077);
  auto made = ensure_directory(tree / "shared", 02770, DirectoryOwners::Us, ::getegid());
  ::umask(previous);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(mode_of(tree / "shared"), 02770u);
  EXPECT_EQ(made->mode, 02770u);
  EXPECT_TRUE(made->owned_by_us);
}

TEST(NoFollow, RemoveDirectoryAndFilesRemovesLinksThemselvesAndRefusesALinkedDirectory) {
  Tree tree("remove");
  Tree outside("outside");
  const auto victim = write_victim(outside / "victim");
  ASSERT_TRUE(ensure_private_directory(tree / "dir"));
  write_victim(tree / "dir/plain");
  ASSERT_EQ(::symlink(victim.c_str(), (tree / "dir/link").c_str()), 0);
  ASSERT_EQ(::symlink(outside.value.c_str(), (tree / "dirlink").c_str()), 0);

  auto refused = remove_directory_and_files(tree / "dirlink");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::WrongType);
  EXPECT_TRUE(fs::exists(victim));

  auto removed = remove_directory_and_files(tree / "dir");
  ASSERT_TRUE(removed) << removed.error().describe();
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree / "dir")));
  EXPECT_EQ(content_of(victim), "victim");
  EXPECT_EQ(mode_of(victim), 0644u);
}

TEST(NoFollow, ListDirectoryRefusesASymlink) {
  Tree tree("list");
  Tree outside("outside");
  ASSERT_EQ(::symlink(outside.value.c_str(), (tree / "link").c_str()), 0);
  EXPECT_EQ(list_directory(tree / "link").error().code, ErrorCode::WrongType);
}

TEST(NoFollow, ChangeModeOfInodeRefusesASymlinkAndAnotherInode) {
  Tree tree("chmod");
  const auto victim = write_victim(tree / "victim");
  const auto mine = write_victim(tree / "mine");
  struct stat st {};
  ASSERT_EQ(::lstat(mine.c_str(), &st), 0);
  EXPECT_TRUE(change_mode_of_inode(mine, 0600, st.st_dev, st.st_ino));
  EXPECT_EQ(mode_of(mine), 0600u);

  // The path now names a link to the victim, or the victim itself: neither is our inode.
  ASSERT_EQ(::unlink(mine.c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), mine.c_str()), 0);
  EXPECT_EQ(change_mode_of_inode(mine, 0666, st.st_dev, st.st_ino).error().code,
            ErrorCode::WrongType);
  EXPECT_EQ(change_mode_of_inode(victim, 0666, st.st_dev, st.st_ino).error().code,
            ErrorCode::WrongType);
  EXPECT_EQ(mode_of(victim), 0644u);
}

TEST(NoFollow, CreateLockedUsesAnExistingFileAsItIsAndNeverFollowsALink) {
  Tree tree("lock");
  const auto existing = write_victim(tree / "existing.lock");
  {
    auto lock = FileLock::create_locked(existing, 0600);
    ASSERT_TRUE(lock) << lock.error().describe();
    EXPECT_EQ(mode_of(existing), 0644u) << "an existing file keeps its mode";
  }
  const auto victim = write_victim(tree / "victim");
  for (const auto& target : {victim, tree / "missing"}) {  // a link, dangling or not
    const auto link = tree / "link.lock";
    ::unlink(link.c_str());
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    auto lock = FileLock::create_locked(link, 0600);
    ASSERT_FALSE(lock);
    EXPECT_EQ(lock.error().code, ErrorCode::WrongType);
  }
  EXPECT_FALSE(fs::exists(tree / "missing"));
  EXPECT_EQ(mode_of(victim), 0644u);
  EXPECT_EQ(content_of(victim), "victim");
}

TEST(NoFollow, CreateLockedGivesANewFileExactlyItsModeAndGroup) {
  Tree tree("lockmode");
  const mode_t previous = ::umask(077);
  auto lock = FileLock::create_locked(tree / "new.lock", 0660, ::getegid());
  ::umask(previous);
  ASSERT_TRUE(lock);
  EXPECT_EQ(mode_of(tree / "new.lock"), 0660u);
}

TEST(NoFollow, FifoMakeSetsItsModeThroughADescriptorAndRefusesAnythingAtThePath) {
  Tree tree("fifo");
  const mode_t previous = ::umask(077);
  auto made = Fifo::make(tree / "a.fifo", 0660, ::getegid());
  ::umask(previous);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(mode_of(tree / "a.fifo"), 0660u);
  const auto victim = write_victim(tree / "victim");
  ASSERT_EQ(::symlink(victim.c_str(), (tree / "b.fifo").c_str()), 0);
  EXPECT_EQ(Fifo::make(tree / "b.fifo", 0600).error().code, ErrorCode::AlreadyExists);
  EXPECT_EQ(Fifo::open(tree / "b.fifo").error().code, ErrorCode::WrongType);
  EXPECT_EQ(mode_of(victim), 0644u);
}

TEST(NoFollow, SharedMemoryKnowsItsOwnerAndWhenItWasRemoved) {
  const auto name = axon::test::prefix() + axon::test::unique_name("nofollow");
  auto shm = SharedMemory::create(name, 4096, 0640, ::getegid());
  ASSERT_TRUE(shm);
  auto status = shm->status();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->owner, ::geteuid());
  EXPECT_EQ(status->group, ::getegid());
  EXPECT_EQ(status->mode, 0640u);
  EXPECT_TRUE(shm->is_linked());
  ASSERT_TRUE(SharedMemory::remove(name));
  EXPECT_FALSE(shm->is_linked());
  // A new object under the name does not make the old mapping linked again.
  auto again = SharedMemory::create(name, 4096);
  ASSERT_TRUE(again);
  EXPECT_FALSE(shm->is_linked());
  EXPECT_TRUE(SharedMemory::remove(name));
}

TEST(NoFollow, AReceivedDescriptorIsUsedAsAnEventFdOnlyIfItIsANonBlockingEventFd) {
  auto real = EventFd::create();
  ASSERT_TRUE(real);
  auto duplicate = FileDescriptor(::dup(real->fd()));
  EXPECT_TRUE(EventFd::adopt_received(std::move(duplicate)));

  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  FileDescriptor read_end(pipe_fds[0]);
  auto blocking_pipe = EventFd::adopt_received(FileDescriptor(pipe_fds[1]));
  ASSERT_FALSE(blocking_pipe);
  EXPECT_EQ(blocking_pipe.error().code, ErrorCode::WrongType);

  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), 0);
  FileDescriptor other_read_end(pipe_fds[0]);
  auto pipe = EventFd::adopt_received(FileDescriptor(pipe_fds[1]));
  ASSERT_FALSE(pipe);
  EXPECT_EQ(pipe.error().code, ErrorCode::WrongType);
}

}  // namespace

TEST(NoFollow, RemoveFileBelowNeverEntersASymlinkedDirectory) {
  Tree tree("below");
  ASSERT_TRUE(ensure_private_directory(tree / "victim"));
  write_victim(tree / "victim/1.fifo");
  ASSERT_EQ(::symlink((tree / "victim").c_str(), (tree / "planted").c_str()), 0);

  auto through_link = remove_file_below(tree / "planted/1.fifo");
  ASSERT_FALSE(through_link);
  EXPECT_EQ(through_link.error().code, ErrorCode::WrongType);
  EXPECT_EQ(content_of(tree / "victim/1.fifo"), "victim");

  ASSERT_TRUE(remove_file_below(tree / "victim/1.fifo"));
  EXPECT_FALSE(fs::exists(tree / "victim/1.fifo"));
  auto again = remove_file_below(tree / "victim/1.fifo");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::DoesNotExist);
  EXPECT_FALSE(remove_file_below("no-slash"));
}
