// `axon event ...`, what `axon clean` does with latched events, and `axon service list`'s dead
// ports, empty-result note and --watch: real processes from build/bin (axon, the evt_* tools, the
// examples), checked through their output and exit codes, the contract of docs/cli.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <sstream>
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

/// Runs `axon args...` to its end; stderr joins stdout when `merge_stderr`.
axon::test::Finished run_axon(const std::vector<std::string>& args, bool merge_stderr = true) {
  return axon::test::run_to_end(bin("axon"), args, merge_stderr, kWatchdog);
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string got; std::getline(in, got);) {
    if (got == line) return true;
  }
  return false;
}

bool exited_with(const axon::test::Finished& finished, int code) {
  return finished.status.exited && finished.status.code == code;
}

/// Removes the event when the test ends, however it ends.
class EventGuard {
 public:
  explicit EventGuard(const std::string& stem) : m_name(axon::test::unique_name(stem)) {}
  EventGuard(const EventGuard&) = delete;
  EventGuard& operator=(const EventGuard&) = delete;
  ~EventGuard() { (void)axon::SystemEvent::remove(m_name); }
  const std::string& name() const { return m_name; }

 private:
  std::string m_name;
};

/// True once `axon event show NAME` names process `pid` as a holder: the process has the event
/// open. A barrier, never a verdict.
bool holds(const std::string& name, pid_t pid) {
  return axon::test::eventually(
      [&] {
        const auto shown = run_axon({"event", "show", name}, false);
        return shown.output.find("\nholder: " + std::to_string(pid)) != std::string::npos;
      },
      10s);
}

