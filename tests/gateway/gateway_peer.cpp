// axon_test_gateway_peer: one end of the gateway's two-machine tests, a real process on one side
// of a NetnsPair. Its samples are slices of bytes whose every byte follows from (sequence, size),
// so the receiving end checks each one whole: order, length and content.
//
//   Both take --max-size B (sizes above B are B: both ends must agree), --overwrite (the
//   service's overflow policy when they create it: OverwriteOldest instead of Block),
//   --sizes S1,S2,... (the sizes cycled through instead of the ones below; both ends must agree)
//   and --header NAME: the service has a user header of that type name (24 bytes, aligned 8:
//   the sample's sequence, its payload size and the FNV-1a checksum of its payload), which the
//   publisher fills and the subscriber checks against the payload of every sample.
//
//   axon_test_gateway_peer publish SERVICE --count N [--interval-us U] [--go-file F]
//       waits for a subscriber (the exporting gateway) and for F to exist, then sends N samples
//       (N = 0: until SIGTERM), sizes cycling through 8 B, 1000 B, 64 KiB, 8 B, 1 MiB, 4 MiB;
//       prints "sent N" and stays until SIGTERM (its samples stay readable meanwhile).
//   axon_test_gateway_peer notify SERVICE --count N [--go-file F]
//       an event service's notifier: waits for F, notifies ids 0..7 (id n % 8 for the n-th), N
//       notifications in all, prints "notified N", stays until SIGTERM.
//   axon_test_gateway_peer listen SERVICE --count N [--timeout-s S]
//       a listener in a WaitSet: sums the counts per id until N arrived, then prints
//       "counted N: c0 c1 ... c7" (the count of each id) and exits 0; more than N is an error.
//   axon_test_gateway_peer subscribe SERVICE --count N [--gaps] [--timeout-s S]
//       sleeps in a WaitSet on a wakeable subscriber; prints "got SEQ SIZE" per sample and, after
//       N samples, "received N intact" (exit 0), or with --header "received N intact with
//       headers". Without --gaps the samples must be 0, 1, 2...;
//       with --gaps they must only increase. A damaged or misordered sample: "error ..." (exit 1);
//       nothing for S seconds (default 30): "error timeout" (exit 1).
//   axon_test_gateway_peer serve SERVICE --responses N [--interval-us U]
//       a request-response server (requests: a u64 request number R; responses: byte slices up
//       to --max-size, default 1 MiB): answers each request with N responses, the k-th one
//       filled as sample R * 1000 + k (sizes cycling 8 B..1 MiB), U microseconds apart, then ends
//       the stream: "served R N". A client that stops listening: "cancelled R after K" (the
//       stream is ended there). Until SIGTERM.
//   axon_test_gateway_peer request SERVICE --count M --responses N [--allow-short]
//                                  [--timeout-s S]
//       a client: waits for a server, sends request R = 0, 1, ... (M = 0: until SIGTERM), one
//       at a time, and checks its stream: responses R * 1000 + k for k = 0, 1, ... in order and
//       intact ("got R K SIZE" each), then the stream's end after exactly N: "complete R"; after
//       M requests "completed M intact" (exit 0). A stream that ends early is an error, or with
//       --allow-short "short R K"; nothing for S seconds (default 30): "error timeout".
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "axon/axon.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

constexpr std::uint64_t kMaxSize = 4 << 20;
constexpr std::uint32_t kBuffer = 16;  // x 4 MiB: the memory a test may take
std::vector<std::uint64_t> g_sizes = {8, 1000, 64 * 1024, 8, 1 << 20, 4 << 20};
std::uint64_t g_max_size = kMaxSize;
OverflowPolicy g_policy = OverflowPolicy::Block;
std::string g_header;  ///< the user header's type name; empty: the service has none

PayloadType bytes_type() { return PayloadType{"axon_test::GatewayBytes", 1, 1, true}; }

