// axon never follows a symlink planted in its root directory. Each test plants links where axon
// expects its own files and directories (a service's lock file, a listener's FIFO, a service's
// FIFO directory, the nodes/ and services/ directories, a node's lock file and socket, the
// events/ directory and an event's lock and FIFO), pointing at a victim outside the root, then
// runs the library (create, open, listen, notify, drop, cleanup) and the tools (`axon clean`,
// `axon clean --force`, `axon service list`, `axon node list`, evt_set, evt_wait). The victim
// keeps its content, mode and owner, no file appears next to it, and every operation fails
// cleanly or ignores the link. The tests run as root in CI, where following a link would succeed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "axon/detail/system_event_paths.hpp"
#include "axon/axon.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;
namespace fs = std::filesystem;

constexpr const char* kContent = "precious\n";

/// A directory outside the root holding files an attacker would like axon to touch: `file()` and,
/// named as axon names its own files, whatever a test adds. intact() says whether all is as made.
class Victim {
 public:
  Victim() : m_dir("/tmp/axon-victim-" + test::unique_name("v")) {
    fs::create_directory(m_dir);
    add("victim");
  }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;
  ~Victim() {
    std::error_code ignored;
    fs::remove_all(m_dir, ignored);
  }
  /// A regular file `name` in the victim directory, content kContent, mode 0644.
  std::string add(const std::string& name) {
    const auto path = m_dir + "/" + name;
    std::ofstream(path) << kContent;
    ::chmod(path.c_str(), 0644);
    m_files.insert(name);
    return path;
  }
  std::string file() const { return m_dir + "/victim"; }
  const std::string& dir() const { return m_dir; }

  ::testing::AssertionResult intact() const {
    std::set<std::string> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(m_dir, ec)) found.insert(e.path().filename());
    if (found != m_files) return ::testing::AssertionFailure() << "files were added or removed";
    for (const auto& name : m_files) {
      const auto path = m_dir + "/" + name;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return ::testing::AssertionFailure() << path << " is gone";
      }
      if ((st.st_mode & 07777) != 0644 || st.st_uid != ::geteuid()) {
        return ::testing::AssertionFailure() << path << " changed mode or owner";
      }
      std::ifstream in(path);
      std::stringstream content;
      content << in.rdbuf();
      if (content.str() != kContent) return ::testing::AssertionFailure() << path << " changed";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  std::string m_dir;
  std::set<std::string> m_files;
};

/// A root directory of its own for one test, selected through AXON_ROOT for the library and for
/// the tools started meanwhile; the test's usual root comes back at the end.
class ScopedRoot {
 public:
  ScopedRoot()
      : m_saved(std::getenv("AXON_ROOT")), m_path("/tmp/axon-sym-" + test::unique_name("r")) {
    ::setenv("AXON_ROOT", m_path.c_str(), 1);
  }
  ScopedRoot(const ScopedRoot&) = delete;
  ScopedRoot& operator=(const ScopedRoot&) = delete;
  ~ScopedRoot() {
    ::setenv("AXON_ROOT", m_saved.c_str(), 1);
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }
  const std::string& path() const { return m_path; }

 private:
  std::string m_saved;
  std::string m_path;
};

struct ToolRun {
  test::ExitStatus status;
  std::string output;
};

ToolRun run(const std::string& tool, const std::vector<std::string>& args) {
  auto child = ChildProcess::spawn(test::bin(tool), args, /*merge_stderr=*/true);
  auto status = child.wait_for(20s);
  EXPECT_TRUE(status) << tool << " did not finish";
  return ToolRun{status.value_or(test::ExitStatus{}), child.read_all(2s)};
}

void plant(const std::string& target, const std::string& link) {
  std::error_code ec;
  fs::remove_all(link, ec);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link;
}

bool is_link(const std::string& path) { return fs::is_symlink(fs::symlink_status(path)); }

std::string hash_of(const ServiceName& name) {
  return detail::Paths::service_hash(std::string(name.as_string()));
}

