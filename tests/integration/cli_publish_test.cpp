// `axon publish`, `axon echo --as` and `axon service hz` run as a user runs them, against
// subscribers and publishers in other processes; and the one error format of issue 20 seen from
// the tools, an evt_* tool and an example (docs/cli.md, "Exit status and errors").
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <thread>
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

axon::test::Finished run_axon(const std::vector<std::string>& args) {
  return axon::test::run_to_end(bin("axon"), args, /*merge_stderr=*/true, kWatchdog);
}

const axon::PayloadType kU32{"u32", 4, 4, false};
const axon::PayloadType kBytes{"u8", 1, 1, true};

/// A service of `type` that lives as long as the returned node and service.
struct Held {
  axon::Node node;
  axon::UntypedPubSubService service;
};
Held hold_service(const std::string& name, const axon::PayloadType& type) {
  auto node = axon::test::make_node("test-holder");
  auto service = node.service_builder(*axon::ServiceName::create(name))
                     .publish_subscribe(type)
                     .subscriber_max_buffer_size(16)
                     .create();
  if (!service) {
    ADD_FAILURE() << "cannot create " << name << ": " << axon::to_string(service.error());
    std::abort();
  }
  return Held{std::move(node), std::move(*service)};
}

/// A subscriber in a child process: receives `expected` samples whose bytes must all equal
/// `payload`, then waits until the publisher has gone and checks that nothing more arrives.
/// Exit 0 when so; 3 wrong bytes; 4 too few samples within 10 s; 5 one too many; 6 setup failed.
ChildProcess subscriber_process(const std::string& name, const axon::PayloadType& type,
                                const std::vector<std::byte>& payload, int expected) {
  return ChildProcess::fork([=]() -> int {
    auto node = axon::NodeBuilder().name("test-subscriber").create();
    if (!node) return 6;
    auto service =
        node->service_builder(*axon::ServiceName::create(name)).publish_subscribe(type).open();
    if (!service) return 6;
    auto subscriber = service->subscriber_builder().create();
    if (!subscriber) return 6;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int received = 0;
    while (received < expected) {
      if (std::chrono::steady_clock::now() > deadline) return 4;
      auto sample = subscriber->receive();
      if (!sample) return 6;
      if (!*sample) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      const auto bytes = (*sample)->payload();
      if (bytes.size() != payload.size() ||
          std::memcmp(bytes.data(), payload.data(), payload.size()) != 0) {
        return 3;
      }
      ++received;
    }
    while (service->number_of_publishers() > 0) {
      if (std::chrono::steady_clock::now() > deadline) return 4;
      std::this_thread::sleep_for(1ms);
    }
    auto extra = subscriber->receive();
    return extra && !*extra ? 0 : 5;
  });
}

