// The `axon` CLI run as a user runs it: real processes from build/bin (the tool itself and the
// event examples), checked through their output and exit codes. The output formats checked here
// are the contract of docs/cli.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "axon/axon.hpp"
#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;

constexpr auto kWatchdog = 20s;

using Result = axon::test::Finished;

/// Runs `axon args...` to its end; stderr joins stdout when `merge_stderr`.
Result run_axon(const std::vector<std::string>& args, bool merge_stderr = true) {
  return axon::test::run_to_end(bin("axon"), args, merge_stderr, kWatchdog);
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

using axon::test::lines_of;

bool has_line(const std::string& text, const std::string& line) {
  const auto all = lines_of(text);
  return std::find(all.begin(), all.end(), line) != all.end();
}

/// Polls until `condition` holds or `timeout` passes; the watchdog of every readiness wait.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Listeners of `service` as discovery sees them; 0 when it does not exist.
std::size_t listeners_of(const std::string& service) {
  auto info = axon::describe_service(*axon::ServiceName::create(service));
  return info ? info->listeners : 0;
}

bool wait_for_listeners(const std::string& service, std::size_t n) {
  return eventually([&] { return listeners_of(service) == n; });
}

/// The `axon node list` line of the node of process `pid`, split on spaces; empty if none.
std::vector<std::string> node_of_pid(pid_t pid) {
  const auto listed = run_axon({"node", "list"}, false);
  for (const auto& line : lines_of(listed.output)) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string field; in >> field;) fields.push_back(field);
    if (fields.size() >= 3 && fields[1] == std::to_string(pid)) return fields;
  }
  return {};
}

/// A strict recursive-descent JSON checker: true when `text` is exactly one JSON value.
class JsonChecker {
 public:
  static bool valid(const std::string& text) {
    JsonChecker checker(text);
    return checker.value() && (checker.skip_space(), checker.m_pos == text.size());
  }

