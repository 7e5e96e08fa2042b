// The kill matrix of RELIABILITY.md: for every port kind, a victim process brought into one state
// (holding loans, mid-send, holding samples, mid-notify, waiting, creating; for request-response
// holding responses, mid-request, mid-stream) is SIGKILLed there,
// again and again, on ONE service name. After every kill the survivor (this process) reopens the
// same name with the same type and a fresh exchange delivers; after the loop one cleanup leaves
// exactly what the survivor itself owns (listings of /dev/shm and of the root directory compared),
// the port counts are the survivor's, and no chunk of the survivor's publisher (or server) is lost.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "axon/core/service_layout.hpp"
#include "robustness_support.hpp"

namespace {

using namespace axon;
using namespace axon::test::robustness;
using robust::Stamp;
using test::ChildProcess;

enum class Pattern { Event, PubSub, RequestResponse };

/// One row of the kill matrix.
struct KillCase {
  const char* role;  ///< of helpers/robust_victim.cpp
  Pattern pattern;
  int iterations;
  /// 0: kill at the barrier. Otherwise the kill lands a random 0..max_delay after it.
  std::chrono::microseconds max_delay{0};
  /// Whether the survivor holds the service (with standing ports) throughout. A creator victim
  /// needs it absent: the service must be made, and left half-made, by the victim.
  bool survivor_holds = true;
};

/// The survivor's ports that live through the whole loop.
struct Standing {
  std::optional<PubSubService<Stamp>> pubsub;
  std::optional<Publisher<Stamp>> publisher;
  std::optional<Subscriber<Stamp>> subscriber;
  std::optional<EventService> event;
  std::optional<Listener> listener;
  std::optional<Notifier> notifier;
  std::optional<RequestResponseService<Stamp, Stamp>> rr;
  std::optional<Client<Stamp, Stamp>> client;
  std::optional<Server<Stamp, Stamp>> server;
};

std::uint64_t marker(int iteration) {
  return 0x4d41524bULL << 32 | static_cast<unsigned>(iteration);
}

/// Receives from `subscriber` until nothing is left (bounded); true when `origin` was among it.
::testing::AssertionResult drain_finds(Subscriber<Stamp>& subscriber, std::uint64_t origin,
                                       const char* who) {
  bool found = false;
  for (int i = 0; i < 256; ++i) {
    auto sample = subscriber.receive();
    if (!sample) {
      return ::testing::AssertionFailure() << who << " receive: " << to_string(sample.error());
    }
    if (!*sample) {
      if (found) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << who << " never got the sample of " << origin;
    }
    found = found || (**sample)->origin == origin;
  }
  return ::testing::AssertionFailure() << who << " never ran dry";
}

/// Reopens the service (a second handle of the survivor's node: the open purges dead nodes),
/// makes a fresh publisher and subscriber, and checks that a sample of the fresh publisher and
/// one of the standing publisher reach the fresh and the standing subscriber.
::testing::AssertionResult pubsub_exchange(const Node& node, const ServiceName& name,
                                           std::uint64_t mark, Standing& standing) {
  auto service = robust::pubsub_service(node, name).open_or_create();
  if (!service) {
    return ::testing::AssertionFailure() << "open_or_create: " << to_string(service.error());
  }
  auto subscriber = service->subscriber_builder().create();
  if (!subscriber) {
    return ::testing::AssertionFailure() << "fresh subscriber: " << to_string(subscriber.error());
  }
  auto publisher = service->publisher_builder().create();
  if (!publisher) {
    return ::testing::AssertionFailure() << "fresh publisher: " << to_string(publisher.error());
  }
  const std::size_t subscribers = standing.subscriber ? 2 : 1;
  auto sent = publisher->send_copy(Stamp{mark, 0});
  if (!sent || *sent != subscribers) {
    return ::testing::AssertionFailure()
           << "fresh publisher reached " << (sent ? std::to_string(*sent) : "an error")
           << " subscribers, expected " << subscribers;
  }
  if (standing.publisher) {
    auto again = standing.publisher->send_copy(Stamp{mark + 1, 0});
    if (!again || *again != subscribers) {
      return ::testing::AssertionFailure()
             << "standing publisher reached " << (again ? std::to_string(*again) : "an error")
             << " subscribers, expected " << subscribers;
    }
  }
  if (auto r = drain_finds(*subscriber, mark, "fresh subscriber"); !r) return r;
  if (standing.subscriber) {
    if (auto r = drain_finds(*standing.subscriber, mark, "standing subscriber"); !r) return r;
  }
  if (standing.publisher) {
    // Everything it delivered was received and released (or its subscriber died), except what
    // the standing subscriber skipped (a buffer of 4 fed 8 a round keeps the newest 4): that
    // stays queued until the publisher overwrites it, at most the queue's spare slots. A dead
    // subscriber's chunks not taken back would pile up over the rounds past that bound.
    auto loan = standing.publisher->loan();
    if (!loan) return ::testing::AssertionFailure() << "standing publisher cannot loan";
    if (standing.publisher->chunks_in_use() > 1 + core::kOverwriteSlack) {
      return ::testing::AssertionFailure()
             << "standing publisher has " << standing.publisher->chunks_in_use()
             << " chunks in use with one loan out, of " << standing.publisher->chunk_count();
    }
  }
  return ::testing::AssertionSuccess();
}

/// As pubsub_exchange for events: a fresh notifier and the standing one each notify the marker
/// id once; the fresh and the standing listener each see it exactly twice.
::testing::AssertionResult event_exchange(const Node& node, const ServiceName& name,
                                          EventBackend backend, Standing& standing) {
  auto service = robust::event_service(node, name, backend).open_or_create();
  if (!service) {
    return ::testing::AssertionFailure() << "open_or_create: " << to_string(service.error());
  }
  auto listener = service->listener_builder().create();
  if (!listener) {
    return ::testing::AssertionFailure() << "fresh listener: " << to_string(listener.error());
  }
  auto notifier = service->notifier_builder().create();
  if (!notifier) {
    return ::testing::AssertionFailure() << "fresh notifier: " << to_string(notifier.error());
  }
  const std::size_t listeners = standing.listener ? 2 : 1;
  for (auto* n : {&*notifier, standing.notifier ? &*standing.notifier : nullptr}) {
    if (n == nullptr) continue;
    auto reached = n->notify(robust::kMarkerId);
    if (!reached || *reached != listeners) {
      return ::testing::AssertionFailure()
             << "notify reached " << (reached ? std::to_string(*reached) : "an error")
             << " listeners, expected " << listeners;
    }
  }
  const std::uint64_t expected = standing.notifier ? 2 : 1;
  for (auto* l : {&*listener, standing.listener ? &*standing.listener : nullptr}) {
    if (l == nullptr) continue;
    std::uint64_t got = 0;
    auto r = l->timed_wait(
        [&](EventId id, std::uint64_t count) { got += id == robust::kMarkerId ? count : 0; },
        kWatchdog);
    if (!r) return ::testing::AssertionFailure() << "wait: " << to_string(r.error());
    if (got != expected) {
      return ::testing::AssertionFailure()
             << "a listener got the marker " << got << " times, expected " << expected;
    }
  }
  return ::testing::AssertionSuccess();
}

/// Answers every request `server` has now with one response (origin as the request's, sequence
/// 1) and ends its stream; the failure names what went wrong.
::testing::AssertionResult answer_all(Server<Stamp, Stamp>& server, const char* who) {
  for (int i = 0; i < 256; ++i) {
    auto request = server.receive();
    if (!request) {
      return ::testing::AssertionFailure() << who << " receive: " << to_string(request.error());
    }
    if (!*request) return ::testing::AssertionSuccess();
    const auto origin = (*request)->payload().origin;
    if (auto sent = (*request)->send_copy(Stamp{origin, 1});
        !sent && sent.error() != ResponseSendError::NotConnected) {
      return ::testing::AssertionFailure() << who << " respond: " << to_string(sent.error());
    }
  }
  return ::testing::AssertionFailure() << who << " never ran dry";
}

/// Sends a request of `origin` (retried while a channel still waits for a server found gone at
/// the next liveness probe); the pending response, or nullopt with a failure added.
std::optional<PendingResponse<Stamp, Stamp>> send_request(Client<Stamp, Stamp>& client,
                                                          std::uint64_t origin, const char* who) {
  std::optional<PendingResponse<Stamp, Stamp>> pending;
  std::optional<RequestSendError> error;
  test::eventually(
      [&] {
        auto sent = client.send_copy(Stamp{origin, 0});
        if (sent) {
          pending.emplace(std::move(*sent));
          return true;
        }
        error = sent.error();
        return sent.error() != RequestSendError::ExceedsMaxActiveRequests;
      },
      2s);
  if (!pending) ADD_FAILURE() << who << " send: " << (error ? to_string(*error) : "none");
  return pending;
}

/// Reads `pending` to its end: one response of `origin` from each of `servers` servers.
::testing::AssertionResult stream_of(PendingResponse<Stamp, Stamp>& pending, std::uint64_t origin,
                                     std::size_t servers, const char* who) {
  std::size_t got = 0;
  const bool done = test::eventually(
      [&] {
        auto response = pending.receive();
        if (response && *response) got += (**response)->origin == origin ? 1 : 0;
        return (!response || !*response) && pending.is_done();
      },
      kWatchdog);
  if (!done) return ::testing::AssertionFailure() << who << " never saw the end of its streams";
  if (got != servers) {
    return ::testing::AssertionFailure()
           << who << " got " << got << " responses of its request, expected " << servers;
  }
  return ::testing::AssertionSuccess();
}

/// As pubsub_exchange for request-response: a fresh client and the standing one each send a
/// request, which the fresh and the standing server each answer once; both streams arrive whole
/// and end, and then no chunk of either server is in use (a dead client's came back).
::testing::AssertionResult rr_exchange(const Node& node, const ServiceName& name,
                                       std::uint64_t mark, Standing& standing) {
  auto service = robust::rr_service(node, name).open_or_create();
  if (!service) {
    return ::testing::AssertionFailure() << "open_or_create: " << to_string(service.error());
  }
  auto server = service->server_builder().create();
  if (!server) {
    return ::testing::AssertionFailure() << "fresh server: " << to_string(server.error());
  }
  auto client = service->client_builder().create();
  if (!client) {
    return ::testing::AssertionFailure() << "fresh client: " << to_string(client.error());
  }
  const std::size_t servers = standing.server ? 2 : 1;
  if (client->number_of_servers() != servers) {
    return ::testing::AssertionFailure() << "the fresh client sees " << client->number_of_servers()
                                         << " servers, expected " << servers;
  }
  auto fresh = send_request(*client, mark, "fresh client");
  if (!fresh) return ::testing::AssertionFailure() << "the fresh client could not send";
  auto standing_pending =
      standing.client ? send_request(*standing.client, mark + 1, "standing client") : std::nullopt;
  if (standing.client && !standing_pending) {
    return ::testing::AssertionFailure() << "the standing client could not send";
  }
  if (auto r = answer_all(*server, "fresh server"); !r) return r;
  if (standing.server) {
    if (auto r = answer_all(*standing.server, "standing server"); !r) return r;
  }
  if (auto r = stream_of(*fresh, mark, servers, "fresh client"); !r) return r;
  if (standing_pending) {
    if (auto r = stream_of(*standing_pending, mark + 1, servers, "standing client"); !r) return r;
  }
  if (server->chunks_in_use() != 0) {
    return ::testing::AssertionFailure() << "the fresh server has " << server->chunks_in_use()
                                         << " chunks in use after its responses were released";
  }
  // The standing server answered the standing client on another thread while that cancelled
  // its requests: a response that lands just after the cancel stays in the cancelled channel's
  // queue until the client takes that channel again, one chunk per channel at most. A dead
  // client's chunks not taken back would pile up over the rounds past that bound.
  if (standing.server &&
      standing.server->chunks_in_use() > robust::kRequestResponseActiveRequests) {
    return ::testing::AssertionFailure()
           << "the standing server has " << standing.server->chunks_in_use()
           << " chunks in use after every response was received and released";
  }
  return ::testing::AssertionSuccess();
}

/// The survivor's standing ports at work on threads of their own while a victim lives: the
/// server answers every request (one response, then the end), and, for a victim server, the
/// client keeps requests in flight, reading each stream to its end or cancelling it after a few
/// responses. Each thread alone uses its port (ports are not thread-safe). Stopped, the server
/// answers what is left.
class Working {
 public:
  static constexpr std::uint64_t kRequesterOrigin = 0x52455155;

