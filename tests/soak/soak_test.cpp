// The soak suite: every overflow policy, events and SystemEvent at full speed between two real
// processes (axon_soak, see soak_peer.cpp), busy-polling and through a WaitSet. Each case runs
// AXON_SOAK_SECONDS (default 1: the short run of `./dev.sh test`; `./dev.sh soak [minutes]`
// runs them long) and checks what both sides counted:
//   pub-sub: every sample's checksum, strictly increasing sequences (no duplicate, no reorder),
//     gaps only where the policy allows them: none for Block, exactly the publisher's refused
//     sends for Refuse, counted for OverwriteOldest; the final sample arrives; no chunk is left
//     in use after the subscriber leaves.
//   events: per id, the listener's total equals the notifier's count exactly.
//   request-response: every response's checksum, strictly increasing sequences per stream, every
//     stream ended, gaps only where the policy allows them: none for Block, exactly the server's
//     refused sends for Refuse; no response chunk left in use after the client leaves.
//   SystemEvent: lock-step rounds seen on both sides, then a free-running toggle in which no
//     wait times out (the invariant is stated in soak_peer.cpp).
// Any error of any call fails the case with its name. A floor on the counts (100 a second, at
// least 100 in all; healthy runs do thousands a second on a loaded machine) catches a run that
// stalls without erroring; the watchdogs catch a hang. The counts are printed as "[soak] ..."
// lines, so a long run can be quoted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace axon::test {
namespace {

using Counts = std::map<std::string, std::string>;

double soak_seconds() {
  const char* text = std::getenv("AXON_SOAK_SECONDS");
  if (text == nullptr || *text == '\0') return 1.0;
  const double s = std::strtod(text, nullptr);
  return s > 0 ? s : 1.0;
}

std::uint64_t floor_for(double seconds) {
  return std::max<std::uint64_t>(100, static_cast<std::uint64_t>(100 * seconds));
}

/// The key=value pairs of the "result ..." line in `output`; empty when there is none.
Counts parse_result(const std::string& output) {
  Counts counts;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("result ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string word;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) counts[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return counts;
}

std::uint64_t u64(const Counts& c, const std::string& key) {
  const auto it = c.find(key);
  if (it == c.end()) {
    ADD_FAILURE() << "no " << key << " in the result";
    return 0;
  }
  return std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string str(const Counts& c, const std::string& key) {
  const auto it = c.find(key);
  return it == c.end() ? "?" : it->second;
}

struct PairResult {
  bool ok = false;
  Counts receiver, sender;
};

/// Starts the receiving side, waits for its "ready", starts the sending side, and waits for
/// both; a side that fails ends the other at once. Fails the test with both outputs on any
/// error line, a non-zero exit or a hang past the watchdog.
PairResult run_pair(const std::vector<std::string>& receiver_args,
                    const std::vector<std::string>& sender_args, double seconds) {
  PairResult result;
  auto receiver = ChildProcess::spawn(bin("axon_soak"), receiver_args, true);
  const auto ready = receiver.read_until("ready\n", std::chrono::seconds(30));
  if (ready.find("ready\n") == std::string::npos) {
    ADD_FAILURE() << "receiver not ready:\n" << ready;
    return result;
  }
  auto sender = ChildProcess::spawn(bin("axon_soak"), sender_args, true);
  // A watchdog only: the sides' own stall checks (20 s without progress) fire well before.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(seconds * 1000)) +
                        std::chrono::seconds(120);
  std::optional<ExitStatus> rx, tx;
  while ((!rx || !tx) && std::chrono::steady_clock::now() < deadline) {
    if (!rx) rx = receiver.wait_for(std::chrono::milliseconds(20));
    if (!tx) tx = sender.wait_for(std::chrono::milliseconds(20));
    if ((rx && !rx->success()) || (tx && !tx->success())) break;
  }
  const auto rx_out = receiver.read_all(std::chrono::seconds(1));
  const auto tx_out = sender.read_all(std::chrono::seconds(1));
  const bool ok = rx && tx && rx->success() && tx->success();
  if (!ok) {
    const bool failed = (rx && !rx->success()) || (tx && !tx->success());
    ADD_FAILURE() << (failed ? "a side failed" : "a side hung (watchdog)") << "\n-- receiver "
                  << receiver_args[0] << " (exit " << (rx ? rx->code : -1) << "):\n"
                  << rx_out << "-- sender " << sender_args[0] << " (exit " << (tx ? tx->code : -1)
                  << "):\n"
                  << tx_out;
    return result;  // the destructors kill and reap whoever is still running
  }
  result.receiver = parse_result(rx_out);
  result.sender = parse_result(tx_out);
  result.ok = !result.receiver.empty() && !result.sender.empty();
  if (!result.ok) ADD_FAILURE() << "no result line:\n" << rx_out << tx_out;
  return result;
}

/// Everything a case made is gone once both sides exited (SystemEvents, which outlive their
/// processes by design, are removed by their case first).
void expect_nothing_left(const std::string& what) {
  EXPECT_TRUE(shm_objects().empty()) << what << " left shared memory: " << shm_objects().size()
                                     << " objects, first " << shm_objects().front();
}

void report(const std::string& line) {
  std::printf("[soak] %s\n", line.c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------- publish-subscribe

struct PubSubCase {
  const char* policy;   // overwrite | refuse | block
  const char* mode;     // busy | waitset
  const char* payload;  // fixed | slice
};

void PrintTo(const PubSubCase& c, std::ostream* os) {
  *os << c.policy << " " << c.mode << " " << c.payload;
}

class SoakPubSub : public ::testing::TestWithParam<PubSubCase> {};

TEST_P(SoakPubSub, EverySampleIntactInOrderAndOnlyAllowedGaps) {
  const auto& p = GetParam();
  const double seconds = soak_seconds();
  const auto name = unique_name("soak/pubsub");
  const std::vector<std::string> common = {name,   "--policy",  p.policy, "--mode",
                                           p.mode, "--payload", p.payload};
  auto rx_args = common;
  rx_args.insert(rx_args.begin(), "subscriber");
  auto tx_args = common;
  tx_args.insert(tx_args.begin(), "publisher");
  tx_args.insert(tx_args.end(), {"--seconds", std::to_string(seconds)});

  const auto run = run_pair(rx_args, tx_args, seconds);
  ASSERT_TRUE(run.ok);
  const auto& sub = run.receiver;
  const auto& pub = run.sender;
  const auto sent = u64(pub, "sent"), refused = u64(pub, "refused");
  const auto received = u64(sub, "received"), gaps = u64(sub, "gaps");

  EXPECT_EQ(u64(pub, "delivered") + refused, sent);
  EXPECT_EQ(u64(sub, "final_seq"), u64(pub, "final_seq")) << "the final sample was not the last";
  EXPECT_EQ(received + gaps, u64(sub, "final_seq") + 1);
  EXPECT_GE(received, floor_for(seconds)) << "too few samples: a stalled run";
  EXPECT_EQ(u64(pub, "chunks_in_use"), 0u) << "chunks not given back after the subscriber left";
  const std::string policy = p.policy;
  if (policy == "block") {
    EXPECT_EQ(refused, 0u) << "Block refused a live subscriber";
    EXPECT_EQ(gaps, 0u) << "Block lost samples";
  } else if (policy == "refuse") {
    EXPECT_EQ(gaps, refused) << "Refuse: every gap is a refused send, and only those";
  } else {
    EXPECT_EQ(refused, 0u) << "OverwriteOldest never refuses";
  }

  char line[512];
  std::snprintf(line, sizeof line,
                "pubsub %-9s %-7s %-5s sent=%llu received=%llu gaps=%llu (%.2f%%) in %s runs "
                "(max %s) refused=%llu publisher %s/s subscriber %s/s over %s s",
                p.policy, p.mode, p.payload, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(received), static_cast<unsigned long long>(gaps),
                sent > 0 ? 100.0 * static_cast<double>(gaps) / static_cast<double>(sent) : 0.0,
                str(sub, "gap_runs").c_str(), str(sub, "max_gap").c_str(),
                static_cast<unsigned long long>(refused), str(pub, "rate").c_str(),
                str(sub, "rate").c_str(), str(pub, "seconds").c_str());
  report(line);
  expect_nothing_left(name);
}

std::vector<PubSubCase> pubsub_cases() {
  std::vector<PubSubCase> cases;
  for (const char* policy : {"overwrite", "refuse", "block"}) {
    for (const char* mode : {"busy", "waitset"}) {
      for (const char* payload : {"fixed", "slice"}) cases.push_back({policy, mode, payload});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Policies, SoakPubSub, ::testing::ValuesIn(pubsub_cases()),
                         [](const ::testing::TestParamInfo<PubSubCase>& param_info) {
                           return std::string(param_info.param.policy) + "_" +
                                  param_info.param.mode + "_" + param_info.param.payload;
                         });

// ---------------------------------------------------------------- events

struct EventCase {
  const char* backend;  // eventfd | fifo
  const char* mode;     // busy | waitset
};

void PrintTo(const EventCase& c, std::ostream* os) { *os << c.backend << " " << c.mode; }

class SoakEvent : public ::testing::TestWithParam<EventCase> {};

TEST_P(SoakEvent, EveryIdsCountArrivesExactly) {
  const auto& p = GetParam();
  const double seconds = soak_seconds();
  const auto name = unique_name("soak/event");
  const auto run = run_pair(
      {"listener", name, "--backend", p.backend, "--mode", p.mode},
      {"notifier", name, "--backend", p.backend, "--seconds", std::to_string(seconds)}, seconds);
  ASSERT_TRUE(run.ok);
  const auto& listener = run.receiver;
  const auto& notifier = run.sender;
  for (int id = 0; id < 8; ++id) {
    const auto key = "id" + std::to_string(id);
    EXPECT_EQ(u64(listener, key), u64(notifier, key)) << "event id " << id;
  }
  EXPECT_EQ(u64(listener, "notifications"), u64(notifier, "notifications"));
  EXPECT_EQ(u64(listener, "done"), 1u);
  EXPECT_GE(u64(listener, "notifications"), floor_for(seconds)) << "a stalled run";
  report("event  " + std::string(p.backend) + " " + p.mode +
         ": notifications=" + str(notifier, "notifications") +
         " (exact per id) drains=" + str(listener, "drains") + " late=" + str(listener, "late") +
         " notifier " + str(notifier, "rate") + "/s over " + str(notifier, "seconds") + " s");
  expect_nothing_left(name);
}

INSTANTIATE_TEST_SUITE_P(Backends, SoakEvent,
                         ::testing::Values(EventCase{"eventfd", "busy"},
                                           EventCase{"eventfd", "waitset"},
                                           EventCase{"fifo", "busy"}, EventCase{"fifo", "waitset"}),
                         [](const ::testing::TestParamInfo<EventCase>& param_info) {
                           return std::string(param_info.param.backend) + "_" +
                                  param_info.param.mode;
                         });

// ---------------------------------------------------------------- request-response

class SoakRequestResponse : public ::testing::TestWithParam<const char*> {};

TEST_P(SoakRequestResponse, EveryResponseIntactInOrderAndOnlyAllowedGaps) {
  const std::string policy = GetParam();
  const double seconds = soak_seconds();
  const auto name = unique_name("soak/rr");
  const auto run = run_pair({"server", name, "--policy", policy},
                            {"client", name, "--policy", policy, "--seconds",
                             std::to_string(seconds)},
                            seconds);
  ASSERT_TRUE(run.ok);
  const auto& server = run.receiver;
  const auto& client = run.sender;
  const auto responses = u64(client, "responses"), gaps = u64(client, "gaps");
  const auto refused = u64(server, "refused");
  // The stop request is served too, and answered with nothing.
  EXPECT_EQ(u64(server, "requests"), u64(client, "requests") + 1);
  // Each response of each stream was sent or refused, and received or missing.
  EXPECT_EQ(u64(server, "responses") + refused, responses + gaps);
  EXPECT_GE(responses, floor_for(seconds)) << "too few responses: a stalled run";
  EXPECT_EQ(u64(server, "chunks_in_use"), 0u) << "chunks not given back after the client left";
  if (policy != "overwrite") {
    EXPECT_EQ(u64(server, "responses"), responses) << "a response sent was never received";
  }
  if (policy == "block") {
    EXPECT_EQ(refused, 0u) << "Block refused a live client";
    EXPECT_EQ(gaps, 0u) << "Block lost responses";
  } else if (policy == "refuse") {
    EXPECT_EQ(gaps, refused) << "Refuse: every gap is a refused send, and only those";
  } else {
    EXPECT_EQ(refused, 0u) << "OverwriteOldest never refuses";
  }
  report("rr     " + policy + ": requests=" + str(client, "requests") + " responses=" +
         str(client, "responses") + " gaps=" + str(client, "gaps") + " in " +
         str(client, "gap_streams") + " streams refused=" + str(server, "refused") +
         " busy=" + str(client, "busy") + " client " + str(client, "rate") +
         " responses/s over " + str(client, "seconds") + " s");
  expect_nothing_left(name);
}

INSTANTIATE_TEST_SUITE_P(Policies, SoakRequestResponse,
                         ::testing::Values("overwrite", "refuse", "block"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

// ---------------------------------------------------------------- SystemEvent

class SoakSystemEvent : public ::testing::TestWithParam<const char*> {};

TEST_P(SoakSystemEvent, EverySetIsSeenAndNoWaitTimesOut) {
  const double seconds = soak_seconds();
  const auto name = unique_name("soak/sysevent");
  const auto run = run_pair({"waiter", name, "--mode", GetParam()},
                            {"setter", name, "--seconds", std::to_string(seconds)}, seconds);
  for (const auto& suffix : {"", "/ack", "/free", "/done"}) {
    EXPECT_TRUE(SystemEvent::remove(name + suffix)) << name << suffix;
  }
  ASSERT_TRUE(run.ok);
  EXPECT_EQ(u64(run.receiver, "rounds"), u64(run.sender, "rounds"));
  EXPECT_GE(u64(run.sender, "rounds"), 100u) << "a stalled run";
  report("sysevent " + std::string(GetParam()) + ": lock-step rounds=" + str(run.sender, "rounds") +
         " (" + str(run.sender, "round_rate") + "/s) then toggles=" + str(run.sender, "toggles") +
         " with waits=" + str(run.receiver, "waits") + " none timed out, over " +
         str(run.sender, "seconds") + " s");
  expect_nothing_left(name);
}

INSTANTIATE_TEST_SUITE_P(Modes, SoakSystemEvent, ::testing::Values("wait", "waitset"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace axon::test
