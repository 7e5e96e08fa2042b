// Two gateways on two "machines" (network namespaces joined by a veth pair, each with its own
// axon prefix and root, netns.hpp), run as a user would: axon-gateway on each side, a publisher
// on one, a subscriber on the other (axon_test_gateway_peer: every sample checked whole). The
// link is cut and restored, gateways are SIGKILLed and restarted; delivery must resume each time.
// Services with a user header: every header checked against its payload on the far side, the
// imported service created with the remote header type, an import over another header refused.
// Request-response likewise: a client on one side, a server on the other (the peer's `request`
// and `serve`), every response of every stream checked, and the ends of streams when a gateway
// or the client is killed.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "axon_test.hpp"
#include "netns.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;
using axon::test::Side;

constexpr auto kPatience = 60s;

/// Reads `process`'s output until a line that starts at or after `from` satisfies `wanted`;
/// returns it (and moves `from` past it), or nullopt after `timeout`.
std::optional<std::string> next_line(ChildProcess& process, std::size_t& from,
                                     const std::function<bool(const std::string&)>& wanted,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto& out = process.output();
    for (auto end = out.find('\n', from); end != std::string::npos; end = out.find('\n', from)) {
      std::string line = out.substr(from, end - from);
      from = end + 1;
      if (wanted(line)) return line;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    (void)process.read_until("\x01never\x01", 50ms);
  }
}

std::function<bool(const std::string&)> starts_with(std::string prefix) {
  return [prefix = std::move(prefix)](const std::string& line) { return line.starts_with(prefix); };
}

/// The sequence of a "got SEQ SIZE" line.
std::optional<std::uint64_t> got_sequence(const std::string& line) {
  if (!line.starts_with("got ")) return std::nullopt;
  return std::stoull(line.substr(4));
}

class GatewayNetns : public axon::test::NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    service = axon::test::unique_name("gw") + "/samples";
    go_file = axon::test::root() + "/go-" + axon::test::unique_name("f");
  }

  /// axon-gateway on `side`, verbose, on the side's veth; waits for its "ready" line.
  ChildProcess gateway(Side side, const std::vector<std::string>& flags) {
    std::vector<std::string> argv{bin("axon-gateway"), "--interface", pair->side(side).interface,
                                  "--domain", "3", "-v"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto process = pair->run(side, argv);
    const auto out = process.read_until(": ready", 20s);
    EXPECT_NE(out.find(": ready"), std::string::npos) << out;
    return process;
  }

  ChildProcess peer(Side side, std::vector<std::string> args) {
    args.insert(args.begin(), bin("axon_test_gateway_peer"));
    return pair->run(side, args);
  }

  /// Ends `process` with SIGTERM and returns everything it printed.
  static std::string finish(ChildProcess& process) {
    process.kill(SIGTERM);
    auto status = process.wait_for(20s);
    EXPECT_TRUE(status && status->success())
        << (status ? (status->exited ? "exit " : "signal ") + std::to_string(status->code)
                   : std::string("still running"))
        << "\n" << process.read_all(1s);
    return process.read_all(1s);
  }

  void go() {
    std::ofstream(go_file) << "go\n";
  }

  /// A stream of samples (up to 64 KiB, every 10 ms, OverwriteOldest) from a publisher on a to a
  /// subscriber on b, through an exporting gateway on a and an importing one on b; returns once
  /// the first sample arrived.
  struct Stream {
    ChildProcess exporter, importer, subscriber, publisher;
    std::size_t seen = 0;  ///< the subscriber's output read so far
  };
  Stream start_stream() {
    auto exporter = gateway(Side::A, {"--export", service});
    auto importer = gateway(Side::B, {"--import", service});
    auto subscriber = peer(Side::B, {"subscribe", service, "--count", "100000000", "--gaps",
                                     "--max-size", "65536", "--overwrite"});
    EXPECT_NE(subscriber.read_until("ready", 20s).find("ready"), std::string::npos);
    auto publisher = peer(Side::A, {"publish", service, "--count", "0", "--interval-us",
                                    "10000", "--max-size", "65536", "--overwrite"});
    Stream stream{std::move(exporter), std::move(importer), std::move(subscriber),
                  std::move(publisher)};
    EXPECT_TRUE(next_line(stream.subscriber, stream.seen, starts_with("got "), kPatience))
        << stream.importer.output();
    return stream;
  }

  /// A sample newer than every one printed so far reaches the subscriber.
  static void expect_delivery_resumes(Stream& stream, const std::string& after_what) {
    std::uint64_t before = 0;
    while (auto line = next_line(stream.subscriber, stream.seen, starts_with("got "), 0ms)) {
      before = std::max(before, *got_sequence(*line));
    }
    const auto after = next_line(
        stream.subscriber, stream.seen,
        [&](const std::string& line) { return got_sequence(line) > before; }, kPatience);
    EXPECT_TRUE(after) << "nothing after " << before << " once " << after_what
                       << "\n--- exporter\n" << stream.exporter.output() << "\n--- importer\n"
                       << stream.importer.output();
  }

  void finish_stream(Stream& stream) {
    for (auto* process : {&stream.subscriber, &stream.publisher, &stream.exporter,
                          &stream.importer}) {
      (void)finish(*process);
    }
  }

  /// Nothing of axon is left on either side once every process there has ended.
  void expect_nothing_left() {
    for (const auto side : {Side::A, Side::B}) {
      EXPECT_TRUE(axon::test::eventually([&] { return pair->pids(side).empty(); }));
      EXPECT_TRUE(axon::test::eventually([&] { return pair->shm_objects(side).empty(); }))
          << "left on side " << (side == Side::A ? "a" : "b") << ": "
          << testing::PrintToString(pair->shm_objects(side));
    }
  }

  std::string service;
  std::string go_file;
};