 private:
  explicit JsonChecker(const std::string& text) : m_text(text) {}
  void skip_space() {
    while (m_pos < m_text.size() &&
           std::string_view(" \t\r\n").find(m_text[m_pos]) != std::string_view::npos) {
      ++m_pos;
    }
  }
  bool eat(char c) {
    skip_space();
    if (m_pos < m_text.size() && m_text[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (m_text.compare(m_pos, word.size(), word) != 0) return false;
    m_pos += word.size();
    return true;
  }
  bool string() {
    if (!eat('"')) return false;
    while (m_pos < m_text.size()) {
      const auto c = static_cast<unsigned char>(m_text[m_pos++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (m_pos >= m_text.size()) return false;
        const char e = m_text[m_pos++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (m_pos >= m_text.size() ||
                !std::isxdigit(static_cast<unsigned char>(m_text[m_pos++]))) {
              return false;
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const auto start = m_pos;
    if (m_pos < m_text.size() && m_text[m_pos] == '-') ++m_pos;
    while (m_pos < m_text.size() &&
           (std::isdigit(static_cast<unsigned char>(m_text[m_pos])) ||
            std::string_view(".eE+-").find(m_text[m_pos]) != std::string_view::npos)) {
      ++m_pos;
    }
    return m_pos > start && std::isdigit(static_cast<unsigned char>(m_text[m_pos - 1]));
  }
  bool value() {
    skip_space();
    if (m_pos >= m_text.size()) return false;
    switch (m_text[m_pos]) {
      case '{':
        return sequence('{', '}', true);
      case '[':
        return sequence('[', ']', false);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  bool sequence(char open, char close, bool members) {
    eat(open);
    if (eat(close)) return true;
    do {
      if (members && !(string() && eat(':'))) return false;
      if (!value()) return false;
    } while (eat(','));
    return eat(close);
  }

  const std::string& m_text;
  std::size_t m_pos = 0;
};

TEST(CliJsonChecker, TellsValidFromInvalid) {
  EXPECT_TRUE(JsonChecker::valid(R"([{"a":1,"b":"x\"y","c":{"d":[]}}])"));
  EXPECT_TRUE(JsonChecker::valid("[]"));
  EXPECT_FALSE(JsonChecker::valid(R"([{"a":1,}])"));
  EXPECT_FALSE(JsonChecker::valid(R"({"a":"x"y"})"));
  EXPECT_FALSE(JsonChecker::valid("[] x"));
}

TEST(CliService, ListShowsTheServiceOfASpawnedListener) {
  const auto service = axon::test::unique_name("cli_list");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto sut = run_axon({"service", "list"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_TRUE(has_line(sut.output, "event " + service + " nodes=1 listeners=1 notifiers=0"))
      << sut.output;
}

TEST(CliService, ListJsonIsValidAndEscapesNames) {
  // '"' and '\' are printable ASCII, so valid in a service name; JSON must escape them.
  const auto service = axon::test::unique_name(R"(cli/q"uo\te)");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto sut = run_axon({"service", "list", "--json"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_TRUE(JsonChecker::valid(sut.output)) << sut.output;
  std::string escaped;
  for (const char c : service) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  EXPECT_NE(sut.output.find(R"({"name":")" + escaped +
                            R"(","pattern":"event","nodes":1,"listeners":1,"notifiers":0,)"
                            R"("dead":{"listeners":0,"notifiers":0},"settings":{"max_listeners":16,"max_notifiers":16,"max_nodes":32,)"
                            R"("max_event_id":4095,"backend":"eventfd","access":"owner"}})"),
            std::string::npos)
      << sut.output;
}

TEST(CliService, ShowPrintsSettingsPortsAndNodes) {
  const auto service = axon::test::unique_name("cli_show");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));
  const auto node = node_of_pid(listener.pid());
  ASSERT_FALSE(node.empty());

  const auto sut = run_axon({"service", "show", service}, false);
  const auto json = run_axon({"service", "show", service, "--json"}, false);

  EXPECT_TRUE(sut.status.success());
  for (const auto& line :
       {"name: " + service, std::string("pattern: event"), "creator: " + node[0],
        std::string("max_listeners: 16"), std::string("max_notifiers: 16"),
        std::string("max_nodes: 32"), std::string("max_event_id: 4095"),
        std::string("backend: eventfd"), std::string("access: owner"), std::string("nodes: 1"),
        std::string("listeners: 1"), std::string("notifiers: 0"),
        "node: " + node[0] + " " + std::to_string(listener.pid()) + " alive event_listener"}) {
    EXPECT_TRUE(has_line(sut.output, line)) << "missing \"" << line << "\" in\n" << sut.output;
  }
  EXPECT_TRUE(json.status.success());
  EXPECT_TRUE(JsonChecker::valid(json.output)) << json.output;
  EXPECT_NE(json.output.find(R"("node_ids":[")" + node[0] + R"("])"), std::string::npos)
      << json.output;
}

TEST(CliService, ShowOfAMissingServiceExitsOneWithOneLine) {
  const auto service = axon::test::unique_name("cli_missing");

  const auto sut = run_axon({"service", "show", service});

  EXPECT_TRUE(sut.status.exited);
  EXPECT_EQ(sut.status.code, 1);
  EXPECT_EQ(sut.output, "axon: error: no service named \"" + service + "\"\n");
}

TEST(CliService, ShowOfAnInvalidNameIsAUsageErrorSayingWhy) {
  for (const auto& [name, why] :
       {std::pair{"a//b", "EmptySegment"}, std::pair{"../x", "DotSegment"},
        std::pair{"a b", "InvalidCharacter"}}) {
    const auto sut = run_axon({"service", "show", name});

    EXPECT_TRUE(sut.status.exited);
    EXPECT_EQ(sut.status.code, 2) << name;
    EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
    EXPECT_NE(sut.output.find(why), std::string::npos) << sut.output;
  }
}

TEST(CliNode, ListShowsASpawnedListenerAliveThenDeadAfterSigkill) {
  const auto service = axon::test::unique_name("cli_node");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto alive = node_of_pid(listener.pid());
  ASSERT_EQ(alive.size(), 4u) << "the example names its node";
  EXPECT_EQ(alive[2], "alive");
  EXPECT_EQ(alive[3], "event_listener");
  EXPECT_EQ(alive[0].size(), 16u);

  listener.kill(SIGKILL);
  ASSERT_TRUE(listener.wait_for(kWatchdog));
  const auto dead = node_of_pid(listener.pid());
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_EQ(dead[0], alive[0]);
  EXPECT_EQ(dead[2], "dead");

  const auto json = run_axon({"node", "list", "--json"}, false);
  EXPECT_TRUE(json.status.success());
  EXPECT_TRUE(JsonChecker::valid(json.output)) << json.output;
  EXPECT_NE(
      json.output.find(R"({"id":")" + alive[0] + R"(","pid":)" + std::to_string(listener.pid()) +
                       R"(,"state":"dead","name":"event_listener"})"),
      std::string::npos)
      << json.output;
}

TEST(CliClean, RemovesAKilledNodeAndItsListener) {
  const auto service = axon::test::unique_name("cli_clean");
  auto survivor = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));
  auto victim = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 2));
  const auto node = node_of_pid(victim.pid());
  ASSERT_FALSE(node.empty());
  victim.kill(SIGKILL);
  ASSERT_TRUE(victim.wait_for(kWatchdog));
  EXPECT_EQ(listeners_of(service), 2u) << "a dead listener is counted until cleaned";

  const auto sut = run_axon({"clean"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_TRUE(has_line(sut.output, "removed node " + node[0])) << sut.output;
  EXPECT_NE(sut.output.find(" port(s)\n"), std::string::npos) << sut.output;
  EXPECT_TRUE(node_of_pid(victim.pid()).empty());
  const auto listed = run_axon({"service", "list"}, false);
  EXPECT_TRUE(has_line(listed.output, "event " + service + " nodes=1 listeners=1 notifiers=0"))
      << listed.output;
  EXPECT_EQ(run_axon({"clean"}, false).output, "nothing to clean\n");
}

TEST(CliClean, TwoConcurrentCleanersBothSucceed) {
  const auto service = axon::test::unique_name("cli_clean2");
  std::vector<ChildProcess> victims;
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    victims.push_back(ChildProcess::spawn(bin("event_listener"), {service}));
    ASSERT_TRUE(wait_for_listeners(service, victims.size()));
    const auto node = node_of_pid(victims.back().pid());
    ASSERT_FALSE(node.empty());
    ids.push_back(node[0]);
  }
  for (auto& victim : victims) {
    victim.kill(SIGKILL);
    ASSERT_TRUE(victim.wait_for(kWatchdog));
  }

  auto first = ChildProcess::spawn(bin("axon"), {"clean"});
  auto second = ChildProcess::spawn(bin("axon"), {"clean"});
  const auto first_status = first.wait_for(kWatchdog);
  const auto second_status = second.wait_for(kWatchdog);

  ASSERT_TRUE(first_status && second_status);
  EXPECT_TRUE(first_status->success());
  EXPECT_TRUE(second_status->success());
  const auto both = first.read_all(5s) + second.read_all(5s);
  for (const auto& id : ids) {
    EXPECT_NE(both.find("removed node " + id + "\n"), std::string::npos) << both;
  }
  EXPECT_NE(both.find("removed service " + service + "\n"), std::string::npos) << both;
  const auto listed = run_axon({"node", "list"}, false);
  for (const auto& id : ids) EXPECT_EQ(listed.output.find(id), std::string::npos) << listed.output;
  EXPECT_EQ(run_axon({"service", "show", service}).status.code, 1);
}

TEST(CliNotify, ReachesASpawnedListener) {
  const auto service = axon::test::unique_name("cli_notify");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto sut = run_axon({"notify", service, "--id", "7"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_EQ(sut.output, "notified 1 listener(s)\n");
  const auto received = listener.read_until("EventId(7) x1", kWatchdog);
  EXPECT_NE(received.find("EventId(7) x1"), std::string::npos) << received;
}

TEST(CliNotify, CountRepeatsTheNotification) {
  const auto service = axon::test::unique_name("cli_count");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto sut = run_axon({"notify", service, "--count", "3"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_EQ(sut.output, "notified 1 listener(s)\nnotified 1 listener(s)\nnotified 1 listener(s)\n");
}

TEST(CliNotify, OnAMissingServiceExitsOneAndCreatesNothing) {
  const auto service = axon::test::unique_name("cli_nosvc");

  const auto sut = run_axon({"notify", service});

  EXPECT_TRUE(sut.status.exited);
  EXPECT_EQ(sut.status.code, 1);
  EXPECT_EQ(sut.output, "axon: error: no service named \"" + service + "\"\n");
  EXPECT_EQ(listeners_of(service), 0u);
  EXPECT_EQ(run_axon({"service", "show", service}).status.code, 1);
}

TEST(CliNotify, AnIdAboveTheMaxExitsOneNamingTheMax) {
  const auto service = axon::test::unique_name("cli_maxid");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto sut = run_axon({"notify", service, "--id", "4096"});

  EXPECT_TRUE(sut.status.exited);
  EXPECT_EQ(sut.status.code, 1);
  EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
  EXPECT_NE(sut.output.find("4095"), std::string::npos) << sut.output;
}

// `notify --count K` checks for SIGINT and SIGTERM between two notifications: it stops with
// 128 + the signal and says how many it sent. K is 2^64 - 1, so only the signal can end it here.
void expect_signal_stops_notify(int signal_number) {
  const auto service = axon::test::unique_name("cli_notify_sig");
  auto holder = ChildProcess::spawn(bin("axon"), {"listen", service});  // keeps the service
  ASSERT_TRUE(wait_for_listeners(service, 1));
  auto sut =
      ChildProcess::spawn(bin("axon"), {"notify", service, "--count", "18446744073709551615"},
                          /*merge_stderr=*/true);
  const auto started = sut.read_until("notified 1 listener(s)\n", kWatchdog);
  ASSERT_NE(started.find("notified 1 listener(s)\n"), std::string::npos) << started;

  sut.kill(signal_number);
  const auto output = started + sut.read_all(kWatchdog);
  const auto status = sut.wait_for(kWatchdog);

  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 128 + signal_number);
  const std::regex interrupted("axon: error: interrupted after [0-9]+ notification\\(s\\)");
  const auto lines = lines_of(output);
  const auto matches = [&](const std::string& line) { return std::regex_match(line, interrupted); };
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(), matches), 1)
      << output.substr(output.size() > 300 ? output.size() - 300 : 0);
  holder.kill(SIGINT);
  EXPECT_TRUE(holder.wait_for(kWatchdog));
}

TEST(CliNotify, SigintBetweenNotificationsExits130SayingHowManyWereSent) {
  expect_signal_stops_notify(SIGINT);
}

TEST(CliNotify, SigtermBetweenNotificationsExits143SayingHowManyWereSent) {
  expect_signal_stops_notify(SIGTERM);
}

TEST(CliListen, ReceivesFromNotifyAndExitsZeroOnSigint) {
  const auto service = axon::test::unique_name("cli_listen");
  auto sut = ChildProcess::spawn(bin("axon"), {"listen", service});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  const auto notified = run_axon({"notify", service, "--id", "3"}, false);
  ASSERT_TRUE(notified.status.success()) << notified.output;
  EXPECT_EQ(notified.output, "notified 1 listener(s)\n");

  const auto out = sut.read_until("EventId(3) x1\n", kWatchdog);
  EXPECT_EQ(out, "EventId(3) x1\n");
  sut.kill(SIGINT);
  const auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
}

// A signal ends `listen` with exit 0 even under --timeout with nothing received: the timeout's
// exit 1 is only for a listener that ran its whole time.
TEST(CliListen, SigtermExitsZeroEvenWhenNothingArrivedWithinATimeout) {
  const auto service = axon::test::unique_name("cli_listen_term");
  auto sut = ChildProcess::spawn(bin("axon"), {"listen", service, "--timeout", "60"},
                                 /*merge_stderr=*/true);
  ASSERT_TRUE(wait_for_listeners(service, 1));

  sut.kill(SIGTERM);
  const auto status = sut.wait_for(kWatchdog);

  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "exited " << status->exited << " code " << status->code;
  EXPECT_EQ(sut.read_all(5s), "");
}

TEST(CliListen, OnceExitsZeroAfterTheFirstNotifications) {
  const auto service = axon::test::unique_name("cli_once");
  auto sut = ChildProcess::spawn(bin("axon"), {"listen", service, "--once", "--timeout", "60"});
  ASSERT_TRUE(wait_for_listeners(service, 1));

  ASSERT_TRUE(run_axon({"notify", service, "--id", "123"}, false).status.success());

  const auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  EXPECT_EQ(sut.read_all(5s), "EventId(123) x1\n");
}

TEST(CliListen, TimeoutWithNothingExitsOneAfterTheTimeout) {
  const auto service = axon::test::unique_name("cli_timeout");
  const auto start = std::chrono::steady_clock::now();

  const auto sut = run_axon({"listen", service, "--timeout", "0.2"});

  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_TRUE(sut.status.exited);
  EXPECT_EQ(sut.status.code, 1);
  EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
  EXPECT_NE(sut.output.find("nothing arrived"), std::string::npos) << sut.output;
}

TEST(CliListen, TimeoutExitsZeroWhenSomethingArrived) {
  const auto service = axon::test::unique_name("cli_timeout_ok");
  auto sut = ChildProcess::spawn(bin("axon"), {"listen", service, "--timeout", "1"});
  ASSERT_TRUE(wait_for_listeners(service, 1));
  ASSERT_TRUE(run_axon({"notify", service, "--id", "9"}, false).status.success());

  const auto status = sut.wait_for(kWatchdog);

  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  EXPECT_EQ(sut.read_all(5s), "EventId(9) x1\n");
}

TEST(CliUsage, EveryHelpExitsZero) {
  const std::vector<std::vector<std::string>> commands = {{"--help"},
                                                          {"service", "--help"},
                                                          {"service", "list", "--help"},
                                                          {"service", "show", "--help"},
                                                          {"node", "--help"},
                                                          {"node", "list", "--help"},
                                                          {"clean", "--help"},
                                                          {"notify", "--help"},
                                                          {"listen", "--help"},
                                                          {"echo", "--help"},
                                                          {"request", "--help"}};
  for (const auto& args : commands) {
    const auto sut = run_axon(args);
    EXPECT_TRUE(sut.status.success()) << args[0];
    EXPECT_NE(sut.output.find("Usage: axon"), std::string::npos) << sut.output;
  }
}

TEST(CliUsage, VersionPrintsTheProjectVersion) {
  const auto sut = run_axon({"--version"});
  EXPECT_TRUE(sut.status.success());
  EXPECT_EQ(sut.output, "axon 0.1.0\n");
}

TEST(CliUsage, BadCommandLinesExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> commands = {
      {"frobnicate"},
      {},
      {"service"},
      {"service", "lst"},
      {"service", "show"},
      {"node", "list", "--bogus"},
      {"notify", "x", "--id", "-1"},
      {"notify", "x", "--id", "abc"},
      {"notify", "x", "--count", "0"},
      {"listen", "x", "--timeout", "soon"},
      {"listen", "x", "--timeout", "-1"},
      {"listen", "a//b"},
  };
  for (const auto& args : commands) {
    const auto sut = run_axon(args);
    EXPECT_TRUE(sut.status.exited);
    EXPECT_EQ(sut.status.code, 2) << (args.empty() ? "(none)" : args[0]) << ": " << sut.output;
    EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
    EXPECT_EQ(sut.output.rfind("axon: error: ", 0), 0u) << sut.output;
  }
}

}  // namespace

namespace {

TEST(CliEcho, PrintsSizeAndHexOfEachSampleOfASpawnedPublisher) {
  const auto service = axon::test::unique_name("echo");
  auto publisher = ChildProcess::spawn(bin("publish_subscribe_publisher"),
                                       {service, "--interval-ms", "20"});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::publishers, 1));
  auto echo = ChildProcess::spawn(bin("axon"), {"echo", service, "--bytes", "8"});
  const auto out = echo.read_until(" bytes: ", kWatchdog);
  echo.read_until("\n", 5s);
  echo.kill(SIGINT);
  auto status = echo.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  // TransmissionData is 24 bytes; its first 8 are the counter (little endian).
  const std::regex line("sample (\\d+) from [0-9a-f]{16}: 24 bytes: ([0-9a-f]{2}) 00 00 00 00 00 00 00 \\.\\.\\.");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(echo.output(), m, line)) << echo.output();
  EXPECT_EQ(std::stoul(m[1].str()), std::stoul(m[2].str(), nullptr, 16));
  publisher.kill(SIGINT);
  EXPECT_TRUE(publisher.wait_for(kWatchdog));
}

TEST(CliEcho, MissingOrEventServiceExitsOne) {
  const auto missing = run_axon({"echo", axon::test::unique_name("none")});
  EXPECT_EQ(missing.status.code, 1);
  EXPECT_EQ(line_count(missing.output), 1u) << missing.output;
  const auto service = axon::test::unique_name("ev");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::listeners, 1));
  const auto wrong = run_axon({"echo", service});
  EXPECT_EQ(wrong.status.code, 1);
  EXPECT_NE(wrong.output.find("not a publish-subscribe service"), std::string::npos);
}

}  // namespace

