// The configuration file (docs/design.md, "Configuration"): every key, every kind of error with
// its line and column, the lookup order, precedence (environment over file over default), and a
// node's service builders starting from its configuration's defaults. Files are written into a
// private temporary directory per test and removed with it.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>

#include "axon/axon.hpp"
#include "axon_test.hpp"
#include "scoped_env.hpp"
#include "test_env.hpp"

namespace {

using axon::Access;
using axon::Config;
using axon::ConfigError;
using axon::ConfigFileErrorKind;
using axon::ConfigSource;
using axon::ConfigValue;
using axon::EventBackend;
using axon::LoadedConfig;
using axon::OverflowPolicy;
using axon::test::ScopedEnv;
using axon::test::TempDir;

const ConfigValue* value_of(const LoadedConfig& loaded, const std::string& key) {
  for (const auto& v : loaded.values) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

/// Every key, each to a value other than its default, one a line (line numbers below count on it).
constexpr const char* kEveryKey = R"(# every key
prefix = "axon_cfg_"
root = "/tmp/axon-config-root"

[event]
max_listeners = 7
max_notifiers = 9
max_nodes = 11
event_id_max_value = 100
backend = "fifo"
access = "group"

[publish_subscribe]
max_publishers = 3
max_subscribers = 5
max_nodes = 13
history_size = 4
subscriber_max_buffer_size = 6
publisher_max_loans = 8
subscriber_max_borrowed_samples = 10
overflow_policy = "block"
access = "group"

[request_response]
max_clients = 12
max_servers = 14
max_nodes = 15
max_active_requests_per_client = 16
max_response_buffer_size = 17
max_loaned_requests = 18
max_loaned_responses = 19
max_borrowed_responses = 20
fire_and_forget = false
overflow_policy = "refuse"
access = "group"
)";

TEST(ConfigFile, EveryKeyIsReadAndRecordedWithItsLine) {
  const TempDir dir;
  const auto file = dir.write("axon.toml", kEveryKey);

  const auto loaded = Config::load_file(file);

  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto& c = loaded->config;
  EXPECT_EQ(c.prefix, "axon_cfg_");
  EXPECT_EQ(c.root, "/tmp/axon-config-root");
  EXPECT_TRUE(c.root_chosen);
  const auto& e = c.defaults.event;
  EXPECT_EQ(e.max_listeners, 7u);
  EXPECT_EQ(e.max_notifiers, 9u);
  EXPECT_EQ(e.max_nodes, 11u);
  EXPECT_EQ(e.event_id_max_value, 100u);
  EXPECT_EQ(e.backend, EventBackend::Fifo);
  EXPECT_EQ(e.access, Access::Group);
  const auto& p = c.defaults.publish_subscribe;
  EXPECT_EQ(p.max_publishers, 3u);
  EXPECT_EQ(p.max_subscribers, 5u);
  EXPECT_EQ(p.max_nodes, 13u);
  EXPECT_EQ(p.history_size, 4u);
  EXPECT_EQ(p.subscriber_max_buffer_size, 6u);
  EXPECT_EQ(p.publisher_max_loans, 8u);
  EXPECT_EQ(p.subscriber_max_borrowed_samples, 10u);
  EXPECT_EQ(p.overflow_policy, OverflowPolicy::Block);
  EXPECT_EQ(p.access, Access::Group);
  const auto& r = c.defaults.request_response;
  EXPECT_EQ(r.max_clients, 12u);
  EXPECT_EQ(r.max_servers, 14u);
  EXPECT_EQ(r.max_nodes, 15u);
  EXPECT_EQ(r.max_active_requests_per_client, 16u);
  EXPECT_EQ(r.max_response_buffer_size, 17u);
  EXPECT_EQ(r.max_loaned_requests, 18u);
  EXPECT_EQ(r.max_loaned_responses, 19u);
  EXPECT_EQ(r.max_borrowed_responses, 20u);
  EXPECT_FALSE(r.fire_and_forget);
  EXPECT_EQ(r.overflow_policy, OverflowPolicy::Refuse);
  EXPECT_EQ(r.access, Access::Group);

  // Every key of the file is one value, from the file, at its line.
  EXPECT_EQ(loaded->file, file);
  EXPECT_EQ(loaded->values.size(), 28u);
  for (const auto& v : loaded->values) {
    EXPECT_EQ(v.source.kind, ConfigSource::Kind::File) << v.key;
    EXPECT_EQ(v.source.file, file) << v.key;
  }
  EXPECT_EQ(value_of(*loaded, "prefix")->source.line, 2u);
  EXPECT_EQ(value_of(*loaded, "event.max_listeners")->source.line, 6u);
  EXPECT_EQ(value_of(*loaded, "publish_subscribe.overflow_policy")->source.line, 21u);
  EXPECT_EQ(value_of(*loaded, "request_response.access")->source.line, 35u);
  EXPECT_EQ(value_of(*loaded, "request_response.access")->source.to_string(), file + ":35");
  EXPECT_EQ(std::get<std::string>(value_of(*loaded, "event.backend")->value), "fifo");
  EXPECT_EQ(std::get<std::uint64_t>(value_of(*loaded, "publish_subscribe.max_subscribers")->value),
            5u);
  EXPECT_EQ(std::get<bool>(value_of(*loaded, "request_response.fire_and_forget")->value), false);
}

TEST(ConfigFile, AnEmptyFileKeepsEveryDefault) {
  const TempDir dir;
  const auto loaded = Config::load_file(dir.write("axon.toml", "# nothing\n"));

  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const axon::ServiceDefaults built_in;
  EXPECT_EQ(loaded->config.prefix, "axon_");
  EXPECT_FALSE(loaded->config.root_chosen);
  EXPECT_EQ(loaded->config.defaults.publish_subscribe.max_subscribers,
            axon::PubSubDefaults::kMaxSubscribers);
  EXPECT_EQ(loaded->config.defaults.request_response.max_clients,
            built_in.request_response.max_clients);
  for (const auto& v : loaded->values) {
    EXPECT_EQ(v.source.kind, ConfigSource::Kind::Default) << v.key;
    EXPECT_EQ(v.source.to_string(), "default");
  }
}

// docs/axon.example.toml is a valid file that names every key (root commented out, as its
// default depends on the user) with its built-in default.
TEST(ConfigFile, TheExampleFileHoldsEveryKeyWithItsDefault) {
  const auto example = std::string(AXON_SOURCE_DIR) + "/docs/axon.example.toml";
  const TempDir dir;
  const auto empty = Config::load_file(dir.write("axon.toml", ""));

  const auto loaded = Config::load_file(example);

  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(empty);
  ASSERT_EQ(loaded->values.size(), empty->values.size());
  for (std::size_t i = 0; i < loaded->values.size(); ++i) {
    const auto& v = loaded->values[i];
    EXPECT_EQ(v.value, empty->values[i].value) << v.key;
    EXPECT_EQ(v.source.kind,
              v.key == "root" ? ConfigSource::Kind::Default : ConfigSource::Kind::File)
        << v.key;
  }
}

TEST(ConfigFile, DottedKeysAreTheSameKeys) {
  const TempDir dir;
  const auto loaded = Config::load_file(
      dir.write("axon.toml", "publish_subscribe.max_subscribers = 4\nevent.backend = \"fifo\"\n"));

  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->config.defaults.publish_subscribe.max_subscribers, 4u);
  EXPECT_EQ(loaded->config.defaults.event.backend, EventBackend::Fifo);
  EXPECT_EQ(value_of(*loaded, "event.backend")->source.line, 2u);
}

