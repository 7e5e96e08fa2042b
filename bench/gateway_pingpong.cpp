// gateway_pingpong: the gateway's round trip and throughput between two machines, one process on
// each side, each talking only to its local axon services; the two axon-gateways carry them
// across (bench/gateway_bench.sh runs it in two network namespaces; bench/GATEWAY_BENCH.md).
// Samples are untyped slices of bytes whose first 8 bytes carry a counter; only axon's public API.
//
//   gateway_pingpong pong --size B
//       answers each sample of bench/ping with one of the same size on bench/pong (B: the
//       largest it answers), until SIGTERM
//   gateway_pingpong ping --size B [--rounds N] [--warmup W] [--seconds S]
//       sends on bench/ping and waits for the reply on bench/pong, W untimed rounds, then N timed
//       ones (or fewer when S seconds of timed rounds passed); prints
//       "rtt_us median=.. p90=.. min=.. rounds=.."
//   gateway_pingpong pub --size B --seconds S
//       sends on bench/stream as fast as the service lets it, once a subscriber (the exporting
//       gateway) is there, for S seconds or until SIGTERM; prints "sent .."
//   gateway_pingpong sub --size B --seconds S
//       counts the payload bytes of bench/stream for S seconds from its first sample; prints
//       "mbps median=.." (10^6 bytes a second, the median of the per-second figures, the first
//       second dropped)
//
// Exit 0 on success, 1 when the run failed (no reply or sample for a minute, a wrong sample),
// 2 on a usage error.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "axon/axon.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kPingService = "bench/ping";
constexpr std::string_view kPongService = "bench/pong";
constexpr std::string_view kStreamService = "bench/stream";

constexpr std::uint64_t kMinSize = sizeof(std::uint64_t);  // the counter
constexpr std::uint64_t kMaxSize = 64ULL << 20;
/// Ping-pong has one sample in flight; a shallow buffer keeps the 4 MiB data segments small
/// (each publisher's pool is allocated whole: ~(subscribers x buffer) chunks of the largest size).
constexpr std::uint32_t kPingPongBuffer = 4;
/// Throughput: a deep buffer under Block, so the publisher waits for room instead of dropping.
constexpr std::uint32_t kStreamBuffer = 64;
/// Without any progress (a reply, a first sample) for this long the run fails.
constexpr auto kPatience = 60s;
/// Warm-up: a ping without a reply within this long is sent again (the first ones are lost while
/// the gateways connect); doubled at each miss up to kMaxResend, for slow large samples.
constexpr auto kResendAfter = 200ms;
constexpr auto kMaxResend = 3200ms;

PayloadType bytes_type() { return PayloadType{"bench::Bytes", 1, 1, true}; }

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "gateway_pingpong: %s\n", what.c_str());
  std::exit(1);
}

struct Options {
  std::string mode;
  std::uint64_t size = 8;
  std::uint64_t rounds = 1000;
  std::uint64_t warmup = 100;
  std::uint64_t seconds = 0;  ///< 0: no time limit (ping), required (pub, sub)
};

constexpr const char* kUsage =
    "usage: gateway_pingpong pong --size B\n"
    "       gateway_pingpong ping --size B [--rounds N] [--warmup W] [--seconds S]\n"
    "       gateway_pingpong pub --size B --seconds S\n"
    "       gateway_pingpong sub --size B --seconds S\n";

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

