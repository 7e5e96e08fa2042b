// Every reader against the hostile peer (hostile_peer.cpp; RELIABILITY.md test 11): the peer
// rewrites every field it can write in every shared structure it reaches, around each of its
// honest operations, while a reader (an example, the `axon` tool, evt_wait) runs as its own
// process. After a couple of seconds the reader gets SIGTERM.
//
// The verdict is about the reader's survival, never about what it received: it must end within
// the watchdog by its own exit (0, or an error code of its contract), never by a signal, and
// sanitizers must have reported nothing. Readers that end by themselves before SIGTERM (an
// error) pass too: "an error at worst".
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <set>
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
using axon::test::ExitStatus;

/// How long a reader runs against the peer before SIGTERM; a lower bound, not a verdict.
constexpr auto kExposure = 2500ms;
/// The least a reader runs before SIGTERM, when it was restarted near the end of kExposure.
constexpr auto kMinRun = 1000ms;
/// How long a reader may take to end after SIGTERM (its loops sleep at most tens of ms).
constexpr auto kTermGrace = 3s;
/// Bound of any wait for the peer: a watchdog.
constexpr auto kWatchdog = 20s;
/// Output no process prints: reading until it collects everything for a while.
constexpr const char* kNever = "\x01never\x01";

std::string describe(const ExitStatus& s) {
  return s.exited ? "exit " + std::to_string(s.code) : "signal " + std::to_string(s.code);
}

/// The first sanitizer report in `output`, or "".
std::string sanitizer_report(const std::string& output) {
  for (const char* needle :
       {"AddressSanitizer", "runtime error:", "LeakSanitizer", "UndefinedBehaviorSanitizer"}) {
    const auto at = output.find(needle);
    if (at != std::string::npos) return output.substr(at > 200 ? at - 200 : 0, 2000);
  }
  return "";
}

/// The hostile peer, started and ready; stopped (SIGTERM, then SIGKILL) when it goes.
class Peer {
 public:
  Peer(const std::string& pattern, const std::string& service,
       std::vector<std::string> extra = {})
      : m_process(ChildProcess::spawn(bin("axon_test_hostile"),
                                      with(pattern, service, std::move(extra)), true)) {}