TEST(CliEvent, AnEventSetByAnotherProcessIsListedAsSetAndUnheld) {
  const EventGuard set("cli_evt/set");
  const EventGuard cleared("cli_evt/clear");
  ASSERT_TRUE(axon::test::run_to_end(bin("evt_set"), {set.name()}).status.success());
  ASSERT_TRUE(axon::test::run_to_end(bin("evt_clear"), {cleared.name()}).status.success());

  const auto sut = run_axon({"event", "list"}, false);
  const auto json = run_axon({"event", "list", "--json"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_TRUE(has_line(sut.output, "set " + set.name() + " holders=0")) << sut.output;
  EXPECT_TRUE(has_line(sut.output, "clear " + cleared.name() + " holders=0")) << sut.output;
  EXPECT_TRUE(json.status.success());
  EXPECT_TRUE(nlohmann::json::accept(json.output)) << json.output;
  EXPECT_NE(json.output.find(R"({"name":")" + set.name() + R"(","state":"set","holders":[]})"),
            std::string::npos)
      << json.output;
}

TEST(CliEvent, SetAndClearChangeWhatEvtWaitSees) {
  const EventGuard event("cli_evt/setclear");

  ASSERT_TRUE(run_axon({"event", "set", event.name()}).status.success());
  EXPECT_TRUE(axon::test::run_to_end(bin("evt_wait"), {event.name(), "0"}).status.success());
  ASSERT_TRUE(run_axon({"event", "clear", event.name()}).status.success());
  const auto after_clear = axon::test::run_to_end(bin("evt_wait"), {event.name(), "0"});
  EXPECT_TRUE(after_clear.status.exited);
  EXPECT_EQ(after_clear.status.code, 1) << "evt_wait times out on a cleared event";
}

TEST(CliEvent, ShowNamesTheProcessesThatHoldTheEvent) {
  const EventGuard event("cli_evt/held");
  auto waiter = ChildProcess::spawn(bin("evt_wait"), {event.name()});
  ASSERT_TRUE(holds(event.name(), waiter.pid()));

  const auto sut = run_axon({"event", "show", event.name()}, false);
  const auto json = run_axon({"event", "show", event.name(), "--json"}, false);
  const auto listed = run_axon({"event", "list"}, false);

  EXPECT_TRUE(sut.status.success());
  for (const auto& line :
       {"name: " + event.name(), std::string("state: clear"), std::string("holders: 1"),
        "holder: " + std::to_string(waiter.pid()) + " evt_wait"}) {
    EXPECT_TRUE(has_line(sut.output, line)) << "missing \"" << line << "\" in\n" << sut.output;
  }
  EXPECT_TRUE(nlohmann::json::accept(json.output)) << json.output;
  EXPECT_NE(json.output.find(R"("holders":[{"pid":)" + std::to_string(waiter.pid()) +
                             R"(,"command":"evt_wait"}])"),
            std::string::npos)
      << json.output;
  EXPECT_TRUE(has_line(listed.output, "clear " + event.name() + " holders=1")) << listed.output;

  // A holder killed is a holder no more: nothing of it stays in the event.
  waiter.kill(SIGKILL);
  ASSERT_TRUE(waiter.wait_for(kWatchdog));
  EXPECT_TRUE(
      has_line(run_axon({"event", "list"}, false).output, "clear " + event.name() + " holders=0"));
}

TEST(CliEvent, WaitReturnsWhenAnotherProcessSetsTheEvent) {
  const EventGuard event("cli_evt/wait");
  auto waiter = ChildProcess::spawn(bin("axon"), {"event", "wait", event.name(), "--timeout", "20"},
                                    /*merge_stderr=*/true);
  ASSERT_TRUE(holds(event.name(), waiter.pid()));
  EXPECT_FALSE(waiter.wait_for(100ms)) << "returned before the set: " << waiter.read_all(1s);

  ASSERT_TRUE(axon::test::run_to_end(bin("evt_set"), {event.name()}).status.success());

  const auto done = axon::test::finish(std::move(waiter), 5s);
  EXPECT_TRUE(done.status.success()) << done.output;
  EXPECT_EQ(done.output, "");
}

TEST(CliEvent, WaitTimesOutWithExitOneAndEndsWith130OnSigint) {
  const EventGuard event("cli_evt/timeout");

  const auto timed_out = run_axon({"event", "wait", event.name(), "--timeout", "0.2"});
  EXPECT_TRUE(exited_with(timed_out, 1));
  EXPECT_EQ(timed_out.output, "axon: error: \"" + event.name() + "\" was not set within 0.2 s\n");

  auto waiter = ChildProcess::spawn(bin("axon"), {"event", "wait", event.name()}, true);
  ASSERT_TRUE(holds(event.name(), waiter.pid()));
  waiter.kill(SIGINT);
  const auto interrupted = axon::test::finish(std::move(waiter), 5s);
  EXPECT_TRUE(exited_with(interrupted, 130)) << interrupted.output;
  EXPECT_EQ(interrupted.output, "axon: error: interrupted by SIGINT\n");
}

TEST(CliEvent, RmRemovesTheEventAndAMissingOneIsAnError) {
  const EventGuard event("cli_evt/rm");
  ASSERT_TRUE(axon::test::run_to_end(bin("evt_set"), {event.name()}).status.success());

  const auto sut = run_axon({"event", "rm", event.name()});

  EXPECT_TRUE(sut.status.success());
  EXPECT_EQ(sut.output, "removed event " + event.name() + "\n");
  EXPECT_EQ(run_axon({"event", "list"}, false).output.find(event.name()), std::string::npos);
  const auto shown = run_axon({"event", "show", event.name()});
  EXPECT_TRUE(exited_with(shown, 1));
  EXPECT_EQ(shown.output, "axon: error: no event named \"" + event.name() + "\"\n");
  const auto again = run_axon({"event", "rm", event.name()});
  EXPECT_TRUE(exited_with(again, 1));
  EXPECT_EQ(again.output, "axon: error: no event named \"" + event.name() + "\"\n");
}

TEST(CliEvent, BadNamesAreUsageErrorsSayingWhy) {
  for (const auto& command : {"show", "set", "clear", "wait", "rm"}) {
    for (const auto& [name, why] :
         {std::pair{"a//b", "EmptySegment"}, std::pair{"../x", "DotSegment"},
          std::pair{"a b", "InvalidCharacter"}}) {
      const auto sut = run_axon({"event", command, name});

      EXPECT_TRUE(exited_with(sut, 2)) << command << " " << name;
      EXPECT_EQ(
          sut.output.rfind(std::string("axon: error: invalid event name \"") + name + "\": " + why, 0),
          0u)
          << sut.output;
      EXPECT_EQ(std::count(sut.output.begin(), sut.output.end(), '\n'), 1) << sut.output;
    }
  }
  EXPECT_TRUE(run_axon({"event", "list"}, false).output.empty()) << "nothing was created";
}

TEST(CliEventClean, CleanReportsUnheldEventsAndKeepsThem) {
  const EventGuard unheld("cli_evt/unheld");
  const EventGuard held("cli_evt/held_by_waiter");
  ASSERT_TRUE(axon::test::run_to_end(bin("evt_set"), {unheld.name()}).status.success());
  auto waiter = ChildProcess::spawn(bin("evt_wait"), {held.name()});
  ASSERT_TRUE(holds(held.name(), waiter.pid()));

  const auto sut = run_axon({"clean"}, false);

  EXPECT_TRUE(sut.status.success());
  EXPECT_EQ(sut.output, "nothing to clean\nunheld event " + unheld.name() + "\n");
  EXPECT_TRUE(
      has_line(run_axon({"event", "list"}, false).output, "set " + unheld.name() + " holders=0"))
      << "clean reports latched events, it does not remove them";
}

TEST(CliEventClean, CleanForceRemovesAnEventOfThatName) {
  const EventGuard event("cli_evt/force");
  ASSERT_TRUE(axon::test::run_to_end(bin("evt_set"), {event.name()}).status.success());

  const auto sut = run_axon({"clean", "--force", event.name()});

  EXPECT_TRUE(sut.status.success()) << sut.output;
  EXPECT_EQ(sut.output, "removed event " + event.name() + "\n");
  EXPECT_TRUE(exited_with(run_axon({"event", "show", event.name()}), 1));
  const auto again = run_axon({"clean", "--force", event.name()});
  EXPECT_TRUE(exited_with(again, 1)) << again.output;
}

TEST(CliServiceList, AKilledPublishersPortIsMarkedDeadUntilCleaned) {
  const auto service = axon::test::unique_name("cli_dead/topic");
  auto survivor = ChildProcess::spawn(bin("publish_subscribe_publisher"), {service});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::publishers, 1));
  auto victim = ChildProcess::spawn(bin("publish_subscribe_publisher"), {service});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::publishers, 2));
  EXPECT_TRUE(has_line(run_axon({"service", "list"}, false).output,
                       "publish_subscribe " + service + " nodes=2 publishers=2 subscribers=0"));
  victim.kill(SIGKILL);
  ASSERT_TRUE(victim.wait_for(kWatchdog));

  const auto sut = run_axon({"service", "list"}, false);
  const auto json = run_axon({"service", "list", "--json"}, false);
  const auto shown = run_axon({"service", "show", service}, false);

  EXPECT_TRUE(has_line(
      sut.output, "publish_subscribe " + service + " nodes=2 publishers=2 (1 dead) subscribers=0"))
      << sut.output;
  EXPECT_TRUE(nlohmann::json::accept(json.output)) << json.output;
  EXPECT_NE(json.output.find(R"("publishers":2,"subscribers":0,"dead":{"publishers":1,)"
                             R"("subscribers":0},"settings":)"),
            std::string::npos)
      << json.output;
  EXPECT_TRUE(has_line(shown.output, "publishers: 2 (1 dead)")) << shown.output;

  ASSERT_TRUE(run_axon({"clean"}, false).status.success());
  EXPECT_TRUE(has_line(run_axon({"service", "list"}, false).output,
                       "publish_subscribe " + service + " nodes=1 publishers=1 subscribers=0"));
}

