#include "axon/platform/shared_memory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "process.hpp"
#include "test_env.hpp"

namespace {

using axon::platform::AccessMode;
using axon::platform::ErrorCode;
using axon::platform::SharedMemory;
using namespace std::chrono_literals;

// A fresh object name under the test prefix, removed again however the test ends.
struct ShmName {
  std::string value = axon::test::prefix() + axon::test::unique_name("x");
  ShmName() = default;
  ShmName(const ShmName&) = delete;
  ShmName& operator=(const ShmName&) = delete;
  ~ShmName() { (void)SharedMemory::remove(value); }
};

class UmaskScope {
 public:
  explicit UmaskScope(mode_t mask) : m_previous(::umask(mask)) {}
  UmaskScope(const UmaskScope&) = delete;
  UmaskScope& operator=(const UmaskScope&) = delete;
  ~UmaskScope() { ::umask(m_previous); }

 private:
  mode_t m_previous;
};

mode_t mode_of(const std::string& name) {
  struct stat st {};
  if (::stat(("/dev/shm/" + name).c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

TEST(SharedMemory, CreatedObjectIsZeroFilledWritableAndOfRequestedSize) {
  ShmName name;
  auto sut = SharedMemory::create(name.value, std::size_t{3} * 4096);
  ASSERT_TRUE(sut) << sut.error().describe();
  EXPECT_EQ(sut->size(), 3u * 4096);
  EXPECT_EQ(sut->mode(), AccessMode::ReadWrite);
  EXPECT_EQ(sut->name(), name.value);
  const auto* bytes = static_cast<const unsigned char*>(sut->data());
  EXPECT_TRUE(std::all_of(bytes, bytes + sut->size(), [](unsigned char b) { return b == 0; }));
  std::memset(sut->data(), 0x5a, sut->size());
  EXPECT_EQ(static_cast<const unsigned char*>(sut->data())[sut->size() - 1], 0x5a);
}

TEST(SharedMemory, CreatedObjectHasExactlyTheRequestedPermissionsWhateverTheUmask) {
  const UmaskScope umask(077);
  ShmName owner_only;
  ShmName group_readable;
  auto first = SharedMemory::create(owner_only.value, 4096);
  auto second = SharedMemory::create(group_readable.value, 4096, 0640);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(mode_of(owner_only.value), 0600u);
  EXPECT_EQ(mode_of(group_readable.value), 0640u);
}

TEST(SharedMemory, SetPermissionsPublishesTheObjectWithExactMode) {
  ShmName name;
  auto sut = SharedMemory::create(name.value, 4096, 0200);
  ASSERT_TRUE(sut);
  EXPECT_EQ(mode_of(name.value), 0200u);
  ASSERT_TRUE(sut->set_permissions(0600));
  EXPECT_EQ(mode_of(name.value), 0600u);
}

TEST(SharedMemory, CreatingAnExistingNameGivesAlreadyExists) {
  ShmName name;
  auto first = SharedMemory::create(name.value, 4096);
  ASSERT_TRUE(first);
  auto sut = SharedMemory::create(name.value, 4096);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::AlreadyExists);
}

TEST(SharedMemory, OpeningAMissingNameGivesDoesNotExist) {
  ShmName name;
  auto sut = SharedMemory::open(name.value, AccessMode::ReadWrite);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::DoesNotExist);
}

TEST(SharedMemory, NamesThatAreNotPlainFileNamesAreRejectedBeforeAnyCall) {
  const std::string base = axon::test::prefix() + axon::test::unique_name("x");
  for (const std::string& bad : {std::string(), base + "/a", "/" + base, std::string("."),
                                 std::string(".."), base + " a", base + "\n", base + "*"}) {
    auto sut = SharedMemory::create(bad, 4096);
    ASSERT_FALSE(sut) << bad;
    EXPECT_EQ(sut.error().code, ErrorCode::InvalidArgument) << bad;
    EXPECT_EQ(sut.error().sys_errno, 0) << bad;
    EXPECT_FALSE(SharedMemory::exists(bad)) << bad;
  }
  auto too_long = SharedMemory::create(base + std::string(256, 'a'), 4096);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ErrorCode::NameTooLong);
}

TEST(SharedMemory, ZeroSizeCreateIsInvalidAndLeavesNothing) {
  ShmName name;
  auto sut = SharedMemory::create(name.value, 0);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(SharedMemory::exists(name.value));
}

TEST(SharedMemory, ObjectCreatedInParentIsVisibleAndWritableInChild) {
  ShmName name;
  auto sut = SharedMemory::create(name.value, 4096);
  ASSERT_TRUE(sut);
  std::strcpy(static_cast<char*>(sut->data()), "from parent");

  auto child = axon::test::ChildProcess::fork([&] {
    auto mine = SharedMemory::open(name.value, AccessMode::ReadWrite);
    if (!mine) return 1;
    if (mine->size() != 4096) return 2;
    if (std::strcmp(static_cast<const char*>(mine->data()), "from parent") != 0) return 3;
    std::strcpy(static_cast<char*>(mine->data()) + 2048, "from child");
    return 0;
  });
  const auto status = child.wait_for(10s);
  ASSERT_TRUE(status && status->success());
  EXPECT_STREQ(static_cast<const char*>(sut->data()) + 2048, "from child");
}

TEST(SharedMemory, ReadOnlyOpenMapsTheWholeObjectAndSeesTheCreatorsWrites) {
  ShmName name;
  auto creator = SharedMemory::create(name.value, std::size_t{2} * 4096);
  ASSERT_TRUE(creator);
  auto sut = SharedMemory::open(name.value, AccessMode::ReadOnly);
  ASSERT_TRUE(sut) << sut.error().describe();
  EXPECT_EQ(sut->mode(), AccessMode::ReadOnly);
  EXPECT_EQ(sut->size(), 2u * 4096);
  static_cast<char*>(creator->data())[4100] = 'z';
  EXPECT_EQ(static_cast<const char*>(std::as_const(*sut).data())[4100], 'z');
}

TEST(SharedMemory, OpeningAnUnpublishedObjectForReadingIsDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root bypasses file permissions";
  ShmName name;
  auto creator = SharedMemory::create(name.value, 4096, 0200);
  ASSERT_TRUE(creator);
  auto sut = SharedMemory::open(name.value, AccessMode::ReadOnly);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::PermissionDenied);
}