struct BadFile {
  const char* name;
  const char* text;
  ConfigFileErrorKind kind;
  std::uint32_t line;
  std::uint32_t column;
  const char* what;  ///< a part of the message
};

// Named in test names by its name, not its bytes.
void PrintTo(const BadFile& bad, std::ostream* out) { *out << bad.name; }

class ConfigFileErrors : public ::testing::TestWithParam<BadFile> {};

TEST_P(ConfigFileErrors, AreReportedWithTheirKindLineAndColumn) {
  const auto& bad = GetParam();
  const TempDir dir;
  const auto file = dir.write("axon.toml", bad.text);

  const auto loaded = Config::load_file(file);

  ASSERT_FALSE(loaded);
  const auto& error = loaded.error();
  EXPECT_EQ(error.kind, bad.kind) << to_string(error.kind) << ": " << error.to_string();
  EXPECT_EQ(error.file, file);
  EXPECT_EQ(error.line, bad.line) << error.to_string();
  EXPECT_EQ(error.column, bad.column) << error.to_string();
  EXPECT_NE(error.what.find(bad.what), std::string::npos) << error.what;
  EXPECT_EQ(error.to_string(), file + ":" + std::to_string(bad.line) + ":" +
                                   std::to_string(bad.column) + ": " + error.what);
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, ConfigFileErrors,
    ::testing::Values(
        BadFile{"SyntaxError", "prefix = \"axon_\"\nroot = \n", ConfigFileErrorKind::Malformed, 2,
                8, "expected"},
        BadFile{"KeyGivenTwice", "[event]\nmax_nodes = 2\nmax_nodes = 3\n",
                ConfigFileErrorKind::Malformed, 3, 13, "max_nodes"},
        BadFile{"UnknownTopLevelKey", "prefix = \"a_\"\n  prefx = \"b_\"\n",
                ConfigFileErrorKind::UnknownKey, 2, 3, "unknown key \"prefx\""},
        BadFile{"UnknownKeyInTable", "[publish_subscribe]\nmax_subscribers = 4\nmax_subscriber = 4\n",
                ConfigFileErrorKind::UnknownKey, 3, 1,
                "unknown key \"max_subscriber\" in [publish_subscribe]"},
        BadFile{"UnknownTable", "[pubsub]\nmax_subscribers = 4\n", ConfigFileErrorKind::UnknownKey,
                1, 2, "unknown table [pubsub]"},
        BadFile{"StringForNumber", "[event]\nmax_listeners = \"7\"\n",
                ConfigFileErrorKind::WrongType, 2, 17,
                "event.max_listeners must be an integer, not a string"},
        BadFile{"FloatForNumber", "[request_response]\nmax_clients = 2.5\n",
                ConfigFileErrorKind::WrongType, 2, 15, "not a floating-point number"},
        BadFile{"NumberForBoolean", "[request_response]\nfire_and_forget = 1\n",
                ConfigFileErrorKind::WrongType, 2, 19, "must be a boolean"},
        BadFile{"NumberForString", "prefix = 5\n", ConfigFileErrorKind::WrongType, 1, 10,
                "prefix must be a string"},
        BadFile{"ValueForTable", "event = 3\n", ConfigFileErrorKind::WrongType, 1, 9,
                "event must be a table"},
        BadFile{"Zero", "[publish_subscribe]\nmax_subscribers = 0\n",
                ConfigFileErrorKind::OutOfRange, 2, 19,
                "publish_subscribe.max_subscribers = 0 is out of range (1..256)"},
        BadFile{"Negative", "[publish_subscribe]\nhistory_size = -1\n",
                ConfigFileErrorKind::OutOfRange, 2, 16, "out of range (0..65536)"},
        BadFile{"AboveTheLimit", "[event]\nevent_id_max_value = 1048576\n",
                ConfigFileErrorKind::OutOfRange, 2, 22, "out of range (0..1048575)"},
        BadFile{"UnknownWord", "[event]\nbackend = \"pipe\"\n", ConfigFileErrorKind::InvalidValue,
                2, 11, "one of \"eventfd\", \"fifo\""},
        BadFile{"UnknownPolicy", "[request_response]\noverflow_policy = \"Block\"\n",
                ConfigFileErrorKind::InvalidValue, 2, 19,
                "one of \"overwrite_oldest\", \"refuse\", \"block\""},
        BadFile{"BadPrefix", "prefix = \"a/b\"\n", ConfigFileErrorKind::InvalidValue, 1, 10,
                "prefix = \"a/b\" is refused"},
        BadFile{"RelativeRoot", "root = \"tmp/x\"\n", ConfigFileErrorKind::InvalidValue, 1, 8,
                "an absolute path"},
        // Two problems: the first in the file is reported, whatever order toml++ keeps.
        BadFile{"FirstOfTwo", "[request_response]\nzzz = 1\n[event]\naaa = 1\n",
                ConfigFileErrorKind::UnknownKey, 2, 1, "unknown key \"zzz\""}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ConfigFile, AMissingOrUnreadableFileIsUnreadableWithoutALine) {
  const TempDir dir;

  const auto missing = Config::load_file(dir.path() + "/none.toml");
  const auto directory = Config::load_file(dir.path());

  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ConfigFileErrorKind::Unreadable);
  EXPECT_EQ(missing.error().line, 0u);
  EXPECT_EQ(missing.error().to_string(), dir.path() + "/none.toml: " + missing.error().what);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().kind, ConfigFileErrorKind::Unreadable);
  EXPECT_EQ(directory.error().what, "not a regular file");
}

