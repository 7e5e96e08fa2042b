// Regressions of issue 14, defect 8 (argument handling), run on the real binaries of build/bin:
// the `axon` CLI, the evt_* tools and the examples. Each test names what the old code did.
//   - `axon echo --bytes -1`, `-5` and `99999999999999999999` were accepted (CLI11 wrapped the
//     negatives around and saturated the overflow) while every other numeric option refused them;
//   - evt_* and the examples repeated a refused name raw, so a newline or a terminal escape
//     sequence in it reached the terminal;
//   - an AXON_ROOT too long for a unix socket path made listeners fail with a bare
//     `ResourceCreationFailed`;
//   - a valid 250-byte name failed in the publish-subscribe examples as an "invalid service name":
//     they also used `<name>/new_sample`, which is longer than a service name may be (they use
//     wakeable subscribers now, whose wake service's name fits any service name);
//   - `--interval-ms` of the publishers had no bound;
//   - evt_wait refused a timeout of `inf`, which `axon listen --timeout` takes (one parser now).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
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

using Run = axon::test::Finished;

/// Runs `program args...` to its end, stderr merged into stdout.
Run run(const std::string& program, const std::vector<std::string>& args) {
  return axon::test::run_to_end(bin(program), args, /*merge_stderr=*/true, kWatchdog);
}

/// As run(), with `variable=value` in the child's environment only.
Run run_with_env(const std::string& program, const std::vector<std::string>& args,
                 const std::string& variable, const std::string& value) {
  const std::string saved = std::getenv(variable.c_str());
  ::setenv(variable.c_str(), value.c_str(), 1);
  auto child = ChildProcess::spawn(bin(program), args, /*merge_stderr=*/true);
  ::setenv(variable.c_str(), saved.c_str(), 1);
  return axon::test::finish(std::move(child), kWatchdog);
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// True when `text` holds a byte a terminal could act on: anything but printable ASCII and the
/// newlines that end lines.
bool has_control_bytes(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte != '\n' && (byte < 0x20 || byte > 0x7E);
  });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A name with a newline, a carriage return and a colour escape sequence: what a hostile or
/// careless caller passes, and what must never reach the terminal as it is.
const std::string kHostileName = "a\nb\r\x1b[31mred\x1b[0m";
/// How it reads once escaped.
const std::string kHostileNameEscaped = R"("a\nb\r\x1b[31mred\x1b[0m")";

// Old code: CLI11 parsed --bytes into a uint64_t and took all four, so the command went on and
// failed with exit 1 on the missing service instead of refusing the number with exit 2.
TEST(CliArguments, EchoBytesRefusesNegativeOverflowingAndJunkWithExitTwo) {
  const auto missing = axon::test::unique_name("echo_bytes");
  for (const std::string bytes : {"-1", "-5", "99999999999999999999", "12x"}) {
    const auto sut = run("axon", {"echo", missing, "--bytes", bytes});

    EXPECT_TRUE(sut.status.exited);
    EXPECT_EQ(sut.status.code, 2) << bytes << ": " << sut.output;
    EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
    EXPECT_EQ(sut.output.rfind("axon: error: --bytes \"" + bytes + "\" ", 0), 0u) << sut.output;
  }
}

TEST(CliArguments, EchoBytesTakesZeroAndTheLargestNumber) {
  const auto missing = axon::test::unique_name("echo_bytes");
  for (const std::string bytes : {"0", "18446744073709551615"}) {
    const auto sut = run("axon", {"echo", missing, "--bytes", bytes});

    EXPECT_EQ(sut.status.code, 1) << bytes << ": " << sut.output;  // the service is missing
    EXPECT_TRUE(contains(sut.output, "no service named")) << sut.output;
  }
}

// `axon request` repeats a refused --hex escaped, and its numbers follow the one parser's rules.
TEST(CliArguments, RequestRefusesHostileHexAndBadNumbersWithExitTwoOnOneCleanLine) {
  const auto missing = axon::test::unique_name("request_args");
  for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--hex", "\x1b[2J"},
            R"(axon: error: --hex "\x1b[2J": "\x1b" at offset 0 is not a hex digit)"},
           {{"--hex", "0a\n0b"}, R"(axon: error: --hex "0a\n0b": "\n" at offset 2 is not a hex digit)"},
           {{"--string", "x", "--count", "-1"}, R"(axon: error: --count "-1" is negative)"},
           {{"--string", "x", "--bytes", "12x"}, R"(axon: error: --bytes "12x" )"},
           {{"--string", "x", "--timeout", "-1"}, R"(axon: error: --timeout "-1" )"}}) {
    std::vector<std::string> full = {"request", missing};
    full.insert(full.end(), args.begin(), args.end());
    const auto sut = run("axon", full);

    EXPECT_EQ(sut.status.code, 2) << args.back() << ": " << sut.output;
    EXPECT_FALSE(has_control_bytes(sut.output)) << sut.output;
    EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
    EXPECT_EQ(sut.output.rfind(says, 0), 0u) << sut.output;
  }
}

// Old code: the name went to stderr raw, newline and escape sequences included.
TEST(CliArguments, EvtToolsRepeatARefusedNameEscaped) {
  for (const auto& [tool, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"evt_set", {"--", kHostileName}},
           {"evt_clear", {"--", kHostileName}},
           {"evt_wait", {"--", kHostileName, "0"}}}) {
    const auto sut = run(tool, args);

    EXPECT_EQ(sut.status.code, 2) << tool << ": " << sut.output;
    EXPECT_FALSE(has_control_bytes(sut.output)) << tool << ": " << sut.output;
    EXPECT_EQ(line_count(sut.output), 2u) << sut.output;  // the problem, then the usage line
    EXPECT_TRUE(contains(
        sut.output, tool + ": error: invalid name " + kHostileNameEscaped + ": InvalidCharacter"))
        << sut.output;
  }
}