/// What --header puts in every sample's user header.
struct Header {
  std::uint64_t sequence;
  std::uint64_t size;
  std::uint64_t checksum;  ///< FNV-1a of the payload
};
PayloadType header_type() { return PayloadType{g_header, sizeof(Header), alignof(Header), false}; }

std::uint64_t size_of(std::uint64_t sequence) {
  return std::min(g_sizes[sequence % g_sizes.size()], g_max_size);
}

std::uint64_t fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const std::byte b : bytes) {
    hash ^= static_cast<std::uint64_t>(b);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::uint8_t byte_at(std::uint64_t sequence, std::uint64_t i) {
  return static_cast<std::uint8_t>(sequence * 131 + i * 7 + (i >> 11));
}

void fill(std::span<std::byte> bytes, std::uint64_t sequence) {
  for (std::uint64_t i = 0; i < bytes.size(); ++i) bytes[i] = std::byte{byte_at(sequence, i)};
  std::memcpy(bytes.data(), &sequence, sizeof(sequence));  // every size holds at least 8 bytes
}

/// The sequence the sample carries, or nullopt when a byte is not what it must be.
std::optional<std::uint64_t> check(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(std::uint64_t)) return std::nullopt;
  std::uint64_t sequence = 0;
  std::memcpy(&sequence, bytes.data(), sizeof(sequence));
  if (bytes.size() != size_of(sequence)) return std::nullopt;
  for (std::uint64_t i = sizeof(sequence); i < bytes.size(); ++i) {
    if (bytes[i] != std::byte{byte_at(sequence, i)}) return std::nullopt;
  }
  return sequence;
}

[[noreturn]] void fail(const std::string& what) {
  std::printf("error %s\n", what.c_str());
  std::fflush(stdout);
  std::exit(1);
}

UntypedPubSubService open(Node& node, const std::string& service) {
  auto name = ServiceName::create(service);
  if (!name) fail("invalid service name");
  auto opened = node.service_builder(*name)
                    .publish_subscribe(bytes_type())
                    .user_header(g_header.empty() ? PayloadType{} : header_type())
                    .subscriber_max_buffer_size(kBuffer)
                    .overflow_policy(g_policy)
                    .open_or_create();
  if (!opened) fail(std::string("open_or_create: ") + to_string(opened.error()));
  return std::move(*opened);
}

int publish(Node& node, const std::string& service, std::uint64_t count,
            std::chrono::microseconds interval, const std::string& go_file) {
  auto handle = open(node, service);
  auto publisher = handle.publisher_builder().max_slice_len(kMaxSize).block_timeout(30s).create();
  if (!publisher) fail(std::string("publisher: ") + to_string(publisher.error()));
  while (handle.number_of_subscribers() == 0 ||
         (!go_file.empty() && ::access(go_file.c_str(), F_OK) != 0)) {
    if (!node.wait(10ms)) return 0;
  }
  std::printf("sending\n");
  std::fflush(stdout);
  std::uint64_t sequence = 0;
  for (; count == 0 || sequence < count; ++sequence) {
    auto loan = publisher->loan_uninit(size_of(sequence));
    if (!loan) fail(std::string("loan: ") + to_string(loan.error()));
    fill(loan->payload(), sequence);
    if (!g_header.empty()) {
      const Header header{sequence, loan->payload().size(), fnv1a(loan->payload())};
      if (loan->user_header().size() != sizeof header) fail("user header of the wrong size");
      std::memcpy(loan->user_header().data(), &header, sizeof header);
    }
    if (auto sent = publisher->send(std::move(*loan)); !sent) {
      fail(std::string("send: ") + to_string(sent.error()));
    }
    if (interval.count() > 0 && !node.wait(interval)) break;
  }
  std::printf("sent %llu\n", static_cast<unsigned long long>(sequence));
  std::fflush(stdout);
  while (node.wait(1s)) {
  }
  return 0;
}