// `axon request` against a real server process (tests/integration/helpers/rr_echo_server.cpp:
// K responses echoing each request, then the end of the stream, or `hold` to keep it open), and
// the request-response fields of `service list/show` and `clean` while those ports live or died.
namespace {

std::string rr_server() { return bin("axon_test_rr_echo_server"); }

/// Starts the echo server on `service` and waits until its server port exists.
ChildProcess start_rr_server(const std::string& service, const std::string& element_size,
                             const std::string& kind, const std::string& k,
                             const std::string& mode) {
  auto server = ChildProcess::spawn(rr_server(), {service, element_size, kind, k, mode});
  const auto ready = server.read_until("ready\n", kWatchdog);
  EXPECT_NE(ready.find("ready\n"), std::string::npos) << ready;
  EXPECT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::servers, 1));
  return server;
}

/// Number of `request ` lines the echo server printed so far (each a request it answered).
std::size_t requests_answered(ChildProcess& server) {
  server.read_until("\x01 never printed", 20ms);  // whatever arrived by now
  return lines_of(server.output()).size() - 1;    // minus "ready"
}

const std::regex kResponse("response ([0-9]+) from [0-9a-f]{16}: (.*)");

/// The responses `axon request` printed, as "<sequence>: <rest of the line>".
std::vector<std::string> responses_of(const std::string& output) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(output)) {
    std::smatch m;
    if (std::regex_match(line, m, kResponse)) out.push_back(m[1].str() + ": " + m[2].str());
  }
  return out;
}

