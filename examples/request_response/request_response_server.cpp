// request_response_server SERVICE [--responses N] [--pause-ms N]: answers every request with a
// stream of N responses (default 3), --pause-ms apart (default 100), then ends the stream. It
// sleeps in a WaitSet until a client notifies SERVICE/new_request, and notifies
// SERVICE/new_response after each response and each ended stream.
//   Received request <n>
//   Send response <step> to request <n>
//   Ended the stream of request <n>
#include <cstdio>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"
#include "request_response_data.hpp"

namespace {

using Server = axon::Server<RequestData, ResponseData>;
using ActiveRequest = axon::ActiveRequest<RequestData, ResponseData>;

enum class Outcome { Go, Stop, Failed };

/// Sends the stream of `request`; the caller's drop of it ends the stream.
Outcome answer(const axon::Node& node, ActiveRequest& request, std::uint64_t responses,
               std::chrono::milliseconds pause) {
  const auto number = request.payload().number;
  for (std::uint64_t step = 0; step < responses; ++step) {
    // A pause between two responses, not before the first; a signal ends it (and the stream).
    if (step > 0 && !node.wait(pause)) return Outcome::Stop;
    auto sent = request.send_copy(ResponseData{number, step, number * (step + 1)});
    if (!sent) {
      if (sent.error() != axon::ResponseSendError::NotConnected) {
        axon::examples::complain("send failed: %s", axon::to_string(sent.error()));
        return Outcome::Failed;
      }
      std::printf("Request %llu: the client stopped listening\n",
                  static_cast<unsigned long long>(number));
      return Outcome::Go;
    }
    std::printf("Send response %llu to request %llu\n", static_cast<unsigned long long>(step),
                static_cast<unsigned long long>(number));
  }
  return Outcome::Go;
}

/// Answers every request that is there, one after the other.
Outcome answer_available(const axon::Node& node, Server& server, std::uint64_t responses,
                         std::chrono::milliseconds pause) {
  for (;;) {
    auto request = server.receive();
    if (!request) {
      axon::examples::complain("receive failed: %s", axon::to_string(request.error()));
      return Outcome::Failed;
    }
    if (!*request) return Outcome::Go;
    const auto number = (*request)->payload().number;
    std::printf("Received request %llu\n", static_cast<unsigned long long>(number));
    const auto outcome = answer(node, **request, responses, pause);
    request->reset();  // dropping the ActiveRequest ends the stream
    std::printf("Ended the stream of request %llu\n", static_cast<unsigned long long>(number));
    if (outcome != Outcome::Go) return outcome;
  }
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{
      "Answers every request of the request-response service SERVICE with a stream of N "
      "responses; sleeps in a WaitSet until a request arrives.",
      "request_response_server"};
  std::string service_arg;
  std::string responses_arg = "3";
  std::string pause_arg = "100";
  app.add_option("SERVICE", service_arg, "Request-response service name")->required();
  app.add_option("--responses", responses_arg, "Responses to each request (at most 1000)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--pause-ms", pause_arg, "Pause between two responses (at most an hour)")
      ->type_name("N")
      ->capture_default_str();
  if (const auto status = examples::parse_arguments(
          app, "usage: request_response_server SERVICE [--responses N] [--pause-ms N]", argc,
          argv)) {
    return *status;
  }
  const auto responses = examples::number_or_complain("--responses", responses_arg, 1000);
  if (!responses) return 1;
  const auto pause_ms =
      examples::number_or_complain("--pause-ms", pause_arg, examples::kMaxIntervalMs);
  if (!pause_ms) return 1;
  const std::chrono::milliseconds pause(static_cast<std::chrono::milliseconds::rep>(*pause_ms));
  const auto names = example_names(service_arg);
  if (!names) return 1;
  auto node = axon::examples::node_or_complain("server");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;

  // The listener exists before the server does: a client that sends to us also wakes us.
  auto requests = node->service_builder(names->requests).event().open_or_create();
  if (!requests) {
    axon::examples::complain("cannot open the notification service: %s",
                             to_string(requests.error()));
    return 1;
  }
  auto listener = requests->listener_builder().create();
  if (!listener) {
    axon::examples::complain("cannot create the listener: %s%s", to_string(listener.error()),
                             examples::root_hint().c_str());
    return 1;
  }
  auto waitset = WaitSetBuilder().create();
  if (!waitset) {
    axon::examples::complain("cannot create the WaitSet: %s", to_string(waitset.error()));
    return 1;
  }
  auto guard = waitset->attach_notification(*listener);
  if (!guard) {
    axon::examples::complain("cannot attach the listener");
    return 1;
  }

  auto service = node->service_builder(names->service)
                     .request_response<RequestData, ResponseData>()
                     .open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service \"%s\": %s", service_arg.c_str(),
                             to_string(service.error()));
    return 1;
  }
  auto server = service->server_builder().create();
  if (!server) {
    axon::examples::complain("cannot create server: %s", to_string(server.error()));
    return 1;
  }
  // Wake clients that sleep in a WaitSet.
  auto notifications = node->service_builder(names->responses).event().open_or_create();
  if (notifications) {
    if (auto notifier = notifications->notifier_builder().create()) {
      server->notify_on_send(std::move(*notifier));
    }
  }

  // A request that came before the first wait has woken the listener already (it is
  // level-triggered): the first wait returns at once.
  auto outcome = Outcome::Go;
  auto result = waitset->wait_and_process([&](AttachmentId) {
    // Draining consumes the wake-up; a listener left undrained would fire again.
    (void)listener->try_wait([](EventId, std::uint64_t) {});
    outcome = answer_available(*node, *server, *responses, pause);
    return outcome == Outcome::Go ? CallbackProgression::Continue : CallbackProgression::Stop;
  });
  if (outcome == Outcome::Failed) return 1;  // answer_available said why
  if (!result) {
    axon::examples::complain("waiting failed: %s", to_string(result.error()));
    return 1;
  }
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("request_response_server", e);
}
