// Request-response across real processes: this process is the client (or the server) and
// helpers/rr_peer.cpp the other side. Streams arrive whole and in order with their checksums,
// several requests are in flight at once, a server killed mid-stream ends its stream with
// ServerGone within the liveness probe's bound, a client killed holding responses costs the
// server no chunk, and both sides can sleep in a WaitSet instead of polling.
// In one process: tests/unit/services/request_response_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <list>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "axon_test.hpp"
#include "helpers/rr_common.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace axon::rr_test;
using namespace std::chrono_literals;
using test::ChildProcess;
using Clock = std::chrono::steady_clock;

/// Bound of every readiness wait and reap: a watchdog, never a verdict.
constexpr auto kWatchdog = 20s;

ChildProcess spawn_peer(const std::string& role, const ServiceName& name,
                        const std::vector<std::string>& keys = {}) {
  std::vector<std::string> args{role, std::string(name.as_string())};
  args.insert(args.end(), keys.begin(), keys.end());
  return ChildProcess::spawn(test::bin("axon_test_rr_peer"), args, true);
}

/// Waits for the peer's "ready <what>=ID" line and returns ID (0 when it never came).
std::uint64_t await_ready(ChildProcess& peer, const std::string& what) {
  const auto out = peer.read_until("\n", kWatchdog);
  std::smatch m;
  const std::regex line("ready " + what + "=(\\d+)\n");
  if (!std::regex_search(out, m, line)) {
    ADD_FAILURE() << "the peer never got ready; it printed: " << out;
    return 0;
  }
  return std::stoull(m[1].str());
}

/// What a server peer printed when it left: "served R max_concurrent M wakes W chunks_in_use C".
struct Served {
  std::uint64_t served = 0, max_concurrent = 0, wakes = 0, chunks_in_use = ~0ULL;
};

std::optional<Served> finish_server(ChildProcess& peer) {
  const auto status = peer.wait_for(kWatchdog);
  const auto out = peer.read_all(5s);
  if (!status || !status->success()) {
    ADD_FAILURE() << "the server peer ended with " << (status ? status->code : -1) << ": " << out;
    return std::nullopt;
  }
  std::smatch m;
  static const std::regex line(
      R"(served (\d+) max_concurrent (\d+) wakes (\d+) chunks_in_use (\d+))");
  if (!std::regex_search(out, m, line)) {
    ADD_FAILURE() << "the server peer printed: " << out;
    return std::nullopt;
  }
  return Served{std::stoull(m[1].str()), std::stoull(m[2].str()), std::stoull(m[3].str()),
                std::stoull(m[4].str())};
}

bool segment_exists(const ServiceName& name, std::uint64_t port_id) {
  const auto object = detail::Paths::port_segment(
      Config::from_environment(), detail::Paths::service_hash(name.as_string()), port_id);
  for (const auto& o : test::shm_objects()) {
    if (object.ends_with(o)) return true;
  }
  return false;
}


/// One request in flight on the client's side.
struct InFlight {
  PendingResponse<Request, Reply> pending;
  std::uint64_t value;
  std::uint64_t next_step = 0;
};

/// Checks one response of `f` against what is due; counts what fails in `bad`.
void check_response(InFlight& f, const Response<Reply>& response, std::uint64_t& bad) {
  const Reply got = response.payload();  // copy once, then check the copy
  const bool ok = got.value == f.value && got.step == f.next_step &&
                  response.sequence() == f.next_step &&
                  got.check == reply_check(got.value, got.step);
  if (!ok && bad++ < 5) {
    ADD_FAILURE() << "request " << f.value << ": got value " << got.value << " step " << got.step
                  << " sequence " << response.sequence() << " where step " << f.next_step
                  << " was due"
                  << (got.check != reply_check(got.value, got.step) ? ", bad check" : "");
  }
  ++f.next_step;
}

