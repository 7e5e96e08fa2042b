// axon_soak: one side of a soak run, a real process. The driver (soak_test.cpp) starts the
// receiving side, waits for its "ready" line, then starts the sending side, and compares the
// "result key=value..." lines both print at the end.
//
//   axon_soak subscriber SERVICE --policy P --mode M --payload K
//   axon_soak publisher  SERVICE --policy P --mode M --payload K --seconds S
//   axon_soak listener   SERVICE --backend B --mode M
//   axon_soak notifier   SERVICE --backend B --seconds S
//   axon_soak waiter     EVENT   --mode wait|waitset
//   axon_soak setter     EVENT   --seconds S
//   axon_soak server     SERVICE --policy P
//   axon_soak client     SERVICE --policy P --seconds S
//
// P: overwrite | refuse | block; M: busy (poll) | waitset (sleep in a WaitSet); K: fixed (a
// 256-byte struct) | slice (u64 words, the length varying with the sequence, 4..516 words);
// B: eventfd | fifo. The client keeps three requests in flight, busy-polling; the server answers
// each with a stream of 1..16 responses (slices of u64, checksummed as samples are) and ends it.
// The waiter sleeps in SystemEvent::wait_for (wait) or on its fd in a WaitSet.
// Any error of any call ends the process with exit 1 and a line "error <call>: <error name>"; a
// check that fails prints "error <what>" the same way.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "axon/axon.hpp"

namespace {

using namespace axon;
using Clock = std::chrono::steady_clock;

/// How long a side waits for anything from its peer before it calls the run stalled. A
/// watchdog, never a verdict on speed: a healthy peer answers within microseconds.
constexpr auto kStallTimeout = std::chrono::seconds(20);

/// What this side has done so far, quoted by every error line ("after N samples, last 17").
struct Progress {
  const char* unit = nullptr;  ///< null: nothing counted yet
  std::uint64_t count = 0;
  std::uint64_t last = 0;
};
Progress g_progress;

[[noreturn]] void fail(const std::string& what) {
  if (g_progress.unit != nullptr) {
    std::printf("error %s (after %llu %s, last %llu)\n", what.c_str(),
                static_cast<unsigned long long>(g_progress.count), g_progress.unit,
                static_cast<unsigned long long>(g_progress.last));
  } else {
    std::printf("error %s\n", what.c_str());
  }
  std::fflush(stdout);
  std::exit(1);
}

template <typename E>
[[noreturn]] void fail(const std::string& call, const E& error) {
  fail(call + ": " + std::string(to_string(error)));
}

struct Options {
  std::string role;
  std::string name;
  std::string policy = "overwrite";
  std::string mode = "busy";
  std::string payload = "slice";
  std::string backend = "eventfd";
  double seconds = 2;
};

Options parse(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: axon_soak ROLE NAME [--policy P] [--mode M] [--payload K] "
                 "[--backend B] [--seconds S]\n");
    std::exit(2);
  }
  Options o;
  o.role = argv[1];
  o.name = argv[2];
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string_view key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--policy") {
      o.policy = value;
    } else if (key == "--mode") {
      o.mode = value;
    } else if (key == "--payload") {
      o.payload = value;
    } else if (key == "--backend") {
      o.backend = value;
    } else if (key == "--seconds") {
      o.seconds = std::stod(value);
    } else {
      std::fprintf(stderr, "axon_soak: unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  if ((argc - 3) % 2 != 0) {
    std::fprintf(stderr, "axon_soak: option without a value\n");
    std::exit(2);
  }
  return o;
}

OverflowPolicy policy_of(const std::string& p) {
  if (p == "overwrite") return OverflowPolicy::OverwriteOldest;
  if (p == "refuse") return OverflowPolicy::Refuse;
  if (p == "block") return OverflowPolicy::Block;
  fail("unknown policy " + p);
}

EventBackend backend_of(const std::string& b) {
  if (b == "eventfd") return EventBackend::EventFd;
  if (b == "fifo") return EventBackend::Fifo;
  fail("unknown backend " + b);
}

bool busy_of(const std::string& m) {
  if (m == "busy") return true;
  if (m == "waitset") return false;
  fail("unknown mode " + m);
}

Node make_node(const char* name) {
  auto node = NodeBuilder().name(name).create();
  if (!node) fail("NodeBuilder::create", node.error());
  return std::move(*node);
}