// 8 B to 4 MiB, every sample in order and intact, under the Block policy end to end.
TEST_F(GatewayNetns, EverySampleCrossesInOrderAndIntactFrom8BTo4MiB) {
  constexpr int kCount = 120;
  auto exporter = gateway(Side::A, {"--export", service});
  auto importer = gateway(Side::B, {"--import", service});
  auto subscriber = peer(Side::B, {"subscribe", service, "--count", std::to_string(kCount)});
  ASSERT_NE(subscriber.read_until("ready", 20s).find("ready"), std::string::npos);
  auto publisher = peer(Side::A, {"publish", service, "--count", std::to_string(kCount),
                                  "--interval-us", "2000", "--go-file", go_file});
  // Samples written before the far reader matched are not carried (VOLATILE): start after.
  std::size_t from = 0;
  ASSERT_TRUE(next_line(exporter, from, starts_with("axon-gateway: " + service + ": 1 remote reader"), kPatience))
      << exporter.output();
  go();
  const auto out = subscriber.read_until("intact", kPatience);
  EXPECT_NE(out.find("received " + std::to_string(kCount) + " intact"), std::string::npos)
      << out.substr(out.size() > 2000 ? out.size() - 2000 : 0) << "\n--- exporter\n"
      << exporter.output() << "\n--- importer\n" << importer.output() << "\n--- publisher\n"
      << publisher.read_all(100ms);
  EXPECT_NE(out.find(" 4194304\n"), std::string::npos);  // 4 MiB samples did cross
  ASSERT_TRUE(subscriber.wait_for(20s));
  (void)finish(publisher);
  const auto a = finish(exporter);
  const auto b = finish(importer);
  EXPECT_NE(a.find("exit exported=" + std::to_string(kCount) + " imported=0 write_failures=0"),
            std::string::npos) << a;
  EXPECT_NE(b.find("exit exported=0 imported=" + std::to_string(kCount)), std::string::npos) << b;
  expect_nothing_left();
}

