// The configuration file between real processes: programs started with AXON_CONFIG create their
// services with the file's defaults, as another process reads them (discovery, `axon service show
// --json`); a bad file stops node creation with InvalidConfigFile and every program with one
// line; `axon config check` and `axon config show` as a user runs them (docs/cli.md). Each test
// writes its files into its own temporary directory, removed at its end.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon_test.hpp"
#include "process.hpp"
#include "scoped_env.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;
using axon::test::ScopedEnv;
using axon::test::TempDir;

constexpr auto kWatchdog = 20s;

/// The file every test of a good configuration writes: line numbers below count on it.
constexpr const char* kGoodFile = R"(# axon configuration for config_file_test
[publish_subscribe]
max_subscribers = 5
history_size = 3
subscriber_max_buffer_size = 4
overflow_policy = "refuse"

[event]
max_listeners = 7
max_notifiers = 9

[request_response]
max_clients = 3
max_active_requests_per_client = 6
)";

/// A misspelt key on line 3, column 1.
constexpr const char* kBadFile = "[publish_subscribe]\nmax_subscribers = 5\nmax_subscriber = 6\n";

using axon::test::lines_of;

bool has_line(const std::string& text, const std::string& line) {
  const auto all = lines_of(text);
  return std::find(all.begin(), all.end(), line) != all.end();
}

/// Starts `program args...` with AXON_CONFIG=`file` in its environment only.
ChildProcess spawn_with_config(const std::string& file, const std::string& program,
                               const std::vector<std::string>& args) {
  const ScopedEnv config("AXON_CONFIG", file);
  return ChildProcess::spawn(bin(program), args, /*merge_stderr=*/true);
}

axon::test::Finished run_with_config(const std::optional<std::string>& file,
                                     const std::string& program,
                                     const std::vector<std::string>& args,
                                     bool merge_stderr = true) {
  const ScopedEnv config("AXON_CONFIG", file);
  return axon::test::run_to_end(bin(program), args, merge_stderr, kWatchdog);
}

void stop(ChildProcess& child) {
  child.kill(SIGINT);
  auto stopped = axon::test::finish(std::move(child), 5s);
  EXPECT_TRUE(stopped.status.success()) << stopped.output;
}