/// Sends `count` requests with at most `window` in flight and reads every stream to its end:
/// `steps` responses each, in order, checksums intact. Returns the streams completed whole.
std::uint64_t request_all(Client<Request, Reply>& client, std::uint64_t count, std::size_t window,
                          std::uint64_t steps, std::uint64_t& bad) {
  std::list<InFlight> in_flight;
  std::uint64_t sent = 0;
  std::uint64_t whole = 0;
  std::uint64_t done = 0;
  const auto deadline = Clock::now() + 60s;
  while (done < count && Clock::now() < deadline) {
    while (in_flight.size() < window && sent < count) {
      const std::uint64_t value = 7919 * sent + 13;
      auto pending = client.send_copy(make_request(value));
      if (!pending) {
        ADD_FAILURE() << "send " << sent << ": " << to_string(pending.error());
        return whole;
      }
      in_flight.push_back(InFlight{std::move(*pending), value});
      ++sent;
    }
    bool progress = false;
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      auto response = it->pending.receive();
      if (!response) {
        ADD_FAILURE() << "request " << it->value << ": " << to_string(response.error());
        return whole;
      }
      if (*response) {
        check_response(*it, **response, bad);
        progress = true;
      }
      if (it->pending.is_done()) {
        whole += it->next_step == steps ? 1 : 0;
        if (it->next_step != steps && bad++ < 5) {
          ADD_FAILURE() << "request " << it->value << " done after " << it->next_step << " of "
                        << steps << " responses";
        }
        it = in_flight.erase(it);
        ++done;
      } else {
        ++it;
      }
    }
    if (!progress) std::this_thread::yield();
  }
  EXPECT_EQ(done, count) << "streams still open at the deadline: " << in_flight.size();
  return whole;
}

class RequestResponseMultiProcess : public ::testing::Test {
 protected:
  Node node = test::make_node("rr-test");
  ServiceName name = test::service_name("rr_mp");
};

TEST_F(RequestResponseMultiProcess, TwoThousandRequestsEachGetTheirWholeStreamInOrder) {
  constexpr std::uint64_t kRequests = 2000;
  constexpr std::uint64_t kSteps = 8;
  auto service = rr_test::service(node, name).create();
  ASSERT_TRUE(service);
  auto server = spawn_peer(
      "server", name, {"steps=" + std::to_string(kSteps), "requests=" + std::to_string(kRequests)});
  ASSERT_NE(await_ready(server, "server_id"), 0u);
  {
    auto client = service->client_builder().create();
    ASSERT_TRUE(client);
    ASSERT_TRUE(test::eventually([&] { return client->number_of_servers() == 1; }));
    std::uint64_t bad = 0;
    const auto start = Clock::now();
    const auto whole = request_all(*client, kRequests, kActiveRequests, kSteps, bad);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    EXPECT_EQ(whole, kRequests);
    EXPECT_EQ(bad, 0u);
    std::printf("%llu requests x %llu responses in %lld ms\n",
                static_cast<unsigned long long>(kRequests), static_cast<unsigned long long>(kSteps),
                static_cast<long long>(took.count()));
  }  // the client leaves: the server may go
  const auto served = finish_server(server);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->served, kRequests);
  EXPECT_EQ(served->chunks_in_use, 0u) << "every response came back to the server";
}

TEST_F(RequestResponseMultiProcess, SeveralRequestsInFlightAtOnceAreAnsweredInterleaved) {
  constexpr std::uint64_t kRequests = 400;
  constexpr std::uint64_t kSteps = 6;
  auto service = rr_test::service(node, name).create();
  ASSERT_TRUE(service);
  // The server holds kActiveRequests requests before it answers any, then answers them in turn:
  // the streams interleave, and the client must have had them all in flight.
  auto server =
      spawn_peer("server", name,
                 {"steps=" + std::to_string(kSteps), "requests=" + std::to_string(kRequests),
                  "gather=" + std::to_string(kActiveRequests)});
  ASSERT_NE(await_ready(server, "server_id"), 0u);
  {
    auto client = service->client_builder().create();
    ASSERT_TRUE(client);
    ASSERT_TRUE(test::eventually([&] { return client->number_of_servers() == 1; }));
    std::uint64_t bad = 0;
    EXPECT_EQ(request_all(*client, kRequests, kActiveRequests, kSteps, bad), kRequests);
    EXPECT_EQ(bad, 0u);
    // A fifth request while four are in flight is refused, not queued.
    std::vector<PendingResponse<Request, Reply>> four;
    for (std::uint32_t i = 0; i < kActiveRequests; ++i) {
      auto p = client->send_copy(make_request(i));
      ASSERT_TRUE(p) << to_string(p.error());
      four.push_back(std::move(*p));
    }
    auto fifth = client->send_copy(make_request(99));
    ASSERT_FALSE(fifth);
    EXPECT_EQ(fifth.error(), RequestSendError::ExceedsMaxActiveRequests);
  }  // the four are dropped unread (cancelled) with the client
  const auto served = finish_server(server);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->max_concurrent, kActiveRequests);
  EXPECT_EQ(served->chunks_in_use, 0u);
}