axon::PayloadType bytes_type(std::uint64_t size, bool slice) {
  return axon::PayloadType{"cli::Bytes", size, 1, slice};
}

TEST(CliRequest, PrintsEveryResponseOfTheStreamAsHexAndTextThenExitsZero) {
  const auto service = axon::test::unique_name("rq_echo");
  auto server = start_rr_server(service, "5", "single", "3", "end");

  const auto sut = run_axon({"request", service, "--string", "hello"});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  EXPECT_EQ(responses_of(sut.output),
            (std::vector<std::string>{R"(0: 5 bytes: 68 65 6c 6c 6f "hello")",
                                      R"(1: 5 bytes: 68 65 6c 6c 6f "hello")",
                                      R"(2: 5 bytes: 68 65 6c 6c 6f "hello")"}))
      << sut.output;
  EXPECT_EQ(line_count(sut.output), 3u) << sut.output;
}

TEST(CliRequest, CountSendsTheRequestsOneAfterAnother) {
  const auto service = axon::test::unique_name("rq_count");
  auto server = start_rr_server(service, "2", "single", "2", "end");

  const auto sut = run_axon({"request", service, "--hex", "0a0b", "--count", "3"});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  const std::vector<std::string> stream = {"0: 2 bytes: 0a 0b", "1: 2 bytes: 0a 0b"};
  std::vector<std::string> three;
  for (int i = 0; i < 3; ++i) three.insert(three.end(), stream.begin(), stream.end());
  EXPECT_EQ(responses_of(sut.output), three) << sut.output;
  EXPECT_EQ(requests_answered(server), 3u) << server.output();
}

