// axon_test_rr_echo_server SERVICE ELEMENT_SIZE single|slice K end|hold|flood: a
// request-response server for the tests of `axon request`. It opens or creates SERVICE, whose
// request and response types are both "cli::Bytes" elements of ELEMENT_SIZE bytes (one element, or
// slices), prints "ready" (flushed) once its server exists, then answers every request with K
// responses that echo the request's bytes. `end` ends each stream after its K responses; `hold`
// keeps every stream open (for timeouts and for a server killed mid-stream); `flood` keeps it open
// too and sends one more echo every millisecond while the client listens. For each request it
// prints "request <bytes>" (flushed) after its responses were sent. Exit status: 0 on
// SIGINT/SIGTERM; 2 usage error; 3 setup or send failed (reason on stdout).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "axon/axon.hpp"

namespace {

using namespace axon;

int failed(const std::string& what) {
  std::printf("error %s\n", what.c_str());
  std::fflush(stdout);
  return 3;
}

int run(const std::string& service_text, std::uint64_t element_size, bool slice, std::uint64_t k,
        std::string_view mode) {
  auto name = ServiceName::create(service_text);
  if (!name) return failed("invalid service name");
  auto node = NodeBuilder().name("rr-echo-server").create();
  if (!node) return failed(std::string("node: ") + to_string(node.error()));
  const PayloadType type{"cli::Bytes", element_size, 1, slice};
  // Room for every response of a stream, so that none is overwritten before the client reads it.
  const auto buffer = static_cast<std::uint32_t>(k < 4 ? 4 : k);
  auto service = node->service_builder(*name)
                     .request_response(type, type)
                     .max_response_buffer_size(buffer)
                     .open_or_create();
  if (!service) return failed(std::string("service: ") + to_string(service.error()));
  static constexpr std::uint64_t kMaxElements = 256;
  auto server = service->server_builder().max_slice_len(slice ? kMaxElements : 1).create();
  if (!server) return failed(std::string("server: ") + to_string(server.error()));
  std::printf("ready\n");
  std::fflush(stdout);

  std::vector<std::pair<UntypedActiveRequest, std::vector<std::byte>>> held;
  while (node->wait(std::chrono::milliseconds(1))) {
    if (mode == "flood") {
      for (auto& [request, bytes] : held) {
        if (request.is_connected()) (void)request.send_copy(bytes);
      }
    }
    for (;;) {
      auto request = server->receive();
      if (!request) return failed(std::string("receive: ") + to_string(request.error()));
      if (!*request) break;
      // Copied once: the client may rewrite its own segment.
      const auto payload = (*request)->payload();
      const std::vector<std::byte> bytes(payload.begin(), payload.end());
      for (std::uint64_t i = 0; i < k; ++i) {
        if (auto sent = (*request)->send_copy(bytes); !sent) {
          return failed(std::string("send: ") + to_string(sent.error()));
        }
      }
      std::printf("request %zu\n", bytes.size());
      std::fflush(stdout);
      if (mode != "end") held.emplace_back(std::move(**request), bytes);
    }  // `end`: the ActiveRequest goes here, which ends its stream
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto usage = [] {
    std::fprintf(
        stderr,
        "usage: axon_test_rr_echo_server SERVICE ELEMENT_SIZE single|slice K end|hold|flood\n");
    return 2;
  };
  if (argc != 6) return usage();
  const std::string_view kind = argv[3];
  const std::string_view mode = argv[5];
  if ((kind != "single" && kind != "slice") ||
      (mode != "end" && mode != "hold" && mode != "flood")) {
    return usage();
  }
  const auto element_size = std::strtoull(argv[2], nullptr, 10);
  const auto k = std::strtoull(argv[4], nullptr, 10);
  if (element_size == 0 || k > 64) return usage();
  return run(argv[1], element_size, kind == "slice", k, mode);
}