TEST_F(RequestResponseMultiProcess, ServerKilledMidStreamEndsItWithServerGoneWithinASecond) {
  constexpr int kRounds = 5;
  constexpr std::uint64_t kBefore = 3;  // responses sent before the kill, all delivered
  auto service = rr_test::service(node, name).create();
  ASSERT_TRUE(service);
  std::optional<Client<Request, Reply>> client;
  if (auto c = service->client_builder().create()) client.emplace(std::move(*c));
  ASSERT_TRUE(client);
  std::vector<long long> took_ms;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    auto server = spawn_peer("server", name, {"steps=100", "stall=" + std::to_string(kBefore)});
    const auto server_id = await_ready(server, "server_id");
    ASSERT_NE(server_id, 0u);
    ASSERT_TRUE(test::eventually([&] { return client->number_of_servers() == 1; }));
    auto pending = client->send_copy(make_request(round));
    ASSERT_TRUE(pending) << to_string(pending.error());
    ASSERT_NE(server.read_until("stalled\n", kWatchdog).find("stalled\n"), std::string::npos)
        << server.output();
    EXPECT_FALSE(pending->is_done());

    server.kill(SIGKILL);
    const auto killed = Clock::now();
    ASSERT_TRUE(server.wait_for(kWatchdog));
    InFlight f{std::move(*pending), static_cast<std::uint64_t>(round)};
    std::uint64_t bad = 0;
    std::optional<ResponseReceiveError> error;
    while (!error && Clock::now() < killed + 5s) {
      auto response = f.pending.receive();
      if (!response) {
        error = response.error();
      } else if (*response) {
        check_response(f, **response, bad);
      } else {
        std::this_thread::yield();
      }
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed);
    took_ms.push_back(took.count());
    ASSERT_TRUE(error) << "no error 5 s after the kill";
    EXPECT_EQ(*error, ResponseReceiveError::ServerGone);
    // A liveness bound (the probe runs every 100 ms), not a performance figure.
    EXPECT_LT(took, 1500ms);
    EXPECT_EQ(f.next_step, kBefore) << "every response sent before the kill arrives first";
    EXPECT_EQ(bad, 0u);
    EXPECT_TRUE(f.pending.is_done());
    EXPECT_EQ(f.pending.number_of_server_connections(), 0u);
    auto after = f.pending.receive();
    ASSERT_TRUE(after) << "ServerGone is reported once";
    EXPECT_FALSE(*after);

    // The dead server's slot and segment go with the cleanup.
    const auto report = Node::cleanup_dead_nodes();
    EXPECT_EQ(report.dead_nodes.size(), 1u);
    EXPECT_FALSE(segment_exists(name, server_id));
    EXPECT_EQ(service->number_of_servers(), 0u);
  }
  // The client lives on: a new server answers it whole.
  auto server = spawn_peer("server", name, {"steps=3", "requests=1"});
  ASSERT_NE(await_ready(server, "server_id"), 0u);
  ASSERT_TRUE(test::eventually([&] { return client->number_of_servers() == 1; }));
  std::uint64_t bad = 0;
  EXPECT_EQ(request_all(*client, 1, 1, 3, bad), 1u);
  EXPECT_EQ(bad, 0u);
  client.reset();
  ASSERT_TRUE(finish_server(server));
  std::string figures;
  for (const auto ms : took_ms) figures += " " + std::to_string(ms);
  std::printf("ServerGone after the kill, ms:%s\n", figures.c_str());
}