TEST(CliRequest, SliceRequestsTakeAWholeNumberOfElementsAndBytesCutsTheShownHex) {
  const auto service = axon::test::unique_name("rq_slice");
  auto server = start_rr_server(service, "2", "slice", "1", "end");

  const auto sut = run_axon({"request", service, "--hex", "01 02\t0304 41 42", "--bytes", "4"});
  const auto text = run_axon({"request", service, "--string", std::string("ok\0\0", 4)});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  EXPECT_EQ(responses_of(sut.output), std::vector<std::string>{"0: 6 bytes: 01 02 03 04 ..."})
      << sut.output;
  EXPECT_TRUE(text.status.success()) << text.output;
}

TEST(CliRequest, AFileOrStdinHoldsTheRequest) {
  const auto service = axon::test::unique_name("rq_file");
  auto server = start_rr_server(service, "1", "slice", "1", "end");
  const auto path = axon::test::root() + "/request.bin";
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fputs("a\tb\n", file);
    std::fclose(file);
  }

  const auto sut = run_axon({"request", service, "--file", path});
  const auto piped = axon::test::run_to_end(
      "/bin/sh", {"-c", "printf 'ok' | \"$0\" request \"$1\" --file -", bin("axon"), service});
  const auto missing = run_axon({"request", service, "--file", path + ".none"});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  EXPECT_EQ(responses_of(sut.output),
            std::vector<std::string>{R"(0: 4 bytes: 61 09 62 0a "a\tb\n")"})
      << sut.output;
  EXPECT_TRUE(piped.status.success()) << piped.output;
  EXPECT_EQ(responses_of(piped.output), std::vector<std::string>{R"(0: 2 bytes: 6f 6b "ok")"})
      << piped.output;
  EXPECT_EQ(missing.status.code, 1);
  EXPECT_EQ(missing.output, "axon: error: cannot read \"" + path + ".none\"\n");
}