/// The lookup with a clean slate: no AXON_CONFIG, XDG_CONFIG_HOME and HOME in `dir`.
struct Lookup {
  explicit Lookup(const TempDir& dir)
      : config("AXON_CONFIG", std::nullopt),
        xdg("XDG_CONFIG_HOME", dir.path() + "/xdg"),
        home("HOME", dir.path() + "/home") {}
  ScopedEnv config;
  ScopedEnv xdg;
  ScopedEnv home;
};

TEST(ConfigLookup, AxonConfigComesFirstThenXdgThenHome) {
  const TempDir dir;
  const Lookup lookup(dir);
  const auto named = dir.write("named.toml", "[event]\nmax_nodes = 1\n");
  const auto xdg = dir.write("xdg/axon/axon.toml", "[event]\nmax_nodes = 2\n");
  const auto home = dir.write("home/.config/axon/axon.toml", "[event]\nmax_nodes = 3\n");

  std::optional<ScopedEnv> axon_config;
  axon_config.emplace("AXON_CONFIG", named);
  const auto first = Config::load();
  axon_config.reset();
  const auto second = Config::load();
  std::optional<ScopedEnv> relative_xdg;
  relative_xdg.emplace("XDG_CONFIG_HOME", "relative/dir");  // ignored, as the XDG rules say
  const auto third = Config::load();

  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->file, named);
  EXPECT_EQ(first->file_reason, "AXON_CONFIG");
  EXPECT_EQ(first->config.defaults.event.max_nodes, 1u);
  EXPECT_EQ(second->file, xdg);
  EXPECT_EQ(second->file_reason, "XDG_CONFIG_HOME");
  EXPECT_EQ(second->config.defaults.event.max_nodes, 2u);
  EXPECT_EQ(third->file, home);
  EXPECT_EQ(third->file_reason, "HOME");
  EXPECT_EQ(third->config.defaults.event.max_nodes, 3u);
}