TEST_F(RequestResponseMultiProcess, ClientKilledHoldingResponsesGivesTheServerEveryChunkBack) {
  constexpr int kRounds = 3;
  constexpr std::uint64_t kSteps = 4;  // per request: 2 borrowed, 2 queued when it dies
  auto service = rr_test::service(node, name).create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().create();
  ASSERT_TRUE(server);
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    auto client = spawn_peer("client-hold", name);
    std::vector<ActiveRequest<Request, Reply>> active;
    ASSERT_TRUE(test::eventually([&] {
      auto request = server->receive();
      EXPECT_TRUE(request);
      if (request && *request) active.push_back(std::move(**request));
      return active.size() == kActiveRequests;
    })) << client.read_all(1s);
    for (auto& request : active) {
      const auto value = request.payload().value;
      for (std::uint64_t step = 0; step < kSteps; ++step) {
        auto sent = request.send_copy(make_reply(value, step));
        ASSERT_TRUE(sent) << to_string(sent.error());
      }
    }
    EXPECT_EQ(server->chunks_in_use(), kActiveRequests * kSteps);
    const auto client_id = await_ready(client, "client_id");
    ASSERT_NE(client_id, 0u);
    EXPECT_TRUE(segment_exists(name, client_id));

    client.kill(SIGKILL);
    ASSERT_TRUE(client.wait_for(kWatchdog));
    // The liveness probe tells the server nobody listens any more, before any cleanup.
    EXPECT_TRUE(test::eventually([&] {
      return std::none_of(active.begin(), active.end(),
                          [](const auto& r) { return r.is_connected(); });
    }));
    const auto report = Node::cleanup_dead_nodes();
    EXPECT_EQ(report.dead_nodes.size(), 1u);
    EXPECT_EQ(report.removed_ports, 1u);
    EXPECT_FALSE(segment_exists(name, client_id)) << "the dead client's segment is removed";
    EXPECT_EQ(server->chunks_in_use(), 0u) << "borrowed and queued responses came back";
    for (auto& request : active) {
      auto sent = request.send_copy(make_reply(0, 0));
      ASSERT_FALSE(sent);
      EXPECT_EQ(sent.error(), ResponseSendError::NotConnected);
    }
    active.clear();
    EXPECT_EQ(server->chunks_in_use(), 0u);
    EXPECT_EQ(service->number_of_clients(), 0u);
  }
  // The server lives on: a fresh client gets a whole stream.
  auto client = service->client_builder().create();
  ASSERT_TRUE(client);
  auto pending = client->send_copy(make_request(5));
  ASSERT_TRUE(pending);
  {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    ASSERT_TRUE((*request)->send_copy(make_reply(5, 0)));
  }
  InFlight f{std::move(*pending), 5};
  std::uint64_t bad = 0;
  ASSERT_TRUE(test::eventually([&] {
    auto response = f.pending.receive();
    if (response && *response) check_response(f, **response, bad);
    return f.pending.is_done();
  }));
  EXPECT_EQ(f.next_step, 1u);
  EXPECT_EQ(bad, 0u);
}

TEST_F(RequestResponseMultiProcess, BothSidesSleepInAWaitSetAndWakeOnEachOther) {
  constexpr std::uint64_t kRequests = 100;
  constexpr std::uint64_t kSteps = kResponseBuffer;  // a stream fits its buffer: no Block wait
  const auto to_server = test::service_name("rr_mp_requests");
  const auto to_client = test::service_name("rr_mp_responses");
  auto service = rr_test::service(node, name).create();
  ASSERT_TRUE(service);
  auto requests_event = node.service_builder(to_server).event().create();
  auto responses_event = node.service_builder(to_client).event().create();
  ASSERT_TRUE(requests_event && responses_event);
  auto server = spawn_peer(
      "server", name,
      {"steps=" + std::to_string(kSteps), "requests=" + std::to_string(kRequests),
       "wake=" + std::string(to_server.as_string()) + "," + std::string(to_client.as_string())});
  ASSERT_NE(await_ready(server, "server_id"), 0u);

  auto listener = responses_event->listener_builder().create();
  auto notifier = requests_event->notifier_builder().create();
  ASSERT_TRUE(listener && notifier);
  auto waitset = WaitSetBuilder().create();
  ASSERT_TRUE(waitset);
  auto guard = waitset->attach_notification(*listener);
  ASSERT_TRUE(guard);
  std::uint64_t waits = 0;
  {
    auto client = service->client_builder().create();
    ASSERT_TRUE(client);
    client->notify_on_send(std::move(*notifier));
    ASSERT_TRUE(test::eventually([&] { return client->number_of_servers() == 1; }));

    // The server sleeps while nobody asks: it uses (almost) no CPU.
    const long idle_before = test::cpu_milliseconds(server.pid());
    std::this_thread::sleep_for(500ms);
    const long idle_cpu = test::cpu_milliseconds(server.pid()) - idle_before;
    EXPECT_LT(idle_cpu, 50) << "ms of CPU in 500 ms of an idle server";

    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < kRequests; ++i) {
      auto pending = client->send_copy(make_request(i));
      ASSERT_TRUE(pending) << to_string(pending.error());
      InFlight f{std::move(*pending), i};
      while (!f.pending.is_done()) {
        // Everything there is, then sleep until the server's next response or end wakes us.
        auto response = f.pending.receive();
        ASSERT_TRUE(response) << to_string(response.error());
        if (*response) {
          check_response(f, **response, bad);
          continue;
        }
        if (f.pending.is_done()) break;
        auto batch = waitset->wait(std::chrono::nanoseconds(kWatchdog));
        ASSERT_TRUE(batch);
        ASSERT_FALSE(batch->triggered.empty()) << "no wake-up within the watchdog, request " << i;
        ++waits;
        ASSERT_TRUE(listener->try_wait([](EventId, std::uint64_t) {}));
      }
      EXPECT_EQ(f.next_step, kSteps) << "request " << i;
    }
    EXPECT_EQ(bad, 0u);
  }
  const auto served = finish_server(server);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->served, kRequests);
  // Each wake-up was caused by a notification: the server's by one request each (at most), ours
  // by one response or end each (at most).
  EXPECT_GE(served->wakes, 1u);
  EXPECT_LE(served->wakes, kRequests);
  EXPECT_LE(waits, kRequests * (kSteps + 1));
  std::printf("server woke %llu times for %llu requests; client waited %llu times\n",
              static_cast<unsigned long long>(served->wakes),
              static_cast<unsigned long long>(kRequests), static_cast<unsigned long long>(waits));
}

}  // namespace

