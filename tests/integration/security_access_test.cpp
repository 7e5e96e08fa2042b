// Access::Group for real: a shared root directory (root:G, 2770) as an administrator makes it, a
// service of each pattern and backend made by this process (root) with Access::Group and with
// the default Access::Owner, and a helper process that becomes another user (uid 65534, in group
// G) and uses them. It can open, notify, listen and subscribe on the group services and gets
// PermissionDenied on the owner-only ones; every object has exactly the mode the design gives it
// (docs/security.md) and the root's group; nothing is world-accessible or executable.
//
// The root directory rules are tested here too, in-process: which directories a Config accepts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

constexpr uid_t kOtherUser = 65534;  // "nobody"
constexpr gid_t kOtherPrimaryGroup = 65534;
constexpr gid_t kSharedGroup = 4711;  // the deployment's group: only its number matters
constexpr auto kWatchdog = 20s;

struct Mode {
  mode_t bits = 0;  ///< permission bits, setgid included
  gid_t group = 0;
  uid_t owner = 0;
  bool exists = false;
};

Mode mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Mode{};
  return Mode{static_cast<mode_t>(st.st_mode & 07777), st.st_gid, st.st_uid, true};
}

std::string shm(const std::string& object) { return "/dev/shm/" + object; }

/// A directory made as an administrator makes a shared root; removed (with all in it) at the end.
class SharedRoot {
 public:
  SharedRoot(mode_t mode, uid_t owner, gid_t group)
      : m_path("/tmp/axon-shared-" + test::unique_name("root")) {
    std::filesystem::create_directory(m_path);
    // chown first: it clears setgid on some systems.
    m_ok = ::chown(m_path.c_str(), owner, group) == 0 && ::chmod(m_path.c_str(), mode) == 0;
  }
  SharedRoot(const SharedRoot&) = delete;
  SharedRoot& operator=(const SharedRoot&) = delete;
  ~SharedRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  bool ok() const { return m_ok; }
  const std::string& path() const { return m_path; }
  Config config() const { return Config{test::prefix(), m_path, true}; }

 private:
  std::string m_path;
  bool m_ok = false;
};

class GroupAccess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to play another user";
    ASSERT_TRUE(root.ok());
    auto made = NodeBuilder().name("group-owner").config(root.config()).create();
    ASSERT_TRUE(made) << to_string(made.error());
    node.emplace(std::move(*made));
  }

  /// Runs the helper as uid 65534 (groups 65534 and G) on service `name`.
  ChildProcess probe(const std::string& command, const std::string& name) const {
    return ChildProcess::spawn(test::bin("axon_test_access_probe"),
                               {std::to_string(kOtherUser), std::to_string(kOtherPrimaryGroup),
                                std::to_string(kSharedGroup), root.path(), command, name},
                               /*merge_stderr=*/true);
  }

  std::string run_probe(const std::string& command, const std::string& name) const {
    auto child = probe(command, name);
    auto status = child.wait_for(kWatchdog);
    EXPECT_TRUE(status) << "the probe did not finish";
    return child.read_all(2s);
  }

  std::string hash_of(const ServiceName& name) const {
    return detail::Paths::service_hash(std::string(name.as_string()));
  }

  SharedRoot root{02770, 0, kSharedGroup};
  std::optional<Node> node;
};

void expect_mode(const std::string& path, mode_t bits, std::optional<gid_t> group) {
  const auto m = mode_of(path);
  ASSERT_TRUE(m.exists) << path;
  EXPECT_EQ(m.bits, bits) << path << std::oct << " has mode " << m.bits;
  if (group) {
    EXPECT_EQ(m.group, *group) << path;
  }
  // Never anything for others, never an exec bit on a file.
  EXPECT_EQ(m.bits & 07, 0u) << path;
}

void expect_file_mode(const std::string& path, mode_t bits, std::optional<gid_t> group) {
  expect_mode(path, bits, group);
  EXPECT_EQ(mode_of(path).bits & 0111, 0u) << path;
}