std::vector<std::byte> bytes_of(const std::string& text) {
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(CliPublish, CountAndRateSendThatManySamplesToASubscriberOfAnotherProcess) {
  const auto name = axon::test::unique_name("pub_u32");
  auto held = hold_service(name, kU32);
  const std::vector<std::byte> value{std::byte{0x2a}, std::byte{0}, std::byte{0}, std::byte{1}};
  auto subscriber = subscriber_process(name, kU32, value, 5);
  ASSERT_TRUE(axon::test::wait_for_ports(name, &axon::ServiceInfo::subscribers, 1));

  const auto sut =
      run_axon({"publish", name, "--hex", "2a 00 00 01", "--count", "5", "--rate", "100"});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  EXPECT_EQ(count_of(sut.output, "\n"), 5u) << sut.output;
  EXPECT_NE(sut.output.find("published 1: 4 bytes to 1 subscriber(s)\n"), std::string::npos)
      << sut.output;
  EXPECT_NE(sut.output.find("published 5: 4 bytes to 1 subscriber(s)\n"), std::string::npos)
      << sut.output;
  auto status = subscriber.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "subscriber exit " << status->code;
}

TEST(CliPublish, AStringIsAWholeNumberOfElementsOfASliceService) {
  const auto name = axon::test::unique_name("pub_slice");
  auto held = hold_service(name, kBytes);
  auto subscriber = subscriber_process(name, kBytes, bytes_of("hello"), 1);
  ASSERT_TRUE(axon::test::wait_for_ports(name, &axon::ServiceInfo::subscribers, 1));

  const auto sut = run_axon({"publish", name, "--string", "hello"});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  EXPECT_EQ(sut.output, "published 1: 5 bytes to 1 subscriber(s)\n");
  auto status = subscriber.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "subscriber exit " << status->code;
}

TEST(CliPublish, ASampleOfTheWrongSizeIsAUsageErrorAndNothingIsPublished) {
  const auto name = axon::test::unique_name("pub_size");
  auto held = hold_service(name, kU32);
  auto subscriber = held.service.subscriber_builder().create();
  ASSERT_TRUE(subscriber);

  const auto sut = run_axon({"publish", name, "--string", "hello"});

  EXPECT_TRUE(sut.status.exited);
  EXPECT_EQ(sut.status.code, 2) << sut.output;
  EXPECT_EQ(sut.output, "axon: error: 5 bytes cannot be a sample of \"" + name +
                            "\": it takes one 4-byte \"u32\" element\n");
  auto sample = subscriber->receive();
  ASSERT_TRUE(sample);
  EXPECT_FALSE(*sample);
}

TEST(CliPublish, AMissingServiceOrABadRateIsRefused) {
  const auto name = axon::test::unique_name("pub_none");
  const auto missing = run_axon({"publish", name, "--string", "x"});
  EXPECT_EQ(missing.status.code, 1) << missing.output;
  EXPECT_EQ(missing.output, "axon: error: no service named \"" + name + "\"\n");
  for (const std::string rate : {"0", "-1", "fast", "1e9"}) {
    const auto bad = run_axon({"publish", name, "--string", "x", "--rate", rate});
    EXPECT_EQ(bad.status.code, 2) << rate << ": " << bad.output;
    EXPECT_EQ(bad.output.rfind("axon: error: --rate \"" + rate + "\" ", 0), 0u) << bad.output;
  }
}

TEST(CliPublish, CountZeroPublishesUntilSigintThenExitsZero) {
  const auto name = axon::test::unique_name("pub_forever");
  auto held = hold_service(name, kU32);
  auto sut = ChildProcess::spawn(
      bin("axon"), {"publish", name, "--hex", "01000000", "--count", "0", "--rate", "200"});
  const auto out = sut.read_until("published 3:", kWatchdog);
  ASSERT_NE(out.find("published 3:"), std::string::npos) << out;
  sut.kill(SIGINT);
  auto status = sut.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->code;
}

/// `axon echo --as TYPE` on `name` until `needle` is printed; the output so far.
std::string echo_until(const std::string& name, const std::string& as, const std::string& needle) {
  auto echo = ChildProcess::spawn(bin("axon"), {"echo", name, "--as", as});
  auto out = echo.read_until(needle, kWatchdog);
  echo.kill(SIGINT);
  auto status = echo.wait_for(kWatchdog);
  EXPECT_TRUE(status && status->success());
  return out;
}

TEST(CliEchoAs, DecodesTheSamplesOfAPublisherProcess) {
  const auto u32 = axon::test::unique_name("echo_u32");
  auto held_u32 = hold_service(u32, kU32);
  auto publisher_u32 = ChildProcess::spawn(
      bin("axon"), {"publish", u32, "--hex", "2a000000", "--count", "0", "--rate", "100"});
  const std::regex number(R"(sample \d+ from [0-9a-f]{16}: 4 bytes: 42\n)");
  EXPECT_TRUE(std::regex_search(echo_until(u32, "u32", " bytes: 42\n"), number));

  const auto text = axon::test::unique_name("echo_text");
  auto held_text = hold_service(text, kBytes);
  auto publisher_text = ChildProcess::spawn(
      bin("axon"), {"publish", text, "--string", "hello\n", "--count", "0", "--rate", "100"});
  const std::regex quoted(R"(sample \d+ from [0-9a-f]{16}: 6 bytes: "hello\\n"\n)");
  EXPECT_TRUE(std::regex_search(echo_until(text, "string", "\"hello\\n\"\n"), quoted));
  // Six bytes are no whole number of u32 values: a note for the sample, never a value.
  const auto note = echo_until(text, "u32", "values)\n");
  EXPECT_NE(note.find("6 bytes: (6 bytes are not a whole number of 4-byte u32 values)\n"),
            std::string::npos)
      << note;

  const auto bad = run_axon({"echo", text, "--as", "u64"});
  EXPECT_EQ(bad.status.code, 2);
  EXPECT_EQ(bad.output, "axon: error: --as \"u64\" is not one of u32, i64, f64, string, hex\n");
  publisher_u32.kill(SIGINT);
  publisher_text.kill(SIGINT);
  EXPECT_TRUE(publisher_u32.wait_for(kWatchdog));
  EXPECT_TRUE(publisher_text.wait_for(kWatchdog));
}

TEST(CliServiceHz, ReportsTheRateOfAPublisherAtAKnownRate) {
  const auto name = axon::test::unique_name("hz");
  auto held = hold_service(name, kU32);
  auto publisher = ChildProcess::spawn(
      bin("axon"), {"publish", name, "--hex", "07000000", "--count", "0", "--rate", "100"});
  ASSERT_TRUE(axon::test::wait_for_ports(name, &axon::ServiceInfo::publishers, 1));
  auto hz = ChildProcess::spawn(bin("axon"), {"service", "hz", name, "--json"});
  // The first report may cover less than a second of the stream; the second covers two.
  const auto deadline = std::chrono::steady_clock::now() + kWatchdog;
  while (count_of(hz.output(), "\n") < 2 && std::chrono::steady_clock::now() < deadline) {
    hz.read_until("\n\n", 100ms);  // never printed: reads what comes for 100 ms
  }
  const auto& all = hz.output();
  const auto first_end = all.find('\n');
  const std::string out = first_end == std::string::npos ? all : all.substr(first_end + 1);
  hz.kill(SIGTERM);
  auto status = hz.wait_for(kWatchdog);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success());
  std::smatch m;
  const std::regex line(
      R"re(^\{"rate_hz":([0-9.]+),"min_ms":([0-9.]+),"max_ms":([0-9.]+),"stddev_ms":([0-9.]+),"window":(\d+),"samples":(\d+)\}\n)re");
  ASSERT_TRUE(std::regex_search(out, m, line)) << out;
  const double rate = std::stod(m[1].str());
  // Generous: the publisher and the tool share a loaded machine with the other tests.
  EXPECT_GT(rate, 50.0) << out;
  EXPECT_LT(rate, 150.0) << out;
  EXPECT_LE(std::stod(m[2].str()), std::stod(m[3].str())) << out;
  EXPECT_GE(std::stoul(m[5].str()), 2u) << out;
  publisher.kill(SIGINT);
  EXPECT_TRUE(publisher.wait_for(kWatchdog));
}