TEST(CliRequest, JsonPrintsOneObjectAResponseWithTheWholePayload) {
  const auto service = axon::test::unique_name("rq_json");
  auto server = start_rr_server(service, "1", "slice", "2", "end");

  const auto sut = run_axon({"request", service, "--hex", "00ff", "--json", "--bytes", "1"}, false);
  const auto text = run_axon({"request", service, "--string", "hi", "--json"}, false);

  EXPECT_TRUE(sut.status.success()) << sut.output;
  const auto lines = lines_of(sut.output);
  ASSERT_EQ(lines.size(), 2u) << sut.output;
  const std::regex object(
      R"(\{"request":1,"server":"[0-9a-f]{16}","sequence":([01]),"size":2,"payload":"00ff",)"
      R"("text":null\})");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, object)) << lines[i];
    EXPECT_EQ(m[1].str(), std::to_string(i));
    EXPECT_TRUE(JsonChecker::valid(lines[i]));
  }
  EXPECT_NE(text.output.find(R"("size":2,"payload":"6869","text":"hi"})"), std::string::npos)
      << text.output;
}

TEST(CliRequest, ARequestOfTheWrongSizeIsAUsageErrorAndReachesNoServer) {
  const auto single = axon::test::unique_name("rq_size");
  auto single_server = start_rr_server(single, "8", "single", "1", "end");
  const auto slice = axon::test::unique_name("rq_size_slice");
  auto slice_server = start_rr_server(slice, "2", "slice", "1", "end");

  const auto too_short = run_axon({"request", single, "--string", "hello"});
  const auto odd = run_axon({"request", slice, "--hex", "010203"});

  EXPECT_TRUE(too_short.status.exited);
  EXPECT_EQ(too_short.status.code, 2);
  EXPECT_EQ(too_short.output, "axon: error: 5 bytes cannot be a request of \"" + single +
                                  "\": it takes one 8-byte \"cli::Bytes\" element\n");
  EXPECT_EQ(odd.status.code, 2);
  EXPECT_EQ(odd.output, "axon: error: 3 bytes cannot be a request of \"" + slice +
                            "\": it takes a whole number of 2-byte \"cli::Bytes\" elements\n");
  EXPECT_EQ(requests_answered(single_server), 0u);
  EXPECT_EQ(requests_answered(slice_server), 0u);
}

TEST(CliRequest, BadCommandLinesExitTwoWithOneLine) {
  const auto service = axon::test::unique_name("rq_usage");
  for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"request", service, "--hex", "zz"},
            R"(axon: error: --hex "zz": "z" at offset 0 is not a hex digit)"},
           {{"request", service, "--hex", "abc"},
            R"(axon: error: --hex "abc": a byte is two hex digits, one is missing)"},
           {{"request", service, "--hex", "a bc"}, "one is missing"},
           {{"request", service}, "exactly one of --string, --hex or --file"},
           {{"request", service, "--string", "x", "--hex", "78"}, "excludes"},
           {{"request", service, "--string", "x", "--count", "0"}, "--count must be at least 1"},
           {{"request", service, "--string", "x", "--timeout", "soon"}, "--timeout"},
           {{"request", "a//b", "--string", "x"}, "EmptySegment"},
       }) {
    const auto sut = run_axon(args);
    EXPECT_TRUE(sut.status.exited);
    EXPECT_EQ(sut.status.code, 2) << args.back() << ": " << sut.output;
    EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
    EXPECT_EQ(sut.output.rfind("axon: error: ", 0), 0u) << sut.output;
    EXPECT_NE(sut.output.find(says), std::string::npos) << sut.output;
  }
}

TEST(CliRequest, MissingServiceOrAnotherPatternExitsOne) {
  const auto missing = axon::test::unique_name("rq_none");
  const auto event = axon::test::unique_name("rq_event");
  auto listener = ChildProcess::spawn(bin("event_listener"), {event});
  ASSERT_TRUE(wait_for_listeners(event, 1));

  const auto none = run_axon({"request", missing, "--string", "x"});
  const auto wrong = run_axon({"request", event, "--string", "x"});

  EXPECT_EQ(none.status.code, 1);
  EXPECT_EQ(none.output, "axon: error: no service named \"" + missing + "\"\n");
  EXPECT_EQ(wrong.status.code, 1);
  EXPECT_EQ(wrong.output, "axon: error: service \"" + event + "\" is not a request-response service\n");
}

TEST(CliRequest, NoServerExitsOneSayingSo) {
  const auto name = axon::test::service_name("rq_noserver");
  const std::string service(name.as_string());
  auto node = axon::test::make_node("cli-test");
  auto held = node.service_builder(name)
                  .request_response(bytes_type(1, true), bytes_type(1, true))
                  .create();
  ASSERT_TRUE(held);

  const auto sut = run_axon({"request", service, "--string", "x"});

  EXPECT_EQ(sut.status.code, 1);
  EXPECT_EQ(sut.output, "axon: error: no server of \"" + service + "\" to send the request to\n");
}