TEST_F(GroupAccess, EventServiceOverAFifoIsUsableByAGroupMemberAndEveryObjectIsGroupShared) {
  const auto name = *ServiceName::create(test::unique_name("grp_fifo"));
  auto service = node->service_builder(name)
                     .event()
                     .backend(EventBackend::Fifo)
                     .access(Access::Group)
                     .create();
  ASSERT_TRUE(service) << to_string(service.error());
  EXPECT_EQ(service->static_config().access, Access::Group);
  auto listener = service->listener_builder().create();
  ASSERT_TRUE(listener);

  // The other user notifies our listener through our FIFO...
  const auto notified = run_probe("notify", std::string(name.as_string()));
  EXPECT_NE(notified.find("notified 1"), std::string::npos) << notified;
  std::uint64_t got = 0;
  auto waited = listener->timed_wait([&](EventId id, std::uint64_t) { got = id.value; }, 5s);
  ASSERT_TRUE(waited);
  EXPECT_EQ(got, 7u);

  // ... and listens itself: its FIFO is made in our FIFO directory.
  auto other = probe("listen", std::string(name.as_string()));
  ASSERT_NE(other.read_until("listening", kWatchdog).find("listening"), std::string::npos)
      << other.output();
  const auto h = hash_of(name);
  const auto& c = node->config();
  expect_file_mode(shm(detail::Paths::service_static(c, h)), 0640, kSharedGroup);
  expect_file_mode(shm(detail::Paths::service_dynamic(c, h)), 0660, kSharedGroup);
  expect_file_mode(detail::Paths::service_lock(c, h), 0660, kSharedGroup);
  expect_mode(detail::Paths::service_dir(c, h), 02770, kSharedGroup);
  auto fifos = platform::list_directory(detail::Paths::service_dir(c, h));
  ASSERT_TRUE(fifos);
  EXPECT_EQ(fifos->size(), 2u) << "ours and the other user's";
  bool saw_other_user = false;
  for (const auto& fifo : *fifos) {
    const auto path = detail::Paths::service_dir(c, h) + "/" + fifo;
    expect_file_mode(path, 0660, kSharedGroup);
    saw_other_user = saw_other_user || mode_of(path).owner == kOtherUser;
  }
  EXPECT_TRUE(saw_other_user);
  auto notifier = service->notifier_builder().create();
  ASSERT_TRUE(notifier);
  EXPECT_EQ(*notifier->notify(EventId{7}), 2u);
  auto status = other.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << other.read_all(2s);
  EXPECT_NE(other.read_all(2s).find("received 7"), std::string::npos) << other.output();
}

TEST_F(GroupAccess, EventServiceOverAnEventFdIsReachableByAGroupMemberThroughTheNodeSocket) {
  const auto name = *ServiceName::create(test::unique_name("grp_efd"));
  auto service = node->service_builder(name).event().access(Access::Group).create();
  ASSERT_TRUE(service);
  auto listener = service->listener_builder().create();
  ASSERT_TRUE(listener);

  const auto notified = run_probe("notify", std::string(name.as_string()));
  EXPECT_NE(notified.find("notified 1"), std::string::npos) << notified;
  std::uint64_t got = 0;
  auto waited = listener->timed_wait([&](EventId id, std::uint64_t) { got = id.value; }, 5s);
  ASSERT_TRUE(waited);
  EXPECT_EQ(got, 7u) << "the fd server handed the other user our group listener's eventfd";

  // The node's own files in a shared root: the group may see that it lives, not change it.
  const auto& c = node->config();
  expect_file_mode(detail::Paths::node_lock(c, node->id()), 0640, kSharedGroup);
  expect_file_mode(shm(detail::Paths::node_details(c, node->id())), 0640, kSharedGroup);
  expect_file_mode(detail::Paths::node_socket(c, node->id()), 0660, kSharedGroup);
  expect_mode(c.nodes_dir(), 02770, kSharedGroup);
  expect_mode(c.services_dir(), 02770, kSharedGroup);
}

TEST_F(GroupAccess, OwnerOnlyEventListenerIsNotHandedToAnotherUserBySameNodesFdServer) {
  // One node, one group listener (so its fd server is reachable by the group) and one
  // owner-only listener: the server must not hand the owner-only eventfd to the other user,
  // who cannot open that service anyway; here its notifier never even gets that far.
  const auto shared = *ServiceName::create(test::unique_name("grp_efd_shared"));
  const auto mine = *ServiceName::create(test::unique_name("grp_efd_mine"));
  auto group_service = node->service_builder(shared).event().access(Access::Group).create();
  auto owner_service = node->service_builder(mine).event().create();
  ASSERT_TRUE(group_service && owner_service);
  auto group_listener = group_service->listener_builder().create();
  auto owner_listener = owner_service->listener_builder().create();
  ASSERT_TRUE(group_listener && owner_listener);

  const auto denied = run_probe("notify", std::string(mine.as_string()));
  EXPECT_NE(denied.find("error: open: PermissionDenied"), std::string::npos) << denied;
  auto waited = owner_listener->timed_wait([](EventId, std::uint64_t) {}, 100ms);
  ASSERT_TRUE(waited);
  EXPECT_EQ(*waited, 0u);
}

