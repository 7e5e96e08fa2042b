// Leftovers that `axon clean` used to keep (issue 14, defect 7), and a full /dev/shm
// (RELIABILITY.md matrix item 13): a service whose creation fails on a full /dev/shm used to
// leave `services/<H>.lock`; an `evt_set` killed by SIGKILL while creating its event left
// `events/<H>.lock` (8 of 300 kills). Neither was ever removed. Now a failed creation removes its
// lock file, and `axon clean`, node creation and SystemEvent::open remove lock files whose holder
// died. The full /dev/shm is a small tmpfs mounted over /dev/shm in a mount namespace of this
// test process alone (skipped with a message where that is not allowed); it is unmounted again
// at the end of the test, so the process sees the machine's /dev/shm afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "axon/detail/system_event_paths.hpp"
#include "axon/axon.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

constexpr auto kWatchdog = 20s;

test::Finished run_axon(const std::vector<std::string>& args) {
  return test::run_to_end(test::bin("axon"), args, /*merge_stderr=*/true, kWatchdog);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A tmpfs of `size` over /dev/shm, seen by this process and its children only.
class PrivateShm {
 public:
  static std::optional<PrivateShm> mount(const char* size, std::string* why) {
    if (::unshare(CLONE_NEWNS) != 0) {
      *why = std::string("cannot make a mount namespace (unshare): ") + std::strerror(errno);
      return std::nullopt;
    }
    // Private first: the tmpfs must not propagate to the machine's mount namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("axon-test-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
                (std::string("mode=1777,size=") + size).c_str()) != 0) {
      *why = std::string("cannot mount a tmpfs on /dev/shm: ") + std::strerror(errno);
      return std::nullopt;
    }
    return PrivateShm();
  }
  PrivateShm(PrivateShm&& other) noexcept : m_mounted(std::exchange(other.m_mounted, false)) {}
  PrivateShm& operator=(PrivateShm&&) = delete;
  ~PrivateShm() {
    if (m_mounted) (void)::umount2("/dev/shm", MNT_DETACH);
  }

 private:
  PrivateShm() = default;
  bool m_mounted = true;
};

/// Lock files (`*.lock`) below the test's root.
std::vector<std::string> lock_files() {
  std::vector<std::string> out;
  for (const auto& file : test::root_files()) {
    if (file.ends_with(".lock")) out.push_back(file);
  }
  return out;
}

TEST(CleanupLeftovers, FullShmAtServiceCreationIsAClearErrorAndLeavesNothing) {
  std::string why;
  // A node's details (one page) fit; an event service's dynamic config (16 listeners x a
  // bitset of 4096 counters, over 512 KiB) does not.
  auto shm = PrivateShm::mount("256k", &why);
  if (!shm) GTEST_SKIP() << why;
  const auto name = test::unique_name("leftover_full");
  {
    auto node = test::make_node("full-shm");
    const auto files_with_node = test::root_files();
    const auto objects_with_node = test::shm_objects();
    auto created = node.service_builder(*ServiceName::create(name)).event().create();
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error(), EventCreateError::InsufficientResources);
    // Nothing of the service, its lock file included.
    EXPECT_EQ(test::root_files(), files_with_node);
    EXPECT_EQ(test::shm_objects(), objects_with_node);
  }
  const auto listened = run_axon({"listen", name, "--timeout", "0.1"});
  EXPECT_EQ(listened.status.code, 1) << listened.output;
  EXPECT_TRUE(contains(listened.output, "error: ")) << listened.output;
  EXPECT_TRUE(contains(listened.output, "InsufficientResources")) << listened.output;

  (void)run_axon({"clean"});
  EXPECT_TRUE(lock_files().empty()) << lock_files().front();
  EXPECT_TRUE(test::shm_objects().empty()) << test::shm_objects().front();
}