int subscribe(Node& node, const std::string& service, std::uint64_t count, bool gaps,
              std::chrono::seconds timeout) {
  auto handle = open(node, service);
  auto subscriber = handle.subscriber_builder().wakeable(true).create();
  if (!subscriber) fail(std::string("subscriber: ") + to_string(subscriber.error()));
  auto waitset = WaitSetBuilder().create();
  if (!waitset) fail("waitset");
  auto guard = waitset->attach_notification(*subscriber);
  if (!guard) fail("attach");
  std::printf("ready\n");
  std::fflush(stdout);
  std::uint64_t received = 0;
  std::optional<std::uint64_t> last;
  while (received < count) {
    auto batch = waitset->wait(timeout);
    if (!batch) fail("wait");
    if (batch->result != WaitSetRunResult::AllEventsHandled) return 0;
    if (batch->triggered.empty()) fail("timeout");
    while (received < count) {
      auto sample = subscriber->receive();
      if (!sample) fail(std::string("receive: ") + to_string(sample.error()));
      if (!*sample) break;
      const auto sequence = check((**sample).payload());
      if (!sequence) fail("damaged sample after " + std::to_string(last.value_or(0)));
      if (!g_header.empty()) {
        // Copied once out of the publisher's memory, then compared with the payload it came with.
        Header header{};
        const auto bytes = (**sample).user_header();
        if (bytes.size() != sizeof header) fail("user header of the wrong size");
        std::memcpy(&header, bytes.data(), sizeof header);
        if (header.sequence != *sequence || header.size != (**sample).payload().size() ||
            header.checksum != fnv1a((**sample).payload())) {
          fail("user header of sample " + std::to_string(*sequence) + " does not match it");
        }
      }
      const bool in_order = gaps ? (!last || *sequence > *last) : *sequence == received;
      if (!in_order) {
        fail("sample " + std::to_string(*sequence) + " after " +
             (last ? std::to_string(*last) : std::string("none")));
      }
      last = sequence;
      ++received;
      std::printf("got %llu %zu\n", static_cast<unsigned long long>(*sequence),
                  (**sample).payload().size());
    }
  }
  std::printf("received %llu intact%s\n", static_cast<unsigned long long>(received),
              g_header.empty() ? "" : " with headers");
  std::fflush(stdout);
  return 0;
}

constexpr std::uint64_t kIds = 8;

EventService open_events(Node& node, const std::string& service) {
  auto name = ServiceName::create(service);
  if (!name) fail("invalid service name");
  auto opened = node.service_builder(*name).event().open_or_create();
  if (!opened) fail(std::string("event open_or_create: ") + to_string(opened.error()));
  return std::move(*opened);
}

int notify(Node& node, const std::string& service, std::uint64_t count,
           const std::string& go_file) {
  auto handle = open_events(node, service);
  auto notifier = handle.notifier_builder().create();
  if (!notifier) fail(std::string("notifier: ") + to_string(notifier.error()));
  while (!go_file.empty() && ::access(go_file.c_str(), F_OK) != 0) {
    if (!node.wait(10ms)) return 0;
  }
  for (std::uint64_t n = 0; n < count; ++n) (void)notifier->notify(EventId(n % kIds));
  std::printf("notified %llu\n", static_cast<unsigned long long>(count));
  while (node.wait(1s)) {
  }
  return 0;
}

int listen(Node& node, const std::string& service, std::uint64_t count,
           std::chrono::seconds timeout) {
  auto handle = open_events(node, service);
  auto listener = handle.listener_builder().create();
  if (!listener) fail(std::string("listener: ") + to_string(listener.error()));
  std::printf("ready\n");
  std::uint64_t counts[kIds] = {};
  std::uint64_t total = 0;
  while (total < count) {
    auto waited = listener->timed_wait(
        [&](EventId id, std::uint64_t n) {
          if (id.value >= kIds) fail("unexpected id " + std::to_string(id.value));
          counts[id.value] += n;
          total += n;
        },
        timeout);
    if (!waited) fail(std::string("wait: ") + to_string(waited.error()));
    if (*waited == 0) fail("timeout after " + std::to_string(total));
  }
  if (total > count) fail("counted " + std::to_string(total) + " of " + std::to_string(count));
  std::printf("counted %llu:", static_cast<unsigned long long>(total));
  for (const auto c : counts) std::printf(" %llu", static_cast<unsigned long long>(c));
  std::printf("\n");
  return 0;
}