TEST_F(GroupAccess, PublishSubscribeServiceIsReadableByAGroupMemberWithReadOnlySegments) {
  const auto name = *ServiceName::create(test::unique_name("grp_ps"));
  auto service =
      node->service_builder(name).publish_subscribe<std::uint64_t>().access(Access::Group).create();
  ASSERT_TRUE(service) << to_string(service.error());
  EXPECT_EQ(service->static_config().access, Access::Group);
  auto publisher = service->publisher_builder().create();
  ASSERT_TRUE(publisher);

  auto other = probe("subscribe", std::string(name.as_string()));
  ASSERT_NE(other.read_until("subscribed", kWatchdog).find("subscribed"), std::string::npos)
      << other.output();
  // Send until the other user reads one: it subscribed, but may not yet be connected.
  const auto deadline = std::chrono::steady_clock::now() + kWatchdog;
  while (other.output().find("received") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(publisher->send_copy(4242));
    other.read_until("received", 20ms);
  }
  auto status = other.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << other.read_all(2s);
  EXPECT_NE(other.read_all(2s).find("received 4242"), std::string::npos) << other.output();

  const auto h = hash_of(name);
  const auto& c = node->config();
  expect_file_mode(shm(detail::Paths::service_static(c, h)), 0640, kSharedGroup);
  expect_file_mode(shm(detail::Paths::service_dynamic(c, h)), 0660, kSharedGroup);
  expect_file_mode(detail::Paths::service_lock(c, h), 0660, kSharedGroup);
  auto segments = platform::SharedMemory::list(detail::Paths::port_segment_stem(c, h));
  ASSERT_TRUE(segments);
  ASSERT_EQ(segments->size(), 1u);
  expect_file_mode(shm(segments->front()), 0640, kSharedGroup);
}

TEST_F(GroupAccess, OwnerOnlyServicesOfEveryKindAreDeniedToAGroupMemberAndStayPrivate) {
  const auto fifo_name = *ServiceName::create(test::unique_name("own_fifo"));
  const auto efd_name = *ServiceName::create(test::unique_name("own_efd"));
  const auto ps_name = *ServiceName::create(test::unique_name("own_ps"));
  auto fifo_service = node->service_builder(fifo_name).event().backend(EventBackend::Fifo).create();
  auto efd_service = node->service_builder(efd_name).event().create();
  auto ps_service = node->service_builder(ps_name).publish_subscribe<std::uint64_t>().create();
  ASSERT_TRUE(fifo_service && efd_service && ps_service);
  EXPECT_EQ(fifo_service->static_config().access, Access::Owner);
  auto listener = fifo_service->listener_builder().create();
  auto publisher = ps_service->publisher_builder().create();
  ASSERT_TRUE(listener && publisher);

  for (const auto* name : {&fifo_name, &efd_name, &ps_name}) {
    const auto out = run_probe("open", std::string(name->as_string()));
    EXPECT_NE(out.find("denied PermissionDenied"), std::string::npos)
        << std::string(name->as_string()) << ": " << out;
  }

  const auto& c = node->config();
  for (const auto* name : {&fifo_name, &efd_name, &ps_name}) {
    const auto h = hash_of(*name);
    expect_file_mode(shm(detail::Paths::service_static(c, h)), 0600, std::nullopt);
    expect_file_mode(shm(detail::Paths::service_dynamic(c, h)), 0600, std::nullopt);
    expect_file_mode(detail::Paths::service_lock(c, h), 0600, std::nullopt);
  }
  const auto fifo_hash = hash_of(fifo_name);
  expect_mode(detail::Paths::service_dir(c, fifo_hash), 0700, std::nullopt);
  auto fifos = platform::list_directory(detail::Paths::service_dir(c, fifo_hash));
  ASSERT_TRUE(fifos);
  ASSERT_EQ(fifos->size(), 1u);
  expect_file_mode(detail::Paths::service_dir(c, fifo_hash) + "/" + fifos->front(), 0600,
                   std::nullopt);
  auto segments =
      platform::SharedMemory::list(detail::Paths::port_segment_stem(c, hash_of(ps_name)));
  ASSERT_TRUE(segments);
  ASSERT_EQ(segments->size(), 1u);
  expect_file_mode(shm(segments->front()), 0600, std::nullopt);
}