  Working(Standing& standing, bool requesting)
      : m_server([this, &standing](std::stop_token stop) { serve(*standing.server, stop); }) {
    if (requesting) {
      m_client = std::jthread(
          [this, &standing](std::stop_token stop) { request(*standing.client, stop); });
    }
  }
  ~Working() { stop(); }
  void stop() {
    m_client = std::jthread();  // first: the server then answers all it sent
    m_server = std::jthread();
  }
  std::uint64_t completed() const { return m_completed.load(); }
  std::uint64_t gone() const { return m_gone.load(); }
  std::uint64_t errors() const { return m_errors.load(); }

 private:
  void serve(Server<Stamp, Stamp>& server, const std::stop_token& stop) {
    for (;;) {
      auto request = server.receive();
      if (!request) {
        ++m_errors;
        continue;
      }
      if (!*request) {
        if (stop.stop_requested()) return;
        std::this_thread::yield();
        continue;
      }
      auto sent = (*request)->send_copy(Stamp{(*request)->payload().origin, 1});
      if (!sent && sent.error() != ResponseSendError::NotConnected) ++m_errors;
    }
  }
  void request(Client<Stamp, Stamp>& client, const std::stop_token& stop) {
    for (std::uint64_t n = 0; !stop.stop_requested(); ++n) {
      auto pending = client.send_copy(Stamp{kRequesterOrigin, n});
      if (!pending) {
        if (pending.error() != RequestSendError::ExceedsMaxActiveRequests) ++m_errors;
        std::this_thread::yield();
        continue;
      }
      // A few responses of the victim's endless stream, then cancel; a dead victim's stream
      // ends with ServerGone.
      for (int got = 0; !pending->is_done() && got < 5 && !stop.stop_requested();) {
        auto response = pending->receive();
        if (!response) {
          if (response.error() == ResponseReceiveError::ServerGone) {
            ++m_gone;
          } else {
            ++m_errors;
          }
        } else if (*response) {
          ++got;
        } else {
          std::this_thread::yield();
        }
      }
      ++m_completed;
    }
  }
  std::atomic<std::uint64_t> m_completed{0}, m_gone{0}, m_errors{0};
  std::jthread m_server;
  std::jthread m_client;
};

/// The service's ports and nodes are exactly the survivor's standing ones (or it is gone).
::testing::AssertionResult counts_are_the_survivors(const ServiceName& name,
                                                    const Standing& standing, bool holds) {
  auto info = describe_service(name);
  if (!holds) {
    if (!info && info.error() == DiscoveryError::DoesNotExist) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the service outlived its last user";
  }
  if (!info) return ::testing::AssertionFailure() << "describe: " << to_string(info.error());
  const std::size_t want[] = {standing.publisher ? 1u : 0u,
                              standing.subscriber ? 1u : 0u,
                              standing.listener ? 1u : 0u,
                              standing.notifier ? 1u : 0u,
                              standing.client ? 1u : 0u,
                              standing.server ? 1u : 0u,
                              1u};
  const std::size_t got[] = {info->publishers, info->subscribers, info->listeners, info->notifiers,
                             info->clients,    info->servers,     info->nodes};
  for (std::size_t i = 0; i < std::size(want); ++i) {
    if (want[i] != got[i]) {
      std::string w, g;
      for (std::size_t j = 0; j < std::size(want); ++j) {
        w += (j ? "/" : "") + std::to_string(want[j]);
        g += (j ? "/" : "") + std::to_string(got[j]);
      }
      return ::testing::AssertionFailure()
             << "publishers/subscribers/listeners/notifiers/clients/servers/nodes: " << g
             << ", expected " << w;
    }
  }
  return ::testing::AssertionSuccess();
}

/// What is on disk of the service `hash`, for failure messages.
std::string on_disk(const std::string& hash) {
  std::string out = "; on disk of the service:";
  const auto now = listing();
  for (const auto* list : {&now.shm, &now.root}) {
    for (const auto& f : *list) {
      if (f.find(hash) != std::string::npos) out += " " + f;
    }
  }
  return out;
}

/// Nothing of the service `hash` (a dead creator's half-made objects) is on disk any more.
::testing::AssertionResult nothing_named(const std::string& hash) {
  const auto now = listing();
  for (const auto* list : {&now.shm, &now.root}) {
    for (const auto& f : *list) {
      if (f.find(hash) != std::string::npos) {
        return ::testing::AssertionFailure() << "left of the service: " << f;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

void run_kill_loop(const KillCase& c, EventBackend backend = EventBackend::EventFd) {
  const auto seed = base_seed() ^ std::hash<std::string>{}(c.role);
  SCOPED_TRACE(::testing::Message() << "role " << c.role << ", seed " << seed
                                    << " (AXON_ROBUST_SEED=" << base_seed() << ")");
  std::mt19937_64 random(seed);
  const auto name = test::service_name(std::string("kill_") + c.role);
  const std::string hash = detail::Paths::service_hash(name.as_string());
  auto survivor = test::make_node("survivor");

  Standing standing;
  if (c.survivor_holds && c.pattern == Pattern::PubSub) {
    auto service = robust::pubsub_service(survivor, name).create();
    ASSERT_TRUE(service);
    standing.pubsub.emplace(std::move(*service));
    auto publisher = standing.pubsub->publisher_builder().create();
    auto subscriber = standing.pubsub->subscriber_builder().create();
    ASSERT_TRUE(publisher && subscriber);
    standing.publisher.emplace(std::move(*publisher));
    standing.subscriber.emplace(std::move(*subscriber));
  } else if (c.survivor_holds && c.pattern == Pattern::RequestResponse) {
    auto service = robust::rr_service(survivor, name).create();
    ASSERT_TRUE(service);
    standing.rr.emplace(std::move(*service));
    auto server = standing.rr->server_builder().create();
    auto client = standing.rr->client_builder().create();
    ASSERT_TRUE(server && client);
    standing.server.emplace(std::move(*server));
    standing.client.emplace(std::move(*client));
  } else if (c.survivor_holds) {
    auto service = robust::event_service(survivor, name, backend).create();
    ASSERT_TRUE(service);
    standing.event.emplace(std::move(*service));
    auto listener = standing.event->listener_builder().create();
    auto notifier = standing.event->notifier_builder().create();
    ASSERT_TRUE(listener && notifier);
    standing.listener.emplace(std::move(*listener));
    standing.notifier.emplace(std::move(*notifier));
  }
  // One exchange first, so that what the survivor's own node makes on first use (its fd
  // server's socket) is in the listing taken before the loop.
  auto exchange = [&](int iteration) {
    switch (c.pattern) {
      case Pattern::PubSub:
        return pubsub_exchange(survivor, name, marker(iteration), standing);
      case Pattern::Event:
        return event_exchange(survivor, name, backend, standing);
      case Pattern::RequestResponse:
        return rr_exchange(survivor, name, marker(iteration), standing);
    }
    return ::testing::AssertionFailure() << "no exchange for the pattern";
  };
  ASSERT_TRUE(exchange(-1));
  const auto before = listing();
  const std::string_view role = c.role;
  std::uint64_t gone = 0;  // ServerGone seen by the standing client

  for (int i = 0; i < c.iterations; ++i) {
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    // A victim client or server meets standing ports at work (see Working).
    std::optional<Working> working;
    if (role == "client-send" || role == "server-stream") {
      working.emplace(standing, role == "server-stream");
    }
    auto victim = spawn_victim(c.role, std::string(name.as_string()), backend);
    std::vector<ActiveRequest<Stamp, Stamp>> answering;
    if (role == "client") {
      // Its requests, answered with four responses each (two to borrow, two queued); the
      // survivor's server holds the streams open across the kill.
      ASSERT_TRUE(test::eventually([&] {
        auto request = standing.server->receive();
        if (request && *request) answering.push_back(std::move(**request));
        return answering.size() == robust::kRequestResponseActiveRequests;
      })) << victim.read_all(1s);
      for (auto& request : answering) {
        for (std::uint64_t s = 0; s < 4; ++s) ASSERT_TRUE(request.send_copy(Stamp{1, s}));
      }
    }
    if (role == "subscriber") {
      // Feed it: two samples to hold, four queued behind them, once its port exists.
      ASSERT_TRUE(test::eventually([&] { return standing.pubsub->number_of_subscribers() == 2; }))
          << victim.read_all(1s);
      for (std::uint64_t s = 0; s < 6; ++s) {
        ASSERT_TRUE(standing.publisher->send_copy(Stamp{1, s}));
      }
    }
    ASSERT_TRUE(await_ready(victim));
    if (c.max_delay.count() > 0) {
      std::uniform_int_distribution<std::int64_t> delay(0, c.max_delay.count());
      std::this_thread::sleep_for(std::chrono::microseconds(delay(random)));
    }
    const auto completed_at_kill = working ? working->completed() : 0;
    ASSERT_TRUE(kill_and_reap(victim));
    if (working) {
      // The survivor's ports go on after the kill: the client's requests end (a dead victim
      // server's streams with ServerGone), no hang and no error.
      if (role == "server-stream") {
        EXPECT_TRUE(test::eventually([&] { return working->completed() >= completed_at_kill + 2; }))
            << "the standing client completed no request after the kill";
      }
      working->stop();
      EXPECT_EQ(working->errors(), 0u);
      gone += working->gone();
    }
    answering.clear();  // the streams of a dead client: ended, nobody listens

    ASSERT_TRUE(exchange(i)) << on_disk(hash);
    ASSERT_TRUE(counts_are_the_survivors(name, standing, c.survivor_holds));
    if (!c.survivor_holds) {
      ASSERT_TRUE(nothing_named(hash));
    }
  }

  ASSERT_TRUE(clean_all());
  const auto after = listing();
  EXPECT_TRUE(after == before) << difference(before, after);
  EXPECT_TRUE(counts_are_the_survivors(name, standing, c.survivor_holds));
  if (role == "server-stream") {
    // Most kills land mid-stream, where the standing client must see the victim gone.
    EXPECT_GE(gone, static_cast<std::uint64_t>(c.iterations / 2));
    std::printf("ServerGone %llu times in %d kills\n", static_cast<unsigned long long>(gone),
                c.iterations);
  }
}

class RobustnessKillEvent : public ::testing::TestWithParam<EventBackend> {};
INSTANTIATE_TEST_SUITE_P(Backends, RobustnessKillEvent,
                         ::testing::Values(EventBackend::EventFd, EventBackend::Fifo),
                         test::backend_name);

TEST(RobustnessKill, PublisherKilledHoldingAllItsLoansLeavesTheServiceWorking) {
  run_kill_loop({"publisher-loans", Pattern::PubSub, 30});
}

TEST(RobustnessKill, PublisherKilledMidSendLeavesTheServiceWorking) {
  run_kill_loop({"publisher-send", Pattern::PubSub, 30, 2000us});
}

TEST(RobustnessKill, SubscriberKilledHoldingSamplesCostsTheStandingPublisherNoChunk) {
  run_kill_loop({"subscriber", Pattern::PubSub, 30});
}

TEST(RobustnessKill, PublisherAndSubscriberKilledMidCreationOrDropLeaveNothingBehind) {
  run_kill_loop({"port-churn-pubsub", Pattern::PubSub, 40, 3000us});
}

TEST(RobustnessKill, PubSubCreatorKilledAtRandomMomentsNeverBlocksTheName) {
  run_kill_loop({"creator-pubsub", Pattern::PubSub, 40, 3000us, false});
}

TEST(RobustnessKill, ClientKilledWithRequestsInFlightAndResponsesHeldCostsTheServerNoChunk) {
  run_kill_loop({"client", Pattern::RequestResponse, 30});
}

TEST(RobustnessKill, ClientKilledMidSendLeavesTheServiceWorking) {
  run_kill_loop({"client-send", Pattern::RequestResponse, 30, 2000us});
}

TEST(RobustnessKill, ServerKilledMidStreamEndsTheStreamWithServerGoneAndLeavesTheServiceWorking) {
  run_kill_loop({"server-stream", Pattern::RequestResponse, 30, 2000us});
}

TEST(RobustnessKill, ClientAndServerKilledMidCreationOrDropLeaveNothingBehind) {
  run_kill_loop({"port-churn-rr", Pattern::RequestResponse, 40, 3000us});
}

TEST(RobustnessKill, RequestResponseCreatorKilledAtRandomMomentsNeverBlocksTheName) {
  run_kill_loop({"creator-rr", Pattern::RequestResponse, 40, 3000us, false});
}

TEST(RobustnessKill, NodeHoldingTheServiceWithoutPortsKilledIsPurged) {
  run_kill_loop({"node", Pattern::Event, 30});
}

TEST(RobustnessKill, NodeKilledWhileBeingCreatedOrDroppedLeavesNothingBehind) {
  run_kill_loop({"node-churn", Pattern::Event, 40, 3000us, false});
}

TEST_P(RobustnessKillEvent, NotifierKilledMidNotifyStormLeavesTheServiceWorking) {
  run_kill_loop({"notifier", Pattern::Event, 30, 2000us}, GetParam());
}

TEST_P(RobustnessKillEvent, ListenerKilledWhileWaitingLeavesTheServiceWorking) {
  run_kill_loop({"listener", Pattern::Event, 30}, GetParam());
}

TEST_P(RobustnessKillEvent, WaitSetOwnerKilledWhileWaitingLeavesTheServiceWorking) {
  run_kill_loop({"waitset", Pattern::Event, 30}, GetParam());
}

TEST_P(RobustnessKillEvent, ListenerAndNotifierKilledMidCreationOrDropLeaveNothingBehind) {
  run_kill_loop({"port-churn-event", Pattern::Event, 40, 3000us}, GetParam());
}

TEST_P(RobustnessKillEvent, EventCreatorKilledAtRandomMomentsNeverBlocksTheName) {
  run_kill_loop({"creator-event", Pattern::Event, 40, 3000us, false}, GetParam());
}

/// A forked process holding ports on an event service and on its pub-sub service `.../ps`, as
/// the victim program's "ports" role does, but without an exec (the cleaner tests make hundreds).
/// It writes one byte into a pipe when it holds them all.
struct PortHolder {
  ChildProcess process;
  int ready_fd = -1;

  static PortHolder start(const std::string& service, EventBackend backend) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    auto process = ChildProcess::fork([&] {
      ::close(fds[0]);
      auto node = NodeBuilder().name("holder").create();
      if (!node) return 30;
      auto event =
          robust::event_service(*node, *ServiceName::create(service), backend).open_or_create();
      if (!event) {
        std::fprintf(stderr, "port holder: event open_or_create: %s\n",
                     to_string(event.error()));
        return 31;
      }
      auto listener = event->listener_builder().create();
      auto notifier = event->notifier_builder().create();
      if (!listener || !notifier) return 32;
      auto pubsub =
          robust::pubsub_service(*node, *ServiceName::create(service + "/ps")).open_or_create();
      if (!pubsub) {
        std::fprintf(stderr, "port holder: pub-sub open_or_create: %s\n",
                     to_string(pubsub.error()));
        return 33;
      }
      auto publisher = pubsub->publisher_builder().create();
      auto subscriber = pubsub->subscriber_builder().create();
      if (!publisher || !subscriber) return 34;
      auto loan = publisher->loan();
      if (!loan || !publisher->send_copy(Stamp{1, 0})) return 35;
      if (::write(fds[1], "r", 1) != 1) return 36;
      for (;;) ::pause();
      return 0;
    });
    ::close(fds[1]);
    return PortHolder{std::move(process), fds[0]};
  }
  PortHolder(ChildProcess p, int fd) : process(std::move(p)), ready_fd(fd) {}
  PortHolder(PortHolder&& other) noexcept
      : process(std::move(other.process)), ready_fd(std::exchange(other.ready_fd, -1)) {}
  PortHolder& operator=(PortHolder&&) = delete;
  ~PortHolder() {
    if (ready_fd >= 0) ::close(ready_fd);
  }

  ::testing::AssertionResult await_ready() {
    pollfd p{ready_fd, POLLIN, 0};
    char byte = 0;
    if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kWatchdog).count())) == 1 &&
        ::read(ready_fd, &byte, 1) == 1) {
      return ::testing::AssertionSuccess();
    }
    auto status = process.wait_for(0ms);
    return ::testing::AssertionFailure()
           << "a port holder never got ready"
           << (status ? " (exit " + std::to_string(status->code) + ")" : std::string());
  }
};

