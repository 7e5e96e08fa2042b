// axon_test_rr_peer ROLE SERVICE [key=value...]: the other process of
// request_response_multi_process_test.cpp, on the service of rr_common.hpp. Roles:
//   server       answers each request of `value` with `steps` responses make_reply(value, 0..),
//                one response to each request it holds in turn, and ends each stream after its
//                last. Keys:
//                  steps=N     responses per request (default 8)
//                  gather=G    holds G requests before it answers any (default 1), so that G
//                              requests are provably in flight at once
//                  requests=R  after R requests answered, waits until no client is left, prints
//                              "served R max_concurrent M wakes W chunks_in_use C" and exits 0
//                              (default: serves until killed)
//                  stall=S     (S > 0) after S responses to its first request prints "stalled" and
//                              stays there (to be killed mid-stream)
//                  wake=A,B    sleeps in a WaitSet on a listener of event service A while it
//                              holds no request (a client notifies on send), and notifies event
//                              service B on each response and end (server.notify_on_send)
//   client-hold  sends kActiveRequests requests (value 1000 + i), borrows kBorrowedResponses
//                responses of each and keeps the rest queued, prints "ready client_id=ID" and
//                stays there (to be killed).
// Prints "ready server_id=ID" once a server's port exists. Exit status: 0 as said above,
// 2 usage error, 3 setup failed, 4 a request failed its check, 5 a send or receive failed,
// 6 timed out waiting for a peer (reason on stdout in every case).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "axon/axon.hpp"
#include "rr_common.hpp"

