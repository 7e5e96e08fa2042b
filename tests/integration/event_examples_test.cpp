// The event examples run as a user runs them: separate processes started from build/bin.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;

std::size_t count_matches(const std::string& text, const std::regex& re, std::uint64_t* sum = nullptr) {
  std::size_t n = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    ++n;
    if (sum != nullptr && it->size() > 1) *sum += std::stoull((*it)[1].str());
  }
  return n;
}

TEST(EventExamples, ListenerReceivesEveryTriggerOfTwoNotifiers) {
  const auto service = axon::test::unique_name("fuu");
  auto listener = ChildProcess::spawn(bin("event_listener"), {service});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::listeners, 1));
  auto n123 = ChildProcess::spawn(bin("event_notifier"), {service, "123"});
  auto n456 = ChildProcess::spawn(bin("event_notifier"), {service, "456"});
  n123.read_until("Trigger event with id 123 ...\n[service", 5s);
  n456.read_until("Trigger event with id 456 ...\n[service", 5s);
  n123.kill(SIGINT);
  n456.kill(SIGINT);
  auto s123 = n123.wait_for(5s);
  auto s456 = n456.wait_for(5s);
  ASSERT_TRUE(s123 && s456);
  EXPECT_TRUE(s123->success());
  EXPECT_TRUE(s456->success());
  const auto sent123 = count_matches(n123.read_all(2s), std::regex("Trigger event with id 123 \\.\\.\\."));
  const auto sent456 = count_matches(n456.read_all(2s), std::regex("Trigger event with id 456 \\.\\.\\."));
  EXPECT_NE(n123.output().find("[service: \"" + service + "\"] Trigger event with id 123 ..."),
            std::string::npos);
  EXPECT_NE(n123.output().find("exit\n"), std::string::npos);
  std::this_thread::sleep_for(300ms);  // let the listener print the last ones
  listener.kill(SIGTERM);
  auto ls = listener.wait_for(5s);
  ASSERT_TRUE(ls);
  EXPECT_TRUE(ls->success());
  const auto out = listener.read_all(2s);
  std::uint64_t got123 = 0;
  std::uint64_t got456 = 0;
  count_matches(out, std::regex("EventId\\(123\\) x(\\d+)"), &got123);
  count_matches(out, std::regex("EventId\\(456\\) x(\\d+)"), &got456);
  EXPECT_GE(sent123, 2u);
  EXPECT_EQ(got123, sent123) << out;
  EXPECT_EQ(got456, sent456) << out;
  EXPECT_NE(out.find("exit\n"), std::string::npos);
}

TEST(EventExamples, BadArgumentsGiveAMessageAndANonZeroExit) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases = {
      {"event_listener", {}, 2},
      {"event_notifier", {"fuu"}, 2},
      {"event_listener", {"a//b"}, 1},
      {"event_listener", {"../etc"}, 1},
      {"event_notifier", {"fuu", "abc"}, 1},
      {"event_notifier", {"fuu", "-1"}, 1},
      {"event_notifier", {axon::test::unique_name("fuu"), "4096"}, 1},
  };
  const auto before_shm = axon::test::shm_objects();
  for (const auto& c : cases) {
    auto p = ChildProcess::spawn(bin(c.program), c.args, /*merge_stderr=*/true);
    auto s = p.wait_for(10s);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->exited);
    EXPECT_EQ(s->code, c.code) << c.program;
    const auto out = p.read_all(1s);
    EXPECT_FALSE(out.empty()) << c.program << ": no message";
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
  EXPECT_EQ(axon::test::shm_objects(), before_shm);
}

}  // namespace