Node make_node() {
  auto node = NodeBuilder().create();
  if (!node) {
    ADD_FAILURE() << to_string(node.error());
    std::abort();
  }
  return std::move(*node);
}

TEST(SecuritySymlink, ServiceLockPlantedAsASymlinkIsNeverFollowed) {
  Victim victim;
  auto node = make_node();
  const auto name = *ServiceName::create(test::unique_name("sym_lock"));
  const auto lock = detail::Paths::service_lock(node.config(), hash_of(name));
  plant(victim.file(), lock);

  auto created = node.service_builder(name).event().create();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), EventCreateError::PermissionDenied);
  auto opened = node.service_builder(name).event().open_or_create();
  EXPECT_FALSE(opened);
  auto ps = node.service_builder(name).publish_subscribe<std::uint64_t>().create();
  EXPECT_FALSE(ps);
  EXPECT_TRUE(victim.intact());

  // The operator's way out: the link goes, its target stays, and the name works again.
  const auto forced = run("axon", {"clean", "--force", std::string(name.as_string())});
  EXPECT_EQ(forced.status.code, 0) << forced.output;
  EXPECT_NE(forced.output.find("removed " + lock), std::string::npos) << forced.output;
  EXPECT_FALSE(fs::exists(fs::symlink_status(lock)));
  EXPECT_TRUE(victim.intact());
  EXPECT_TRUE(node.service_builder(name).event().create());
}

TEST(SecuritySymlink, LockOfALiveServiceReplacedByASymlinkStopsOpenersAndCleanersCleanly) {
  Victim victim;
  auto node = make_node();
  auto other = make_node();
  const auto name = *ServiceName::create(test::unique_name("sym_live_lock"));
  {
    auto service = node.service_builder(name).event().create();
    ASSERT_TRUE(service);
    const auto lock = detail::Paths::service_lock(node.config(), hash_of(name));
    plant(victim.file(), lock);

    auto opened = other.service_builder(name).event().open();
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), EventOpenError::PermissionDenied);
    (void)Node::cleanup_dead_nodes();
    const auto cleaned = run("axon", {"clean"});
    EXPECT_EQ(cleaned.status.code, 0) << cleaned.output;
    const auto listed = run("axon", {"service", "list"});
    EXPECT_EQ(listed.status.code, 0) << listed.output;
    EXPECT_TRUE(victim.intact());
  }  // dropped: its last node cannot take the lock and leaves the objects to the operator
  EXPECT_TRUE(victim.intact());
  EXPECT_EQ(run("axon", {"clean", "--force", std::string(name.as_string())}).status.code, 0);
  EXPECT_TRUE(victim.intact());
  EXPECT_TRUE(node.service_builder(name).event().create());
}

TEST(SecuritySymlink, ListenerFifoPlantedAsASymlinkIsNeverFollowed) {
  Victim victim;
  auto node = make_node();
  const auto name = *ServiceName::create(test::unique_name("sym_fifo"));
  auto service = node.service_builder(name).event().backend(EventBackend::Fifo).create();
  ASSERT_TRUE(service);
  const auto dir = detail::Paths::service_dir(node.config(), hash_of(name));
  // The first listener's FIFO is predictable to whoever may read the dynamic config.
  const auto first_id = test::next_port_id(node.config(), name);
  ASSERT_NE(first_id, 0u);
  const auto first_fifo = detail::Paths::listener_fifo(node.config(), hash_of(name), first_id);
  plant(victim.file(), first_fifo);

  auto refused = service->listener_builder().create();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), ListenerCreateError::ResourceCreationFailed);
  EXPECT_TRUE(victim.intact());

  // A live listener's FIFO swapped for a link: a new notifier does not follow it.
  auto listener = service->listener_builder().create();
  ASSERT_TRUE(listener);
  const auto second_fifo =
      detail::Paths::listener_fifo(node.config(), hash_of(name), first_id + 1);
  ASSERT_TRUE(fs::exists(second_fifo));
  plant(victim.file(), second_fifo);
  auto notifier = service->notifier_builder().create();
  ASSERT_TRUE(notifier);
  auto reached = notifier->notify(EventId{1});
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 0u) << "the link is not the listener's channel";
  EXPECT_TRUE(victim.intact());

  // Leaving removes the links themselves, relative to the directory, never their target.
  listener = tl::unexpected(ListenerCreateError::Corrupted);
  notifier = tl::unexpected(NotifierCreateError::ExceedsMaxNotifiers);
  service = tl::unexpected(EventCreateError::InternalFailure);
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir)));
  EXPECT_TRUE(victim.intact());
}

