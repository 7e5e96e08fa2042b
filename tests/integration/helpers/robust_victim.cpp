// axon_test_robust_victim ROLE SERVICE [eventfd|fifo]: one process of the robustness tests,
// made to be killed with SIGKILL. It brings one port kind into one state, prints "ready" on
// stdout (flushed) when it is there, then stays there (holding) or keeps doing it (mid-operation)
// until it is killed. Roles:
//   publisher-loans    a publisher holding all its loans
//   publisher-send     a publisher sending as fast as it can
//   subscriber         a subscriber holding its max borrowed samples, more queued behind them
//   notifier           a notifier notifying ids 0..9 as fast as it can
//   listener           a listener in blocking_wait
//   waitset            a listener attached to a WaitSet, the WaitSet waiting
//   node               a node holding the event service, no port
//   node-churn         creates and drops nodes in a loop ("ready" before the first)
//   creator-event      open_or_create, a listener and a notifier, one notify, drop all; in a loop
//   creator-pubsub     open_or_create, a publisher and a subscriber, one sample, drop all; in a
//   loop port-churn-event   holds the event service; creates and drops a listener and a notifier
//   port-churn-pubsub  holds the pub-sub service; creates and drops a publisher and a subscriber
//   client             a client with its max requests in flight, holding its max borrowed
//                      responses of each (the survivor's server feeds it more, queued)
//   client-send        a client sending requests as fast as it can, reading some streams to
//                      their end and cancelling others
//   server-stream      a server answering every request with a stream it never ends (until
//                      the client cancels)
//   creator-rr         open_or_create, a client and a server, one request answered, drop all; in
//                      a loop
//   port-churn-rr      holds the request-response service; creates and drops a client and a
//                      server, one request answered
//   ports              the event service SERVICE with a listener and a notifier, and the pub-sub
//                      service SERVICE/ps with a publisher holding a loan and a subscriber
// Event services use the backend given (default eventfd); settings are robust_common.hpp's.
// Exit status: never exits by itself once ready; 2 usage error; 3 setup failed (reason on stdout).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "axon/axon.hpp"
#include "robust_common.hpp"

namespace {

using namespace axon;
using robust::Stamp;

void ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
}

[[noreturn]] void hold() {
  for (;;) ::pause();
}

int failed(const char* what) {
  std::printf("failed: %s\n", what);
  std::fflush(stdout);
  return 3;
}