TEST(CliRequest, ATimeoutEndsAStreamThatDoesNotEndWithExitOne) {
  const auto service = axon::test::unique_name("rq_timeout");
  auto server = start_rr_server(service, "1", "slice", "1", "hold");
  const auto start = std::chrono::steady_clock::now();

  const auto sut = run_axon({"request", service, "--string", "x", "--timeout", "0.3"});

  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(sut.status.code, 1) << sut.output;
  EXPECT_EQ(responses_of(sut.output), std::vector<std::string>{R"(0: 1 bytes: 78 "x")"});
  EXPECT_TRUE(has_line(sut.output, "axon: error: the response stream of \"" + service +
                                       "\" did not end within 0.3 s (1 response(s) received)"))
      << sut.output;
}

// The timeout bounds the whole stream, not the silence: a server that keeps answering and never
// ends its stream times out too.
TEST(CliRequest, ATimeoutEndsAStreamThatKeepsSendingAndNeverEnds) {
  const auto service = axon::test::unique_name("rq_flood");
  auto server = start_rr_server(service, "1", "slice", "1", "flood");
  const auto start = std::chrono::steady_clock::now();

  const auto sut = run_axon({"request", service, "--string", "x", "--timeout", "0.3"});

  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(sut.status.code, 1) << sut.output;
  EXPECT_GT(responses_of(sut.output).size(), 1u) << sut.output;
  const auto lines = lines_of(sut.output);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind(
                "axon: error: the response stream of \"" + service + "\" did not end within 0.3 s (", 0),
            0u)
      << lines.back();
}

TEST(CliRequest, AServerKilledMidStreamEndsItWithExitOneWithinASecond) {
  const auto service = axon::test::unique_name("rq_killed");
  auto server = start_rr_server(service, "1", "slice", "2", "hold");
  auto sut = ChildProcess::spawn(bin("axon"), {"request", service, "--string", "x"},
                                 /*merge_stderr=*/true);
  const auto before = sut.read_until("response 1 ", kWatchdog);
  ASSERT_NE(before.find("response 1 "), std::string::npos) << before;

  server.kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  // The client asks whether a silent server lives every 100 ms: well within a second. The bound
  // is generous for a loaded machine; the exit status is the verdict.
  const auto status = sut.wait_for(3s);
  const auto took = std::chrono::steady_clock::now() - killed;

  ASSERT_TRUE(status) << "still running 3 s after its server was killed";
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 1);
  EXPECT_LT(took, 1500ms);
  const auto output = sut.read_all(5s);  // all it printed, `before` included
  EXPECT_EQ(responses_of(output).size(), 2u) << output;
  EXPECT_TRUE(has_line(output, "axon: error: a server of \"" + service +
                                   "\" went away without ending its response stream"))
      << output;
}

TEST(CliRequest, SigintWhileWaitingExits130) {
  const auto service = axon::test::unique_name("rq_sigint");
  auto server = start_rr_server(service, "1", "slice", "0", "hold");
  auto sut = ChildProcess::spawn(bin("axon"), {"request", service, "--string", "x"},
                                 /*merge_stderr=*/true);
  ASSERT_TRUE(eventually([&] { return requests_answered(server) == 1; }));

  sut.kill(SIGINT);
  const auto status = sut.wait_for(kWatchdog);

  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 128 + SIGINT);
  EXPECT_EQ(sut.read_all(5s), "axon: error: interrupted after 0 complete request(s)\n");
}

/// The request-response line of `axon service list` for `service`, or "" when absent.
std::string rr_list_line(const std::string& service) {
  const auto listed = run_axon({"service", "list"}, false);
  for (const auto& line : lines_of(listed.output)) {
    if (line.rfind("request_response " + service + " ", 0) == 0) return line;
  }
  return "";
}

TEST(CliRequestDiscovery, ListAndShowCountClientsServersAndPendingRequests) {
  const auto service = axon::test::unique_name("rq_list");
  auto server = start_rr_server(service, "4", "single", "0", "hold");
  EXPECT_EQ(rr_list_line(service),
            "request_response " + service + " nodes=1 clients=0 servers=1 pending_requests=0");
  auto client = ChildProcess::spawn(bin("axon"), {"request", service, "--hex", "01020304"},
                                    /*merge_stderr=*/true);
  ASSERT_TRUE(eventually([&] { return requests_answered(server) == 1; }));

  const auto listed = rr_list_line(service);
  const auto shown = run_axon({"service", "show", service}, false);
  const auto json = run_axon({"service", "show", service, "--json"}, false);
  const auto list_json = run_axon({"service", "list", "--json"}, false);

  EXPECT_EQ(listed,
            "request_response " + service + " nodes=2 clients=1 servers=1 pending_requests=1");
  EXPECT_TRUE(shown.status.success());
  for (const auto& line : {"name: " + service,
                           std::string("pattern: request_response"),
                           std::string("request_type_name: cli::Bytes"),
                           std::string("request_type_size: 4"),
                           std::string("request_type_alignment: 1"),
                           std::string("request_slice: false"),
                           std::string("response_type_name: cli::Bytes"),
                           std::string("response_type_size: 4"),
                           std::string("response_type_alignment: 1"),
                           std::string("response_slice: false"),
                           std::string("max_clients: 8"),
                           std::string("max_servers: 2"),
                           std::string("max_nodes: 20"),
                           std::string("max_active_requests_per_client: 4"),
                           std::string("max_response_buffer_size: 4"),
                           std::string("max_loaned_requests: 2"),
                           std::string("max_loaned_responses: 4"),
                           std::string("max_borrowed_responses: 2"),
                           std::string("fire_and_forget: true"),
                           std::string("overflow: overwrite_oldest"),
                           std::string("access: owner"),
                           std::string("nodes: 2"),
                           std::string("clients: 1"),
                           std::string("servers: 1"),
                           std::string("pending_requests: 1")}) {
    EXPECT_TRUE(has_line(shown.output, line)) << "missing \"" << line << "\" in\n" << shown.output;
  }
  EXPECT_TRUE(JsonChecker::valid(json.output)) << json.output;
  EXPECT_TRUE(JsonChecker::valid(list_json.output)) << list_json.output;
  EXPECT_NE(json.output.find(R"(","pattern":"request_response","nodes":2,"clients":1,"servers":1,)"
                             R"("pending_requests":1,"dead":{"clients":0,"servers":0},)"
                             R"("settings":{"request_type_name":"cli::Bytes",)"
                             R"("request_type_size":4,"request_type_alignment":1,)"
                             R"("request_slice":false,"response_type_name":"cli::Bytes",)"),
            std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find(R"("fire_and_forget":true,"overflow":"overwrite_oldest",)"
                             R"("access":"owner"},"creator":")"),
            std::string::npos)
      << json.output;

  client.kill(SIGINT);
  const auto stopped = client.wait_for(kWatchdog);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->code, 128 + SIGINT);
  EXPECT_TRUE(eventually([&] {
    return rr_list_line(service) ==
           "request_response " + service + " nodes=1 clients=0 servers=1 pending_requests=0";
  })) << rr_list_line(service);
}

