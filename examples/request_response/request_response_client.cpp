// request_response_client SERVICE [--interval-ms N] [--count N]: sends a RequestData every N ms
// (default 1000), numbered from 0, and prints every response as it arrives. It sleeps in a
// WaitSet on the server's notifications (SERVICE/new_response) and on a timer for the next
// request. With --count it stops sending after N requests and exits once each has ended.
//   Send request <n>
//   Received response <step> to request <n>: <value>
//   Request <n>: stream ended after <k> responses   (or: the server is gone ..., no server)
#include <cstdio>
#include <optional>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"
#include "pending_requests.hpp"
#include "request_response_data.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  using namespace std::chrono_literals;
  examples::line_buffered_stdout();
  CLI::App app{
      "Sends a RequestData on the request-response service SERVICE every N ms and prints every "
      "response of its stream as it arrives.",
      "request_response_client"};
  std::string service_arg;
  std::string interval_arg = "1000";
  std::string count_arg;
  app.add_option("SERVICE", service_arg, "Request-response service name")->required();
  app.add_option("--interval-ms", interval_arg,
                 "Pause between two requests (at most an hour; 0 is taken as 1)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--count", count_arg, "Send N requests, then exit once each has ended")
      ->type_name("N");
  if (const auto status = examples::parse_arguments(
          app, "usage: request_response_client SERVICE [--interval-ms N] [--count N]", argc,
          argv)) {
    return *status;
  }
  const auto interval = examples::interval_or_complain(interval_arg);
  if (!interval) return 1;
  std::optional<std::uint64_t> count;
  if (!count_arg.empty()) {
    count = examples::number_or_complain("--count", count_arg);
    if (!count) return 1;
  }
  const auto names = example_names(service_arg);
  if (!names) return 1;
  auto node = axon::examples::node_or_complain("client");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;

  // Our listener exists before our client does: no response can come before it.
  auto responses = node->service_builder(names->responses).event().open_or_create();
  if (!responses) {
    axon::examples::complain("cannot open the notification service: %s",
                             to_string(responses.error()));
    return 1;
  }
  auto listener = responses->listener_builder().create();
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
  auto woken = waitset->attach_notification(*listener);
  // The timer also makes us look at silent requests: a killed server is found by a probe of
  // receive(), not by a notification.
  auto timer = waitset->attach_interval(std::max<std::chrono::milliseconds>(*interval, 1ms));
  if (!woken || !timer) {
    axon::examples::complain("cannot attach to the WaitSet");
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
  auto client = service->client_builder().create();
  if (!client) {
    axon::examples::complain("cannot create client: %s", to_string(client.error()));
    return 1;
  }
  // Wake servers that sleep in a WaitSet.
  auto requests = node->service_builder(names->requests).event().open_or_create();
  if (requests) {
    if (auto notifier = requests->notifier_builder().create()) {
      client->notify_on_send(std::move(*notifier));
    }
  }

  examples::PendingRequests<RequestData, ResponseData> pending;
  std::uint64_t sent = 0;
  const auto send_next = [&]() -> bool {
    if (count && sent >= *count) return true;
    auto request = client->send_copy(RequestData{sent});
    if (!request) {
      if (request.error() == RequestSendError::ExceedsMaxActiveRequests) {
        // The server is slower than we ask: skip this turn.
        axon::examples::complain("request %llu not sent yet: %s",
                                 static_cast<unsigned long long>(sent), to_string(request.error()));
        return true;
      }
      axon::examples::complain("send failed: %s", to_string(request.error()));
      return false;
    }
    std::printf("Send request %llu\n", static_cast<unsigned long long>(sent));
    pending.add(sent, std::move(*request));
    ++sent;
    return true;
  };
  const auto print = [](std::uint64_t number, const axon::Response<ResponseData>& response) {
    std::printf("Received response %llu to request %llu: %llu\n",
                static_cast<unsigned long long>(response->step),
                static_cast<unsigned long long>(number),
                static_cast<unsigned long long>(response->value));
  };
  const auto finished = [&] { return count && sent >= *count && pending.empty(); };

  if (!send_next() || !pending.poll(print)) return 1;
  bool failed = false;
  auto result = finished() ? tl::expected<WaitSetRunResult, WaitSetRunError>(
                                 WaitSetRunResult::StopRequest)
                           : waitset->wait_and_process([&](AttachmentId id) {
                               if (id.has_event_from(*woken)) {
                                 (void)listener->try_wait([](EventId, std::uint64_t) {});
                               }
                               if (id.has_event_from(*timer) && !send_next()) failed = true;
                               if (failed || !pending.poll(print)) {
                                 failed = true;
                                 return CallbackProgression::Stop;
                               }
                               return finished() ? CallbackProgression::Stop
                                                 : CallbackProgression::Continue;
                             });
  if (failed) return 1;  // send_next or poll said why
  if (!result) {
    axon::examples::complain("waiting failed: %s", to_string(result.error()));
    return 1;
  }
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("request_response_client", e);
}