// ---- request-response

constexpr std::uint64_t kRrMaxSize = 1 << 20;
constexpr std::uint64_t kPerRequest = 1000;  // response k of request R is sample R * 1000 + k

UntypedRequestResponseService open_rr(Node& node, const std::string& service) {
  auto name = ServiceName::create(service);
  if (!name) fail("invalid service name");
  auto opened = node.service_builder(*name)
                    .request_response(PayloadType{"axon_test::GatewayRequest", 8, 8, false},
                                      bytes_type())
                    .max_response_buffer_size(8)
                    .overflow_policy(OverflowPolicy::Block)
                    .open_or_create();
  if (!opened) fail(std::string("request_response open_or_create: ") + to_string(opened.error()));
  return std::move(*opened);
}

int serve(Node& node, const std::string& service, std::uint64_t responses,
          std::chrono::microseconds interval) {
  auto handle = open_rr(node, service);
  auto server = handle.server_builder().max_slice_len(kRrMaxSize).block_timeout(30s).create();
  if (!server) fail(std::string("server: ") + to_string(server.error()));
  std::printf("ready\n");
  // Servers have no wake fd: poll, as the gateway does.
  while (node.wait(1ms)) {
    auto received = server->receive();
    if (!received) fail(std::string("receive: ") + to_string(received.error()));
    if (!*received) continue;
    auto& request = **received;
    std::uint64_t number = 0;
    if (request.payload().size() != sizeof number) fail("request of the wrong size");
    std::memcpy(&number, request.payload().data(), sizeof number);
    std::uint64_t k = 0;
    for (; k < responses; ++k) {
      if (!request.is_connected()) break;
      const auto sequence = number * kPerRequest + k;
      auto loan = request.loan_uninit(size_of(sequence));
      if (!loan) fail(std::string("loan: ") + to_string(loan.error()));
      fill(loan->payload(), sequence);
      if (auto sent = request.send(std::move(*loan)); !sent) {
        if (sent.error() == ResponseSendError::NotConnected) break;
        fail(std::string("send: ") + to_string(sent.error()));
      }
      if (interval.count() > 0 && !node.wait(interval)) return 0;
    }
    if (k < responses) {
      std::printf("cancelled %llu after %llu\n", static_cast<unsigned long long>(number),
                  static_cast<unsigned long long>(k));
    } else {
      std::printf("served %llu %llu\n", static_cast<unsigned long long>(number),
                  static_cast<unsigned long long>(k));
    }
  }
  return 0;
}