  ::testing::AssertionResult ready() {
    const auto out = m_process.read_until("ready\n", kWatchdog);
    if (out.find("ready\n") != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the hostile peer never got ready: " << out;
  }

  /// The peer uses the library too (its publisher reads the completion queues that it also
  /// rewrites): it must end on SIGTERM with 0 like any reader.
  void stop_and_check() {
    m_process.kill(SIGTERM);
    const auto out = m_process.read_all(kWatchdog);
    const auto status = m_process.wait_for(kWatchdog);
    ASSERT_TRUE(status) << "the hostile peer ignored SIGTERM";
    EXPECT_TRUE(status->success())
        << "the hostile peer ended with " << describe(*status) << ": " << out;
    EXPECT_EQ(sanitizer_report(out), "");
  }

 private:
  static std::vector<std::string> with(const std::string& pattern, const std::string& service,
                                       std::vector<std::string> extra) {
    std::vector<std::string> args{pattern, service, "--duration-ms", "30000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  ChildProcess m_process;
};

struct Reader {
  std::string program;
  std::vector<std::string> args;
  std::set<int> exit_codes;  ///< codes of the reader's contract: success and its errors
};

/// True once `process` catches or blocks SIGTERM (/proc/PID/status: SigCgt, SigBlk) or has
/// ended; false when neither happened within the watchdog.
bool catches_sigterm(const ChildProcess& process) {
  const auto end = std::chrono::steady_clock::now() + kWatchdog;
  const std::uint64_t bit = std::uint64_t{1} << (SIGTERM - 1);
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream status("/proc/" + std::to_string(process.pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      // Ended already (a zombie, or reaped): how it ended is checked next.
      if (line.starts_with("State:") && line.find('Z') != std::string::npos) return true;
      if (!line.starts_with("SigCgt:") && !line.starts_with("SigBlk:")) continue;
      if ((std::strtoull(line.c_str() + 7, nullptr, 16) & bit) != 0) return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

/// Where `process` is: its state and kernel wait channel, for a report on a hang.
std::string where(const ChildProcess& process) {
  const auto proc = "/proc/" + std::to_string(process.pid());
  std::string stat, wchan;
  std::getline(std::ifstream(proc + "/stat"), stat);
  std::getline(std::ifstream(proc + "/wchan"), wchan);
  return "stat: " + stat + ", wchan: " + wchan;
}

/// Checks how one run of `reader` ended, after SIGTERM when `terminated`.
void check_end(const Reader& reader, ChildProcess& process, bool terminated) {
  const auto since = std::chrono::steady_clock::now();
  const auto out = process.read_all(kTermGrace);  // until the reader closes its output: its end
  auto status = process.wait_for(1s);
  const auto took = std::chrono::steady_clock::now() - since;
  const std::string tail = out.size() > 3000 ? out.substr(out.size() - 3000) : out;
  ASSERT_TRUE(status) << reader.program << " did not end within "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms" << (terminated ? " of SIGTERM" : "")
                      << "; its output ends with: " << tail;
  EXPECT_TRUE(status->exited && reader.exit_codes.contains(status->code))
      << reader.program << " ended with " << describe(*status)
      << "; its output ends with: " << tail;
  EXPECT_EQ(sanitizer_report(out), "") << reader.program;
}

/// Runs `reader` against `peer` for kExposure, then sends it SIGTERM and checks how it ended.
/// A reader that ends by itself with a code of its contract (some examples end on a Corrupted
/// receive, evt_wait on a set event) is checked and started again, so that the exposure stays
/// kExposure.
void expose(Peer& peer, const Reader& reader) {
  ASSERT_TRUE(peer.ready());
  const auto end = std::chrono::steady_clock::now() + kExposure;
  int gave_up = 0;
  for (;;) {
    auto process = ChildProcess::spawn(bin(reader.program), reader.args, true);
    const auto now = std::chrono::steady_clock::now();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now);
    // Returns early only when the reader closed its output, i.e. ended by itself.
    (void)process.read_until(kNever, std::max(left, kMinRun));
    if (std::chrono::steady_clock::now() + 50ms < std::max(end, now + kMinRun)) {
      ++gave_up;
      check_end(reader, process, false);
      if (::testing::Test::HasFailure()) return;
      continue;
    }
    // A reader restarted late may still be starting (slowly, under ASan): SIGTERM before it
    // catches it would end it by the default action, which says nothing about the reader.
    ASSERT_TRUE(catches_sigterm(process))
        << reader.program << " never caught SIGTERM; " << where(process)
        << "; its output: " << process.read_until(kNever, 10ms);
    process.kill(SIGTERM);
    check_end(reader, process, true);
    break;
  }
  std::printf("%s: %d run(s) ended by themselves before SIGTERM\n", reader.program.c_str(),
              gave_up);
  peer.stop_and_check();
}

/// Runs a one-shot command again and again for kExposure while `peer` attacks.
void repeat(Peer& peer, const Reader& reader) {
  ASSERT_TRUE(peer.ready());
  const auto end = std::chrono::steady_clock::now() + kExposure;
  int runs = 0;
  while (std::chrono::steady_clock::now() < end) {
    auto process = ChildProcess::spawn(bin(reader.program), reader.args, true);
    const auto out = process.read_all(kWatchdog);
    const auto status = process.wait_for(1s);
    ++runs;
    ASSERT_TRUE(status) << reader.program << " hung (run " << runs << "): " << out;
    ASSERT_TRUE(status->exited && reader.exit_codes.contains(status->code))
        << reader.program << " ended with " << describe(*status) << " (run " << runs
        << "): " << out;
    ASSERT_EQ(sanitizer_report(out), "") << reader.program;
  }
  EXPECT_GT(runs, 0);
  peer.stop_and_check();
}

// Examples exit 0 on SIGTERM and 1 on a failure they report.
const std::set<int> kExample{0, 1};
// `axon`: 0 success, 1 the command failed (docs/cli.md).
const std::set<int> kTool{0, 1};

TEST(HostilePeer, DynamicDataSubscriberSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/bytes");
  Peer peer("bytes", name);
  expose(peer, {"dynamic_data_subscriber", {name}, kExample});
}

// The known case: a publisher flipping payload_size between 16 and 2^40 after sending made this
// die with SIGSEGV (the tool printed up to --bytes of a size read from the chunk).
TEST(HostilePeer, EchoWithHugeByteLimitSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/echo");
  Peer peer("bytes", name);
  expose(peer, {"axon", {"echo", name, "--bytes", "1000000000000"}, kTool});
}

TEST(HostilePeer, EchoOfTypedServiceSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/echo_typed");
  Peer peer("typed", name);
  expose(peer, {"axon", {"echo", name}, kTool});
}

TEST(HostilePeer, PollingSubscriberSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/poll");
  Peer peer("typed", name);
  expose(peer, {"publish_subscribe_subscriber", {name, "--poll"}, kExample});
}

TEST(HostilePeer, WaitSetSubscriberSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/waitset");
  Peer peer("typed", name);
  expose(peer, {"publish_subscribe_subscriber", {name}, kExample});
}

TEST(HostilePeer, EventListenerSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/listener");
  Peer peer("event", name);
  expose(peer, {"event_listener", {name}, kExample});
}

TEST(HostilePeer, WaitSetOfEventMultiplexingSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/multiplexing");
  Peer peer("event", name);
  expose(peer, {"event_multiplexing_wait", {name}, kExample});
}

TEST(HostilePeer, AxonListenSurvivesAndHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/listen");
  Peer peer("event", name);
  expose(peer, {"axon", {"listen", name}, kTool});
}

TEST(HostilePeer, ServiceListOfPubSubEndsEveryTime) {
  Peer peer("bytes", axon::test::unique_name("hostile/list"));
  repeat(peer, {"axon", {"service", "list"}, kTool});
}

TEST(HostilePeer, ServiceListOfEventEndsEveryTime) {
  Peer peer("event", axon::test::unique_name("hostile/list_event"));
  repeat(peer, {"axon", {"service", "list", "--json"}, kTool});
}

TEST(HostilePeer, ServiceShowOfPubSubEndsEveryTime) {
  const auto name = axon::test::unique_name("hostile/show");
  Peer peer("typed", name);
  repeat(peer, {"axon", {"service", "show", name}, kTool});
}

TEST(HostilePeer, ServiceShowOfEventEndsEveryTime) {
  const auto name = axon::test::unique_name("hostile/show_event");
  Peer peer("event", name);
  repeat(peer, {"axon", {"service", "show", name, "--json"}, kTool});
}

TEST(HostilePeer, NodeListEndsEveryTime) {
  Peer peer("bytes", axon::test::unique_name("hostile/nodes"));
  repeat(peer, {"axon", {"node", "list"}, kTool});
}

// evt_wait: 0 set, 1 timed out, 3 another failure (Corrupted), 143 after SIGTERM.
TEST(HostilePeer, EvtWaitEndsEveryTime) {
  const auto name = axon::test::unique_name("hostile/evt");
  Peer peer("sysevent", name);
  repeat(peer, {"evt_wait", {name, "0.05"}, {0, 1, 3}});
}

TEST(HostilePeer, EvtWaitWithoutTimeoutHonoursSigterm) {
  const auto name = axon::test::unique_name("hostile/evt_forever");
  Peer peer("sysevent", name);
  expose(peer, {"evt_wait", {name}, {0, 3, 143}});
}

// ---------------------------------------------------------------- request-response
//
// Here the honest peer is this process: against a hostile server (rr-server), a client that keeps
// sending, receiving, asking is_done / number_of_server_connections and dropping pending
// responses; against a hostile client (rr-client), a server that keeps receiving, answering,
// asking is_connected and ending streams. For kExposure, every call bounded in time (none may
// hang: the longest is a Block send, 1 ms here), every payload read whole (ASan checks the
// bounds in the asan preset), every error one of the contract's. Then the hostile peer leaves
// and our port must get everything back: no channel or chunk stays wedged by what it did.

using RrBytes = axon::Slice<std::uint8_t>;
constexpr std::uint64_t kRrMaxLen = 256;
/// The longest any single call may take: far above a Block send (1 ms) or a liveness probe.
constexpr auto kRrCallBound = 500ms;

const char* const kPolicies[] = {"overwrite", "refuse", "block"};

/// Opens the service the peer made (it decides the settings).
axon::RequestResponseService<RrBytes, RrBytes> open_rr(axon::Node& node, const std::string& name) {
  auto service_name = axon::ServiceName::create(name);
  EXPECT_TRUE(service_name);
  auto service = node.service_builder(*service_name).request_response<RrBytes, RrBytes>().open();
  EXPECT_TRUE(service) << axon::to_string(service.error());
  return std::move(*service);
}

/// What the honest side did and met; printed, so that a run that did nothing shows.
struct RrTally {
  std::map<std::string, std::uint64_t> counts;
  std::chrono::nanoseconds longest{0};
  std::string longest_call;
  void operator()(const std::string& what) { ++counts[what]; }
  /// Runs `call`, counting its time.
  template <typename F>
  decltype(auto) timed(const char* name, F&& call) {
    const auto start = std::chrono::steady_clock::now();
    struct Timer {
      RrTally& t;
      const char* name;
      std::chrono::steady_clock::time_point start;
      ~Timer() {
        const auto took = std::chrono::steady_clock::now() - start;
        if (took > t.longest) {
          t.longest = took;
          t.longest_call = name;
        }
      }
    } timer{*this, name, start};
    return call();
  }
  std::string str() const {
    std::string out;
    for (const auto& [what, n] : counts) out += what + "=" + std::to_string(n) + " ";
    return out + "longest call " +
           std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(longest).count()) +
           " us (" + longest_call + ")";
  }
};

/// Reads every byte of `bytes` (ASan: each must lie inside a mapping) and checks the length.
template <typename Span>
void read_whole(const Span& bytes, RrTally& tally) {
  EXPECT_LE(bytes.size(), kRrMaxLen);
  std::uint8_t sum = 0;
  for (const auto b : bytes) sum = static_cast<std::uint8_t>(sum + b);
  tally(sum == 0x5a ? "sum_5a" : "payload_read");
}

class HostileRequestResponse : public ::testing::TestWithParam<int> {};

TEST_P(HostileRequestResponse, ClientSurvivesAHostileServer) {
  const auto name = axon::test::unique_name("hostile/rr_server");
  Peer peer("rr-server", name, {"--policy", std::to_string(GetParam())});
  ASSERT_TRUE(peer.ready());
  auto node = axon::test::make_node("rr-honest-client");
  auto service = open_rr(node, name);
  auto client = service.client_builder().max_slice_len(kRrMaxLen).create();
  ASSERT_TRUE(client);
  RrTally tally;
  {
    // The peer acts every 2 ms or so: a request lives up to 50 ms (one in ten is cancelled at
    // once), so that most reach the server and get answers.
    struct Pending {
      axon::PendingResponse<RrBytes, RrBytes> p;
      std::chrono::steady_clock::time_point drop_at;
    };
    std::deque<Pending> pending;
    std::deque<axon::Response<RrBytes>> held;
    const auto end = std::chrono::steady_clock::now() + kExposure;
    for (std::uint64_t round = 0; std::chrono::steady_clock::now() < end; ++round) {
      if (pending.size() < 3) {
        auto request = tally.timed("loan", [&] { return client->loan(round % kRrMaxLen + 1); });
        ASSERT_TRUE(request) << axon::to_string(request.error());
        auto sent = tally.timed("send", [&] { return client->send(std::move(*request)); });
        if (sent) {
          tally("sent");
          const auto life = round % 10 == 0 ? 0ms : 50ms;
          pending.push_back(Pending{std::move(*sent), std::chrono::steady_clock::now() + life});
        } else {
          // Every channel busy: a hostile server may keep its streams open forever.
          ASSERT_EQ(sent.error(), axon::RequestSendError::ExceedsMaxActiveRequests);
          tally("send_ExceedsMaxActiveRequests");
        }
      }
      for (auto& [p, drop_at] : pending) {
        for (int i = 0; i < 4; ++i) {
          auto response = tally.timed("receive", [&] { return p.receive(); });
          if (!response) {
            const auto e = response.error();
            ASSERT_TRUE(e == axon::ResponseReceiveError::ServerGone ||
                        e == axon::ResponseReceiveError::Corrupted ||
                        e == axon::ResponseReceiveError::ExceedsMaxBorrowedResponses)
                << axon::to_string(e);
            tally(std::string("receive_") + axon::to_string(e));
            continue;
          }
          if (!*response) break;
          tally("responses");
          read_whole((*response)->payload(), tally);
          held.push_back(std::move(**response));
          if (held.size() > 2) held.pop_front();
        }
        (void)tally.timed("is_done", [&] { return p.is_done(); });
        EXPECT_LE(tally.timed("connections", [&] { return p.number_of_server_connections(); }),
                  2u);
        read_whole(p.request(), tally);
      }
      (void)tally.timed("number_of_servers", [&] { return client->number_of_servers(); });
      // Dropping a pending response cancels it; held responses outlive it.
      if (!pending.empty() && (pending.front().p.is_done() ||
                               std::chrono::steady_clock::now() >= pending.front().drop_at)) {
        tally.timed("drop", [&] {
          pending.pop_front();
          return 0;
        });
      }
      if (round % 7 == 0) held.clear();
    }
    std::printf("honest client: %s\n", tally.str().c_str());
    EXPECT_LT(tally.longest, kRrCallBound) << tally.longest_call << " took that long";
    EXPECT_GT(tally.counts["sent"], 0u);
    EXPECT_GT(tally.counts["responses"], 0u) << "the attack left nothing to read: a weak test";
  }
  peer.stop_and_check();
  // The server left: every channel comes free again (its streams end as gone), none is wedged.
  const auto channels = service.static_config().max_active_requests_per_client;
  EXPECT_TRUE(axon::test::eventually([&] {
    std::vector<axon::PendingResponse<RrBytes, RrBytes>> all;
    for (std::uint32_t i = 0; i < channels; ++i) {
      auto request = client->loan(1);
      if (!request) return false;
      auto sent = client->send(std::move(*request));
      if (!sent) return false;
      all.push_back(std::move(*sent));
    }
    return true;
  })) << "a channel stayed busy after the hostile server left";
}

TEST_P(HostileRequestResponse, ServerSurvivesAHostileClient) {
  const auto name = axon::test::unique_name("hostile/rr_client");
  Peer peer("rr-client", name, {"--policy", std::to_string(GetParam())});
  ASSERT_TRUE(peer.ready());
  auto node = axon::test::make_node("rr-honest-server");
  auto service = open_rr(node, name);
  auto server =
      service.server_builder().max_slice_len(kRrMaxLen).block_timeout(1ms).create();
  ASSERT_TRUE(server);
  RrTally tally;
  {
    std::deque<axon::ActiveRequest<RrBytes, RrBytes>> active;
    const auto end = std::chrono::steady_clock::now() + kExposure;
    for (std::uint64_t round = 0; std::chrono::steady_clock::now() < end; ++round) {
      for (int i = 0; i < 2 && active.size() < 4; ++i) {
        auto request = tally.timed("receive", [&] { return server->receive(); });
        if (!request) {
          ASSERT_EQ(request.error(), axon::ServerReceiveError::Corrupted);
          tally("receive_Corrupted");
          continue;
        }
        if (!*request) break;
        tally("requests");
        read_whole((*request)->payload(), tally);
        active.push_back(std::move(**request));
      }
      for (auto& request : active) {
        (void)tally.timed("is_connected", [&] { return request.is_connected(); });
        auto response = tally.timed("loan", [&] { return request.loan(round % kRrMaxLen + 1); });
        if (!response) {
          // Our own limits only: every loan is sent or dropped at once.
          ADD_FAILURE() << axon::to_string(response.error());
          continue;
        }
        auto sent = tally.timed("send", [&] { return request.send(std::move(*response)); });
        if (sent) {
          tally("responses");
          continue;
        }
        const auto e = sent.error();
        ASSERT_TRUE(e == axon::ResponseSendError::NotConnected ||
                    e == axon::ResponseSendError::BufferFull ||
                    e == axon::ResponseSendError::Corrupted)
            << axon::to_string(e);
        tally(std::string("send_") + axon::to_string(e));
      }
      // Dropping an active request ends its stream.
      if (!active.empty() && (round % 3 == 0 || !active.front().is_connected())) {
        tally.timed("end", [&] {
          active.pop_front();
          return 0;
        });
      }
      EXPECT_LE(tally.timed("chunks_in_use", [&] { return server->chunks_in_use(); }),
                server->chunk_count());
    }
    std::printf("honest server: %s\n", tally.str().c_str());
    EXPECT_LT(tally.longest, kRrCallBound) << tally.longest_call << " took that long";
    EXPECT_GT(tally.counts["requests"], 0u) << "the attack left nothing to serve: a weak test";
  }
  peer.stop_and_check();
  // The client left: every response chunk delivered to it comes back.
  EXPECT_TRUE(axon::test::eventually([&] { return server->chunks_in_use() == 0; }))
      << server->chunks_in_use() << " chunks still in use after the hostile client left";
}

INSTANTIATE_TEST_SUITE_P(Policies, HostileRequestResponse, ::testing::Values(0, 1, 2),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return std::string(kPolicies[param_info.param]);
                         });

}  // namespace