// Old code: an unknown option, and evt_wait's refused timeout, were repeated raw too.
TEST(CliArguments, EvtToolsRepeatARefusedOptionOrTimeoutEscaped) {
  const auto name = axon::test::unique_name("evt_args");
  const auto option = run("evt_set", {"--\x1b[2J"});
  EXPECT_EQ(option.status.code, 2) << option.output;
  EXPECT_FALSE(has_control_bytes(option.output)) << option.output;
  EXPECT_TRUE(contains(option.output, R"(unknown option "--\x1b[2J")")) << option.output;

  const auto timeout = run("evt_wait", {name, "1\x1b[2J"});
  EXPECT_EQ(timeout.status.code, 2) << timeout.output;
  EXPECT_FALSE(has_control_bytes(timeout.output)) << timeout.output;
  EXPECT_TRUE(contains(timeout.output, R"(timeout "1\x1b[2J" is not a number of seconds)"))
      << timeout.output;
}

// Old code: CLI11's message repeated the unexpected argument raw.
TEST(CliArguments, AxonRepeatsAnUnexpectedArgumentEscaped) {
  const auto sut = run("axon", {kHostileName});

  EXPECT_EQ(sut.status.code, 2) << sut.output;
  EXPECT_EQ(line_count(sut.output), 1u) << sut.output;
  EXPECT_FALSE(has_control_bytes(sut.output)) << sut.output;
  // CLI11 may break its own message over lines, so a newline becomes a space; the rest is escaped.
  EXPECT_TRUE(contains(sut.output, R"(a b\r\x1b[31mred\x1b[0m)")) << sut.output;
}

// Old code: every example printed the refused name (or id, or interval) raw, so the message took
// several lines and carried the escape sequences. The exit codes are those of design.md,
// section 8: 1 for a bad name or number.
TEST(CliArguments, ExamplesRepeatARefusedArgumentEscapedOnOneLine) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"event_listener", {kHostileName}},
      {"event_notifier", {kHostileName, "1"}},
      {"event_multiplexing_notifier", {kHostileName, "1"}},
      {"event_multiplexing_wait", {"fine", kHostileName}},
      {"publish_subscribe_publisher", {kHostileName}},
      {"publish_subscribe_subscriber", {kHostileName}},
      {"dynamic_data_publisher", {kHostileName}},
      {"dynamic_data_subscriber", {kHostileName}},
  };
  for (const auto& [program, args] : cases) {
    const auto sut = run(program, args);

    EXPECT_EQ(sut.status.code, 1) << program << ": " << sut.output;
    EXPECT_EQ(line_count(sut.output), 1u) << program << ": " << sut.output;
    EXPECT_FALSE(has_control_bytes(sut.output)) << program << ": " << sut.output;
    EXPECT_TRUE(contains(sut.output, "invalid service name " + kHostileNameEscaped))
        << program << ": " << sut.output;
  }
  const auto id = run("event_notifier", {axon::test::unique_name("ids"), "1\n\x1b[2J"});
  EXPECT_EQ(id.status.code, 1) << id.output;
  EXPECT_EQ(line_count(id.output), 1u) << id.output;
  EXPECT_TRUE(contains(id.output, R"(event id "1\n\x1b[2J" is not a whole)")) << id.output;
}

// Old code: any uint64 was taken (an hour and a millisecond, or 2^64 - 1 milliseconds, which
// converts to a negative duration: no pause at all); now more than an hour (3600000 ms) is
// refused, naming the limit.
TEST(CliArguments, PublishersRefuseAnIntervalAboveAnHour) {
  const auto service = axon::test::unique_name("interval");
  for (const std::string program : {"publish_subscribe_publisher", "dynamic_data_publisher"}) {
    for (const std::string interval : {"3600001", "18446744073709551615"}) {
      const auto sut = run(program, {service, "--interval-ms", interval});

      EXPECT_EQ(sut.status.code, 1) << program << " " << interval << ": " << sut.output;
      EXPECT_EQ(sut.output, program + ": error: --interval-ms \"" + interval +
                                "\" is too large (at most 3600000)\n")
          << program;
    }
  }
}