// Events: every notification of every id counted exactly on the far side, none twice. The
// importing side also exports the service (both sides run --all), so a notification it makes
// must not come back: its own notifier's counts are taken off what its listener sees.
TEST_F(GatewayNetns, EventsAreCountedExactlyAndNeverComeBack) {
  constexpr int kCount = 1000;
  auto a = gateway(Side::A, {"--all"});
  auto b = gateway(Side::B, {"--all"});
  auto listener = peer(Side::B, {"listen", service, "--count", std::to_string(kCount)});
  ASSERT_NE(listener.read_until("ready", 20s).find("ready"), std::string::npos);
  auto notifier = peer(Side::A, {"notify", service, "--count", std::to_string(kCount),
                                 "--go-file", go_file});
  // A notifier of its own on b (it sends nothing) makes b export the service too.
  auto quiet = peer(Side::B, {"notify", service, "--count", "0"});
  for (const auto& line : {"axon-gateway: importing " + service, "axon-gateway: exporting " + service}) {
    std::size_t from = 0;
    ASSERT_TRUE(next_line(b, from, starts_with(line), kPatience)) << b.output();
  }
  std::size_t from = 0;
  ASSERT_TRUE(next_line(a, from, starts_with("axon-gateway: importing " + service), kPatience))
      << a.output();
  go();
  // 1000 notifications over ids 0..7: 125 each.
  const auto out = listener.read_until("counted", kPatience);
  EXPECT_NE(out.find("counted 1000: 125 125 125 125 125 125 125 125"), std::string::npos)
      << out << "\n--- a\n" << a.output() << "\n--- b\n" << b.read_all(100ms);
  ASSERT_TRUE(listener.wait_for(10s));
  (void)notifier.read_until("notified", 10s);
  (void)finish(notifier);
  (void)finish(quiet);
  // Nothing went back: a exported 1000 and imported none, b the other way round.
  const auto a_out = finish(a);
  const auto b_out = finish(b);
  EXPECT_NE(a_out.find("events_exported=1000 events_imported=0"), std::string::npos) << a_out;
  EXPECT_NE(b_out.find("events_exported=0 events_imported=1000"), std::string::npos) << b_out;
  expect_nothing_left();
}

// The link goes down for longer than the announcement lease and comes back: the importing side
// drops the service's publisher, then recreates it, and samples flow again.
TEST_F(GatewayNetns, DeliveryResumesAfterTheLinkIsCutAndRestored) {
  auto stream = start_stream();
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(pair->link_down());
  std::size_t logged = 0;
  ASSERT_TRUE(next_line(stream.importer, logged,
                        starts_with("axon-gateway: no longer importing"), 20s))
      << stream.importer.output();
  ASSERT_TRUE(pair->link_up());
  // Everything printed so far is from before the cut was noticed: a newer sample must come.
  expect_delivery_resumes(stream, "the link was restored");
  EXPECT_NE(stream.importer.output().find("importing " + service), std::string::npos);
  finish_stream(stream);
  expect_nothing_left();
}

// SIGKILL, then restart, of each gateway in turn; the applications keep running throughout.
TEST_F(GatewayNetns, KilledGatewaysAreRestartedAndDeliveryResumes) {
  auto stream = start_stream();
  ASSERT_FALSE(HasFailure());
  for (const auto side : {Side::A, Side::B}) {
    auto& victim = side == Side::A ? stream.exporter : stream.importer;
    victim.kill(SIGKILL);
    ASSERT_TRUE(victim.wait_for(10s));
    if (side == Side::A) {
      // The importer notices within the announcement lease and drops the remote publisher.
      std::size_t logged = 0;
      ASSERT_TRUE(next_line(stream.importer, logged,
                            starts_with("axon-gateway: no longer importing"), 20s))
          << stream.importer.output();
      // Its service lost the remote publisher: only the local subscriber holds it now.
      const auto listed = pair->run_to_end(Side::B, {bin("axon"), "service", "list"});
      EXPECT_NE(listed.output.find(service + " nodes=1 publishers=0 subscribers=1"),
                std::string::npos) << listed.output;
    }
    victim = gateway(side, {side == Side::A ? "--export" : "--import", service});
    expect_delivery_resumes(stream, std::string("gateway ") + (side == Side::A ? "a" : "b") +
                                        " restarted");
  }
  finish_stream(stream);
  // The killed gateways' leftovers are reclaimed by the cleaner, as any dead node's.
  for (const auto side : {Side::A, Side::B}) {
    const auto clean = pair->run_to_end(side, {bin("axon"), "clean"});
    EXPECT_EQ(clean.status.code, 0) << clean.output;
  }
  expect_nothing_left();
}

// ---- user headers

constexpr const char* kHeader = "axon_test::GatewayHeader";

