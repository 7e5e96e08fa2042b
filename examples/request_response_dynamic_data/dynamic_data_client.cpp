// dynamic_data_client SERVICE [--interval-ms N] [--count N]: sends byte-slice requests of
// (n x 97) mod 4096 + 1 bytes, byte i being n + i, every N ms (default 1000), and checks each
// response against dynamic_data_server's pattern. Polls every 10 ms. With --count it stops
// sending after N requests and exits once each has ended.
//   Send request <n> with <len> bytes
//   Received response <s> to request <n>: <len> bytes, pattern ok|BAD
//   Request <n>: stream ended after <k> responses   (or: the server is gone ..., no server)
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "../common.hpp"
#include "../request_response/pending_requests.hpp"
#include "axon/axon.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  using Bytes = Slice<std::uint8_t>;
  examples::line_buffered_stdout();
  constexpr std::uint64_t kMaxLen = 4096;
  CLI::App app{
      "Sends byte slices of varying length (up to 4 KiB) as requests on the request-response "
      "service SERVICE every N ms and checks the byte-slice responses.",
      "dynamic_data_client"};
  std::string service_arg;
  std::string interval_arg = "1000";
  std::string count_arg;
  app.add_option("SERVICE", service_arg, "Request-response service name")->required();
  app.add_option("--interval-ms", interval_arg, "Pause between two requests (at most an hour)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--count", count_arg, "Send N requests, then exit once each has ended")
      ->type_name("N");
  if (const auto status = examples::parse_arguments(
          app, "usage: dynamic_data_client SERVICE [--interval-ms N] [--count N]", argc, argv)) {
    return *status;
  }
  const auto interval = examples::interval_or_complain(interval_arg);
  if (!interval) return 1;
  std::optional<std::uint64_t> count;
  if (!count_arg.empty()) {
    count = examples::number_or_complain("--count", count_arg);
    if (!count) return 1;
  }
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("dynamic_data_client");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service = node->service_builder(*name).request_response<Bytes, Bytes>().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service: %s", to_string(service.error()));
    return 1;
  }
  auto client = service->client_builder().max_slice_len(kMaxLen).create();
  if (!client) {
    axon::examples::complain("cannot create client: %s", to_string(client.error()));
    return 1;
  }

  examples::PendingRequests<Bytes, Bytes> pending;
  const auto print = [](std::uint64_t n, const Response<Bytes>& response) {
    // Response s of request n: max(1, len / (s + 1)) bytes, byte i being n + s + 1 + i.
    const auto bytes = response.payload();
    const std::uint64_t s = response.sequence();
    const std::uint64_t len = (n * 97) % kMaxLen + 1;
    bool ok = bytes.size() == std::max<std::uint64_t>(1, len / (s + 1));
    for (std::size_t i = 0; ok && i < bytes.size(); ++i) {
      ok = bytes[i] == static_cast<std::uint8_t>(n + s + 1 + i);
    }
    std::printf("Received response %llu to request %llu: %zu bytes, pattern %s\n",
                static_cast<unsigned long long>(s), static_cast<unsigned long long>(n),
                bytes.size(), ok ? "ok" : "BAD");
  };
  std::uint64_t sent = 0;
  auto next_send = std::chrono::steady_clock::now();
  do {
    if ((!count || sent < *count) && std::chrono::steady_clock::now() >= next_send) {
      next_send += *interval;
      const std::uint64_t len = (sent * 97) % kMaxLen + 1;
      auto request = client->loan_uninit(len);
      if (!request) {
        axon::examples::complain("loan failed: %s", to_string(request.error()));
        return 1;
      }
      auto bytes = request->payload();
      for (std::uint64_t i = 0; i < len; ++i) bytes[i] = static_cast<std::uint8_t>(sent + i);
      auto sent_request = client->send(std::move(*request));
      if (!sent_request) {
        axon::examples::complain("send failed: %s", to_string(sent_request.error()));
        // The server is slower than we ask: try again next turn. Anything else ends us.
        if (sent_request.error() == RequestSendError::ExceedsMaxActiveRequests) continue;
        return 1;
      }
      std::printf("Send request %llu with %llu bytes\n", static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(len));
      pending.add(sent, std::move(*sent_request));
      ++sent;
    }
    if (!pending.poll(print)) return 1;
    if (count && sent >= *count && pending.empty()) break;
  } while (node->wait(std::chrono::milliseconds(10)));
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("dynamic_data_client", e);
}