TEST(CliServiceList, AnEmptyResultNamesThePrefixAndRootOnStderr) {
  const auto stdout_only = run_axon({"service", "list"}, false);
  const auto both = run_axon({"service", "list"});
  const auto json = run_axon({"service", "list", "--json"}, false);

  EXPECT_TRUE(stdout_only.status.success());
  EXPECT_EQ(stdout_only.output, "");
  EXPECT_EQ(both.output, "axon: no services under prefix '" + axon::test::prefix() + "' in root '" +
                             axon::test::root() + "'\n");
  EXPECT_EQ(json.output, "[]\n");
}

TEST(CliServiceList, WatchPrintsAServiceThatAppearsAndGoes) {
  const auto service = axon::test::unique_name("cli_watch");
  auto watcher = ChildProcess::spawn(bin("axon"), {"service", "list", "--watch"}, true);
  // The first look finds nothing and says so: from then on the watch is running.
  const auto started = watcher.read_until("axon: no services under prefix", kWatchdog);
  ASSERT_NE(started.find("axon: no services"), std::string::npos) << started;

  {
    auto listener = ChildProcess::spawn(bin("event_listener"), {service});
    const auto appeared =
        watcher.read_until("+ event " + service + " nodes=1 listeners=1 notifiers=0\n", kWatchdog);
    EXPECT_NE(appeared.find("+ event " + service + " nodes=1 listeners=1 notifiers=0\n"),
              std::string::npos)
        << appeared;
    listener.kill(SIGINT);  // it leaves the service, the last node: the service goes
    EXPECT_TRUE(listener.wait_for(kWatchdog));
  }
  const auto gone = watcher.read_until("- " + service + "\n", kWatchdog);
  EXPECT_NE(gone.find("- " + service + "\n"), std::string::npos) << gone;

  watcher.kill(SIGINT);
  const auto done = axon::test::finish(std::move(watcher), 5s);
  EXPECT_TRUE(done.status.success());
}

}  // namespace