TEST(ConfigFileProcesses, ServicesCreatedByAProcessHaveItsFilesDefaults) {
  const TempDir dir;
  const auto file = dir.write("axon.toml", kGoodFile);
  const auto pubsub = axon::test::unique_name("cfg_ps");
  const auto event = axon::test::unique_name("cfg_ev");
  const auto rr = axon::test::unique_name("cfg_rr");

  // The examples open or create with default settings: what they get is the file's.
  auto publisher = spawn_with_config(file, "publish_subscribe_publisher",
                                     {pubsub, "--interval-ms", "100"});
  auto listener = spawn_with_config(file, "event_listener", {event});
  auto server = spawn_with_config(file, "request_response_server", {rr});
  ASSERT_TRUE(axon::test::wait_for_ports(pubsub, &axon::ServiceInfo::publishers, 1));
  ASSERT_TRUE(axon::test::wait_for_ports(event, &axon::ServiceInfo::listeners, 1));
  ASSERT_TRUE(axon::test::wait_for_ports(rr, &axon::ServiceInfo::servers, 1));

  // Read here, in a process without the file, through discovery ...
  const auto ps_info = axon::describe_service(*axon::ServiceName::create(pubsub));
  const auto ev_info = axon::describe_service(*axon::ServiceName::create(event));
  const auto rr_info = axon::describe_service(*axon::ServiceName::create(rr));
  // ... and by the CLI, a third process, also without it.
  const auto shown = run_with_config(std::nullopt, "axon", {"service", "show", pubsub, "--json"},
                                     /*merge_stderr=*/false);
  stop(publisher);
  stop(listener);
  stop(server);

  ASSERT_TRUE(ps_info && ev_info && rr_info);
  EXPECT_EQ(ps_info->pubsub.max_subscribers, 5u);
  EXPECT_EQ(ps_info->pubsub.history_size, 3u);
  EXPECT_EQ(ps_info->pubsub.subscriber_buffer_size, 4u);
  EXPECT_EQ(ps_info->pubsub.overflow, axon::OverflowPolicy::Refuse);
  EXPECT_EQ(ps_info->pubsub.max_publishers, axon::PubSubDefaults::kMaxPublishers);
  EXPECT_EQ(ev_info->event.max_listeners, 7u);
  EXPECT_EQ(ev_info->event.max_notifiers, 9u);
  EXPECT_EQ(rr_info->request_response.max_clients, 3u);
  EXPECT_EQ(rr_info->request_response.max_active_requests_per_client, 6u);
  ASSERT_TRUE(shown.status.success()) << shown.output;
  EXPECT_NE(shown.output.find("\"max_subscribers\":5"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("\"history_size\":3"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("\"subscriber_buffer_size\":4"), std::string::npos) << shown.output;
}

TEST(ConfigFileProcesses, ABadFileStopsNodeCreationAndEveryProgramWithOneLine) {
  const TempDir dir;
  const auto file = dir.write("axon.toml", kBadFile);
  const std::string where = file + ":3:1: unknown key \"max_subscriber\" in [publish_subscribe]";

  const auto node = run_with_config(file, "axon_test_config_node", {});
  const auto example = run_with_config(file, "publish_subscribe_publisher",
                                       {axon::test::unique_name("cfg_bad")});
  const auto tool = run_with_config(file, "axon", {"service", "list"});
  const auto missing = run_with_config(dir.path() + "/missing.toml", "axon_test_config_node", {});

  EXPECT_EQ(node.status.code, 3) << node.output;
  EXPECT_TRUE(has_line(node.output, "node error InvalidConfigFile")) << node.output;
  EXPECT_TRUE(has_line(node.output, "file " + where)) << node.output;
  // The examples and the tools check the configuration before anything is created: exit 2, as
  // for an invalid AXON_PREFIX, with the file's place in one line.
  EXPECT_TRUE(example.status.exited && example.status.code == 2) << example.output;
  EXPECT_EQ(lines_of(example.output),
            std::vector<std::string>{"publish_subscribe_publisher: error: config file " + where});
  EXPECT_TRUE(tool.status.exited && tool.status.code == 2) << tool.output;
  EXPECT_EQ(lines_of(tool.output).size(), 1u) << tool.output;
  EXPECT_NE(tool.output.find("config file " + where), std::string::npos) << tool.output;
  // A file named by AXON_CONFIG that is not there is an error too, never the defaults.
  EXPECT_EQ(missing.status.code, 3) << missing.output;
  EXPECT_TRUE(has_line(missing.output, "node error InvalidConfigFile")) << missing.output;
  // Nothing was created by any of them.
  EXPECT_TRUE(axon::test::shm_objects().empty());
}

TEST(ConfigFileProcesses, ConfigCheckAcceptsAGoodFileAndPlacesTheProblemOfABadOne) {
  const TempDir dir;
  const auto good = dir.write("good.toml", kGoodFile);
  const auto bad = dir.write("bad.toml", kBadFile);
  const auto wrong_type = dir.write("type.toml", "[event]\nmax_listeners = \"many\"\n");

  const auto accepted = run_with_config(std::nullopt, "axon", {"config", "check", good});
  const auto refused = run_with_config(std::nullopt, "axon", {"config", "check", bad});
  const auto typed = run_with_config(std::nullopt, "axon", {"config", "check", wrong_type});
  const auto absent =
      run_with_config(std::nullopt, "axon", {"config", "check", dir.path() + "/none.toml"});
  const auto usage = run_with_config(std::nullopt, "axon", {"config", "check"});

  EXPECT_TRUE(accepted.status.success()) << accepted.output;
  EXPECT_EQ(accepted.output, good + ": ok\n");
  EXPECT_TRUE(refused.status.exited && refused.status.code == 1) << refused.output;
  EXPECT_EQ(refused.output, "axon: error: " + bad +
                                ":3:1: unknown key \"max_subscriber\" in [publish_subscribe]\n");
  EXPECT_EQ(typed.status.code, 1) << typed.output;
  EXPECT_EQ(typed.output, "axon: error: " + wrong_type +
                              ":2:17: event.max_listeners must be an integer, not a string\n");
  EXPECT_EQ(absent.status.code, 1) << absent.output;
  EXPECT_EQ(lines_of(absent.output).size(), 1u) << absent.output;
  EXPECT_EQ(usage.status.code, 2) << usage.output;
}

TEST(ConfigFileProcesses, ConfigShowNamesTheSourceOfEveryValue) {
  const TempDir dir;
  const auto file = dir.write("axon.toml", kGoodFile);

  // The test's environment sets AXON_PREFIX and AXON_ROOT: they win over the file.
  const auto shown = run_with_config(file, "axon", {"config", "show"}, /*merge_stderr=*/false);
  const auto json = run_with_config(file, "axon", {"config", "show", "--json"},
                                    /*merge_stderr=*/false);
  const auto bad = run_with_config(dir.write("bad.toml", kBadFile), "axon", {"config", "show"});

  ASSERT_TRUE(shown.status.success()) << shown.output;
  const auto lines = lines_of(shown.output);
  ASSERT_EQ(lines.size(), 29u) << shown.output;  // the file's line, then 28 settings
  EXPECT_EQ(lines[0], "# file: " + file + " (AXON_CONFIG)");
  EXPECT_TRUE(has_line(shown.output, "prefix = \"" + axon::test::prefix() + "\"  # env AXON_PREFIX"))
      << shown.output;
  EXPECT_TRUE(has_line(shown.output, "root = \"" + axon::test::root() + "\"  # env AXON_ROOT"))
      << shown.output;
  EXPECT_TRUE(has_line(shown.output, "publish_subscribe.max_subscribers = 5  # " + file + ":3"))
      << shown.output;
  EXPECT_TRUE(has_line(shown.output,
                       "publish_subscribe.overflow_policy = \"refuse\"  # " + file + ":6"))
      << shown.output;
  EXPECT_TRUE(has_line(shown.output, "event.max_nodes = 32  # default")) << shown.output;
  EXPECT_TRUE(has_line(shown.output, "request_response.fire_and_forget = true  # default"))
      << shown.output;

  ASSERT_TRUE(json.status.success()) << json.output;
  EXPECT_EQ(lines_of(json.output).size(), 1u);
  EXPECT_NE(json.output.find("\"file\":\"" + file + "\",\"file_reason\":\"AXON_CONFIG\""),
            std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find("{\"key\":\"publish_subscribe.max_subscribers\",\"value\":5,"
                             "\"source\":\"file\",\"file\":\"" +
                             file + "\",\"line\":3}"),
            std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find("{\"key\":\"prefix\",\"value\":\"" + axon::test::prefix() +
                             "\",\"source\":\"env\",\"variable\":\"AXON_PREFIX\"}"),
            std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find("{\"key\":\"event.max_nodes\",\"value\":32,\"source\":\"default\"}"),
            std::string::npos)
      << json.output;

  EXPECT_EQ(bad.status.code, 1) << bad.output;
  EXPECT_EQ(lines_of(bad.output).size(), 1u) << bad.output;
  EXPECT_NE(bad.output.find(":3:1: unknown key"), std::string::npos) << bad.output;
}

}  // namespace