TEST(SecuritySymlink, FifoDirectoryPlantedAsASymlinkIsNeverEntered) {
  Victim victim;
  auto node = make_node();
  const auto name = *ServiceName::create(test::unique_name("sym_fifodir"));
  const auto dir = detail::Paths::service_dir(node.config(), hash_of(name));
  plant(victim.dir(), dir);

  auto created = node.service_builder(name).event().backend(EventBackend::Fifo).create();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), EventCreateError::PermissionDenied);
  EXPECT_TRUE(victim.intact());

  // Swapped in under a live service: listeners are refused, leaving does not empty the target.
  ::unlink(dir.c_str());
  {
    auto service = node.service_builder(name).event().backend(EventBackend::Fifo).create();
    ASSERT_TRUE(service);
    // What the refused listener below would make there, and remove when refused.
    victim.add(NodeId{test::next_port_id(node.config(), name)}.to_string() + ".fifo");
    std::error_code ec;
    fs::remove_all(dir, ec);
    plant(victim.dir(), dir);
    auto listener = service->listener_builder().create();
    ASSERT_FALSE(listener);
    EXPECT_EQ(listener.error(), ListenerCreateError::ResourceCreationFailed);
    EXPECT_TRUE(victim.intact());
  }
  EXPECT_TRUE(victim.intact());
  const auto forced = run("axon", {"clean", "--force", std::string(name.as_string())});
  EXPECT_TRUE(victim.intact()) << forced.output;
  EXPECT_FALSE(is_link(dir)) << forced.output;
}

TEST(SecuritySymlink, NodesDirectoryPlantedAsASymlinkIsNeverEntered) {
  Victim victim;
  const ScopedRoot root;
  ASSERT_TRUE(fs::create_directory(root.path()));
  ::chmod(root.path().c_str(), 0700);
  // A dead node as cleaners would see it through the link: its lock and socket files.
  const std::string fake = "00000000000abcde";
  victim.add(fake + ".lock");
  victim.add(fake + ".sock");
  auto details = platform::SharedMemory::create(test::prefix() + "node_" + fake, 4096);
  ASSERT_TRUE(details);
  plant(victim.dir(), root.path() + "/nodes");

  auto node = NodeBuilder().create();
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error(), NodeCreateError::PermissionDenied);
  auto listed = Node::list();
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error(), NodeListError::PermissionDenied);
  const auto report = Node::cleanup_dead_nodes();
  EXPECT_TRUE(report.dead_nodes.empty());
  EXPECT_TRUE(victim.intact());

  const auto clean = run("axon", {"clean"});
  EXPECT_EQ(clean.status.code, 1) << clean.output;
  EXPECT_EQ(clean.output.rfind("axon: error: ", 0), 0u) << clean.output;
  const auto nodes = run("axon", {"node", "list"});
  EXPECT_EQ(nodes.status.code, 1) << nodes.output;
  const auto services = run("axon", {"service", "list"});
  EXPECT_EQ(services.status.code, 0) << services.output;
  const auto event = test::unique_name("sym_nodes_evt");
  const auto set = run("evt_set", {event});
  EXPECT_TRUE(set.status.exited) << set.output;
  EXPECT_TRUE(victim.intact());
  (void)platform::SharedMemory::remove(test::prefix() + "node_" + fake);
  (void)SystemEvent::remove(event);
}

