#include "axon/platform/filesystem.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "test_env.hpp"

namespace {

using axon::platform::ensure_private_directory;
using axon::platform::ErrorCode;
using axon::platform::list_directory;
using axon::platform::path_exists;
using axon::platform::remove_directory;
using axon::platform::remove_file;

// A fresh path under the test root; whatever ends up there is removed however the test ends.
struct TestTree {
  std::string value;
  explicit TestTree(const std::string& stem)
      : value(axon::test::root() + "/" + axon::test::unique_name(stem)) {}
  TestTree(const TestTree&) = delete;
  TestTree& operator=(const TestTree&) = delete;
  ~TestTree() {
    std::error_code ignored;
    std::filesystem::remove_all(value, ignored);
  }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

void make_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  ::close(fd);
}

class FilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = ensure_private_directory(axon::test::root());
    ASSERT_TRUE(root) << root.error().describe();
  }
};

TEST_F(FilesystemTest, TestRootIsCreatedOwnerOnly) {
  EXPECT_EQ(mode_of(axon::test::root()), 0700u);
}

TEST_F(FilesystemTest, MissingParentsAreCreatedEachWithExactlyTheMode) {
  TestTree tree("tree");
  const mode_t previous = ::umask(077);
  auto sut = ensure_private_directory(tree.value + "/a/b/", 0750);
  ::umask(previous);
  ASSERT_TRUE(sut) << sut.error().describe();
  EXPECT_EQ(mode_of(tree.value), 0750u);
  EXPECT_EQ(mode_of(tree.value + "/a"), 0750u);
  EXPECT_EQ(mode_of(tree.value + "/a/b"), 0750u);
}

TEST_F(FilesystemTest, ExistingPrivateDirectoryIsAcceptedAsItIs) {
  TestTree tree("tree");
  ASSERT_TRUE(ensure_private_directory(tree.value));
  ASSERT_EQ(::chmod(tree.value.c_str(), 0710), 0);
  EXPECT_TRUE(ensure_private_directory(tree.value));
  EXPECT_EQ(mode_of(tree.value), 0710u);
}

TEST_F(FilesystemTest, SymlinkInPlaceOfTheDirectoryGivesWrongType) {
  TestTree target("target");
  TestTree link("link");
  ASSERT_TRUE(ensure_private_directory(target.value));
  ASSERT_EQ(::symlink(target.value.c_str(), link.value.c_str()), 0);
  for (const auto& path : {link.value, link.value + "/"}) {
    auto sut = ensure_private_directory(path);
    ASSERT_FALSE(sut) << path;
    EXPECT_EQ(sut.error().code, ErrorCode::WrongType) << path;
  }
}

TEST_F(FilesystemTest, RegularFileInPlaceOfTheDirectoryGivesWrongType) {
  TestTree file("file");
  make_file(file.value);
  auto sut = ensure_private_directory(file.value);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::WrongType);
  auto below = ensure_private_directory(file.value + "/sub");
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, ErrorCode::WrongType);
}

TEST_F(FilesystemTest, DirectoryOwnedBySomeoneElseGivesPermissionDenied) {
  std::string foreign = "/";  // owned by root
  TestTree tree("foreign");
  if (::geteuid() == 0) {
    ASSERT_TRUE(ensure_private_directory(tree.value));
    ASSERT_EQ(::chown(tree.value.c_str(), 65534, 65534), 0);
    foreign = tree.value;
  }
  auto sut = ensure_private_directory(foreign);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::PermissionDenied);
}

TEST_F(FilesystemTest, EmptyPathIsInvalid) {
  auto sut = ensure_private_directory("");
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::InvalidArgument);
}

TEST_F(FilesystemTest, ListDirectoryNamesEveryEntryButDotAndDotDot) {
  TestTree tree("tree");
  ASSERT_TRUE(ensure_private_directory(tree.value));
  make_file(tree.value + "/one");
  ASSERT_TRUE(ensure_private_directory(tree.value + "/two"));
  auto sut = list_directory(tree.value);
  ASSERT_TRUE(sut);
  std::sort(sut->begin(), sut->end());
  EXPECT_EQ(*sut, (std::vector<std::string>{"one", "two"}));
  auto missing = list_directory(tree.value + "/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::DoesNotExist);
  auto not_a_directory = list_directory(tree.value + "/one");
  ASSERT_FALSE(not_a_directory);
  EXPECT_EQ(not_a_directory.error().code, ErrorCode::WrongType);
}

TEST_F(FilesystemTest, RemoveFileAndRemoveDirectoryReportWhatIsMissing) {
  TestTree tree("tree");
  ASSERT_TRUE(ensure_private_directory(tree.value));
  make_file(tree.value + "/f");
  auto wrong = remove_file(tree.value);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::WrongType);
  ASSERT_TRUE(remove_file(tree.value + "/f"));
  auto again = remove_file(tree.value + "/f");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::DoesNotExist);
  ASSERT_TRUE(remove_directory(tree.value));
  EXPECT_FALSE(path_exists(tree.value));
  auto gone = remove_directory(tree.value);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::DoesNotExist);
}

TEST_F(FilesystemTest, PathExistsSeesADanglingSymlink) {
  TestTree link("link");
  EXPECT_FALSE(path_exists(link.value));
  ASSERT_EQ(::symlink("/nonexistent/axon", link.value.c_str()), 0);
  EXPECT_TRUE(path_exists(link.value));
}

}  // namespace