// Old code: "invalid service name" for a name that is valid, then "too long for this example"
// above 244 bytes (the examples also used "<name>/new_sample"). The longest valid name works.
TEST(CliArguments, PubSubExamplesTakeTheLongestValidName) {
  const std::string name = axon::test::unique_name("n") + std::string(255, 'n');
  const std::string longest = name.substr(0, axon::ServiceName::kMaxLength);
  ASSERT_TRUE(axon::ServiceName::create(longest));
  auto publisher = ChildProcess::spawn(bin("publish_subscribe_publisher"),
                                       {longest, "--interval-ms", "20"}, /*merge_stderr=*/true);
  auto subscriber = ChildProcess::spawn(bin("publish_subscribe_subscriber"), {longest},
                                        /*merge_stderr=*/true);
  EXPECT_TRUE(contains(subscriber.read_until("Received sample", kWatchdog), "Received sample"))
      << publisher.read_all(1s);
  publisher.kill(SIGINT);
  subscriber.kill(SIGINT);
  EXPECT_TRUE(publisher.wait_for(kWatchdog));
  EXPECT_TRUE(subscriber.wait_for(kWatchdog));
}

/// A root below the test's own, `length` bytes long (so cleaned up with it).
std::string root_of_length(std::size_t length) {
  std::string root = axon::test::root() + "/long_";
  root.resize(length, 'r');
  return root;
}

// sun_path holds 107 bytes and a NUL; a node's socket is <root>/nodes/<16 hex digits>.sock, 28
// bytes below the root: so 79 is the longest root with which listeners of the default (eventfd)
// backend work. Old code: a bare "ResourceCreationFailed" with no word about the root.
TEST(CliArguments, ARootTooLongForNodeSocketsIsNamedWithTheLimit) {
  ASSERT_LT(axon::test::root().size() + 6, 80u);
  const auto service = axon::test::unique_name("long_root");
  const auto too_long = root_of_length(80);
  for (const auto& [program, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"axon", {"listen", service, "--timeout", "0"}},
           {"event_listener", {service}},
           {"event_multiplexing_wait", {service}},
           {"publish_subscribe_subscriber", {service}}}) {
    const auto sut = run_with_env(program, args, "AXON_ROOT", too_long);

    EXPECT_EQ(sut.status.code, 1) << program << ": " << sut.output;
    EXPECT_EQ(line_count(sut.output), 1u) << program << ": " << sut.output;
    EXPECT_TRUE(contains(sut.output, "ResourceCreationFailed (AXON_ROOT is 80 bytes"))
        << program << ": " << sut.output;
    EXPECT_TRUE(contains(sut.output, "at most 79 bytes")) << program << ": " << sut.output;
  }

  // At the limit the listener exists: `listen` ends on its timeout, having received nothing.
  const auto at_limit =
      run_with_env("axon", {"listen", service, "--timeout", "0"}, "AXON_ROOT", root_of_length(79));
  EXPECT_EQ(at_limit.status.code, 1) << at_limit.output;
  EXPECT_TRUE(contains(at_limit.output, "nothing arrived")) << at_limit.output;
}

// Old code: evt_wait refused "inf" (a usage error, exit 2) which `axon listen --timeout` takes;
// both now read timeouts with one parser. "inf" waits for ever, like no timeout.
TEST(CliArguments, EvtWaitTakesAnInfiniteTimeoutAsAxonListenDoes) {
  const auto name = axon::test::unique_name("evt_inf");
  auto waiter = ChildProcess::spawn(bin("evt_wait"), {name, "inf"}, /*merge_stderr=*/true);
  // A lower bound only: still waiting a moment later, rather than refused at once.
  EXPECT_FALSE(waiter.wait_for(300ms)) << waiter.read_all(1s);
  EXPECT_TRUE(run("evt_set", {name}).status.success());
  const auto status = waiter.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << waiter.read_all(1s);
  (void)axon::SystemEvent::remove(name);

  const auto service = axon::test::unique_name("listen_inf");
  auto listener =
      ChildProcess::spawn(bin("axon"), {"listen", service, "--timeout", "inf", "--once"},
                          /*merge_stderr=*/true);
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::listeners, 1))
      << listener.read_all(1s);
  EXPECT_TRUE(run("axon", {"notify", service}).status.success());
  const auto listened = listener.wait_for(kWatchdog);
  ASSERT_TRUE(listened);
  EXPECT_TRUE(listened->success()) << listener.read_all(1s);
}

// Both read a positive amount too small for a double ("1e-400") as the shortest wait, not as 0
// and not as for ever: each times out at once.
TEST(CliArguments, EvtWaitAndAxonListenReadATinyTimeoutAlike) {
  const auto name = axon::test::unique_name("evt_tiny");
  const auto waited = run("evt_wait", {name, "1e-400"});
  EXPECT_EQ(waited.status.code, 1) << waited.output;
  (void)axon::SystemEvent::remove(name);

  const auto listened =
      run("axon", {"listen", axon::test::unique_name("tiny"), "--timeout", "1e-400"});
  EXPECT_EQ(listened.status.code, 1) << listened.output;
  EXPECT_TRUE(contains(listened.output, "nothing arrived")) << listened.output;
}

}  // namespace