/// Every node with its state, for failure messages.
std::string nodes_now() {
  std::string out = "nodes now:";
  if (auto nodes = Node::list()) {
    for (const auto& n : *nodes) {
      out += " " + n.id.to_string() + "/" + std::to_string(n.pid) + "/" + to_string(n.state);
    }
  }
  return out;
}

// Dead nodes for the cleaners: `count` processes holding ports, alternately on an eventfd
// service `<base>/efd` and a FIFO service `<base>/fifo` (and their pub-sub services `.../ps`),
// all SIGKILLed and reaped. Returns the ids of the nodes that read as dead now.
std::vector<NodeId> make_dead_nodes(const std::string& base, int count) {
  std::vector<PortHolder> holders;
  for (int i = 0; i < count; ++i) {
    const bool fifo = i % 2 == 1;
    holders.push_back(PortHolder::start(base + (fifo ? "/fifo" : "/efd"),
                                        fifo ? EventBackend::Fifo : EventBackend::EventFd));
  }
  std::vector<::testing::AssertionResult> ready;
  for (auto& h : holders) ready.push_back(h.await_ready());
  // Every holder's node reads as alive while it lives (no cleaner may take a live node).
  std::size_t alive = 0;
  if (auto nodes = Node::list()) {
    for (const auto& n : *nodes) alive += n.state == NodeState::Alive ? 1 : 0;
  }
  EXPECT_EQ(alive, static_cast<std::size_t>(count)) << "while all holders live; " << nodes_now();
  for (std::size_t i = 0; i < holders.size(); ++i) {
    EXPECT_TRUE(ready[i]);
    // A holder that never got ready was reaped by await_ready.
    if (ready[i]) {
      EXPECT_TRUE(kill_and_reap(holders[i].process));
    }
  }
  std::vector<NodeId> dead;
  if (auto nodes = Node::list()) {
    for (const auto& n : *nodes) {
      if (n.state == NodeState::Dead) dead.push_back(n.id);
    }
  }
  return dead;
}