TEST(SecuritySymlink, ServicesDirectoryPlantedAsASymlinkIsNeverEntered) {
  Victim victim;
  const ScopedRoot root;
  auto node = make_node();  // makes nodes/ and services/ as they should be
  const auto name = *ServiceName::create(test::unique_name("sym_services"));
  const auto h = hash_of(name);
  victim.add(h + ".lock");
  auto service = node.service_builder(name).event().create();
  ASSERT_TRUE(service);
  const auto services = root.path() + "/services";
  fs::rename(services, root.path() + "/services.real");
  plant(victim.dir(), services);

  const auto other_name = *ServiceName::create(test::unique_name("sym_services_new"));
  victim.add(hash_of(other_name) + ".lock");
  auto created = node.service_builder(other_name).event().create();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), EventCreateError::PermissionDenied);
  auto opened = node.service_builder(name).event().open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), EventOpenError::PermissionDenied);
  (void)Node::cleanup_dead_nodes();
  EXPECT_TRUE(victim.intact());

  const auto listed = run("axon", {"service", "list"});
  EXPECT_EQ(listed.status.code, 0) << listed.output;
  EXPECT_NE(listed.output.find("event " + std::string(name.as_string())), std::string::npos)
      << listed.output;
  const auto clean = run("axon", {"clean"});
  EXPECT_EQ(clean.status.code, 0) << clean.output;
  service = tl::unexpected(EventCreateError::InternalFailure);  // leaves: cannot take the lock
  const auto forced = run("axon", {"clean", "--force", std::string(name.as_string())});
  EXPECT_EQ(forced.status.code, 0) << forced.output;
  EXPECT_EQ(forced.output.find(services), std::string::npos) << "nothing below the link\n"
                                                             << forced.output;
  EXPECT_TRUE(victim.intact());
}

TEST(SecuritySymlink, NodeLockAndSocketPlantedAsSymlinksAreIgnoredOrRemovedThemselves) {
  Victim victim;
  auto node = make_node();
  const auto& config = node.config();
  // A dead node whose socket is a link, and one whose lock file is a link.
  const NodeId dead_socket{0x1234};
  const NodeId dead_lock{0x5678};
  ASSERT_TRUE(platform::FileLock::create_locked(detail::Paths::node_lock(config, dead_socket)));
  plant(victim.file(), detail::Paths::node_socket(config, dead_socket));
  plant(victim.file(), detail::Paths::node_lock(config, dead_lock));
  // A live node whose socket path holds a link before its fd server starts.
  plant(victim.file(), detail::Paths::node_socket(config, node.id()));

  const auto report = Node::cleanup_dead_nodes();
  EXPECT_FALSE(fs::exists(fs::symlink_status(detail::Paths::node_socket(config, dead_socket))));
  EXPECT_TRUE(victim.intact());
  const auto clean = run("axon", {"clean"});
  EXPECT_EQ(clean.status.code, 0) << clean.output;
  const auto nodes = run("axon", {"node", "list"});
  EXPECT_EQ(nodes.status.code, 0) << nodes.output;
  EXPECT_TRUE(victim.intact());

  // The fd server replaces the link with its socket, never binding or chmodding through it.
  const auto name = *ServiceName::create(test::unique_name("sym_sock"));
  auto service = node.service_builder(name).event().create();
  ASSERT_TRUE(service);
  auto listener = service->listener_builder().create();
  ASSERT_TRUE(listener);
  EXPECT_TRUE(fs::is_socket(fs::symlink_status(detail::Paths::node_socket(config, node.id()))));
  auto notifier = service->notifier_builder().create();
  ASSERT_TRUE(notifier);
  EXPECT_EQ(*notifier->notify(EventId{3}), 1u);
  EXPECT_TRUE(victim.intact());
  ::unlink(detail::Paths::node_lock(config, dead_lock).c_str());
}