TEST_F(GroupAccess, OpeningWithAnotherAccessThanTheServicesIsIncompatible) {
  const auto name = *ServiceName::create(test::unique_name("grp_req"));
  auto service = node->service_builder(name).event().access(Access::Group).create();
  ASSERT_TRUE(service);
  auto owner = node->service_builder(name).event().access(Access::Owner).open();
  ASSERT_FALSE(owner);
  EXPECT_EQ(owner.error(), EventOpenError::IncompatibleAccess);
  EXPECT_TRUE(node->service_builder(name).event().access(Access::Group).open());
  EXPECT_TRUE(node->service_builder(name).event().open()) << "no requirement: any access";

  const auto ps = *ServiceName::create(test::unique_name("grp_req_ps"));
  auto ps_service = node->service_builder(ps).publish_subscribe<std::uint64_t>().create();
  ASSERT_TRUE(ps_service);
  auto group =
      node->service_builder(ps).publish_subscribe<std::uint64_t>().access(Access::Group).open();
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error(), PubSubOpenError::IncompatibleAccess);
}

TEST_F(GroupAccess, DiscoveryShowsTheAccessOfEachService) {
  const auto group_name = *ServiceName::create(test::unique_name("grp_show"));
  const auto owner_name = *ServiceName::create(test::unique_name("own_show"));
  auto group_service = node->service_builder(group_name).event().access(Access::Group).create();
  auto owner_service = node->service_builder(owner_name).event().create();
  ASSERT_TRUE(group_service && owner_service);
  auto group_info = describe_service(group_name, root.config());
  auto owner_info = describe_service(owner_name, root.config());
  ASSERT_TRUE(group_info && owner_info);
  EXPECT_EQ(group_info->access, Access::Group);
  EXPECT_EQ(owner_info->access, Access::Owner);
}

// --- Which root directories a Config accepts (no other user needed: root plays the owner). ---

class RootDirectoryRules : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make directories of other users";
  }
  static std::optional<NodeCreateError> create_in(const Config& config) {
    auto node = NodeBuilder().config(config).create();
    if (node) return std::nullopt;
    return node.error();
  }
};

TEST_F(RootDirectoryRules, ChosenRootOfAnotherUserIsAcceptedWhenItsGroupIsOurs) {
  // Owned by nobody, group-owned by root's group 0, no world bits.
  SharedRoot shared(02770, kOtherUser, 0);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(create_in(shared.config()), std::nullopt);
}

TEST_F(RootDirectoryRules, ChosenRootOfAnotherUserAndGroupIsRefused) {
  SharedRoot foreign(02770, kOtherUser, kOtherPrimaryGroup);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(create_in(foreign.config()), NodeCreateError::PermissionDenied);
  EXPECT_TRUE(platform::list_directory(foreign.path())->empty()) << "nothing made in it";
}

TEST_F(RootDirectoryRules, WorldWritableRootIsRefusedEvenWhenOurs) {
  for (const mode_t mode : {01777, 0777, 0702}) {
    SharedRoot open_to_all(mode, 0, 0);
    ASSERT_TRUE(open_to_all.ok());
    EXPECT_EQ(create_in(open_to_all.config()), NodeCreateError::PermissionDenied)
        << std::oct << mode;
    EXPECT_TRUE(platform::list_directory(open_to_all.path())->empty());
  }
}

TEST_F(RootDirectoryRules, DefaultRootMustBeOursEvenWhenItsGroupIsOurs) {
  // As if another user had made /tmp/axon-<our uid> first, with our group.
  SharedRoot squatted(02770, kOtherUser, 0);
  ASSERT_TRUE(squatted.ok());
  Config config = squatted.config();
  config.root_chosen = false;
  EXPECT_EQ(create_in(config), NodeCreateError::PermissionDenied);
  EXPECT_TRUE(platform::list_directory(squatted.path())->empty());
}

TEST_F(RootDirectoryRules, SymlinkAsRootIsRefused) {
  SharedRoot target(0700, 0, 0);
  ASSERT_TRUE(target.ok());
  const std::string link = "/tmp/axon-shared-" + test::unique_name("link");
  ASSERT_EQ(::symlink(target.path().c_str(), link.c_str()), 0);
  Config config = target.config();
  config.root = link;
  EXPECT_EQ(create_in(config), NodeCreateError::PermissionDenied);
  ::unlink(link.c_str());
  EXPECT_TRUE(platform::list_directory(target.path())->empty());
}

TEST_F(RootDirectoryRules, PrivateRootKeepsEveryDirectoryOwnerOnly) {
  SharedRoot private_root(0700, 0, 0);
  ASSERT_TRUE(private_root.ok());
  auto node = NodeBuilder().config(private_root.config()).create();
  ASSERT_TRUE(node);
  expect_mode(node->config().nodes_dir(), 0700, std::nullopt);
  expect_mode(node->config().services_dir(), 0700, std::nullopt);
  expect_file_mode(detail::Paths::node_lock(node->config(), node->id()), 0600, std::nullopt);
  expect_file_mode(shm(detail::Paths::node_details(node->config(), node->id())), 0600,
                   std::nullopt);
}

}  // namespace
