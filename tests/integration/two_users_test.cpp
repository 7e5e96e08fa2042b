// Two real users on one prefix (issue 14, defect 4; RELIABILITY.md matrix item 12). Every user
// shares the default prefix `axon_` but has a root of their own (`/tmp/axon-<uid>`), so a node of
// one user has no lock file in the other's root: before the fix, the other user listed it as
// `dead`, tried to clean it on every node creation (leaving `services/<H>.lock` behind), and root
// unlinked it. Here two users made by the test (useradd; skipped with a message where the test
// is not root) run the real tools through `axon_test_as_user`, sharing this test's prefix (the
// default prefix would be shared with whatever else runs on the machine) with their default
// roots; root takes part with this test's own root. Neither lists, joins, judges or removes the
// other's objects. The users, their roots and their objects are removed even on failure.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

using Run = test::Finished;

Run run_program(const std::string& path, const std::vector<std::string>& args) {
  return test::run_to_end(path, args, /*merge_stderr=*/true, kWatchdog);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A system user made for one test and removed with everything it left.
class TestUser {
 public:
  /// nullopt (and `why`) when no user can be made here: not root, or no useradd.
  static std::optional<TestUser> create(const std::string& name, std::string* why) {
    if (::geteuid() != 0) {
      *why = "needs root to create two users (useradd); run the tests as root";
      return std::nullopt;
    }
    if (!std::filesystem::exists("/usr/sbin/useradd")) {
      *why = "no /usr/sbin/useradd here";
      return std::nullopt;
    }
    // useradd refuses while another useradd holds /etc/passwd's lock (tests run in parallel).
    for (int attempt = 0; attempt < 50; ++attempt) {
      const auto made =
          run_program("/usr/sbin/useradd", {"--system", "--no-create-home", "--user-group",
                                            "--shell", "/usr/sbin/nologin", name});
      if (made.status.success()) break;
      if (attempt == 49) {
        *why = "useradd " + name + " failed: " + made.output;
        return std::nullopt;
      }
      std::this_thread::sleep_for(100ms);
    }
    const passwd* entry = ::getpwnam(name.c_str());
    if (entry == nullptr) {
      *why = "no passwd entry for " + name + " after useradd";
      return std::nullopt;
    }
    return TestUser(name, entry->pw_uid, entry->pw_gid);
  }

  TestUser(TestUser&& other) noexcept
      : m_name(std::exchange(other.m_name, std::string())), m_uid(other.m_uid), m_gid(other.m_gid) {}
  TestUser& operator=(TestUser&&) = delete;
  TestUser(const TestUser&) = delete;
  TestUser& operator=(const TestUser&) = delete;
  ~TestUser() {
    if (m_name.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(root(), ec);
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (run_program("/usr/sbin/userdel", {m_name}).status.success()) break;
      std::this_thread::sleep_for(100ms);
    }
  }

  uid_t uid() const { return m_uid; }
  /// The user's default root: where its lock files, sockets and FIFOs are.
  std::string root() const { return "/tmp/axon-" + std::to_string(m_uid); }

  /// Starts `program` (in build/bin) as this user.
  ChildProcess spawn(const std::string& program, const std::vector<std::string>& args) const {
    std::vector<std::string> all{std::to_string(m_uid), std::to_string(m_gid), test::bin(program)};
    all.insert(all.end(), args.begin(), args.end());
    return ChildProcess::spawn(test::bin("axon_test_as_user"), all, /*merge_stderr=*/true);
  }
  Run axon(const std::vector<std::string>& args) const { return test::finish(spawn("axon", args)); }

  /// Files below the user's root (relative paths), sorted.
  std::vector<std::string> root_files() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root(), ec)) {
      out.push_back(std::filesystem::relative(e.path(), root()).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  TestUser(std::string name, uid_t uid, gid_t gid) : m_name(std::move(name)), m_uid(uid), m_gid(gid) {}
  std::string m_name;
  uid_t m_uid = 0;
  gid_t m_gid = 0;
};

/// Node ids (first field) of `axon node list` output.
std::vector<std::string> node_ids(const std::string& listing) {
  std::vector<std::string> out;
  std::istringstream in(listing);
  for (std::string line; std::getline(in, line);) out.push_back(line.substr(0, line.find(' ')));
  return out;
}

class TwoUsers : public ::testing::Test {
 protected:
  void SetUp() override {
    // Short names: useradd allows 32 bytes; the pid keeps parallel test processes apart.
    const auto stem = "axt" + std::to_string(::getpid() % 1000000);
    std::string why;
    if (auto made = TestUser::create(stem + "a", &why)) a.emplace(std::move(*made));
    if (a) {
      if (auto made = TestUser::create(stem + "b", &why)) b.emplace(std::move(*made));
    }
    if (!a || !b) GTEST_SKIP() << why;
    service_a = test::unique_name("two_users_a");
    hash_a = detail::Paths::service_hash(service_a);
  }

  /// A live event_listener of user A on `service_a`, and A's node id.
  std::string start_listener_of_a() {
    listener_a.emplace(a->spawn("event_listener", {service_a}));
    EXPECT_TRUE(test::eventually(
        [&] { return contains(a->axon({"service", "list"}).output, "event " + service_a + " "); },
        kWatchdog))
        << "A's listener did not start";
    const auto ids = node_ids(a->axon({"node", "list"}).output);
    EXPECT_EQ(ids.size(), 1u);
    return ids.empty() ? std::string() : ids.front();
  }

  /// Every object of A's node and service in /dev/shm.
  void expect_objects_of_a(const std::string& node_id) const {
    const auto config = Config::from_environment();
    EXPECT_TRUE(platform::SharedMemory::exists(config.prefix + "node_" + node_id));
    EXPECT_TRUE(platform::SharedMemory::exists(detail::Paths::service_static(config, hash_a)));
    EXPECT_TRUE(platform::SharedMemory::exists(detail::Paths::service_dynamic(config, hash_a)));
  }

  void expect_no_lock_of_a_in(const std::string& root) const {
    EXPECT_FALSE(std::filesystem::exists(root + "/services/" + hash_a + ".lock"))
        << "a lock file of A's service in " << root;
  }

  // Users first: destroyed last, after the processes running as them.
  std::optional<TestUser> a;
  std::optional<TestUser> b;
  std::optional<ChildProcess> listener_a;
  std::string service_a;
  std::string hash_a;
};

TEST_F(TwoUsers, NeitherListsJudgesNorCleansTheOthersLiveNode) {
  const auto id_a = start_listener_of_a();
  ASSERT_FALSE(id_a.empty());

  const auto nodes_b = b->axon({"node", "list"});
  EXPECT_TRUE(nodes_b.status.success()) << nodes_b.output;
  EXPECT_FALSE(contains(nodes_b.output, id_a)) << "B lists A's live node:\n" << nodes_b.output;
  const auto services_b = b->axon({"service", "list"});
  EXPECT_TRUE(services_b.status.success()) << services_b.output;
  EXPECT_FALSE(contains(services_b.output, service_a)) << services_b.output;
  const auto clean_b = b->axon({"clean"});
  EXPECT_EQ(clean_b.output, "nothing to clean\n");

  // A node of B's own (it cleans dead nodes first), and a service of B's.
  const auto listen_b = b->axon({"listen", test::unique_name("two_users_b"), "--timeout", "0.1"});
  EXPECT_TRUE(listen_b.status.exited) << listen_b.output;
  expect_no_lock_of_a_in(b->root());
  for (const auto& file : b->root_files()) {
    EXPECT_FALSE(contains(file, hash_a)) << "B's root holds " << file;
  }

  expect_objects_of_a(id_a);
  const auto nodes_a = a->axon({"node", "list"});
  EXPECT_TRUE(contains(nodes_a.output, id_a + " ")) << nodes_a.output;
  EXPECT_TRUE(contains(nodes_a.output, " alive")) << nodes_a.output;
  EXPECT_TRUE(contains(a->axon({"service", "list"}).output,
                       "event " + service_a + " nodes=1 listeners=1"));
}

TEST_F(TwoUsers, RootNeitherListsJudgesNorRemovesAnotherUsersObjects) {
  const auto id_a = start_listener_of_a();
  ASSERT_FALSE(id_a.empty());

  // Root with its own root directory (this test's) and the shared prefix.
  const auto nodes = run_program(test::bin("axon"), {"node", "list"});
  EXPECT_FALSE(contains(nodes.output, id_a)) << "root lists A's live node:\n" << nodes.output;
  const auto services = run_program(test::bin("axon"), {"service", "list"});
  EXPECT_FALSE(contains(services.output, service_a)) << services.output;
  EXPECT_EQ(run_program(test::bin("axon"), {"clean"}).output, "nothing to clean\n");
  // Root may open A's 0600 objects, but they are not its service.
  const auto notified = run_program(test::bin("axon"), {"notify", service_a});
  EXPECT_EQ(notified.status.code, 1) << notified.output;
  EXPECT_TRUE(contains(notified.output, "PermissionDenied")) << notified.output;
  {
    auto node = NodeBuilder().create();  // cleans dead nodes first
    ASSERT_TRUE(node);
    EXPECT_TRUE(Node::cleanup_dead_nodes().dead_nodes.empty());
  }
  expect_no_lock_of_a_in(test::root());
  expect_objects_of_a(id_a);
  const auto nodes_a = a->axon({"node", "list"});
  EXPECT_TRUE(contains(nodes_a.output, id_a + " ")) << nodes_a.output;
  EXPECT_TRUE(contains(nodes_a.output, " alive")) << nodes_a.output;
}

TEST_F(TwoUsers, AnotherUsersDeadNodeIsLeftToItsOwner) {
  const auto id_a = start_listener_of_a();
  ASSERT_FALSE(id_a.empty());
  listener_a->kill(SIGKILL);
  ASSERT_TRUE(listener_a->wait_for(kWatchdog));

  EXPECT_EQ(b->axon({"clean"}).output, "nothing to clean\n");
  // Root with a nodes directory of its own (a cleaner without one stops before any node).
  {
    auto node = NodeBuilder().create();  // cleans dead nodes first
    ASSERT_TRUE(node);
  }
  EXPECT_EQ(run_program(test::bin("axon"), {"clean"}).output, "nothing to clean\n");
  expect_no_lock_of_a_in(b->root());
  expect_no_lock_of_a_in(test::root());
  expect_objects_of_a(id_a);

  const auto clean_a = a->axon({"clean"});
  EXPECT_TRUE(contains(clean_a.output, "removed node " + id_a + "\n")) << clean_a.output;
  EXPECT_TRUE(contains(clean_a.output, "removed service " + service_a + "\n")) << clean_a.output;
  const auto config = Config::from_environment();
  EXPECT_FALSE(platform::SharedMemory::exists(config.prefix + "node_" + id_a));
  EXPECT_FALSE(platform::SharedMemory::exists(detail::Paths::service_static(config, hash_a)));
}

TEST_F(TwoUsers, ANameTheOtherUserHoldsIsRefusedAndLeftWhole) {
  const auto id_a = start_listener_of_a();
  ASSERT_FALSE(id_a.empty());
  const auto listen_b = b->axon({"listen", service_a, "--timeout", "0.1"});
  EXPECT_EQ(listen_b.status.code, 1) << listen_b.output;
  EXPECT_TRUE(contains(listen_b.output, "PermissionDenied")) << listen_b.output;
  expect_no_lock_of_a_in(b->root());
  expect_objects_of_a(id_a);
  EXPECT_TRUE(contains(a->axon({"service", "list"}).output,
                       "event " + service_a + " nodes=1 listeners=1"));
}

}  // namespace