int request(Node& node, const std::string& service, std::uint64_t count, std::uint64_t responses,
            bool allow_short, std::chrono::seconds timeout) {
  auto handle = open_rr(node, service);
  auto client = handle.client_builder().create();
  if (!client) fail(std::string("client: ") + to_string(client.error()));
  std::printf("ready\n");
  for (std::uint64_t number = 0; count == 0 || number < count; ++number) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (client->number_of_servers() == 0) {
      if (std::chrono::steady_clock::now() > deadline) fail("timeout waiting for a server");
      if (!node.wait(10ms)) return 0;
    }
    auto pending = client->send_copy(std::as_bytes(std::span(&number, 1)));
    if (!pending) fail(std::string("send: ") + to_string(pending.error()));
    std::uint64_t k = 0;
    deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto received = pending->receive();
      if (!received) {
        if (received.error() != ResponseReceiveError::ServerGone) {
          fail(std::string("receive: ") + to_string(received.error()));
        }
        std::printf("server gone %llu\n", static_cast<unsigned long long>(number));
        continue;
      }
      if (*received) {
        const auto sequence = check((**received).payload());
        if (!sequence) fail("damaged response " + std::to_string(k) + " of " + std::to_string(number));
        if (*sequence != number * kPerRequest + k) {
          fail("response " + std::to_string(*sequence) + " where " +
               std::to_string(number * kPerRequest + k) + " was due");
        }
        std::printf("got %llu %llu %zu\n", static_cast<unsigned long long>(number),
                    static_cast<unsigned long long>(k), (**received).payload().size());
        ++k;
        deadline = std::chrono::steady_clock::now() + timeout;
        continue;
      }
      if (pending->is_done()) break;
      if (std::chrono::steady_clock::now() > deadline) {
        fail("timeout in request " + std::to_string(number) + " after " + std::to_string(k));
      }
      if (!node.wait(1ms)) return 0;
    }
    if (k == responses) {
      std::printf("complete %llu\n", static_cast<unsigned long long>(number));
    } else if (allow_short && k < responses) {
      std::printf("short %llu %llu\n", static_cast<unsigned long long>(number),
                  static_cast<unsigned long long>(k));
    } else {
      fail("request " + std::to_string(number) + " ended after " + std::to_string(k) + " of " +
           std::to_string(responses));
    }
  }
  std::printf("completed %llu intact\n", static_cast<unsigned long long>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 3) {
    std::fprintf(stderr, "usage: axon_test_gateway_peer publish|subscribe|notify|listen|serve|request SERVICE [options]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string service = argv[2];
  std::uint64_t count = 0;
  std::chrono::microseconds interval{0};
  std::string go_file;
  bool gaps = false;
  std::chrono::seconds timeout{30};
  std::uint64_t responses = 0;
  bool allow_short = false;
  if (mode == "serve" || mode == "request") g_max_size = kRrMaxSize;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string("0"); };
    if (arg == "--count") count = std::stoull(value());
    else if (arg == "--interval-us") interval = std::chrono::microseconds(std::stoll(value()));
    else if (arg == "--go-file") go_file = value();
    else if (arg == "--gaps") gaps = true;
    else if (arg == "--timeout-s") timeout = std::chrono::seconds(std::stoll(value()));
    else if (arg == "--max-size") g_max_size = std::max<std::uint64_t>(8, std::stoull(value()));
    else if (arg == "--overwrite") g_policy = OverflowPolicy::OverwriteOldest;
    else if (arg == "--responses") responses = std::stoull(value());
    else if (arg == "--allow-short") allow_short = true;
    else if (arg == "--header") g_header = value();
    else if (arg == "--sizes") {
      g_sizes.clear();
      const auto list = value();
      for (std::size_t at = 0; at < list.size();) {
        const auto comma = std::min(list.find(',', at), list.size());
        g_sizes.push_back(std::max<std::uint64_t>(8, std::stoull(list.substr(at, comma - at))));
        at = comma + 1;
      }
      if (g_sizes.empty()) fail("--sizes needs at least one size");
    }
    else fail("unknown option " + arg);
  }
  auto node = NodeBuilder().name("gateway-peer").create();
  if (!node) fail(std::string("node: ") + to_string(node.error()));
  (void)node->wait(0ms);  // SIGINT/SIGTERM end the loops from here on
  if (mode == "publish") return publish(*node, service, count, interval, go_file);
  if (mode == "subscribe") return subscribe(*node, service, count, gaps, timeout);
  if (mode == "notify") return notify(*node, service, count, go_file);
  if (mode == "listen") return listen(*node, service, count, timeout);
  if (mode == "serve") return serve(*node, service, responses, interval);
  if (mode == "request") return request(*node, service, count, responses, allow_short, timeout);
  fail("unknown mode " + mode);
}
