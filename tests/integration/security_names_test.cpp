// Names cannot leave the prefix or the root directory. Service names, SystemEvent names and node
// names that try to (`../x`, `/etc/passwd`, `a/../../b`), names with a NUL or a newline and
// over-long names are refused before any file exists: /dev/shm and the root directory (and the
// places a path would escape to) are listed before and after. Node names are labels stored inside
// the node's details, never part of a path: printable ones are accepted, and then only the node's
// id names its files. AXON_PREFIX and AXON_ROOT values that would leave /dev/shm or name a
// relative or `..` root are refused by the library and by every tool.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon/detail/node_core.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

/// Everything under /dev/shm and the test's root, and a few places an escaping name would hit.
struct Snapshot {
  std::set<std::string> shm;
  std::set<std::string> root;

  static Snapshot take() {
    Snapshot s;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
      s.shm.insert(e.path().filename().string());
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(test::root(), ec)) {
      s.root.insert(e.path().string());
    }
    return s;
  }
};

/// Names created meanwhile that belong to this test (other test processes run in parallel).
std::vector<std::string> ours(const std::set<std::string>& before,
                              const std::set<std::string>& after, const std::string& stem) {
  std::vector<std::string> out;
  for (const auto& name : after) {
    if (!before.contains(name) && name.find(stem) != std::string::npos) out.push_back(name);
  }
  return out;
}

void expect_nothing_new(const Snapshot& before, const Snapshot& after) {
  EXPECT_TRUE(ours(before.shm, after.shm, test::prefix()).empty());
  EXPECT_TRUE(ours(before.shm, after.shm, "passwd").empty());
  EXPECT_EQ(before.root, after.root);
}

std::vector<std::string> hostile_names() {
  return {"../x",
          "/etc/passwd",
          "a/../../b",
          "..",
          ".",
          "a/./b",
          "x/../../../../../../tmp/escaped",
          std::string("a\0b", 3),
          std::string("\0", 1),
          "x\ny",
          "x\r",
          "tab\there",
          "",
          "/",
          std::string(256, 'n'),
          std::string(100000, 'n'),
          "a//b",
          "trailing/",
          "sp ace",
          "\x7f",
          "caf\xc3\xa9"};
}

TEST(SecurityNames, HostileServiceNamesAreRefusedBeforeAnyFileExists) {
  auto node = NodeBuilder().create();
  ASSERT_TRUE(node);
  const auto before = Snapshot::take();
  for (const auto& text : hostile_names()) {
    auto name = ServiceName::create(text);
    EXPECT_FALSE(name) << "accepted \"" << text << "\"";
  }
  const auto after = Snapshot::take();
  expect_nothing_new(before, after);
  EXPECT_FALSE(std::filesystem::exists("/tmp/escaped"));
  EXPECT_FALSE(std::filesystem::exists(test::root() + "/../x"));
}

TEST(SecurityNames, HostileSystemEventNamesAreRefusedBeforeAnyFileExists) {
  const auto before = Snapshot::take();
  for (const auto& text : hostile_names()) {
    auto event = SystemEvent::open(text);
    ASSERT_FALSE(event) << "accepted \"" << text << "\"";
    EXPECT_EQ(event.error(), SystemEventError::InvalidName) << text;
    auto removed = SystemEvent::remove(text);
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error(), SystemEventError::InvalidName) << text;
  }
  expect_nothing_new(before, Snapshot::take());
  EXPECT_FALSE(std::filesystem::exists("/tmp/escaped"));
}

TEST(SecurityNames, NodeNamesWithControlBytesOrTooLongAreRefusedBeforeAnyFileExists) {
  ASSERT_TRUE(NodeBuilder().create()) << "makes the root's directories before the snapshot";
  const auto before = Snapshot::take();
  for (const auto& text :
       {std::string("a\0b", 3), std::string("x\ny"), std::string("x\r"), std::string("\x1b[31m"),
        std::string(128, 'n'), std::string(100000, 'n'), std::string("caf\xc3\xa9")}) {
    auto node = NodeBuilder().name(text).create();
    ASSERT_FALSE(node) << "accepted a node named \"" << text << "\"";
    EXPECT_EQ(node.error(), NodeCreateError::InvalidName);
  }
  const auto after = Snapshot::take();
  EXPECT_TRUE(ours(before.shm, after.shm, test::prefix()).empty());
  EXPECT_EQ(before.root, after.root);
}

TEST(SecurityNames, NodeNamesThatLookLikePathsAreLabelsOnlyAndNameNoFile) {
  ASSERT_TRUE(NodeBuilder().create()) << "makes the root's directories before the snapshots";
  for (const std::string text : {"../x", "/etc/passwd", "a/../../b", "x/../../../../tmp/escaped"}) {
    const auto before = Snapshot::take();
    auto node = NodeBuilder().name(text).create();
    ASSERT_TRUE(node) << text;
    EXPECT_EQ(node->name(), text);
    const auto after = Snapshot::take();
    const auto id = node->id().to_string();
    // Exactly its details object and its lock file, both named by the id alone.
    EXPECT_EQ(ours(before.shm, after.shm, test::prefix()),
              std::vector<std::string>{test::prefix() + "node_" + id});
    std::vector<std::string> new_files;
    for (const auto& path : after.root) {
      if (!before.root.contains(path)) new_files.push_back(path);
    }
    EXPECT_EQ(new_files, std::vector<std::string>{test::root() + "/nodes/" + id + ".lock"}) << text;
    EXPECT_FALSE(std::filesystem::exists("/tmp/escaped"));
    EXPECT_FALSE(std::filesystem::exists(test::root() + "/../x"));
    auto listed = Node::list();
    ASSERT_TRUE(listed);
    bool found = false;
    for (const auto& info : *listed) found = found || (info.id == node->id() && info.name == text);
    EXPECT_TRUE(found) << "the label is shown as given";
  }
}