TEST(SecuritySymlink, NotifierDoesNotConnectThroughASocketPathThatIsASymlink) {
  Victim victim;
  auto owner = make_node();
  const auto name = *ServiceName::create(test::unique_name("sym_sock_connect"));
  auto service = owner.service_builder(name).event().create();
  ASSERT_TRUE(service);
  auto listener = service->listener_builder().create();
  ASSERT_TRUE(listener);
  // Another process's notifier finds the owner's socket through its path: swap it for a link
  // to the real socket, moved elsewhere. The notifier must not connect through the link.
  const auto socket = detail::Paths::node_socket(owner.config(), owner.id());
  const auto moved = victim.dir() + "/moved.sock";
  ASSERT_EQ(::rename(socket.c_str(), moved.c_str()), 0);
  plant(moved, socket);
  // `axon notify` is another process with its own node and notifier.
  const auto notified = run("axon", {"notify", std::string(name.as_string()), "--id", "5"});
  EXPECT_EQ(notified.status.code, 0) << notified.output;
  EXPECT_EQ(notified.output, "notified 0 listener(s)\n");
  auto waited = listener->timed_wait([](EventId, std::uint64_t) {}, 100ms);
  ASSERT_TRUE(waited);
  EXPECT_EQ(*waited, 0u);
  ::unlink(moved.c_str());
  EXPECT_TRUE(victim.intact());
}

TEST(SecuritySymlink, EventDirectoryLockAndFifoPlantedAsSymlinksAreNeverFollowed) {
  Victim victim;
  const ScopedRoot root;
  ASSERT_TRUE(fs::create_directory(root.path()));
  ::chmod(root.path().c_str(), 0700);
  const auto events = root.path() + "/events";
  const auto config = Config::from_environment();

  // The events directory itself.
  const auto in_dir = test::unique_name("sym_evt_dir");
  victim.add(detail::SystemEventPaths::hash(in_dir) + ".lock");
  plant(victim.dir(), events);
  auto opened = SystemEvent::open(in_dir);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), SystemEventError::PermissionDenied);
  EXPECT_EQ(run("evt_set", {in_dir}).status.code, 3);
  EXPECT_EQ(run("evt_wait", {in_dir, "0"}).status.code, 3);
  EXPECT_TRUE(victim.intact());
  ::unlink(events.c_str());

  // An event's creation lock.
  ASSERT_TRUE(platform::ensure_private_directory(events));
  const auto locked = test::unique_name("sym_evt_lock");
  plant(victim.file(),
        detail::SystemEventPaths::creation_lock(config, detail::SystemEventPaths::hash(locked)));
  auto refused = SystemEvent::open(locked);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), SystemEventError::PermissionDenied);
  EXPECT_EQ(run("evt_set", {locked}).status.code, 3);
  EXPECT_TRUE(victim.intact());
  EXPECT_FALSE(SystemEvent::remove(locked));
  EXPECT_TRUE(victim.intact());

  // An event's FIFO.
  const auto piped = test::unique_name("sym_evt_fifo");
  plant(victim.file(),
        detail::SystemEventPaths::fifo(config, detail::SystemEventPaths::hash(piped)));
  auto event = SystemEvent::open(piped);
  ASSERT_TRUE(event);
  auto fd = event->fd();
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error(), SystemEventError::PermissionDenied);
  event->set();
  EXPECT_EQ(run("evt_set", {piped}).status.code, 0);
  EXPECT_EQ(run("evt_wait", {piped, "0"}).status.code, 0);
  EXPECT_TRUE(victim.intact());
  EXPECT_TRUE(SystemEvent::remove(piped));
  EXPECT_FALSE(fs::exists(fs::symlink_status(
      detail::SystemEventPaths::fifo(config, detail::SystemEventPaths::hash(piped)))));
  EXPECT_TRUE(victim.intact());
}

}  // namespace
