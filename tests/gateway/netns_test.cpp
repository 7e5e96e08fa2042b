// The two-machine harness itself (netns.hpp), proved with real processes in real namespaces: a
// UDP datagram crosses the veth, link_down() stops it and link_up() restores it, the sides'
// axon instances stay apart only through their own prefix and root, Cyclone DDS (ddsperf)
// discovers its peer across the pair by multicast, and nothing is left behind.
#include "netns.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;
using axon::test::eventually;
using axon::test::NetnsPair;
using axon::test::Side;

// ctest names these gateway.netns.<Test> (TEST_PREFIX "gateway." in CMakeLists.txt).
using netns = axon::test::NetnsTest;

constexpr const char* kUdpPort = "47123";  // inside the pair's own network: no clash possible

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Sends `text` from side a to b's receiver; true when sendto succeeded.
bool send_a_to_b(const NetnsPair& pair, const std::string& text) {
  return pair
      .run_to_end(Side::A, {bin("axon_test_udp_probe"), "send", pair.b().address, kUdpPort, text})
      .status.success();
}

TEST_F(netns, UdpDatagramCrossesFromAToB) {
  auto receiver = pair->run(Side::B, {bin("axon_test_udp_probe"), "recv", kUdpPort});
  ASSERT_NE(receiver.read_until("ready", 10s).find("ready"), std::string::npos)
      << receiver.output();
  ASSERT_TRUE(send_a_to_b(*pair, "hello"));
  EXPECT_NE(receiver.read_until("got hello", 5s).find("got hello"), std::string::npos)
      << receiver.output();
  // The receiver runs inside b's namespace, not the host's.
  EXPECT_TRUE(contains(
      [&] {
        std::vector<std::string> pids;
        for (const pid_t p : pair->pids(Side::B)) pids.push_back(std::to_string(p));
        return pids;
      }(),
      std::to_string(receiver.pid())));
  EXPECT_TRUE(pair->pids(Side::A).empty());
}

TEST_F(netns, LinkDownStopsDatagramsAndLinkUpRestoresThem) {
  auto receiver = pair->run(Side::B, {bin("axon_test_udp_probe"), "recv", kUdpPort});
  ASSERT_NE(receiver.read_until("ready", 10s).find("ready"), std::string::npos)
      << receiver.output();
  ASSERT_TRUE(send_a_to_b(*pair, "before"));
  ASSERT_NE(receiver.read_until("got before", 5s).find("got before"), std::string::npos);

  ASSERT_TRUE(pair->link_down());
  // With the link down, sendto either fails (no route) or the datagram is dropped: both fine,
  // what counts is that none arrives. Absence can only be waited for, not polled: 300 ms is far
  // beyond the sub-millisecond the first datagram took.
  send_a_to_b(*pair, "during");
  EXPECT_EQ(receiver.read_until("got during", 300ms).find("got during"), std::string::npos);

  ASSERT_TRUE(pair->link_up());
  int sent = 0;
  EXPECT_TRUE(eventually(
      [&] {
        send_a_to_b(*pair, "after");
        ++sent;
        return receiver.read_until("got after", 50ms).find("got after") != std::string::npos;
      },
      10s))
      << "sent " << sent << " times: " << receiver.output();
  EXPECT_EQ(receiver.output().find("got during"), std::string::npos) << receiver.output();
}

// Network namespaces do not separate /dev/shm nor /tmp: the sides are two axon "machines" only
// through their own AXON_PREFIX and AXON_ROOT. Both halves are shown: apart with their own, one
// instance when b is given a's.
TEST_F(netns, SidesSeeOnlyTheirOwnServicesThroughTheirOwnPrefixAndRoot) {
  const auto service = axon::test::unique_name("netns_pubsub");
  auto publisher =
      pair->run(Side::A, {bin("publish_subscribe_publisher"), service, "--interval-ms", "50"});
  ASSERT_NE(publisher.read_until("Send sample", 10s).find("Send sample"), std::string::npos)
      << publisher.output();
  const auto listed = [&](Side side, const axon::test::Environment& extra = {}) {
    const auto out = pair->run_to_end(side, {bin("axon"), "service", "list"}, extra);
    EXPECT_TRUE(out.status.success()) << out.output;
    return out.output.find(" " + service + " ") != std::string::npos;
  };
  EXPECT_TRUE(listed(Side::A));
  EXPECT_FALSE(listed(Side::B));
  EXPECT_FALSE(pair->shm_objects(Side::A).empty());
  EXPECT_TRUE(pair->shm_objects(Side::B).empty());
  // The same memory seen from b's namespace with a's prefix and root: one instance after all.
  EXPECT_TRUE(listed(Side::B, {{"AXON_PREFIX", pair->a().prefix}, {"AXON_ROOT", pair->a().root}}));

  publisher.kill(SIGTERM);
  const auto status = publisher.wait_for(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << publisher.output();
  EXPECT_TRUE(pair->shm_objects(Side::A).empty());
}

TEST_F(netns, TeardownKillsWhatRunsInsideAndDeletesBothNamespaces) {
  // A process no handle owns: the shell exits, its `sleep` stays inside a.
  auto shell = pair->run(Side::A, {"sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"}, {}, false);
  const auto finished = axon::test::finish(std::move(shell));
  ASSERT_TRUE(finished.status.success()) << finished.output;
  const pid_t orphan = static_cast<pid_t>(std::atoi(finished.output.c_str()));
  ASSERT_GT(orphan, 0) << finished.output;
  auto sleeper_b = pair->run(Side::B, {"sleep", "60"});
  ASSERT_TRUE(eventually([&] { return pair->pids(Side::A).size() == 1; }, 5s));

  const auto a = pair->a().netns;
  const auto b = pair->b().netns;
  ASSERT_TRUE(contains(axon::test::netns_list(), a));
  ASSERT_TRUE(contains(axon::test::netns_list(), b));
  pair.reset();

  EXPECT_FALSE(contains(axon::test::netns_list(), a));
  EXPECT_FALSE(contains(axon::test::netns_list(), b));
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + a));
  // The orphan was reparented (to init or a subreaper): killed, whoever reaps it.
  EXPECT_TRUE(eventually([&] { return !axon::test::process_alive(orphan); }, 5s))
      << "pid " << orphan;
  const auto status = sleeper_b.wait_for(5s);
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->code, SIGKILL);
}