// A known bug, kept as a repro (run with --gtest_also_run_disabled_tests): a response whose send
// races with the client's cancel (ServerCore::send sees listens() true, the client then stores 0
// in the listening word and drains the queue, then deliver() pushes) stays in the cancelled
// channel's queue, its chunk in use at the server, until the client next runs out of free
// channels: while the client lives on without sending, the server's chunks_in_use() stays above
// 0. The server answers on a thread of its own (each port is used by one thread only); the two
// go in lockstep, so that when the server counts its chunks the client has cancelled and the
// server has sent: any chunk in use then is a response nobody can ever receive.
// A response the server sends while the client cancels (the server saw it listening just before)
// can land in the cancelled channel after the client drained it. It is not lost: it waits there,
// its chunk counted in the server's pool, until the client frees the channel (a send that finds
// no free one). So at any moment at most a buffer per channel is held that way, and none once
// the client has cycled through its channels.
TEST_F(RequestResponseMultiProcess, AResponseRacingACancelIsReclaimedWhenItsChannelIsFreed) {
  constexpr std::uint64_t kRequests = 20000;
  auto service = rr_test::service(node, name).create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  ASSERT_TRUE(server && client);
  const std::uint64_t bound =
      std::uint64_t{rr_test::kActiveRequests} * rr_test::kResponseBuffer;
  std::atomic<std::uint64_t> cancelled{0}, answered{0}, errors{0}, above_bound{0}, held{0};
  std::thread answering([&] {
    for (std::uint64_t i = 0; i < kRequests; ++i) {
      for (;;) {
        auto request = server->receive();
        if (!request) ++errors;
        if (!request || !*request) continue;
        auto sent = (*request)->send_copy(make_reply(i, 0));
        if (!sent && sent.error() != ResponseSendError::NotConnected) ++errors;
        break;
      }  // the stream ends
      while (cancelled.load() <= i) std::this_thread::yield();
      const auto in_use = server->chunks_in_use();
      if (in_use > bound) ++above_bound;
      if (in_use != 0) ++held;
      answered = i + 1;
    }
  });
  std::mt19937 random(7);
  for (std::uint64_t i = 0; i < kRequests; ++i) {
    {
      auto pending = client->send_copy(make_request(i));
      if (!pending) ++errors;
      // Land the cancel anywhere in the server's send: a busy wait of 0..20 us.
      const auto until = Clock::now() + std::chrono::nanoseconds(random() % 20000);
      while (Clock::now() < until) {
      }
    }  // cancelled
    cancelled = i + 1;
    while (answered.load() <= i) std::this_thread::yield();
  }
  answering.join();
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(above_bound, 0u) << "checks that found more than a buffer per channel held";
  std::cout << "checks that found a raced response still queued: " << held << " of " << kRequests
            << "\n";
  // Every channel freed and used once more: nothing of the races is left.
  for (std::uint32_t k = 0; k <= rr_test::kActiveRequests; ++k) {
    auto pending = client->send_copy(make_request(kRequests + k));
    ASSERT_TRUE(pending) << to_string(pending.error());
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
  }
  EXPECT_TRUE(test::eventually([&] { return server->chunks_in_use() == 0; }));
}