/// After the last cleanup: no file under the prefix or the root that was not there at `start`
/// (what earlier tests left is theirs to report); directories only at the top level.
::testing::AssertionResult no_file_left(const Listing& start) {
  const auto now = listing();
  std::string left;
  for (const auto& f : now.shm) {
    if (std::find(start.shm.begin(), start.shm.end(), f) == start.shm.end()) {
      left += " /dev/shm/" + f;
    }
  }
  for (const auto& f : now.root) {
    const bool top_level_directory = f.ends_with('/') && f.find('/') == f.size() - 1;
    if (!top_level_directory &&
        std::find(start.root.begin(), start.root.end(), f) == start.root.end()) {
      left += " " + f;
    }
  }
  if (left.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "left over:" << left;
}

ChildProcess start_cleaner(bool tool) {
  if (tool) return ChildProcess::spawn(test::bin("axon"), {"clean"}, true);
  return ChildProcess::fork([] {
    (void)Node::cleanup_dead_nodes();
    return 0;
  });
}

/// How long a cleaner that is not killed takes on fresh dead nodes: the tool from start to
/// reaped; a forked library call as it measures its own call (in 100 us units, in its exit
/// code), plus a millisecond for the fork.
std::chrono::microseconds time_a_cleaner(const std::string& base, bool tool) {
  (void)make_dead_nodes(base, 1);
  const auto start = std::chrono::steady_clock::now();
  auto cleaner = tool ? start_cleaner(true) : ChildProcess::fork([] {
    const auto t0 = std::chrono::steady_clock::now();
    (void)Node::cleanup_dead_nodes();
    const auto took = std::chrono::steady_clock::now() - t0;
    return static_cast<int>(std::min<std::int64_t>(250, took / 100us + 1));
  });
  auto status = cleaner.wait_for(kWatchdog);
  EXPECT_TRUE(status && status->exited) << "a cleaner failed: " << cleaner.read_all(1s);
  if (!tool) return 1000us + (status ? status->code : 0) * 100us;
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST(RobustnessKill, CleanerKilledAtRandomMomentsHundredTimesLeavesACleanupThatFinishes) {
  constexpr int kIterations = 100;
  const auto seed = base_seed() ^ 0xc1ea;
  SCOPED_TRACE(::testing::Message()
               << "seed " << seed << " (AXON_ROBUST_SEED=" << base_seed() << ")");
  std::mt19937_64 random(seed);
  const auto base = test::unique_name("cleaner");
  const auto start = listing();
  // Kill points spread over a whole cleaner's life (startup included), measured on this machine
  // now: a fixed delay would miss the cleanup itself on a slower or faster one.
  const std::chrono::microseconds whole[] = {time_a_cleaner(base, false),
                                             time_a_cleaner(base, true)};
  int interrupted = 0;
  for (int i = 0; i < kIterations; ++i) {
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    const auto dead = make_dead_nodes(base, 1 + (i / 2) % 2);
    ASSERT_FALSE(dead.empty()) << "no dead node for the cleaner";
    // Alternate a forked library call and the tool (exec: its work starts a few ms in).
    const bool tool = i % 2 == 1;
    auto cleaner = start_cleaner(tool);
    std::uniform_int_distribution<std::int64_t> delay(0, whole[tool ? 1 : 0].count());
    std::this_thread::sleep_for(std::chrono::microseconds(delay(random)));
    cleaner.kill(SIGKILL);
    auto status = cleaner.wait_for(kWatchdog);
    ASSERT_TRUE(status) << "cleaner not reaped";
    if (status->exited) {
      ASSERT_EQ(status->code, 0) << "a cleaner failed: " << cleaner.read_all(1s);
    } else {
      ++interrupted;
    }
  }
  ASSERT_TRUE(clean_all());
  EXPECT_TRUE(no_file_left(start));
  std::printf(
      "%d of %d cleaners killed before they finished (whole cleaner: %lld us forked, "
      "%lld us tool)\n",
      interrupted, kIterations, static_cast<long long>(whole[0].count()),
      static_cast<long long>(whole[1].count()));
}

TEST(RobustnessKill, TwoCleanersAtOnceCleanEveryDeadNodeAndLeaveNothing) {
  constexpr int kRounds = 12;
  const auto base = test::unique_name("cleaners");
  const auto start = listing();
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    const auto dead = make_dead_nodes(base, 4);
    ASSERT_GE(dead.size(), 4u) << nodes_now() << [] {
      std::string out = "; files:";
      const auto l = listing();
      for (const auto& f : l.shm) out += " " + f;
      for (const auto& f : l.root) out += " " + f;
      return out;
    }();
    // Both tools, both library calls, or one of each.
    const bool first_tool = round % 3 != 1;
    const bool second_tool = round % 3 == 0;
    auto first = start_cleaner(first_tool);
    auto second = start_cleaner(second_tool);
    std::string printed;
    for (auto* cleaner : {&first, &second}) {
      auto status = cleaner->wait_for(kWatchdog);
      ASSERT_TRUE(status) << "a cleaner hung";
      EXPECT_TRUE(status->success())
          << "a cleaner ended with " << status->code << ": " << cleaner->read_all(1s);
      printed += cleaner->read_all(1s);
    }
    if (first_tool && second_tool) {
      for (const auto& id : dead) {
        EXPECT_NE(printed.find("removed node " + id.to_string()), std::string::npos)
            << "neither cleaner reported dead node " << id.to_string() << "; they printed:\n"
            << printed;
      }
    }
    const auto report = Node::cleanup_dead_nodes();
    EXPECT_TRUE(report.dead_nodes.empty() && report.removed_services.empty() &&
                report.removed_ports == 0)
        << "the two cleaners left " << report.dead_nodes.size() << " dead node(s), "
        << report.removed_services.size() << " service(s), " << report.removed_ports << " port(s)";
    ASSERT_TRUE(no_file_left(start));
  }
}

}  // namespace