/// Parses argv; returns an exit code when the run should stop here (help, usage error).
std::optional<int> parse(int argc, char** argv, Options& options) {
  if (argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  options.mode = argv[1];
  if (options.mode != "pong" && options.mode != "ping" && options.mode != "pub" &&
      options.mode != "sub") {
    std::fprintf(stderr, "gateway_pingpong: unknown mode \"%s\"\n%s", argv[1], kUsage);
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "gateway_pingpong: %s needs a value\n%s", argv[i], kUsage);
      return 2;
    }
    const auto number = parse_u64(argv[++i]);
    if (!number) {
      std::fprintf(stderr, "gateway_pingpong: %s: \"%s\" is not a number\n", argv[i - 1], argv[i]);
      return 2;
    }
    if (arg == "--size" && *number >= kMinSize && *number <= kMaxSize) {
      options.size = *number;
    } else if (arg == "--rounds" && *number > 0 && options.mode == "ping") {
      options.rounds = *number;
    } else if (arg == "--warmup" && *number > 0 && options.mode == "ping") {
      options.warmup = *number;
    } else if (arg == "--seconds" && *number > 0 && *number <= 86400 && options.mode != "pong") {
      options.seconds = *number;
    } else {
      std::fprintf(stderr,
                   "gateway_pingpong: %s %s is not an option of %s (sizes: %llu..%llu bytes; "
                   "counts at least 1)\n%s",
                   argv[i - 1], argv[i], options.mode.c_str(),
                   static_cast<unsigned long long>(kMinSize),
                   static_cast<unsigned long long>(kMaxSize), kUsage);
      return 2;
    }
  }
  if ((options.mode == "pub" || options.mode == "sub") && options.seconds == 0) {
    std::fprintf(stderr, "gateway_pingpong: %s needs --seconds\n%s", options.mode.c_str(), kUsage);
    return 2;
  }
  return std::nullopt;
}

/// Opens or creates `service` with the settings every side uses: the importing gateway opens
/// the existing local service as it is, so both ends must have made it alike (Block: nothing is
/// dropped locally, a full buffer makes the sender wait).
UntypedPubSubService open(Node& node, std::string_view service, std::uint32_t buffer) {
  auto name = ServiceName::create(service);
  if (!name) fail("invalid service name " + std::string(service));
  auto opened = node.service_builder(*name)
                    .publish_subscribe(bytes_type())
                    .overflow_policy(OverflowPolicy::Block)
                    .subscriber_max_buffer_size(buffer)
                    .open_or_create();
  if (!opened) {
    fail(std::string(service) + ": open_or_create: " + to_string(opened.error()) +
         " (made by someone else with other settings?)");
  }
  return std::move(*opened);
}

UntypedPublisher make_publisher(const UntypedPubSubService& service, std::uint64_t max_size) {
  // A long block timeout: a full buffer means the gateway is behind, and the sample must wait.
  auto publisher =
      service.publisher_builder().max_slice_len(max_size).block_timeout(10s).create();
  if (!publisher) fail(std::string("publisher: ") + to_string(publisher.error()));
  return std::move(*publisher);
}

UntypedSubscriber make_subscriber(const UntypedPubSubService& service) {
  auto subscriber = service.subscriber_builder().wakeable(true).create();
  if (!subscriber) fail(std::string("subscriber: ") + to_string(subscriber.error()));
  return std::move(*subscriber);
}

WaitSet make_waitset() {
  auto waitset = WaitSetBuilder().create();
  if (!waitset) fail(std::string("waitset: ") + to_string(waitset.error()));
  return std::move(*waitset);
}

/// Sends a sample of `size` bytes whose first 8 bytes are `counter` (the rest is not written:
/// the gateway copies the whole payload anyway, and the counter is all the far end reads).
void send_counter(UntypedPublisher& publisher, std::uint64_t size, std::uint64_t counter) {
  auto loan = publisher.loan_uninit(size);
  if (!loan) fail(std::string("loan: ") + to_string(loan.error()));
  std::memcpy(loan->payload().data(), &counter, sizeof(counter));
  if (auto sent = publisher.send(std::move(*loan)); !sent) {
    fail(std::string("send: ") + to_string(sent.error()));
  }
}

std::optional<std::uint64_t> counter_of(std::span<const std::byte> payload) {
  if (payload.size() < sizeof(std::uint64_t)) return std::nullopt;
  std::uint64_t counter = 0;
  std::memcpy(&counter, payload.data(), sizeof(counter));
  return counter;
}