TEST(ConfigLookup, AnAxonConfigThatCannotBeReadIsAnErrorNotAFallback) {
  const TempDir dir;
  const Lookup lookup(dir);
  dir.write("xdg/axon/axon.toml", "[event]\nmax_nodes = 2\n");
  const ScopedEnv named("AXON_CONFIG", dir.path() + "/missing.toml");

  const auto loaded = Config::load();
  const auto config = Config::from_environment();

  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, ConfigFileErrorKind::Unreadable);
  EXPECT_EQ(loaded.error().file, dir.path() + "/missing.toml");
  ASSERT_TRUE(config.file_error);
  EXPECT_EQ(config.validate(), tl::unexpected(ConfigError::InvalidFile));
}

TEST(ConfigLookup, NoFileAnywhereIsTheDefaults) {
  if (std::filesystem::exists("/etc/axon/axon.toml")) GTEST_SKIP() << "/etc/axon/axon.toml exists";
  const TempDir dir;
  const Lookup lookup(dir);

  const auto loaded = Config::load();

  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_TRUE(loaded->file.empty());
  EXPECT_EQ(loaded->searched,
            (std::vector<std::string>{dir.path() + "/xdg/axon/axon.toml", "/etc/axon/axon.toml"}));
  EXPECT_EQ(value_of(*loaded, "event.max_nodes")->source.kind, ConfigSource::Kind::Default);
}