TEST(SharedMemory, ZeroSizeObjectOpensAsTruncated) {
  ShmName name;
  const std::string slashed = "/" + name.value;
  const int fd = ::shm_open(slashed.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto sut = SharedMemory::open(name.value, AccessMode::ReadOnly);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::Truncated);
}

TEST(SharedMemory, ListFindsExactlyTheObjectsWithThePrefix) {
  const std::string group = axon::test::prefix() + axon::test::unique_name("list") + "_";
  struct Named {
    std::string value;
    ~Named() { (void)SharedMemory::remove(value); }
  } a{group + "a"}, b{group + "b"};
  ShmName other;
  auto first = SharedMemory::create(a.value, 4096);
  auto second = SharedMemory::create(b.value, 4096);
  auto third = SharedMemory::create(other.value, 4096);
  ASSERT_TRUE(first && second && third);

  auto sut = SharedMemory::list(group);
  ASSERT_TRUE(sut);
  std::sort(sut->begin(), sut->end());
  EXPECT_EQ(*sut, (std::vector<std::string>{a.value, b.value}));
}

TEST(SharedMemory, RemoveDeletesTheNameButNotAnExistingMapping) {
  ShmName name;
  auto sut = SharedMemory::create(name.value, 4096);
  ASSERT_TRUE(sut);
  EXPECT_TRUE(SharedMemory::exists(name.value));
  ASSERT_TRUE(SharedMemory::remove(name.value));
  EXPECT_FALSE(SharedMemory::exists(name.value));
  static_cast<char*>(sut->data())[0] = 'k';  // still mapped
  EXPECT_EQ(static_cast<const char*>(sut->data())[0], 'k');
  auto again = SharedMemory::remove(name.value);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::DoesNotExist);
}

TEST(SharedMemory, CreateLargerThanDevShmGivesInsufficientMemoryAndLeavesNothing) {
  struct statvfs fs {};
  ASSERT_EQ(::statvfs("/dev/shm", &fs), 0);
  if (fs.f_blocks == 0) GTEST_SKIP() << "/dev/shm has no size limit";
  // Larger than the whole filesystem: tmpfs refuses such a fallocate before touching a page.
  const std::size_t size = static_cast<std::size_t>(fs.f_blocks) * fs.f_frsize + (1ull << 30);
  ShmName name;
  auto sut = SharedMemory::create(name.value, size);
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().code, ErrorCode::InsufficientMemory) << sut.error().describe();
  EXPECT_FALSE(SharedMemory::exists(name.value));
}

TEST(SharedMemory, ModificationTimeIsTheCreationTimeOnTheWallClock) {
  using std::chrono::system_clock;
  const auto to_ns = [](system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  ShmName name;
  const auto before = to_ns(system_clock::now());
  auto sut = SharedMemory::create(name.value, 4096);
  const auto after = to_ns(system_clock::now());
  ASSERT_TRUE(sut);
  auto mtime = SharedMemory::modification_time_ns(name.value);
  ASSERT_TRUE(mtime);
  // tmpfs stamps with the coarse clock, which may lag a tick; a second of slack is plenty.
  EXPECT_GE(*mtime, before - 1'000'000'000);
  EXPECT_LE(*mtime, after + 1'000'000'000);
  ShmName missing;
  auto none = SharedMemory::modification_time_ns(missing.value);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::DoesNotExist);
}

TEST(SharedMemory, MoveTransfersTheMapping) {
  ShmName name;
  auto created = SharedMemory::create(name.value, 4096);
  ASSERT_TRUE(created);
  void* const address = created->data();
  SharedMemory sut = std::move(*created);
  EXPECT_EQ(sut.data(), address);
  EXPECT_EQ(sut.size(), 4096u);
  static_cast<char*>(sut.data())[1] = 'm';
}

}  // namespace