// BUG (services/src/request_response/rr_core.cpp, ClientCore::cancel): dropping a
// PendingResponse clears the client's listening words only for streams still Waiting, so a
// request whose every stream had ended before the drop keeps its words set and discovery counts
// it in pending_requests until the channel is reused by another send. Expected 0: nobody waits.
// Disabled until the library clears the words of ended streams too.
TEST(CliRequestDiscovery, AFinishedAndDroppedRequestIsNotPending) {
  const auto name = axon::test::service_name("rq_done");
  const std::string service(name.as_string());
  auto server = start_rr_server(service, "1", "slice", "1", "end");
  auto node = axon::test::make_node("cli-test");
  auto opened =
      node.service_builder(name).request_response(bytes_type(1, true), bytes_type(1, true)).open();
  ASSERT_TRUE(opened);
  auto client = opened->client_builder().create();
  ASSERT_TRUE(client);
  {
    const std::byte x{0x78};
    auto pending = client->send_copy(std::span<const std::byte>(&x, 1));
    ASSERT_TRUE(pending);
    ASSERT_TRUE(eventually([&] {
      (void)pending->receive();  // each response is given back at once
      return pending->is_done();
    }));
  }  // dropped once every stream ended

  EXPECT_EQ(rr_list_line(service),
            "request_response " + service + " nodes=2 clients=1 servers=1 pending_requests=0");
}

TEST(CliRequestClean, KilledClientAndServerAreCountedUntilCleanRemovesThemAndTheirSegments) {
  const auto name = axon::test::service_name("rq_clean");
  const std::string service(name.as_string());
  // This process holds the service, so that it outlives the two killed processes.
  auto node = axon::test::make_node("cli-test");
  auto held = node.service_builder(name)
                  .request_response(bytes_type(1, true), bytes_type(1, true))
                  .create();
  ASSERT_TRUE(held);
  auto server = start_rr_server(service, "1", "slice", "1", "hold");
  auto client = ChildProcess::spawn(bin("axon"), {"request", service, "--string", "x"});
  ASSERT_TRUE(eventually([&] { return requests_answered(server) == 1; }));
  const auto config = axon::Config::from_environment();
  const auto stem =
      axon::detail::Paths::port_segment_stem(config, axon::detail::Paths::service_hash(service));
  const auto segments = [&] {
    auto listed = axon::platform::SharedMemory::list(stem);
    return listed ? listed->size() : 0;
  };
  EXPECT_EQ(segments(), 2u) << "one data segment each for the client and the server";
  const auto server_node = node_of_pid(server.pid());
  const auto client_node = node_of_pid(client.pid());
  ASSERT_FALSE(server_node.empty());
  ASSERT_FALSE(client_node.empty());

  server.kill(SIGKILL);
  client.kill(SIGKILL);
  ASSERT_TRUE(server.wait_for(kWatchdog));
  ASSERT_TRUE(client.wait_for(kWatchdog));
  EXPECT_EQ(rr_list_line(service),
            "request_response " + service +
                " nodes=3 clients=1 (1 dead) servers=1 (1 dead) pending_requests=1")
      << "dead ports are counted, marked dead, until cleaned";

  const auto sut = run_axon({"clean"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_TRUE(has_line(sut.output, "removed node " + server_node[0])) << sut.output;
  EXPECT_TRUE(has_line(sut.output, "removed node " + client_node[0])) << sut.output;
  EXPECT_TRUE(has_line(sut.output, "removed 2 port(s)")) << sut.output;
  EXPECT_EQ(segments(), 0u);
  EXPECT_EQ(rr_list_line(service),
            "request_response " + service + " nodes=1 clients=0 servers=0 pending_requests=0");
  EXPECT_EQ(run_axon({"clean"}, false).output, "nothing to clean\n");
}

}  // namespace