TEST(SecurityNames, PrefixesThatLeaveDevShmOrContainDotDotAreRefused) {
  const auto before = Snapshot::take();
  for (const std::string& prefix :
       std::vector<std::string>{"../x", "a/b", "/etc/", "..", "a..b", ".hidden", "x\n", "sp ace",
                                "", std::string(65, 'p'), std::string("a\0b", 3)}) {
    Config config{prefix, test::root(), true};
    EXPECT_EQ(config.validate(), tl::unexpected(ConfigError::InvalidPrefix)) << prefix;
    auto node = NodeBuilder().config(config).create();
    ASSERT_FALSE(node) << prefix;
    EXPECT_EQ(node.error(), NodeCreateError::InvalidConfig) << prefix;
    auto listed = Node::list(config);
    ASSERT_FALSE(listed);
    EXPECT_EQ(listed.error(), NodeListError::InvalidConfig);
    auto services = list_services(config);
    ASSERT_FALSE(services);
    EXPECT_EQ(services.error(), DiscoveryError::InvalidConfig);
    EXPECT_TRUE(Node::cleanup_dead_nodes(config).dead_nodes.empty());
    EXPECT_FALSE(SystemEvent::open("evt", config));
  }
  expect_nothing_new(before, Snapshot::take());
}

TEST(SecurityNames, RootsThatAreRelativeOrClimbAreRefused) {
  const auto before = Snapshot::take();
  for (const std::string& root :
       std::vector<std::string>{"relative", "./x", "/tmp/../etc", "/tmp/./x", "/tmp//x", "/", "",
                                // issue 14, defect 6: "//" is "/" (it passed, and root then made
                                // /nodes and /services); "///" and "//tmp" were refused already.
                                "//", "///", "//tmp",
                                test::root() + "/..", std::string("/tmp/a\0b", 8)}) {
    Config config{test::prefix(), root, true};
    // Before any node: a root that passed by mistake would be created.
    if (config.validate()) {
      ADD_FAILURE() << "accepted root \"" << root << "\"";
      continue;
    }
    EXPECT_EQ(config.validate(), tl::unexpected(ConfigError::InvalidRoot)) << root;
    auto node = NodeBuilder().config(config).create();
    ASSERT_FALSE(node) << root;
    EXPECT_EQ(node.error(), NodeCreateError::InvalidConfig);
  }
  expect_nothing_new(before, Snapshot::take());
  EXPECT_TRUE(Config({test::prefix(), "/tmp/axon-x/", true}).validate()) << "a trailing / is fine";
}

struct ToolRun {
  test::ExitStatus status;
  std::string output;
};

ToolRun run_with_env(const std::string& tool, const std::vector<std::string>& args,
                     const std::string& variable, const std::string& value) {
  // The child inherits the environment at fork; set it only around the spawn.
  const std::string saved = std::getenv(variable.c_str());
  ::setenv(variable.c_str(), value.c_str(), 1);
  auto child = ChildProcess::spawn(test::bin(tool), args, /*merge_stderr=*/true);
  ::setenv(variable.c_str(), saved.c_str(), 1);
  auto status = child.wait_for(20s);
  EXPECT_TRUE(status) << tool << " did not finish";
  return ToolRun{status.value_or(test::ExitStatus{}), child.read_all(2s)};
}

TEST(SecurityNames, ToolsRefuseAHostilePrefixOrRootAndCreateNothing) {
  const auto before = Snapshot::take();
  const auto service = test::unique_name("names_tool");
  for (const auto& [variable, value] :
       std::vector<std::pair<std::string, std::string>>{{"AXON_PREFIX", "../x"},
                                                        {"AXON_PREFIX", "a/b"},
                                                        {"AXON_PREFIX", ".."},
                                                        {"AXON_ROOT", "relative/dir"},
                                                        {"AXON_ROOT", "/tmp/../tmp/axon-x"},
                                                        {"AXON_ROOT", "//"}}) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"service", "list"},
                                               {"node", "list"},
                                               {"clean"},
                                               {"clean", "--force", service},
                                               {"listen", service, "--timeout", "0"},
                                               {"notify", service}}) {
      const auto run = run_with_env("axon", args, variable, value);
      EXPECT_TRUE(run.status.exited);
      EXPECT_EQ(run.status.code, 2) << variable << "=" << value << " axon " << args[0] << "\n"
                                    << run.output;
      EXPECT_EQ(run.output.rfind("axon: error: invalid " + variable, 0), 0u) << run.output;
    }
    // Exit 2 like `axon` (issue 15: they exited 3 and blamed the valid event name).
    for (const auto& [tool, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"evt_set", {service}}, {"evt_clear", {service}}, {"evt_wait", {service, "0"}}}) {
      const auto run = run_with_env(tool, args, variable, value);
      EXPECT_TRUE(run.status.exited);
      EXPECT_EQ(run.status.code, 2) << tool << " with " << variable << "=" << value << "\n"
                                    << run.output;
      EXPECT_EQ(run.output.rfind(tool + ": error: invalid " + variable + " ", 0), 0u) << run.output;
    }
  }
  expect_nothing_new(before, Snapshot::take());
  EXPECT_FALSE(std::filesystem::exists("/dev/shm/x"));
}

}  // namespace