// A service with a user header: 2000 samples of 8 B and 64 KiB, each with a header that holds
// its sequence, size and payload checksum; the subscriber checks every header against the
// payload it came with, in order, under Block end to end (nothing may be lost).
TEST_F(GatewayNetns, UserHeadersCrossWithTheirPayloadsInOrder) {
  constexpr int kCount = 2000;
  const std::vector<std::string> with_header{"--header", kHeader, "--sizes", "8,65536"};
  auto exporter = gateway(Side::A, {"--export", service});
  auto importer = gateway(Side::B, {"--import", service});
  std::vector<std::string> args{"subscribe", service, "--count", std::to_string(kCount)};
  args.insert(args.end(), with_header.begin(), with_header.end());
  auto subscriber = peer(Side::B, args);
  ASSERT_NE(subscriber.read_until("ready", 20s).find("ready"), std::string::npos)
      << subscriber.output();
  args = {"publish", service, "--count", std::to_string(kCount), "--go-file", go_file};
  args.insert(args.end(), with_header.begin(), with_header.end());
  auto publisher = peer(Side::A, args);
  std::size_t from = 0;
  ASSERT_TRUE(next_line(exporter, from,
                        starts_with("axon-gateway: " + service + ": 1 remote reader"), kPatience))
      << exporter.output();
  // Both gateways opened it with its header (the importer's is the subscriber's service).
  EXPECT_NE(exporter.output().find("exporting " + service + " (axon_test::GatewayBytes with user "
                                   "header " + kHeader + ")"),
            std::string::npos) << exporter.output();
  from = 0;
  EXPECT_TRUE(next_line(importer, from,
                        starts_with("axon-gateway: importing " + service +
                                    " (axon_test::GatewayBytes with user header " + kHeader + ")"),
                        kPatience))
      << importer.output();
  go();
  const auto out = subscriber.read_until("intact", kPatience);
  EXPECT_NE(out.find("received " + std::to_string(kCount) + " intact with headers"),
            std::string::npos)
      << out.substr(out.size() > 2000 ? out.size() - 2000 : 0) << "\n--- exporter\n"
      << exporter.output() << "\n--- importer\n" << importer.output() << "\n--- publisher\n"
      << publisher.read_all(100ms);
  EXPECT_NE(out.find(" 65536\n"), std::string::npos);
  ASSERT_TRUE(subscriber.wait_for(20s));
  (void)finish(publisher);
  const auto a = finish(exporter);
  const auto b = finish(importer);
  EXPECT_NE(a.find("exit exported=" + std::to_string(kCount) + " imported=0 write_failures=0"),
            std::string::npos) << a;
  EXPECT_NE(b.find("exit exported=0 imported=" + std::to_string(kCount) +
                   " write_failures=0 publish_failures=0"),
            std::string::npos) << b;
  expect_nothing_left();
}

// The announcement carries the user header type: the importing gateway creates the service
// with it, so a local subscriber that asks for that header opens it (IncompatibleTypes
// otherwise) and reads the headers the publisher on the far side wrote.
TEST_F(GatewayNetns, AnImportedServiceIsCreatedWithTheRemoteUserHeader) {
  auto exporter = gateway(Side::A, {"--export", service});
  auto importer = gateway(Side::B, {"--import", service});
  auto publisher = peer(Side::A, {"publish", service, "--count", "0", "--interval-us", "10000",
                                  "--sizes", "8,1000", "--header", kHeader, "--overwrite"});
  std::size_t from = 0;
  ASSERT_TRUE(next_line(importer, from, starts_with("axon-gateway: importing " + service),
                        kPatience))
      << importer.output() << "\n--- exporter\n" << exporter.output();
  // Created by the gateway (OverwriteOldest, as every imported service), opened here.
  auto subscriber = peer(Side::B, {"subscribe", service, "--count", "20", "--gaps", "--sizes",
                                   "8,1000", "--header", kHeader, "--overwrite"});
  const auto out = subscriber.read_until("intact", kPatience);
  EXPECT_NE(out.find("received 20 intact with headers"), std::string::npos)
      << out << "\n--- exporter\n" << exporter.output() << "\n--- importer\n"
      << importer.output();
  ASSERT_TRUE(subscriber.wait_for(20s));
  for (auto* process : {&publisher, &exporter, &importer}) (void)finish(*process);
  expect_nothing_left();
}