namespace {

using namespace axon;
using namespace axon::rr_test;
using Clock = std::chrono::steady_clock;

/// Bound of every wait for a peer: a watchdog, never a verdict.
constexpr auto kWatchdog = std::chrono::seconds(30);

int failed(int status, const std::string& what) {
  std::printf("failed: %s\n", what.c_str());
  std::fflush(stdout);
  return status;
}

[[noreturn]] void hold() {
  for (;;) ::pause();
}

std::uint64_t number(const std::map<std::string, std::string>& keys, const std::string& key,
                     std::uint64_t fallback) {
  const auto it = keys.find(key);
  return it == keys.end() ? fallback : std::strtoull(it->second.c_str(), nullptr, 10);
}

struct Answering {
  ActiveRequest<Request, Reply> request;
  std::uint64_t value;
  std::uint64_t step = 0;
};

int run_server(const Node& node, const ServiceName& name,
               const std::map<std::string, std::string>& keys) {
  const auto steps = number(keys, "steps", 8);
  const auto gather = number(keys, "gather", 1);
  const auto requests = number(keys, "requests", 0);
  const auto stall = number(keys, "stall", 0);  // 0: never

  auto service = rr_test::service(node, name).open_or_create();
  if (!service) return failed(3, std::string("open_or_create: ") + to_string(service.error()));
  auto server = service->server_builder().block_timeout(kBlockTimeout).create();
  if (!server) return failed(3, std::string("server: ") + to_string(server.error()));

  // wake=A,B: a listener on A in a WaitSet, our responses notify B.
  std::optional<EventService> incoming, outgoing;
  std::optional<Listener> listener;
  std::optional<WaitSet> waitset;
  std::optional<WaitSetGuard> guard;
  if (const auto it = keys.find("wake"); it != keys.end()) {
    const auto comma = it->second.find(',');
    const auto a = ServiceName::create(it->second.substr(0, comma));
    const auto b =
        comma == std::string::npos ? a : ServiceName::create(it->second.substr(comma + 1));
    if (!a || !b) return failed(2, "wake=A,B");
    auto in = node.service_builder(*a).event().open_or_create();
    auto out = node.service_builder(*b).event().open_or_create();
    if (!in || !out) return failed(3, "event services");
    incoming.emplace(std::move(*in));
    outgoing.emplace(std::move(*out));
    auto l = incoming->listener_builder().create();
    auto n = outgoing->notifier_builder().create();
    if (!l || !n) return failed(3, "listener or notifier");
    listener.emplace(std::move(*l));
    server->notify_on_send(std::move(*n));
    auto w = WaitSetBuilder().create();
    if (!w) return failed(3, "waitset");
    waitset.emplace(std::move(*w));
    auto g = waitset->attach_notification(*listener);
    if (!g) return failed(3, "attach");
    guard.emplace(std::move(*g));
  }
  std::printf("ready server_id=%llu\n", static_cast<unsigned long long>(server->id()));
  std::fflush(stdout);

  std::list<Answering> active;
  std::uint64_t served = 0;
  std::size_t max_concurrent = 0;
  std::uint64_t wakes = 0;
  while (requests == 0 || served < requests) {
    bool progress = false;
    for (;;) {  // take every request there is
      auto request = server->receive();
      if (!request) return failed(5, std::string("receive: ") + to_string(request.error()));
      if (!*request) break;
      const auto got = (*request)->payload();  // copy once, then check the copy
      if (got.check != request_check(got.value)) return failed(4, "request checksum");
      active.push_back(Answering{std::move(**request), got.value});
      progress = true;
    }
    max_concurrent = std::max(max_concurrent, active.size());
    if (active.size() >= gather) {
      for (auto it = active.begin(); it != active.end();) {
        auto sent = it->request.send_copy(make_reply(it->value, it->step));
        if (!sent) return failed(5, std::string("send: ") + to_string(sent.error()));
        ++it->step;
        progress = true;
        if (stall != 0 && served == 0 && it->step == stall) {
          std::puts("stalled");
          std::fflush(stdout);
          hold();
        }
        if (it->step == steps) {
          it = active.erase(it);  // dropping the ActiveRequest ends the stream
          ++served;
        } else {
          ++it;
        }
      }
    }
    if (progress) continue;
    if (waitset && active.empty()) {
      auto batch = waitset->wait(kWatchdog);
      if (!batch) return failed(5, "wait");
      if (!batch->triggered.empty()) ++wakes;
      if (!listener->try_wait([](EventId, std::uint64_t) {})) return failed(5, "try_wait");
    } else {
      std::this_thread::yield();
    }
  }
  // Our responses must stay readable until the client took them: leave after it.
  const auto deadline = Clock::now() + kWatchdog;
  while (service->number_of_clients() > 0) {
    if (Clock::now() > deadline) return failed(6, "the client never left");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("served %llu max_concurrent %zu wakes %llu chunks_in_use %zu\n",
              static_cast<unsigned long long>(served), max_concurrent,
              static_cast<unsigned long long>(wakes), server->chunks_in_use());
  std::fflush(stdout);
  return 0;
}

int run_client_hold(const Node& node, const ServiceName& name) {
  auto service = rr_test::service(node, name).open_or_create();
  if (!service) return failed(3, std::string("open_or_create: ") + to_string(service.error()));
  auto client = service->client_builder().create();
  if (!client) return failed(3, std::string("client: ") + to_string(client.error()));
  const auto deadline = Clock::now() + kWatchdog;
  while (client->number_of_servers() == 0) {
    if (Clock::now() > deadline) return failed(6, "no server");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::list<PendingResponse<Request, Reply>> pending;
  for (std::uint64_t i = 0; i < kActiveRequests; ++i) {
    auto sent = client->send_copy(make_request(1000 + i));
    if (!sent) return failed(5, std::string("send: ") + to_string(sent.error()));
    pending.push_back(std::move(*sent));
  }
  std::vector<Response<Reply>> borrowed;
  for (auto& p : pending) {
    std::uint32_t held = 0;
    while (held < kBorrowedResponses) {
      if (Clock::now() > deadline) return failed(6, "too few responses");
      auto response = p.receive();
      if (!response) return failed(5, std::string("receive: ") + to_string(response.error()));
      if (!*response) {
        ::usleep(100);
        continue;
      }
      borrowed.push_back(std::move(**response));
      ++held;
    }
  }
  std::printf("ready client_id=%llu\n", static_cast<unsigned long long>(client->id()));
  std::fflush(stdout);
  hold();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: axon_test_rr_peer server|client-hold SERVICE [key=value...]\n");
    return 2;
  }
  const std::string_view role = argv[1];
  const auto name = ServiceName::create(argv[2]);
  if (!name) return 2;
  std::map<std::string, std::string> keys;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string::npos) return 2;
    keys[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  auto node = NodeBuilder().name(std::string(role)).create();
  if (!node) return failed(3, "node");
  if (role == "server") return run_server(*node, *name, keys);
  if (role == "client-hold") return run_client_hold(*node, *name);
  return failed(2, "unknown role");
}