TEST(CleanupLeftovers, FullShmAtNodeCreationIsAClearErrorAndLeavesNothing) {
  std::string why;
  auto shm = PrivateShm::mount("64k", &why);
  if (!shm) GTEST_SKIP() << why;
  // Fill it: what another user's objects may do to everyone (/dev/shm is shared).
  const auto filler = test::prefix() + "filler";
  const int fd = ::open(("/dev/shm/" + filler).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  for (off_t length = 64 * 1024; length > 0; length -= 4096) {
    if (::posix_fallocate(fd, 0, length) == 0) break;
  }
  ::close(fd);

  auto node = NodeBuilder().create();
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error(), NodeCreateError::InsufficientResources);
  const auto listened = run_axon({"listen", test::unique_name("leftover_node"), "--timeout", "0"});
  EXPECT_EQ(listened.status.code, 1) << listened.output;
  EXPECT_TRUE(contains(listened.output, "InsufficientResources")) << listened.output;

  (void)platform::SharedMemory::remove(filler);
  (void)run_axon({"clean"});
  EXPECT_TRUE(lock_files().empty()) << lock_files().front();
  EXPECT_TRUE(test::shm_objects().empty()) << test::shm_objects().front();
}

TEST(CleanupLeftovers, StaleServiceLockIsRemovedByCleanAndByNodeCreation) {
  const auto hash = detail::Paths::service_hash(test::unique_name("leftover_service"));
  const auto config = Config::from_environment();
  const auto lock = detail::Paths::service_lock(config, hash);
  { auto node = test::make_node(); }  // makes the services directory
  // A lock file nobody holds, with nothing else of its service: what a creator that failed or
  // died left.
  auto make_stale = [&] { ASSERT_TRUE(test::eventually([&] {
    const int fd = ::open(lock.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  })); };
  make_stale();
  const auto cleaned = run_axon({"clean"});
  EXPECT_TRUE(contains(cleaned.output, "removed " + lock + "\n")) << cleaned.output;
  EXPECT_FALSE(std::filesystem::exists(lock));

  make_stale();
  { auto node = test::make_node(); }
  EXPECT_FALSE(std::filesystem::exists(lock));
}

TEST(CleanupLeftovers, StaleEventCreationLockIsRemovedByCleanAndByOpen) {
  const auto name = test::unique_name("leftover_event");
  const auto config = Config::from_environment();
  const auto lock =
      detail::SystemEventPaths::creation_lock(config, detail::SystemEventPaths::hash(name));
  ASSERT_TRUE(SystemEvent::open(name));
  // The creator was killed after storing the magic, before unlinking its lock file.
  auto make_stale = [&] {
    const int fd = ::open(lock.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ::close(fd);
  };
  make_stale();
  const auto cleaned = run_axon({"clean"});
  EXPECT_TRUE(contains(cleaned.output, "removed " + lock + "\n")) << cleaned.output;
  EXPECT_FALSE(std::filesystem::exists(lock));

  make_stale();
  ASSERT_TRUE(SystemEvent::open(name));
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_TRUE(SystemEvent::remove(name));
}

TEST(CleanupLeftovers, EvtSetKilledAtRandomLeavesNoLockAfterClean) {
  // The report: 8 lock files after 300 kills. Each kill lands anywhere in evt_set's life, so
  // some land while it holds the creation lock; a timing only spreads them, the verdict is the
  // files left. Distinct names: every run creates its event.
  std::mt19937 random(14);
  std::uniform_int_distribution<int> delay_us(0, 3000);
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) {
    names.push_back(test::unique_name("leftover_kill"));
    auto child = ChildProcess::spawn(test::bin("evt_set"), {names.back()});
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    child.kill(SIGKILL);
    ASSERT_TRUE(child.wait_for(kWatchdog));
  }
  (void)run_axon({"clean"});
  EXPECT_TRUE(lock_files().empty()) << lock_files().size() << " lock files, e.g. "
                                    << lock_files().front();
  for (const auto& name : names) (void)SystemEvent::remove(name);
}

}  // namespace