// The importing side already has the service with another user header type: the import is
// refused with one log line naming the remote types and the error (not repeated when the
// announcement comes again every second), and nothing else happens: the gateways run on,
// nothing is published into the local service, and both end cleanly.
TEST_F(GatewayNetns, AnImportOverAServiceWithAnotherUserHeaderIsRefusedOnce) {
  auto subscriber = peer(Side::B, {"subscribe", service, "--count", "1", "--timeout-s", "120",
                                   "--header", "axon_test::OtherHeader"});
  ASSERT_NE(subscriber.read_until("ready", 20s).find("ready"), std::string::npos)
      << subscriber.output();
  auto exporter = gateway(Side::A, {"--export", service});
  auto importer = gateway(Side::B, {"--import", service});
  auto publisher = peer(Side::A, {"publish", service, "--count", "0", "--interval-us", "10000",
                                  "--sizes", "8", "--header", kHeader});
  const std::string refused = "axon-gateway: cannot import " + service +
                              " (axon_test::GatewayBytes with user header " + kHeader +
                              "): IncompatibleTypes";
  std::size_t from = 0;
  ASSERT_TRUE(next_line(importer, from, starts_with(refused), kPatience))
      << importer.output() << "\n--- exporter\n" << exporter.output();
  // The exporter announces again every second: two more announcements, no second line.
  EXPECT_FALSE(next_line(importer, from, starts_with("axon-gateway: cannot import"), 2500ms))
      << importer.output();
  EXPECT_TRUE(axon::test::process_alive(exporter.pid()));
  EXPECT_TRUE(axon::test::process_alive(importer.pid()));
  // The local service is untouched: its subscriber, and no publisher of the gateway's.
  const auto listed = pair->run_to_end(Side::B, {bin("axon"), "service", "list"});
  EXPECT_NE(listed.output.find(service + " nodes=1 publishers=0 subscribers=1"),
            std::string::npos) << listed.output;
  const auto got = subscriber.read_until("\x01never\x01", 100ms);
  EXPECT_EQ(got.find("got "), std::string::npos) << got;
  for (auto* process : {&publisher, &subscriber, &exporter}) (void)finish(*process);
  const auto b = finish(importer);
  EXPECT_NE(b.find("exit exported=0 imported=0"), std::string::npos) << b;
  expect_nothing_left();
}

// ---- request-response

class GatewayRrNetns : public GatewayNetns {
 protected:
  /// A server on b (its gateway exports), a client on a (its gateway imports).
  struct Rr {
    ChildProcess exporter, importer, server, client;
    std::size_t seen = 0;  ///< the client's output read so far
  };
  Rr start_rr(const std::vector<std::string>& serve, const std::vector<std::string>& request) {
    auto server = peer(Side::B, serve);
    EXPECT_NE(server.read_until("ready", 20s).find("ready"), std::string::npos) << server.output();
    auto exporter = gateway(Side::B, {"--export", service});
    auto importer = gateway(Side::A, {"--import", service});
    auto client = peer(Side::A, request);
    return Rr{std::move(exporter), std::move(importer), std::move(server), std::move(client)};
  }
  std::string outputs(Rr& rr) {
    for (auto* process : {&rr.client, &rr.server, &rr.exporter, &rr.importer}) {
      (void)process->read_until("\x01never\x01", 100ms);
    }
    return "\n--- client\n" + tail(rr.client.output()) + "\n--- server\n" +
           tail(rr.server.output()) + "\n--- exporter (b)\n" + rr.exporter.output() +
           "\n--- importer (a)\n" + rr.importer.output();
  }
  static std::string tail(const std::string& text) {
    return text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
  }
};