TEST(CliServiceHz, AServiceOfAnotherPatternOrNoneExitsOne) {
  const auto missing = run_axon({"service", "hz", axon::test::unique_name("hz_none")});
  EXPECT_EQ(missing.status.code, 1) << missing.output;
  EXPECT_EQ(missing.output.rfind("axon: error: no service named ", 0), 0u) << missing.output;
  const auto window = run_axon({"service", "hz", "x", "--window", "1"});
  EXPECT_EQ(window.status.code, 2) << window.output;
}

// The one error format, `<program>: error: <what>: <why>`, from the three kinds of programs.
TEST(CliErrorFormat, TheToolsAndTheExamplesSayProgramColonError) {
  const auto axon_run = run_axon({"service", "show", "a//b"});
  EXPECT_EQ(axon_run.output,
            "axon: error: invalid service name \"a//b\": EmptySegment (an empty segment: '//', or "
            "a leading or trailing '/')\n");
  const auto evt = axon::test::run_to_end(bin("evt_set"), {"a//b"}, true, kWatchdog);
  EXPECT_EQ(evt.status.code, 2);
  EXPECT_EQ(evt.output.rfind("evt_set: error: invalid name \"a//b\": EmptySegment", 0), 0u)
      << evt.output;
  const auto example = axon::test::run_to_end(bin("event_listener"), {"a//b"}, true, kWatchdog);
  EXPECT_EQ(example.status.code, 1);
  EXPECT_EQ(example.output.rfind("event_listener: error: invalid service name \"a//b\": ", 0), 0u)
      << example.output;
}

// A world-writable AXON_ROOT is refused (docs/security.md); the error says what to do about it.
TEST(CliErrorFormat, AWorldWritableRootIsRefusedWithAHint) {
  const std::string root = "/tmp/" + axon::test::unique_name("ww_root");
  ASSERT_EQ(::mkdir(root.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(root.c_str(), 01777), 0);
  const auto env = "AXON_ROOT=" + root;
  const auto sut =
      axon::test::run_to_end("/usr/bin/env", {env, bin("axon"), "node", "list"}, true, kWatchdog);
  const auto example = axon::test::run_to_end(
      "/usr/bin/env", {env, bin("publish_subscribe_subscriber"), "x"}, true, kWatchdog);
  ::rmdir(root.c_str());
  EXPECT_EQ(sut.status.code, 1) << sut.output;
  EXPECT_NE(sut.output.find("axon: error: cannot list nodes: PermissionDenied (AXON_ROOT \"" +
                            root + "\" is world-writable (mode 1777)"),
            std::string::npos)
      << sut.output;
  EXPECT_NE(sut.output.find("mode 0700"), std::string::npos) << sut.output;
  EXPECT_NE(example.output.find("publish_subscribe_subscriber: error: cannot create node: "
                                "PermissionDenied (AXON_ROOT"),
            std::string::npos)
      << example.output;
}

}  // namespace