/// Runs `ip args...` to its end; true when it succeeded.
bool ip(const std::vector<std::string>& args) {
  return axon::test::run_to_end(axon::test::ip_program(), args).status.success();
}

/// A namespace made by hand, as a crashed run leaves one; deleted at scope exit if still there.
struct HandMadeNetns {
  explicit HandMadeNetns(std::string n) : name(std::move(n)) { made = ip({"netns", "add", name}); }
  ~HandMadeNetns() {
    if (contains(axon::test::netns_list(), name)) ip({"netns", "del", name});
  }
  HandMadeNetns(const HandMadeNetns&) = delete;
  HandMadeNetns& operator=(const HandMadeNetns&) = delete;
  std::string name;
  bool made = false;
};

// A run killed by ctest's timeout leaves its namespaces: the next run sweeps those whose owner
// is dead (gone, or a zombie its parent has not reaped yet), and only those.
TEST_F(netns, SweepRemovesNamespacesOfDeadOwnersOnly) {
  auto gone_owner = ChildProcess::fork([] { return 0; });
  const pid_t gone = gone_owner.pid();
  ASSERT_TRUE(gone_owner.wait_for(5s));                      // reaped: its pid names nobody now
  auto zombie_owner = ChildProcess::fork([] { return 0; });  // not reaped until the test ends
  ASSERT_TRUE(eventually([&] { return !axon::test::process_alive(zombie_owner.pid()); }));
  auto live_owner = ChildProcess::spawn("/bin/sleep", {"60"});

  const auto name_of = [](pid_t owner) { return "axon-" + std::to_string(owner) + "-0-a"; };
  HandMadeNetns stale(name_of(gone));
  HandMadeNetns stale_of_zombie(name_of(zombie_owner.pid()));
  HandMadeNetns live(name_of(live_owner.pid()));
  ASSERT_TRUE(stale.made && stale_of_zombie.made && live.made);
  // Something still runs inside the stale one, as after a crash.
  auto inside =
      ChildProcess::spawn(axon::test::ip_program(), {"netns", "exec", stale.name, "sleep", "60"});
  ASSERT_TRUE(eventually([&] {
    return axon::test::run_to_end(axon::test::ip_program(), {"netns", "pids", stale.name})
               .output.size() > 1;
  }));

  const auto swept = NetnsPair::sweep_stale();
  EXPECT_TRUE(contains(swept, stale.name));
  EXPECT_TRUE(contains(swept, stale_of_zombie.name));
  EXPECT_FALSE(contains(swept, live.name));
  const auto left = axon::test::netns_list();
  EXPECT_FALSE(contains(left, stale.name));
  EXPECT_FALSE(contains(left, stale_of_zombie.name));
  EXPECT_TRUE(contains(left, live.name));
  const auto status = inside.wait_for(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, SIGKILL);
}

// Cyclone DDS finds its peer by SPDP multicast on the veth (nothing configured), and ddsperf
// measures round trips across the pair: the baseline the gateway's own figures stand next to.
TEST_F(netns, DdsperfPingFindsPongAcrossThePairByMulticast) {
  if (::access("/usr/bin/ddsperf", X_OK) != 0) {
    FAIL() << "ddsperf is not installed (Debian's cyclonedds-tools; ./dev.sh installs it)";
  }
  auto pong = pair->run(Side::B, {"ddsperf", "-D20", "pong"});
  // -Qminmatch:1 -Qinitwait:10: exit 1 unless the pong is discovered within 10 s.
  const auto ping = pair->run_to_end(
      Side::A, {"ddsperf", "-D3", "-Qminmatch:1", "-Qinitwait:10", "ping", "size", "12"}, {}, 30s);
  EXPECT_TRUE(ping.status.success()) << ping.output;
  // "<time>  <peer> size 12 mean 45.1us min ... 50% 44.0us ... cnt 12492", once a second.
  const std::regex stats(R"(size 12 mean [0-9.]+us .* 50% ([0-9.]+)us .* cnt ([0-9]+))");
  std::size_t round_trips = 0;
  for (auto it = std::sregex_iterator(ping.output.begin(), ping.output.end(), stats);
       it != std::sregex_iterator(); ++it) {
    round_trips += std::stoul((*it)[2].str());
  }
  EXPECT_GT(round_trips, 100U) << ping.output;
  // The pong saw the ping's participant come and go: discovery worked both ways.
  EXPECT_NE(pong.read_until("gone", 10s).find("gone"), std::string::npos) << pong.output();
}

}  // namespace