TEST(ConfigPrecedence, EnvironmentOverFileOverDefault) {
  const TempDir dir;
  const Lookup lookup(dir);
  const auto file = dir.write("axon.toml",
                              "prefix = \"axon_file_\"\nroot = \"/tmp/axon-from-file\"\n"
                              "[publish_subscribe]\nmax_subscribers = 5\n");
  const ScopedEnv named("AXON_CONFIG", file);
  const ScopedEnv prefix("AXON_PREFIX", "axon_env_");
  const ScopedEnv root("AXON_ROOT", std::nullopt);

  const auto loaded = Config::load();
  const auto config = Config::from_environment();

  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->config.prefix, "axon_env_");
  EXPECT_EQ(value_of(*loaded, "prefix")->source.kind, ConfigSource::Kind::Environment);
  EXPECT_EQ(value_of(*loaded, "prefix")->source.to_string(), "env AXON_PREFIX");
  EXPECT_EQ(loaded->config.root, "/tmp/axon-from-file");
  EXPECT_TRUE(loaded->config.root_chosen);
  EXPECT_EQ(value_of(*loaded, "root")->source.to_string(), file + ":2");
  EXPECT_EQ(loaded->config.defaults.publish_subscribe.max_subscribers, 5u);
  EXPECT_EQ(value_of(*loaded, "publish_subscribe.max_publishers")->source.kind,
            ConfigSource::Kind::Default);
  // from_environment() is the same configuration.
  EXPECT_EQ(config.prefix, "axon_env_");
  EXPECT_EQ(config.root, "/tmp/axon-from-file");
  EXPECT_EQ(config.defaults.publish_subscribe.max_subscribers, 5u);
  EXPECT_FALSE(config.file_error);
}

TEST(ConfigNode, ABadFileMakesNodeCreationFailWithInvalidConfigFile) {
  const TempDir dir;
  const ScopedEnv named("AXON_CONFIG", dir.write("axon.toml", "[event]\nmax_nodez = 2\n"));

  const auto node = axon::NodeBuilder().name("config").create();
  const auto listed = axon::Node::list();

  ASSERT_FALSE(node);
  EXPECT_EQ(node.error(), axon::NodeCreateError::InvalidConfigFile);
  EXPECT_STREQ(to_string(node.error()), "InvalidConfigFile");
  EXPECT_STREQ(to_string(ConfigError::InvalidFile), "InvalidFile");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error(), axon::NodeListError::InvalidConfig);
}

TEST(ConfigNode, ServiceBuildersStartFromTheDefaultsAndExplicitSettingsWin) {
  Config config = Config::from_environment();
  config.defaults.publish_subscribe.max_subscribers = 5;
  config.defaults.publish_subscribe.overflow_policy = OverflowPolicy::Refuse;
  config.defaults.event.max_listeners = 7;
  config.defaults.event.backend = EventBackend::Fifo;
  config.defaults.request_response.max_clients = 3;
  config.defaults.request_response.fire_and_forget = false;
  auto node = axon::NodeBuilder().config(config).create();
  ASSERT_TRUE(node);
  const auto pubsub_name = axon::test::service_name("cfg_ps");
  const auto explicit_name = axon::test::service_name("cfg_ps_explicit");
  const auto event_name = axon::test::service_name("cfg_ev");
  const auto rr_name = axon::test::service_name("cfg_rr");

  auto pubsub = node->service_builder(pubsub_name).publish_subscribe<std::uint64_t>().create();
  auto explicit_settings = node->service_builder(explicit_name)
                               .publish_subscribe<std::uint64_t>()
                               .max_subscribers(3)
                               .overflow_policy(OverflowPolicy::Block)
                               .create();
  auto event = node->service_builder(event_name).event().create();
  auto rr = node->service_builder(rr_name).request_response<std::uint64_t, std::uint64_t>().create();
  // A node with the built-in defaults opens them all: defaults are not requirements on open.
  auto plain = axon::test::make_node("plain");
  auto opened = plain.service_builder(pubsub_name).publish_subscribe<std::uint64_t>().open();
  auto opened_event = plain.service_builder(event_name).event().open();

  ASSERT_TRUE(pubsub && explicit_settings && event && rr);
  EXPECT_EQ(pubsub->static_config().max_subscribers, 5u);
  EXPECT_EQ(pubsub->static_config().overflow, OverflowPolicy::Refuse);
  EXPECT_EQ(pubsub->static_config().max_publishers, axon::PubSubDefaults::kMaxPublishers);
  EXPECT_EQ(explicit_settings->static_config().max_subscribers, 3u);
  EXPECT_EQ(explicit_settings->static_config().overflow, OverflowPolicy::Block);
  EXPECT_EQ(event->static_config().max_listeners, 7u);
  EXPECT_EQ(event->static_config().backend, EventBackend::Fifo);
  EXPECT_EQ(rr->static_config().max_clients, 3u);
  EXPECT_FALSE(rr->static_config().fire_and_forget);
  EXPECT_TRUE(opened) << to_string(opened.error());
  EXPECT_TRUE(opened_event) << to_string(opened_event.error());
}

}  // namespace