// Every response of every request crosses back intact and in order (8 B to 1 MiB), and every
// stream ends after exactly its responses.
TEST_F(GatewayRrNetns, EveryResponseOfEveryRequestArrivesIntactAndEveryStreamEnds) {
  constexpr int kRequests = 6;
  constexpr int kResponses = 12;
  auto rr = start_rr({"serve", service, "--responses", std::to_string(kResponses)},
                     {"request", service, "--count", std::to_string(kRequests), "--responses",
                      std::to_string(kResponses)});
  ASSERT_FALSE(HasFailure());
  const auto out = rr.client.read_until("intact", kPatience);
  EXPECT_NE(out.find("completed " + std::to_string(kRequests) + " intact"), std::string::npos)
      << outputs(rr);
  EXPECT_NE(out.find(" 1048576\n"), std::string::npos);  // 1 MiB responses did cross
  ASSERT_TRUE(rr.client.wait_for(20s));
  (void)finish(rr.server);
  const auto b = finish(rr.exporter);
  const auto a = finish(rr.importer);
  const auto total = std::to_string(kRequests * kResponses);
  EXPECT_NE(b.find("requests_out=0 requests_in=" + std::to_string(kRequests) +
                   " responses_out=" + total + " responses_in=0 rr_dropped=0"),
            std::string::npos) << b;
  EXPECT_NE(a.find("requests_out=" + std::to_string(kRequests) +
                   " requests_in=0 responses_out=0 responses_in=" + total + " rr_dropped=0"),
            std::string::npos) << a;
  expect_nothing_left();
}

// The exporting gateway is SIGKILLed in the middle of a stream: the client's stream ends (it does
// not wait forever), and once the gateway is restarted whole streams cross again.
TEST_F(GatewayRrNetns, AKilledExporterEndsTheStreamAndARestartedOneServesAgain) {
  constexpr int kResponses = 50;  // 20 ms apart: a second per stream
  auto rr = start_rr({"serve", service, "--responses", std::to_string(kResponses),
                      "--interval-us", "20000"},
                     {"request", service, "--count", "0", "--responses",
                      std::to_string(kResponses), "--allow-short"});
  ASSERT_FALSE(HasFailure());
  // Mid-stream: its third response arrived, 47 are to come.
  ASSERT_TRUE(next_line(rr.client, rr.seen, [](const std::string& line) {
    return line.starts_with("got ") && line.find(" 2 ") != std::string::npos;
  }, kPatience)) << outputs(rr);
  rr.exporter.kill(SIGKILL);
  ASSERT_TRUE(rr.exporter.wait_for(10s));
  // Within the announcement lease (1.5 s), not DDS's own participant lease (10 s).
  const auto cut = next_line(rr.client, rr.seen, starts_with("short "), 6s);
  ASSERT_TRUE(cut) << outputs(rr);
  // The server saw the dead gateway's client stop listening.
  EXPECT_NE(rr.server.read_until("cancelled", 10s).find("cancelled"), std::string::npos)
      << outputs(rr);
  rr.exporter = gateway(Side::B, {"--export", service});
  EXPECT_TRUE(next_line(rr.client, rr.seen, starts_with("complete "), kPatience)) << outputs(rr);
  for (auto* process : {&rr.client, &rr.server, &rr.exporter, &rr.importer}) (void)finish(*process);
  const auto clean = pair->run_to_end(Side::B, {bin("axon"), "clean"});
  EXPECT_EQ(clean.status.code, 0) << clean.output;
  expect_nothing_left();
}

// The client is SIGKILLed in the middle of a stream: the cancel crosses, and the server on the
// far side sees is_connected() turn false and ends the stream.
TEST_F(GatewayRrNetns, AKilledClientIsSeenByTheRemoteServer) {
  constexpr int kResponses = 1000;  // 10 ms apart: 10 s, far longer than the test waits
  auto rr = start_rr({"serve", service, "--responses", std::to_string(kResponses),
                      "--interval-us", "10000"},
                     {"request", service, "--count", "1", "--responses",
                      std::to_string(kResponses)});
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(next_line(rr.client, rr.seen, starts_with("got 0 3 "), kPatience)) << outputs(rr);
  rr.client.kill(SIGKILL);
  ASSERT_TRUE(rr.client.wait_for(10s));
  std::size_t from = 0;
  const auto cancelled = next_line(rr.server, from, starts_with("cancelled 0 after "), 5s);
  ASSERT_TRUE(cancelled) << outputs(rr);
  for (auto* process : {&rr.server, &rr.exporter, &rr.importer}) (void)finish(*process);
  const auto clean = pair->run_to_end(Side::A, {bin("axon"), "clean"});
  EXPECT_EQ(clean.status.code, 0) << clean.output;
  expect_nothing_left();
}

}  // namespace
