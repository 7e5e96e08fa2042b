// dynamic_data_server SERVICE: answers every byte-slice request with two byte-slice responses,
// then ends the stream. Response s (0, 1) of a request of `len` bytes whose first byte is `f`
// has max(1, len / (s + 1)) bytes, byte i being f + s + 1 + i. Polls every 10 ms.
//   Received request with <len> bytes, pattern ok|BAD
//   Send response <s> with <len> bytes
#include <algorithm>
#include <cstdio>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"

namespace {

using Bytes = axon::Slice<std::uint8_t>;
constexpr std::uint64_t kMaxLen = 4096;  // the clients' longest request, and our longest response
constexpr std::uint64_t kResponses = 2;

/// Sends the two responses of `request`; false after a failure other than a client that left.
bool answer(axon::ActiveRequest<Bytes, Bytes>& request) {
  const auto bytes = request.payload();
  bool ok = !bytes.empty();
  for (std::size_t i = 1; i < bytes.size(); ++i) {
    ok = ok && bytes[i] == static_cast<std::uint8_t>(bytes[0] + i);
  }
  std::printf("Received request with %zu bytes, pattern %s\n", bytes.size(), ok ? "ok" : "BAD");
  if (bytes.empty()) return true;  // nothing to answer from
  // The client may rewrite its request while we read it: one copy of the first byte.
  const std::uint8_t first = bytes[0];
  const std::uint64_t len = std::min<std::uint64_t>(bytes.size(), kMaxLen);
  for (std::uint64_t s = 0; s < kResponses; ++s) {
    const std::uint64_t n = std::max<std::uint64_t>(1, len / (s + 1));
    auto response = request.loan_uninit(n);
    if (!response) {
      axon::examples::complain("loan failed: %s", axon::to_string(response.error()));
      return false;
    }
    auto out = response->payload();
    for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(first + s + 1 + i);
    if (auto sent = request.send(std::move(*response)); !sent) {
      if (sent.error() == axon::ResponseSendError::NotConnected) return true;  // it left
      axon::examples::complain("send failed: %s", axon::to_string(sent.error()));
      return false;
    }
    std::printf("Send response %llu with %llu bytes\n", static_cast<unsigned long long>(s),
                static_cast<unsigned long long>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{
      "Answers every byte-slice request of the request-response service SERVICE with two "
      "byte-slice responses derived from it.",
      "dynamic_data_server"};
  std::string service_arg;
  app.add_option("SERVICE", service_arg, "Request-response service name")->required();
  if (const auto status =
          examples::parse_arguments(app, "usage: dynamic_data_server SERVICE", argc, argv)) {
    return *status;
  }
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("dynamic_data_server");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service = node->service_builder(*name).request_response<Bytes, Bytes>().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service: %s", to_string(service.error()));
    return 1;
  }
  auto server = service->server_builder().max_slice_len(kMaxLen).create();
  if (!server) {
    axon::examples::complain("cannot create server: %s", to_string(server.error()));
    return 1;
  }
  while (node->wait(std::chrono::milliseconds(10))) {
    for (;;) {
      auto request = server->receive();
      if (!request) {
        axon::examples::complain("receive failed: %s", to_string(request.error()));
        return 1;
      }
      if (!*request) break;
      if (!answer(**request)) return 1;
    }  // each ActiveRequest is dropped here: its stream ends
  }
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("dynamic_data_server", e);
}