/// Waits until `deadline` for something on the WaitSet; false on SIGINT/SIGTERM.
bool wait_until(WaitSet& waitset, Clock::time_point deadline) {
  const auto left = std::max<Clock::duration>(deadline - Clock::now(), Clock::duration::zero());
  auto batch = waitset.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
  if (!batch) fail(std::string("wait: ") + to_string(batch.error()));
  return batch->result == WaitSetRunResult::AllEventsHandled;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// ------------------------------------------------------------------------------------ ping-pong

int pong(Node& node, const Options& options) {
  auto ping_service = open(node, kPingService, kPingPongBuffer);
  auto pong_service = open(node, kPongService, kPingPongBuffer);
  auto subscriber = make_subscriber(ping_service);
  auto waitset = make_waitset();
  auto guard = waitset.attach_notification(subscriber);
  if (!guard) fail(std::string("attach: ") + to_string(guard.error()));
  // The publisher comes with the first ping, not before: our gateway exports bench/pong only
  // while it has a publisher, and until then the far side's gateway does not import it, so the
  // ping side is the first to make bench/pong there, with our settings (an importing gateway
  // that came first would make it with its own, and ping's open_or_create would fail).
  std::optional<UntypedPublisher> publisher;
  std::printf("ready\n");
  std::uint64_t answered = 0;
  for (;;) {
    auto batch = waitset.wait(std::nullopt);
    if (!batch) fail(std::string("wait: ") + to_string(batch.error()));
    if (batch->result != WaitSetRunResult::AllEventsHandled) break;
    for (;;) {
      auto received = subscriber.receive();
      if (!received) fail(std::string("receive: ") + to_string(received.error()));
      if (!*received) break;
      const auto payload = (**received).payload();
      const auto counter = counter_of(payload);
      if (!counter || payload.size() > options.size) {
        fail("a ping of " + std::to_string(payload.size()) + " bytes (at most " +
             std::to_string(options.size) + ", at least 8)");
      }
      if (!publisher) publisher.emplace(make_publisher(pong_service, options.size));
      send_counter(*publisher, payload.size(), *counter);
      ++answered;
    }
  }
  std::printf("answered %llu\n", static_cast<unsigned long long>(answered));
  return 0;
}

struct Pinger {
  UntypedPublisher& publisher;
  UntypedSubscriber& subscriber;
  WaitSet& waitset;
  std::uint64_t size;

  /// Waits until `deadline` for the reply carrying `counter`; replies to older pings (sent
  /// again during the warm-up) are skipped. nullopt on timeout; exits on SIGINT/SIGTERM.
  std::optional<Clock::time_point> reply(std::uint64_t counter, Clock::time_point deadline) {
    for (;;) {
      for (;;) {
        auto received = subscriber.receive();
        if (!received) fail(std::string("receive: ") + to_string(received.error()));
        if (!*received) break;
        const auto payload = (**received).payload();
        if (counter_of(payload) != counter) continue;
        const auto now = Clock::now();
        if (payload.size() != size) {
          fail("reply " + std::to_string(counter) + " has " + std::to_string(payload.size()) +
               " bytes, not " + std::to_string(size));
        }
        return now;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      if (!wait_until(waitset, deadline)) fail("interrupted");
    }
  }
};

int ping(Node& node, const Options& options) {
  auto ping_service = open(node, kPingService, kPingPongBuffer);
  auto pong_service = open(node, kPongService, kPingPongBuffer);
  auto subscriber = make_subscriber(pong_service);  // before the first ping: no reply is missed
  auto publisher = make_publisher(ping_service, options.size);
  auto waitset = make_waitset();
  auto guard = waitset.attach_notification(subscriber);
  if (!guard) fail(std::string("attach: ") + to_string(guard.error()));
  Pinger pinger{publisher, subscriber, waitset, options.size};

  // Warm-up: the gateways connect while it runs (a service crosses only once its publisher
  // exists on this side and the far gateway matched it), so a ping may get no reply; it is sent
  // again, under a new counter, when no reply came in time.
  const auto start = Clock::now();
  // Counters start at the clock, not at 0: a late reply to an earlier run's ping can never be
  // taken for one of this run's.
  auto counter = static_cast<std::uint64_t>(start.time_since_epoch().count());
  std::uint64_t resent = 0;
  auto last_progress = start;
  std::optional<Clock::duration> first_reply;
  auto resend_after = std::chrono::duration_cast<Clock::duration>(kResendAfter);
  for (std::uint64_t done = 0; done < options.warmup;) {
    send_counter(publisher, options.size, ++counter);
    if (pinger.reply(counter, Clock::now() + resend_after)) {
      if (!first_reply) first_reply = Clock::now() - start;
      last_progress = Clock::now();
      ++done;
      continue;
    }
    ++resent;
    resend_after = std::min<Clock::duration>(resend_after * 2, kMaxResend);
    if (Clock::now() - last_progress > kPatience) {
      fail("no reply for " + std::to_string(kPatience.count()) + " s during the warm-up (" +
           std::to_string(counter) + " pings sent, " + std::to_string(done) +
           " answered): are both gateways up and matched?");
    }
  }
  std::fprintf(stderr,
               "gateway_pingpong: first reply after %.2f s, warm-up of %llu rounds with %llu "
               "ping(s) sent again\n",
               std::chrono::duration<double>(first_reply.value_or(Clock::duration::zero())).count(),
               static_cast<unsigned long long>(options.warmup),
               static_cast<unsigned long long>(resent));

  // Timed rounds: one ping in flight, never sent again; a lost one is a failure.
  std::vector<double> rtt_us;
  rtt_us.reserve(std::min<std::uint64_t>(options.rounds, 1'000'000));
  const auto timed_start = Clock::now();
  const auto time_limit = std::chrono::seconds(options.seconds);
  while (rtt_us.size() < options.rounds &&
         (options.seconds == 0 || Clock::now() - timed_start < time_limit)) {
    const auto sent_at = Clock::now();
    send_counter(publisher, options.size, ++counter);
    const auto replied_at = pinger.reply(counter, sent_at + kPatience);
    if (!replied_at) {
      fail("no reply to timed round " + std::to_string(rtt_us.size() + 1) + " within " +
           std::to_string(kPatience.count()) + " s (ping " + std::to_string(counter) + " of " +
           std::to_string(options.size) + " bytes lost?)");
    }
    rtt_us.push_back(std::chrono::duration<double, std::micro>(*replied_at - sent_at).count());
  }
  std::printf("rtt_us median=%.1f p90=%.1f min=%.1f rounds=%zu\n", median(rtt_us),
              percentile(rtt_us, 0.9), *std::min_element(rtt_us.begin(), rtt_us.end()),
              rtt_us.size());
  return 0;
}

// ----------------------------------------------------------------------------------- throughput

int pub(Node& node, const Options& options) {
  auto service = open(node, kStreamService, kStreamBuffer);
  auto publisher = make_publisher(service, options.size);
  // Samples sent before the exporting gateway subscribed would go nowhere.
  const auto waiting_since = Clock::now();
  while (service.number_of_subscribers() == 0) {
    if (!node.wait(10ms)) return 0;
    if (Clock::now() - waiting_since > kPatience) {
      fail("no subscriber on " + std::string(kStreamService) + " for " +
           std::to_string(kPatience.count()) + " s: is the gateway exporting it?");
    }
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(options.seconds);
  // Counters start at the clock: samples of an earlier run still on their way are told apart
  // (the subscriber counts them as misordered, or lost, instead of as this run's).
  const auto first = static_cast<std::uint64_t>(start.time_since_epoch().count());
  std::uint64_t sent = 0;
  for (;;) {
    send_counter(publisher, options.size, first + sent);
    ++sent;
    // A signal is looked for (and the clock read) every 64 samples, not at each one.
    if (sent % 64 == 0 && (Clock::now() >= end || !node.wait(0ms))) break;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("sent %llu samples of %llu bytes in %.1f s\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(options.size), elapsed);
  return 0;
}

int sub(Node& node, const Options& options) {
  auto service = open(node, kStreamService, kStreamBuffer);
  auto subscriber = make_subscriber(service);
  auto waitset = make_waitset();
  auto guard = waitset.attach_notification(subscriber);
  if (!guard) fail(std::string("attach: ") + to_string(guard.error()));
  std::printf("ready\n");
  std::fflush(stdout);
  (void)node;

  std::optional<Clock::time_point> start;
  auto deadline = Clock::now() + kPatience;  // for the first sample, then the end of the run
  std::vector<std::uint64_t> bytes_per_second(options.seconds, 0);
  std::uint64_t samples = 0;
  std::uint64_t lost = 0;
  std::uint64_t misordered = 0;
  std::optional<std::uint64_t> last;
  for (;;) {
    for (;;) {
      auto received = subscriber.receive();
      if (!received) fail(std::string("receive: ") + to_string(received.error()));
      if (!*received) break;
      const auto now = Clock::now();
      if (!start) {
        start = now;
        deadline = now + std::chrono::seconds(options.seconds);
      }
      if (now >= deadline) break;
      const auto payload = (**received).payload();
      const auto counter = counter_of(payload);
      if (!counter || payload.size() != options.size) {
        fail("a sample of " + std::to_string(payload.size()) + " bytes, not " +
             std::to_string(options.size));
      }
      // Counters after the first must follow on: a gap is samples lost on the way.
      if (last && *counter > *last + 1) lost += *counter - *last - 1;
      if (last && *counter <= *last) ++misordered;
      last = counter;
      ++samples;
      const auto second = static_cast<std::size_t>((now - *start) / 1s);
      bytes_per_second[std::min(second, bytes_per_second.size() - 1)] += payload.size();
    }
    if (Clock::now() >= deadline) break;
    if (!wait_until(waitset, deadline)) fail("interrupted");
  }
  if (!start) {
    fail("no sample on " + std::string(kStreamService) + " within " +
         std::to_string(kPatience.count()) + " s: are both gateways up and matched?");
  }
  // The first second holds the ramp-up (discovery, the publisher's first burst): dropped.
  std::vector<double> mbps;
  for (std::size_t s = 1; s < bytes_per_second.size(); ++s) {
    mbps.push_back(static_cast<double>(bytes_per_second[s]) / 1e6);
  }
  if (mbps.empty()) mbps.push_back(static_cast<double>(bytes_per_second[0]) / 1e6);
  std::printf("mbps median=%.1f min=%.1f max=%.1f seconds=%zu samples=%llu lost=%llu "
              "misordered=%llu\n",
              median(mbps), *std::min_element(mbps.begin(), mbps.end()),
              *std::max_element(mbps.begin(), mbps.end()), mbps.size(),
              static_cast<unsigned long long>(samples), static_cast<unsigned long long>(lost),
              static_cast<unsigned long long>(misordered));
  return lost == 0 && misordered == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  Options options;
  if (auto exit_code = parse(argc, argv, options)) return *exit_code;
  auto node = NodeBuilder().name("gateway-pingpong").create();
  if (!node) fail(std::string("node: ") + to_string(node.error()));
  (void)node->wait(0ms);  // SIGINT/SIGTERM end the loops from here on
  if (options.mode == "pong") return pong(*node, options);
  if (options.mode == "ping") return ping(*node, options);
  if (options.mode == "pub") return pub(*node, options);
  return sub(*node, options);
}