ServiceName service_name(const std::string& name) {
  auto n = ServiceName::create(name);
  if (!n) fail("ServiceName::create", n.error());
  return std::move(*n);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A busy poll that stays polite when the machine is oversubscribed: spin, and let another
/// thread run once in a while (a peer on the same core would otherwise wait a whole slice).
void poll_pause(std::uint64_t& idle) {
  if (++idle % 256 == 0) std::this_thread::yield();
}

// ---------------------------------------------------------------- publish-subscribe payloads

/// splitmix64: every word of a payload is a function of (sequence, publisher, position), so a
/// torn, stale or foreign chunk fails the check with near certainty.
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Words of the payload: [sequence, publisher id, flags, checksum, data...].
constexpr std::size_t kHeaderWords = 4;
constexpr std::uint64_t kFinalFlag = 1;

struct FixedPayload {
  static constexpr const char* AXON_TYPE_NAME = "axon_soak::FixedPayload";
  std::uint64_t words[32];  // 256 bytes
};

/// Slice length for sequence `seq`: varies over 4..516 words (32 B .. 4 KiB + 32 B).
constexpr std::uint64_t kMaxSliceWords = kHeaderWords + 512;
std::uint64_t slice_words(std::uint64_t seq) { return kHeaderWords + mix(seq) % 513; }

std::uint64_t checksum(std::span<const std::uint64_t> words) {
  std::uint64_t h = mix(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i != 3) h = mix(h ^ words[i]);
  }
  return h;
}

void fill(std::span<std::uint64_t> w, std::uint64_t seq, std::uint64_t publisher, bool final) {
  w[0] = seq;
  w[1] = publisher;
  w[2] = final ? kFinalFlag : 0;
  for (std::size_t i = kHeaderWords; i < w.size(); ++i) w[i] = mix(seq ^ (publisher << 20) ^ i);
  w[3] = checksum(w);
}

/// Checks a received payload against the sample's header; returns its flags.
std::uint64_t verify(std::span<const std::uint64_t> w, std::uint64_t seq, std::uint64_t publisher,
                     bool slice) {
  auto bad = [&](const char* what) {
    fail(std::string("sample ") + std::to_string(seq) + ": " + what);
  };
  if (w.size() < kHeaderWords) bad("payload shorter than its header");
  if (slice && w.size() != slice_words(seq)) bad("slice length does not match its sequence");
  if (w[0] != seq) bad("payload sequence differs from the chunk header's");
  if (w[1] != publisher) bad("payload publisher id differs from the chunk header's");
  if (w[3] != checksum(w)) bad("checksum mismatch");
  for (std::size_t i = kHeaderWords; i < w.size(); ++i) {
    if (w[i] != mix(seq ^ (publisher << 20) ^ i)) bad("payload word mismatch");
  }
  return w[2];
}

template <typename T>
std::span<std::uint64_t> words_of(SampleMut<T>& s) {
  if constexpr (std::is_same_v<T, FixedPayload>) {
    return std::span<std::uint64_t>(s.payload().words);
  } else {
    return s.payload();
  }
}

template <typename T>
std::span<const std::uint64_t> words_of(const Sample<T>& s) {
  if constexpr (std::is_same_v<T, FixedPayload>) {
    return std::span<const std::uint64_t>(s.payload().words);
  } else {
    return s.payload();
  }
}

template <typename T>
PubSubService<T> open_pubsub(Node& node, const Options& o) {
  auto service = node.service_builder(service_name(o.name))
                     .template publish_subscribe<T>()
                     .overflow_policy(policy_of(o.policy))
                     .open_or_create();
  if (!service) fail("publish_subscribe open_or_create", service.error());
  return std::move(*service);
}

EventService open_events(Node& node, const std::string& name, EventBackend backend) {
  auto service = node.service_builder(service_name(name)).event().backend(backend).open_or_create();
  if (!service) fail("event open_or_create", service.error());
  return std::move(*service);
}

