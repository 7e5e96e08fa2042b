// The `axon` CLI run as a user runs it: real processes from build/bin (the tool itself and the
// event examples), checked through their output and exit codes. The output formats checked here
// are the contract of docs/cli.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
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

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

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
                            R"("settings":{"max_listeners":16,"max_notifiers":16,"max_nodes":32,)"
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
  for (const auto& line : {"name: " + service, std::string("pattern: event"), "creator: " + node[0],
                           std::string("max_listeners: 16"), std::string("max_notifiers: 16"),
                           std::string("max_nodes: 32"), std::string("max_event_id: 4095"),
                           std::string("backend: eventfd"), std::string("access: owner"),
                           std::string("nodes: 1"),
                           std::string("listeners: 1"), std::string("notifiers: 0"),
                           "node: " + node[0] + " " + std::to_string(listener.pid()) + " alive"}) {
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
  EXPECT_EQ(sut.output, "error: no service named \"" + service + "\"\n");
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
  ASSERT_EQ(alive.size(), 3u) << "the example's node has no name";
  EXPECT_EQ(alive[2], "alive");
  EXPECT_EQ(alive[0].size(), 16u);

  listener.kill(SIGKILL);
  ASSERT_TRUE(listener.wait_for(kWatchdog));
  const auto dead = node_of_pid(listener.pid());
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_EQ(dead[0], alive[0]);
  EXPECT_EQ(dead[2], "dead");

  const auto json = run_axon({"node", "list", "--json"}, false);
  EXPECT_TRUE(json.status.success());
  EXPECT_TRUE(JsonChecker::valid(json.output)) << json.output;
  EXPECT_NE(json.output.find(R"({"id":")" + alive[0] + R"(","pid":)" +
                             std::to_string(listener.pid()) + R"(,"state":"dead","name":""})"),
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
  const auto received = listener.read_until("Received EventId(7), 1 times", kWatchdog);
  EXPECT_NE(received.find("Received EventId(7), 1 times"), std::string::npos) << received;
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
  EXPECT_EQ(sut.output, "error: no service named \"" + service + "\"\n");
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
  const std::regex interrupted("error: interrupted after [0-9]+ notification\\(s\\)");
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
                                                          {"listen", "--help"}};
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
    EXPECT_EQ(sut.output.rfind("error: ", 0), 0u) << sut.output;
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