std::uint64_t my_pid() { return static_cast<std::uint64_t>(::getpid()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: axon_test_robust_victim ROLE SERVICE [eventfd|fifo]\n");
    return 2;
  }
  const std::string_view role = argv[1];
  const auto name = ServiceName::create(argv[2]);
  if (!name) return 2;
  EventBackend backend = EventBackend::EventFd;
  if (argc == 4) {
    if (std::strcmp(argv[3], "fifo") == 0) {
      backend = EventBackend::Fifo;
    } else if (std::strcmp(argv[3], "eventfd") != 0) {
      return 2;
    }
  }

  if (role == "node-churn") {
    ready();
    for (;;) {
      auto node = NodeBuilder().name("churn").create();
      if (!node) return failed("node");
    }
  }

  auto node = NodeBuilder().name(std::string(role)).create();
  if (!node) return failed("node");

  if (role == "publisher-loans" || role == "publisher-send") {
    auto service = robust::pubsub_service(*node, *name).open_or_create();
    if (!service) return failed("pubsub open_or_create");
    auto publisher = service->publisher_builder().create();
    if (!publisher) return failed("publisher");
    if (role == "publisher-loans") {
      std::vector<SampleMut<Stamp>> loans;
      for (;;) {
        auto sample = publisher->loan_uninit();
        if (!sample) break;  // ExceedsMaxLoans: we hold them all
        sample->payload() = Stamp{my_pid(), loans.size()};
        loans.push_back(std::move(*sample));
      }
      if (loans.empty()) return failed("loan");
      ready();
      hold();
    }
    ready();
    for (std::uint64_t sequence = 0;; ++sequence) {
      if (!publisher->send_copy(Stamp{my_pid(), sequence})) return failed("send");
    }
  }

  if (role == "subscriber") {
    auto service = robust::pubsub_service(*node, *name).open_or_create();
    if (!service) return failed("pubsub open_or_create");
    auto subscriber = service->subscriber_builder().create();
    if (!subscriber) return failed("subscriber");
    std::vector<Sample<Stamp>> held;
    while (held.size() < 2) {  // subscriber_max_borrowed_samples of robust_common.hpp
      auto sample = subscriber->receive();
      if (!sample) return failed("receive");
      if (*sample) {
        held.push_back(std::move(**sample));
      } else {
        ::usleep(100);
      }
    }
    ready();
    hold();
  }

  if (role == "notifier" || role == "listener" || role == "waitset" || role == "node") {
    auto service = robust::event_service(*node, *name, backend).open_or_create();
    if (!service) return failed("event open_or_create");
    if (role == "node") {
      ready();
      hold();
    }
    if (role == "notifier") {
      auto notifier = service->notifier_builder().create();
      if (!notifier) return failed("notifier");
      ready();
      for (std::uint64_t i = 0;; ++i) {
        if (!notifier->notify(EventId{i % robust::kVictimIds})) return failed("notify");
      }
    }
    auto listener = service->listener_builder().create();
    if (!listener) return failed("listener");
    auto ignore = [](EventId, std::uint64_t) {};
    if (role == "listener") {
      ready();
      for (;;) {
        if (!listener->blocking_wait(ignore)) return failed("blocking_wait");
      }
    }
    auto waitset = WaitSetBuilder().create();
    if (!waitset) return failed("waitset");
    auto guard = waitset->attach_notification(*listener);
    if (!guard) return failed("attach");
    ready();
    for (;;) {
      auto result = waitset->wait_and_process_once([&](AttachmentId) {
        (void)listener->try_wait(ignore);
        return CallbackProgression::Continue;
      });
      if (!result) return failed("wait");
    }
  }

  if (role == "creator-event") {
    ready();
    for (;;) {
      auto service = robust::event_service(*node, *name, backend).open_or_create();
      if (!service) continue;  // a survivor may hold it with a dead creator's leftovers: retry
      auto listener = service->listener_builder().create();
      auto notifier = service->notifier_builder().create();
      if (notifier) (void)notifier->notify(EventId{1});
    }
  }

  if (role == "creator-pubsub") {
    ready();
    for (std::uint64_t sequence = 0;; ++sequence) {
      auto service = robust::pubsub_service(*node, *name).open_or_create();
      if (!service) continue;
      auto publisher = service->publisher_builder().create();
      auto subscriber = service->subscriber_builder().create();
      if (publisher) (void)publisher->send_copy(Stamp{my_pid(), sequence});
      if (subscriber) (void)subscriber->receive();
    }
  }

  if (role == "port-churn-event") {
    auto service = robust::event_service(*node, *name, backend).open_or_create();
    if (!service) return failed("event open_or_create");
    ready();
    for (;;) {
      auto listener = service->listener_builder().create();
      auto notifier = service->notifier_builder().create();
      if (notifier) (void)notifier->notify(EventId{1});
    }
  }

  if (role == "port-churn-pubsub") {
    auto service = robust::pubsub_service(*node, *name).open_or_create();
    if (!service) return failed("pubsub open_or_create");
    ready();
    for (std::uint64_t sequence = 0;; ++sequence) {
      auto publisher = service->publisher_builder().create();
      auto subscriber = service->subscriber_builder().create();
      if (publisher) (void)publisher->send_copy(Stamp{my_pid(), sequence});
      if (subscriber) (void)subscriber->receive();
    }
  }

  if (role == "client") {
    auto service = robust::rr_service(*node, *name).open_or_create();
    if (!service) return failed("rr open_or_create");
    auto client = service->client_builder().create();
    if (!client) return failed("client");
    while (client->number_of_servers() == 0) ::usleep(100);
    std::list<PendingResponse<Stamp, Stamp>> pending;
    for (std::uint64_t i = 0; i < robust::kRequestResponseActiveRequests; ++i) {
      auto sent = client->send_copy(Stamp{my_pid(), i});
      if (!sent) return failed("send");
      pending.push_back(std::move(*sent));
    }
    std::vector<Response<Stamp>> held;
    for (auto& p : pending) {
      for (std::uint32_t got = 0; got < 2;) {  // max_borrowed_responses of robust_common
        auto response = p.receive();
        if (!response) return failed("receive");
        if (*response) {
          held.push_back(std::move(**response));
          ++got;
        } else {
          ::usleep(100);
        }
      }
    }
    ready();
    hold();
  }

  if (role == "client-send") {
    auto service = robust::rr_service(*node, *name).open_or_create();
    if (!service) return failed("rr open_or_create");
    auto client = service->client_builder().create();
    if (!client) return failed("client");
    std::list<PendingResponse<Stamp, Stamp>> pending;
    bool said = false;
    for (std::uint64_t sequence = 0;; ++sequence) {
      if (auto sent = client->send_copy(Stamp{my_pid(), sequence})) {
        // Every third request is cancelled at once; the others are read to their end.
        if (sequence % 3 != 0) pending.push_back(std::move(*sent));
      } else if (sent.error() != RequestSendError::ExceedsMaxActiveRequests) {
        return failed("send");
      }
      for (auto it = pending.begin(); it != pending.end();) {
        auto response = it->receive();
        if (!response && response.error() != ResponseReceiveError::ServerGone) {
          return failed("receive");
        }
        if (!it->is_done()) {
          ++it;
          continue;
        }
        it = pending.erase(it);
        if (!said) {
          ready();  // one stream read whole: the exchange runs
          said = true;
        }
      }
    }
  }

  if (role == "server-stream") {
    auto service = robust::rr_service(*node, *name).open_or_create();
    if (!service) return failed("rr open_or_create");
    auto server = service->server_builder().create();
    if (!server) return failed("server");
    std::list<ActiveRequest<Stamp, Stamp>> active;
    bool said = false;
    for (std::uint64_t sequence = 0;; ++sequence) {
      auto request = server->receive();
      if (!request) return failed("receive");
      if (*request) active.push_back(std::move(**request));
      for (auto it = active.begin(); it != active.end();) {
        auto sent = it->send_copy(Stamp{my_pid(), sequence});
        if (!sent && sent.error() != ResponseSendError::NotConnected) return failed("respond");
        if (!sent || !it->is_connected()) {
          it = active.erase(it);  // cancelled: end the stream
          continue;
        }
        if (!said) {
          ready();  // mid-stream from the first response on
          said = true;
        }
        ++it;
      }
    }
  }

  if (role == "creator-rr" || role == "port-churn-rr") {
    std::optional<RequestResponseService<Stamp, Stamp>> held;
    if (role == "port-churn-rr") {
      auto service = robust::rr_service(*node, *name).open_or_create();
      if (!service) return failed("rr open_or_create");
      held.emplace(std::move(*service));
    }
    ready();
    for (std::uint64_t sequence = 0;; ++sequence) {
      std::optional<RequestResponseService<Stamp, Stamp>> made;
      if (!held) {
        auto service = robust::rr_service(*node, *name).open_or_create();
        if (!service) continue;  // a survivor may hold it with a dead creator's leftovers: retry
        made.emplace(std::move(*service));
      }
      auto& service = held ? *held : *made;
      auto server = service.server_builder().create();
      auto client = service.client_builder().create();
      if (!server || !client) continue;
      auto pending = client->send_copy(Stamp{my_pid(), sequence});
      if (auto request = server->receive(); request && *request) {
        (void)(*request)->send_copy(Stamp{my_pid(), sequence});
      }
      if (pending) (void)pending->receive();
    }
  }

  if (role == "ports") {
    auto event = robust::event_service(*node, *name, backend).open_or_create();
    if (!event) return failed("event open_or_create");
    auto listener = event->listener_builder().create();
    auto notifier = event->notifier_builder().create();
    if (!listener || !notifier) return failed("event ports");
    const auto pubsub_name = ServiceName::create(std::string(argv[2]) + "/ps");
    if (!pubsub_name) return failed("pubsub name");
    auto pubsub = robust::pubsub_service(*node, *pubsub_name).open_or_create();
    if (!pubsub) return failed("pubsub open_or_create");
    auto publisher = pubsub->publisher_builder().create();
    auto subscriber = pubsub->subscriber_builder().create();
    if (!publisher || !subscriber) return failed("pubsub ports");
    auto loan = publisher->loan();
    if (!loan || !publisher->send_copy(Stamp{my_pid(), 0})) return failed("send");
    ready();
    hold();
  }

  return failed("unknown role");
}