template <typename T>
int run_publisher(const Options& o) {
  constexpr bool kSlice = !std::is_same_v<T, FixedPayload>;
  auto node = make_node("soak-publisher");
  auto service = open_pubsub<T>(node, o);
  auto publisher = [&] {
    auto builder = service.publisher_builder().max_slice_len(kSlice ? kMaxSliceWords : 1);
    // Block: a refusal would be a stall of a live subscriber, so give it far longer than any
    // scheduling hiccup; the run fails if one happens.
    auto p = std::move(builder).block_timeout(kStallTimeout).create();
    if (!p) fail("publisher create", p.error());
    return std::move(*p);
  }();
  // waitset mode: the subscriber is wakeable, so every send wakes it; nothing to set up here.
  // Samples reach only subscribers that exist when they are sent.
  const auto joined_by = Clock::now() + kStallTimeout;
  while (service.number_of_subscribers() < 1) {
    if (Clock::now() > joined_by) fail("no subscriber joined");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("ready publisher_id=%llu\n", static_cast<unsigned long long>(publisher.id()));
  std::fflush(stdout);

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  g_progress.unit = "samples sent";
  std::uint64_t seq = 0, delivered = 0, refused = 0;
  bool final_delivered = false;
  while (!final_delivered) {
    const bool final = (seq & 63) == 0 && Clock::now() >= end;
    const std::uint64_t len = kSlice ? slice_words(seq) : 1;
    auto sample = publisher.loan_uninit(len);
    if (!sample) fail("loan_uninit", sample.error());
    fill(words_of(*sample), seq, publisher.id(), final);
    auto sent = publisher.send(std::move(*sample));
    if (!sent) fail("send", sent.error());
    g_progress.count = seq + 1;
    g_progress.last = seq;
    if (*sent == 1) {
      ++delivered;
      final_delivered = final;
    } else if (*sent == 0) {
      ++refused;  // Refuse: the subscriber's buffer was full; it will see this as a gap
    } else {
      fail("send reached " + std::to_string(*sent) + " subscribers, expected 1");
    }
    ++seq;
  }
  const double elapsed = seconds_since(start);
  // Stay until the subscriber has taken the final sample and left: a publisher that leaves is
  // a different path (its samples drain from the subscriber's mapping), not the one soaked here.
  const auto left_by = Clock::now() + kStallTimeout;
  while (service.number_of_subscribers() > 0) {
    if (Clock::now() > left_by) fail("the subscriber did not finish after the final sample");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf(
      "result sent=%llu delivered=%llu refused=%llu final_seq=%llu seconds=%.3f "
      "rate=%.0f chunks_in_use=%zu\n",
      static_cast<unsigned long long>(seq), static_cast<unsigned long long>(delivered),
      static_cast<unsigned long long>(refused), static_cast<unsigned long long>(seq - 1), elapsed,
      static_cast<double>(seq) / elapsed, publisher.chunks_in_use());
  return 0;
}

template <typename T>
int run_subscriber(const Options& o) {
  constexpr bool kSlice = !std::is_same_v<T, FixedPayload>;
  const bool busy = busy_of(o.mode);
  auto node = make_node("soak-subscriber");
  auto service = open_pubsub<T>(node, o);
  // waitset mode: a wakeable subscriber, asleep in a WaitSet until a send wakes it.
  auto subscriber = service.subscriber_builder().wakeable(!busy).create();
  if (!subscriber) fail("subscriber create", subscriber.error());

  std::optional<WaitSet> waitset;
  std::optional<WaitSetGuard> guard;
  if (!busy) {
    auto w = WaitSetBuilder().signal_handling(false).create();
    if (!w) fail("WaitSet create", w.error());
    waitset.emplace(std::move(*w));
    auto g = waitset->attach_notification(*subscriber);
    if (!g) fail("attach_notification", g.error());
    guard.emplace(std::move(*g));
  }
  std::printf("ready\n");
  std::fflush(stdout);
  g_progress.unit = "samples received";

  std::uint64_t received = 0, gaps = 0, gap_runs = 0, max_gap = 0, wakeups = 0;
  std::optional<std::uint64_t> last_seq, publisher_id;
  std::optional<std::uint64_t> first_seq;
  bool final_seen = false;
  // The previous sample stays borrowed until the next one arrives and is checked again then:
  // a publisher that reused a chunk a subscriber still holds would be caught here.
  std::optional<Sample<T>> held;
  Clock::time_point start{};
  auto last_progress = Clock::now();

  // Takes every sample there is; true when one arrived.
  auto drain = [&]() {
    bool got = false;
    while (!final_seen) {
      auto r = subscriber->receive();
      if (!r) fail("receive", r.error());
      if (!*r) break;
      got = true;
      Sample<T> s = std::move(**r);
      const std::uint64_t seq = s.sequence();
      if (!publisher_id) {
        publisher_id = s.publisher_id();
        start = Clock::now();
        first_seq = seq;
      } else if (s.publisher_id() != *publisher_id) {
        fail("sample from a second publisher id");
      }
      const auto flags = verify(words_of(s), seq, s.publisher_id(), kSlice);
      if (last_seq && seq <= *last_seq) {
        fail("sequence " + std::to_string(seq) + " after " + std::to_string(*last_seq) +
             (seq == *last_seq ? " (duplicate)" : " (reordered)"));
      }
      const std::uint64_t skipped = last_seq ? seq - *last_seq - 1 : seq;
      if (skipped > 0) {
        gaps += skipped;
        ++gap_runs;
        max_gap = std::max(max_gap, skipped);
      }
      if (held) (void)verify(words_of(*held), held->sequence(), held->publisher_id(), kSlice);
      held.reset();
      held.emplace(std::move(s));
      last_seq = seq;
      ++received;
      g_progress.count = received;
      g_progress.last = seq;
      final_seen = (flags & kFinalFlag) != 0;
    }
    if (got) last_progress = Clock::now();
    return got;
  };

  std::uint64_t idle = 0;
  while (!final_seen) {
    if (busy) {
      if (!drain()) poll_pause(idle);
    } else {
      bool woken = false;
      auto r = waitset->wait_and_process_once_with_timeout(
          [&](AttachmentId id) {
            if (id.has_event_from(*guard)) {
              ++wakeups;
              woken = true;
            }
            return CallbackProgression::Continue;
          },
          std::chrono::milliseconds(200));
      if (!r) fail("wait_and_process_once_with_timeout", r.error());
      // Receiving until nothing comes quiets the subscriber; a sample sent after that wakes it
      // again. One found after a wait that timed out is a lost wake-up: the publisher sends at
      // full speed, so 200 ms without one while a sample waits has no other cause.
      if (drain() && !woken) fail("lost wake-up: a sample waited 200 ms without waking us");
    }
    if (Clock::now() - last_progress > kStallTimeout) {
      fail("stalled: no sample for " + std::to_string(kStallTimeout.count()) + " s after " +
           std::to_string(received) + " samples");
    }
  }
  if (held) (void)verify(words_of(*held), held->sequence(), held->publisher_id(), kSlice);
  const double elapsed = seconds_since(start);
  std::printf(
      "result received=%llu gaps=%llu gap_runs=%llu max_gap=%llu first_seq=%llu "
      "final_seq=%llu wakeups=%llu seconds=%.3f rate=%.0f\n",
      static_cast<unsigned long long>(received), static_cast<unsigned long long>(gaps),
      static_cast<unsigned long long>(gap_runs), static_cast<unsigned long long>(max_gap),
      static_cast<unsigned long long>(*first_seq), static_cast<unsigned long long>(*last_seq),
      static_cast<unsigned long long>(wakeups), elapsed, static_cast<double>(received) / elapsed);
  return 0;
}

// ---------------------------------------------------------------- events

/// Ids 0..kIds-1 carry the counted notifications; kDoneId, notified once after them, ends the run.
constexpr std::uint64_t kIds = 8;
constexpr std::uint64_t kDoneId = 100;

/// The id of the n-th notification: uneven, so the ids end with different totals.
std::uint64_t id_of(std::uint64_t n) { return (n * 5 + n / 7 + (n >> 4) % 3) % kIds; }

int run_notifier(const Options& o) {
  auto node = make_node("soak-notifier");
  auto service = open_events(node, o.name, backend_of(o.backend));
  auto notifier = service.notifier_builder().create();
  if (!notifier) fail("notifier create", notifier.error());
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<std::uint64_t> sent(kIds, 0);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  std::uint64_t n = 0;
  auto notify = [&](std::uint64_t id) {
    auto r = notifier->notify(EventId(id));
    if (!r) fail("notify", r.error());
    if (*r != 1) fail("notify reached " + std::to_string(*r) + " listeners, expected 1");
  };
  g_progress.unit = "notifications";
  while ((n & 1023) != 0 || Clock::now() < end) {
    const auto id = id_of(n);
    g_progress.count = n++;
    notify(id);
    ++sent[id];
  }
  notify(kDoneId);
  const double elapsed = seconds_since(start);
  std::printf("result notifications=%llu seconds=%.3f rate=%.0f",
              static_cast<unsigned long long>(n), elapsed, static_cast<double>(n) / elapsed);
  for (std::uint64_t id = 0; id < kIds; ++id) {
    std::printf(" id%llu=%llu", static_cast<unsigned long long>(id),
                static_cast<unsigned long long>(sent[id]));
  }
  std::printf("\n");
  return 0;
}

int run_listener(const Options& o) {
  const bool busy = busy_of(o.mode);
  auto node = make_node("soak-listener");
  auto service = open_events(node, o.name, backend_of(o.backend));
  auto listener = service.listener_builder().create();
  if (!listener) fail("listener create", listener.error());
  std::optional<WaitSet> waitset;
  std::optional<WaitSetGuard> guard;
  if (!busy) {
    auto w = WaitSetBuilder().signal_handling(false).create();
    if (!w) fail("WaitSet create", w.error());
    waitset.emplace(std::move(*w));
    auto g = waitset->attach_notification(*listener);
    if (!g) fail("attach_notification", g.error());
    guard.emplace(std::move(*g));
  }
  std::printf("ready\n");
  std::fflush(stdout);

  g_progress.unit = "notifications received";
  std::vector<std::uint64_t> got(kIds, 0);
  std::uint64_t done = 0, drains = 0, late = 0, empty_wakeups = 0;
  auto on_event = [&](EventId id, std::uint64_t count) {
    if (count == 0) fail("listener reported id " + std::to_string(id.value) + " with count 0");
    g_progress.count += count;
    if (id.value < kIds) {
      got[id.value] += count;
      if (done > 0) late += count;
    } else if (id.value == kDoneId) {
      done += count;
    } else {
      fail("listener reported id " + std::to_string(id.value) + ", never notified");
    }
  };
  auto last_progress = Clock::now();
  std::uint64_t idle = 0;
  while (done == 0) {
    std::size_t seen = 0;
    if (busy) {
      auto r = listener->try_wait(on_event);
      if (!r) fail("listener try_wait", r.error());
      seen = *r;
      if (seen == 0) poll_pause(idle);
    } else {
      auto r = waitset->wait_and_process_once_with_timeout(
          [&](AttachmentId id) {
            if (id.has_event_from(*guard)) {
              auto w = listener->try_wait(on_event);
              if (!w) fail("listener try_wait", w.error());
              seen += *w;
              if (*w == 0) ++empty_wakeups;
            }
            return CallbackProgression::Continue;
          },
          std::chrono::milliseconds(200));
      if (!r) fail("wait_and_process_once_with_timeout", r.error());
    }
    if (seen > 0) {
      ++drains;
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress > kStallTimeout) {
      fail("stalled: no notification for " + std::to_string(kStallTimeout.count()) + " s");
    }
  }
  // The done id was notified after every counted one; anything still pending arrives now (and
  // is reported as late: the contract says a drain sees it or a new wake-up announces it).
  for (;;) {
    auto r = listener->timed_wait(on_event, std::chrono::milliseconds(100));
    if (!r) fail("listener timed_wait", r.error());
    if (*r == 0) break;
  }
  std::uint64_t total = 0;
  for (auto g : got) total += g;
  std::printf("result notifications=%llu drains=%llu done=%llu late=%llu empty_wakeups=%llu",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(drains),
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(late),
              static_cast<unsigned long long>(empty_wakeups));
  for (std::uint64_t id = 0; id < kIds; ++id) {
    std::printf(" id%llu=%llu", static_cast<unsigned long long>(id),
                static_cast<unsigned long long>(got[id]));
  }
  std::printf("\n");
  return 0;
}

// ---------------------------------------------------------------- SystemEvent
//
// Four events: EVENT (toggled), EVENT/ack (the waiter's answer), EVENT/free (the setter's
// switch to phase 2) and EVENT/done (end of phase 2). From design.md §9: the state word counts
// changes, a waiter that slept through a set+clear still returns true, and only the two sides
// below change these events.
// Phase 1, lock-step rounds, precise: the setter finds EVENT clear, sets it; the waiter's wait
// returns true and finds it set (nobody else clears it), clears it, finds it clear, sets ack;
// the setter's wait on ack returns true, it clears ack. Both count rounds; the counts are equal.
// Phase 2, free-running: the setter toggles clear/set as fast as it can; every wait of the waiter
// returns true (a set happened during it or it was set at entry), never a timeout; the setter
// ends with set, so the waiter's last wait returns at once and finds EVENT set.

SystemEvent open_event(const std::string& name) {
  auto e = SystemEvent::open(name);
  if (!e) fail("SystemEvent::open " + name + ": " + to_string(e.error()));
  return std::move(*e);
}

bool wait_true(const SystemEvent& e, const char* what) {
  auto r = e.wait_for(kStallTimeout);
  if (!r) fail(std::string(what) + " wait_for", r.error());
  if (!*r)
    fail(std::string(what) + ": wait_for timed out (" + std::to_string(kStallTimeout.count()) +
         " s) with the peer running");
  return true;
}

int run_setter(const Options& o) {
  auto event = open_event(o.name);
  auto ack = open_event(o.name + "/ack");
  auto free_run = open_event(o.name + "/free");
  auto done = open_event(o.name + "/done");
  std::printf("ready\n");
  std::fflush(stdout);
  const auto start = Clock::now();
  const auto half = start + std::chrono::duration<double>(o.seconds / 2);
  const auto end = start + std::chrono::duration<double>(o.seconds);
  std::uint64_t rounds = 0;
  while (Clock::now() < half) {
    if (event.is_set()) fail("round " + std::to_string(rounds) + ": event set before set()");
    event.set();
    wait_true(ack, "ack");
    if (!ack.is_set()) fail("round " + std::to_string(rounds) + ": ack clear after its wait");
    ack.clear();
    ++rounds;
  }
  const double lockstep_seconds = seconds_since(start);
  free_run.set();
  event.set();  // wakes the waiter into phase 2
  wait_true(ack, "ack of phase 2");
  ack.clear();
  std::uint64_t toggles = 0;
  while ((toggles & 255) != 0 || Clock::now() < end) {
    event.clear();
    event.set();
    ++toggles;
  }
  done.set();
  event.set();
  const double elapsed = seconds_since(start);
  std::printf("result rounds=%llu round_rate=%.0f toggles=%llu seconds=%.3f\n",
              static_cast<unsigned long long>(rounds),
              static_cast<double>(rounds) / lockstep_seconds,
              static_cast<unsigned long long>(toggles), elapsed);
  return 0;
}

int run_waiter(const Options& o) {
  if (o.mode != "wait" && o.mode != "waitset") fail("unknown mode " + o.mode);
  const bool busy = o.mode == "wait";
  auto event = open_event(o.name);
  auto ack = open_event(o.name + "/ack");
  auto free_run = open_event(o.name + "/free");
  auto done = open_event(o.name + "/done");
  std::optional<WaitSet> waitset;
  std::optional<WaitSetGuard> guard;
  if (!busy) {
    auto fd = event.fd();
    if (!fd) fail("SystemEvent::fd", fd.error());
    auto w = WaitSetBuilder().signal_handling(false).create();
    if (!w) fail("WaitSet create", w.error());
    waitset.emplace(std::move(*w));
    auto g = waitset->attach_fd(*fd, FdInterest::Read);
    if (!g) fail("attach_fd", g.error());
    guard.emplace(std::move(*g));
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::uint64_t rounds = 0, fd_wakeups = 0;
  for (;;) {
    if (busy) {
      wait_true(event, "event");
    } else {
      // The fd is readable exactly while the event is set (no other process changes it now).
      bool readable = false;
      const auto by = Clock::now() + kStallTimeout;
      while (!readable) {
        auto batch = waitset->wait(std::chrono::milliseconds(200));
        if (!batch) fail("WaitSet wait", batch.error());
        for (const auto& id : batch->triggered) readable = readable || id.has_event_from(*guard);
        if (!readable && Clock::now() > by) fail("event fd not readable for 20 s");
      }
      ++fd_wakeups;
    }
    if (free_run.is_set()) break;
    if (!event.is_set()) fail("round " + std::to_string(rounds) + ": woken but event clear");
    event.clear();
    if (event.is_set()) fail("round " + std::to_string(rounds) + ": set again after clear()");
    ack.set();
    ++rounds;
  }
  ack.set();
  std::uint64_t waits = 0;
  while (!done.is_set()) {
    wait_true(event, "free-running event");
    ++waits;
  }
  wait_true(event, "final event");
  if (!event.is_set()) fail("the setter's final set() is not visible");
  std::printf("result rounds=%llu waits=%llu fd_wakeups=%llu\n",
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(waits),
              static_cast<unsigned long long>(fd_wakeups));
  return 0;
}

// ---------------------------------------------------------------- request-response
//
// A request is a slice of slice_words(seq) words filled as a sample (sequence = the request's
// number, "publisher" = the client id); the stop request carries kFinalFlag and asks for no
// response. The server answers request `seq` with stream_length(seq) responses, response `i`
// a slice of slice_words(i) words filled with sequence i and "publisher" = the request id, the
// last one flagged final, so that a response of another request or a torn one fails verify().
// Per stream the client checks strictly increasing sequences equal to the chunk's, and counts
// what is missing (gaps) once the stream is done: none under Block, exactly the server's refused
// sends under Refuse.

using RrWords = Slice<std::uint64_t>;

std::uint64_t stream_length(std::uint64_t seq) { return 1 + mix(seq ^ 0x5eed) % 16; }

RequestResponseService<RrWords, RrWords> open_rr(Node& node, const Options& o) {
  auto service = node.service_builder(service_name(o.name))
                     .request_response<RrWords, RrWords>()
                     .overflow_policy(policy_of(o.policy))
                     .open_or_create();
  if (!service) fail("request_response open_or_create", service.error());
  return std::move(*service);
}

int run_server(const Options& o) {
  auto node = make_node("soak-server");
  auto service = open_rr(node, o);
  // Block: a refusal would be a stall of a live client, so give it far longer than any
  // scheduling hiccup; the run fails if one happens.
  auto server = service.server_builder()
                    .max_slice_len(kMaxSliceWords)
                    .block_timeout(kStallTimeout)
                    .create();
  if (!server) fail("server create", server.error());
  const bool block = o.policy == "block";
  std::printf("ready\n");
  std::fflush(stdout);
  g_progress.unit = "requests served";
  std::uint64_t requests = 0, responses = 0, refused = 0, idle = 0;
  auto last_progress = Clock::now();
  bool stop = false;
  while (!stop) {
    auto received = server->receive();
    if (!received) fail("server receive", received.error());
    if (!*received) {
      poll_pause(idle);
      if (Clock::now() - last_progress > kStallTimeout) fail("stalled: no request for 20 s");
      continue;
    }
    last_progress = Clock::now();
    auto request = std::move(**received);
    const auto words = request.payload();
    if (words.size() < kHeaderWords) fail("request shorter than its header");
    const std::uint64_t seq = words[0];
    const auto flags = verify(words, seq, request.client_id(), true);
    stop = (flags & kFinalFlag) != 0;
    const std::uint64_t n = stop ? 0 : stream_length(seq);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto response = request.loan_uninit(slice_words(i));
      if (!response) fail("response loan_uninit", response.error());
      fill(response->payload(), i, request.request_id(), i + 1 == n);
      auto sent = request.send(std::move(*response));
      if (sent) {
        ++responses;
      } else if (sent.error() == ResponseSendError::BufferFull && !block) {
        ++refused;  // Refuse: the client's buffer was full; it sees this as a gap
      } else {
        fail("response send", sent.error());
      }
    }
    ++requests;
    g_progress.count = requests;
    g_progress.last = seq;
  }  // the last ActiveRequest drops here: its stream ends
  // Every response chunk must come back once the client has left.
  const auto left_by = Clock::now() + kStallTimeout;
  while (service.number_of_clients() > 0) {
    if (Clock::now() > left_by) fail("the client did not leave after the stop request");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("result requests=%llu responses=%llu refused=%llu chunks_in_use=%zu\n",
              static_cast<unsigned long long>(requests),
              static_cast<unsigned long long>(responses),
              static_cast<unsigned long long>(refused), server->chunks_in_use());
  return 0;
}

int run_client(const Options& o) {
  auto node = make_node("soak-client");
  auto service = open_rr(node, o);
  auto client = service.client_builder().max_slice_len(kMaxSliceWords).create();
  if (!client) fail("client create", client.error());
  // Requests reach only servers that exist when they are sent.
  const auto joined_by = Clock::now() + kStallTimeout;
  while (client->number_of_servers() < 1) {
    if (Clock::now() > joined_by) fail("no server joined");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("ready client_id=%llu\n", static_cast<unsigned long long>(client->id()));
  std::fflush(stdout);

  struct Stream {
    PendingResponse<RrWords, RrWords> pending;
    std::uint64_t seq;
    std::uint64_t received = 0;
    std::optional<std::uint64_t> last;
  };
  std::deque<Stream> streams;
  std::uint64_t seq = 0, responses = 0, gaps = 0, gap_streams = 0, busy = 0, idle = 0;
  auto send = [&](bool final) {
    auto request = client->loan_uninit(slice_words(seq));
    if (!request) fail("request loan_uninit", request.error());
    fill(request->payload(), seq, client->id(), final);
    auto sent = client->send(std::move(*request));
    if (!sent) {
      // The server has not ended a stream we dropped yet: its channel is still taken.
      if (sent.error() != RequestSendError::ExceedsMaxActiveRequests) fail("send", sent.error());
      ++busy;
      return false;
    }
    if (sent->number_of_server_connections() != 1) fail("request reached no server");
    streams.push_back(Stream{std::move(*sent), seq++, 0, std::nullopt});
    return true;
  };
  // Takes every response there is of `s`; true when one arrived.
  auto drain = [&](Stream& s) {
    bool got = false;
    for (;;) {
      auto r = s.pending.receive();
      if (!r) fail("receive", r.error());
      if (!*r) return got;
      got = true;
      const auto& response = **r;
      const std::uint64_t i = response.sequence();
      (void)verify(response.payload(), i, s.pending.request_id(), true);
      if (s.last && i <= *s.last) fail("response sequence " + std::to_string(i) + " after " +
                                       std::to_string(*s.last));
      if (i >= stream_length(s.seq)) fail("response beyond the stream's length");
      s.last = i;
      ++s.received;
      ++responses;
    }
  };

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  g_progress.unit = "responses received";
  auto last_progress = Clock::now();
  while (Clock::now() < end || !streams.empty()) {
    if (Clock::now() < end && streams.size() < 3) (void)send(false);
    bool got = false;
    for (auto& s : streams) got = drain(s) || got;
    while (!streams.empty() && streams.front().pending.is_done()) {
      auto& s = streams.front();
      (void)drain(s);  // is_done says everything was received; nothing may come now
      const auto missing = stream_length(s.seq) - s.received;
      gaps += missing;
      gap_streams += missing > 0 ? 1 : 0;
      streams.pop_front();
      got = true;
    }
    g_progress.count = responses;
    g_progress.last = seq;
    if (got) {
      last_progress = Clock::now();
    } else {
      poll_pause(idle);
      if (Clock::now() - last_progress > kStallTimeout) fail("stalled: no response for 20 s");
    }
  }
  const double elapsed = seconds_since(start);
  // The stop request: the server ends its stream and leaves.
  const auto stop_by = Clock::now() + kStallTimeout;
  while (!send(true)) {
    if (Clock::now() > stop_by) fail("no channel came free for the stop request");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  while (!streams.front().pending.is_done()) {
    (void)drain(streams.front());
    if (Clock::now() > stop_by) fail("the stop request was never ended");
  }
  std::printf(
      "result requests=%llu responses=%llu gaps=%llu gap_streams=%llu busy=%llu seconds=%.3f "
      "rate=%.0f\n",
      static_cast<unsigned long long>(seq - 1), static_cast<unsigned long long>(responses),
      static_cast<unsigned long long>(gaps), static_cast<unsigned long long>(gap_streams),
      static_cast<unsigned long long>(busy), elapsed, static_cast<double>(responses) / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // A driver killed by ctest's timeout must not leave both sides running for minutes.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return 3;
  const auto o = parse(argc, argv);
  const bool slice = o.payload == "slice";
  if (o.payload != "slice" && o.payload != "fixed") fail("unknown payload " + o.payload);
  if (o.role == "publisher") {
    return slice ? run_publisher<Slice<std::uint64_t>>(o) : run_publisher<FixedPayload>(o);
  }
  if (o.role == "subscriber") {
    return slice ? run_subscriber<Slice<std::uint64_t>>(o) : run_subscriber<FixedPayload>(o);
  }
  if (o.role == "notifier") return run_notifier(o);
  if (o.role == "listener") return run_listener(o);
  if (o.role == "setter") return run_setter(o);
  if (o.role == "waiter") return run_waiter(o);
  if (o.role == "server") return run_server(o);
  if (o.role == "client") return run_client(o);
  std::fprintf(stderr, "axon_soak: unknown role %s\n", o.role.c_str());
  return 2;
}
