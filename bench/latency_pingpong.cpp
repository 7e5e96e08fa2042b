// latency_pingpong: round-trip latency between two processes, axon next to the raw OS primitives
// it is built from, every mode measured the same way.
//
//   latency_pingpong --mode MODE [--size BYTES] [--rounds N] [--warmup N] [--timeout S]
//   latency_pingpong --list
//
// The process forks right after parsing. The parent (the initiator, pinned to the first allowed
// CPU) sends a counter and waits for it to come back; the child (the responder, pinned to the
// second) answers each message with the same counter. Each side builds its own ports after the
// fork (its own axon Node), both meet at a barrier in an anonymous shared page, then the parent
// times every round trip with steady_clock (CLOCK_MONOTONIC). Warm-up rounds are not recorded.
//
// Zero-copy modes (axon-pubsub-*, axon-rr-*, raw-spin, iceoryx-*) write only the first 8 bytes of the
// payload (the counter) and read only those, so their cost must not depend on the size. Copying
// modes (raw-uds, raw-boost-mq) move the whole payload each way. Event modes carry no payload:
// the counter travels as the event id (mod 4096), the eventfd value or the pipe byte (mod 256),
// so every mode checks that each reply answers the message it just sent. The core-* modes drive
// axon's shared-memory structures directly, without the pub-sub layer (64-byte chunks whatever
// the size), to split the pub-sub round trip into its parts.
//
// Output: one JSON object on stdout. Setup and transport errors: stderr, exit 1. Usage errors
// (unknown mode, bad size): stderr, exit 2. Every object a run creates (axon services, message
// queues) has the parent's pid in its name and is removed at the end.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "axon/axon.hpp"
#include "axon/core/chunk_pool.hpp"
#include "axon/core/spsc_queue.hpp"
#include "axon/core/service_layout.hpp"

#if defined(AXON_BENCH_WITH_ICEORYX)
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#endif

#if defined(AXON_BENCH_WITH_FASTDDS)
#include <fastdds/dds/core/LoanableSequence.hpp>
#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/log/Log.hpp>
#include <fastdds/dds/log/StdoutErrConsumer.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TopicDataType.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>
#include <fastdds/rtps/transport/shared_mem/SharedMemTransportDescriptor.h>
#endif

namespace {

constexpr std::uint64_t kMinSize = 8;  // the counter
constexpr std::uint64_t kMaxSize = std::uint64_t{64} << 20;
// raw-uds sends a payload as SOCK_SEQPACKET messages of at most this size: one unix datagram
// cannot exceed the socket's send buffer (net.core.wmem_default, 208 KiB here), so 4 MiB cannot
// travel as one. Sizes up to this go as one message.
constexpr std::size_t kUdsMaxMessage = std::size_t{64} * 1024;
constexpr std::uint64_t kEventIdMask = 4095;       // axon's default event_id_max_value
constexpr std::uint64_t kMaxRounds = 100'000'000;  // 800 MB of samples

enum class Mode {
  AxonPubSubSpin,
  AxonPubSubWaitSet,
  AxonPubSubWake,
  AxonPubSubWaitSetPoll,
  AxonRequestResponseSpin,
  AxonRequestResponseWaitSet,
  AxonEventWaitSet,
  AxonEventWaitSetFifo,
  AxonEventBlocking,
  AxonEventWaitSetPoll,
  RawSpin,
  RawSpinOneLine,
  RawEpollEventFd,
  RawEventFd,
  RawFifo,
  RawUds,
  RawBoostMq,
  CoreQueueSpin,
  CorePoolQueuesSpin,
  IceoryxPubSubSpin,
  IceoryxPubSubWaitSet,
  FastDdsShm,
  FastDdsLoan,
};

struct ModeInfo {
  Mode mode;
  std::string_view name;
  std::string_view what;
};

constexpr ModeInfo kModes[] = {
    {Mode::AxonPubSubSpin, "axon-pubsub-spin",
     "axon publish-subscribe (Slice<uint8_t>), receiver busy-polls receive()"},
    {Mode::AxonPubSubWaitSet, "axon-pubsub-waitset",
     "axon publish-subscribe, receiver sleeps in a WaitSet (notify_on_send)"},
    {Mode::AxonPubSubWake, "axon-pubsub-wake",
     "axon publish-subscribe, wakeable subscriber sleeps in a WaitSet (no budget)"},
    {Mode::AxonPubSubWaitSetPoll, "axon-pubsub-waitset-poll",
     "axon publish-subscribe, wakeable subscriber in a WaitSet with a busy-poll budget"},
    {Mode::AxonRequestResponseSpin, "axon-rr-spin",
     "axon request-response (Slice<uint8_t>): one request, one response; both busy-poll"},
    {Mode::AxonRequestResponseWaitSet, "axon-rr-waitset",
     "axon request-response, both sleep in a WaitSet (notify_on_send)"},
    {Mode::AxonEventWaitSet, "axon-event-waitset",
     "axon events (eventfd backend): notify / WaitSet + try_wait"},
    {Mode::AxonEventBlocking, "axon-event-blocking",
     "events (eventfd backend), the receiver sleeps in the listener's own blocking_wait, no WaitSet"},
    {Mode::AxonEventWaitSetFifo, "axon-event-waitset-fifo",
     "axon events (FIFO backend): notify / WaitSet + try_wait"},
    {Mode::AxonEventWaitSetPoll, "axon-event-waitset-poll",
     "axon events (eventfd backend): notify / WaitSet with a busy-poll budget + try_wait"},
    {Mode::RawSpin, "raw-spin", "baseline: two atomics in a shared page, both sides busy-poll"},
    {Mode::RawSpinOneLine, "raw-spin-1line",
     "baseline: payload and flag in one cache line a way, both sides busy-poll (the limit)"},
    {Mode::RawEpollEventFd, "raw-epoll-eventfd", "baseline: two eventfds, epoll_wait then read"},
    {Mode::RawEventFd, "raw-eventfd",
     "baseline: two eventfds, blocking read (no epoll: a single-source wait)"},
    {Mode::RawFifo, "raw-fifo", "baseline: two pipes (1 byte), epoll_wait then read"},
    {Mode::RawUds, "raw-uds", "baseline: unix SOCK_SEQPACKET socketpair, payload copied"},
    {Mode::RawBoostMq, "raw-boost-mq",
     "baseline: Boost.Interprocess message_queue, payload copied"},
    {Mode::CoreQueueSpin, "core-queue-spin",
     "decomposition: one axon SpscIndexQueue a way, busy-polled (no pub-sub layer)"},
    {Mode::CorePoolQueuesSpin, "core-pool-queues-spin",
     "decomposition: axon's chunk pool + submission/completion queues, busy-polled"},
#if defined(AXON_BENCH_WITH_ICEORYX)
    {Mode::IceoryxPubSubSpin, "iceoryx-pubsub-spin",
     "peer: iceoryx 2.0 publish-subscribe, receiver busy-polls take() (RouDi: see below)"},
    {Mode::IceoryxPubSubWaitSet, "iceoryx-waitset",
     "peer: iceoryx 2.0 publish-subscribe, receiver sleeps in a WaitSet (needs RouDi)"},
#endif
#if defined(AXON_BENCH_WITH_FASTDDS)
    {Mode::FastDdsShm, "fastdds-shm",
     "peer: Fast DDS 2.9, shared-memory transport, payload serialized; reader sleeps"},
    {Mode::FastDdsLoan, "fastdds-loan",
     "peer: Fast DDS 2.9, data-sharing with loans (zero-copy), plain type; reader sleeps"},
#endif
};

struct Options {
  Mode mode = Mode::RawSpin;
  std::string_view mode_name;
  std::uint64_t size = 8;
  std::uint64_t rounds = 10000;
  std::uint64_t warmup = 1000;
  unsigned timeout_s = 300;
  /// The WaitSet busy-poll budget of the *-poll modes (--busy-poll, in microseconds).
  std::chrono::microseconds busy_poll{20};
};

/// The modes whose WaitSet gets the --busy-poll budget; every other WaitSet has none.
constexpr bool polls(Mode mode) {
  return mode == Mode::AxonPubSubWaitSetPoll || mode == Mode::AxonEventWaitSetPoll;
}

enum class Role { Initiator, Responder };

constexpr const char* kUsage =
    "usage: latency_pingpong --mode MODE [--size BYTES] [--rounds N] [--warmup N] [--timeout S]\n"
    "                        [--busy-poll US]\n"
    "       latency_pingpong --list | --help\n";

void print_help() {
  std::printf("%s", kUsage);
  std::printf(
      "\nRound-trip latency between two processes (parent pinned to CPU 0, child to CPU 1).\n"
      "Prints one JSON object: mode, size, rounds, median_ns, p90_ns, p99_ns, p999_ns, max_ns,\n"
      "mean_ns, cpu_ns_per_rt (CPU time of both processes over the timed rounds, per round\n"
      "trip; busy_poll_us too in the *-poll modes). Defaults: --size 8 (min %llu, max %llu),\n"
      "--rounds 10000, --warmup 1000, --timeout 300 (seconds; both processes are killed when\n"
      "it passes), --busy-poll 20 (microseconds, the *-poll modes' WaitSet budget; 0..1000000).\n"
      "Event, raw-spin-1line and core-* modes ignore the size.\n\nModes:\n",
      static_cast<unsigned long long>(kMinSize), static_cast<unsigned long long>(kMaxSize));
  for (const auto& m : kModes) {
    std::printf("  %-24s %.*s\n", std::string(m.name).c_str(), static_cast<int>(m.what.size()),
                m.what.data());
  }
#if !defined(AXON_BENCH_WITH_ICEORYX)
  std::printf("  (iceoryx-* modes: not built; install libiceoryx-posh-dev and reconfigure)\n");
#endif
#if !defined(AXON_BENCH_WITH_FASTDDS)
  std::printf("  (fastdds-* modes: not built; install libfastrtps-dev and reconfigure)\n");
#endif
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

/// Parses argv; returns an exit code when the run should stop here (help, list, usage error).
std::optional<int> parse(int argc, char** argv, Options& options) {
  bool have_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help();
      return 0;
    }
    if (arg == "--list") {
      for (const auto& m : kModes) {
        std::printf("%.*s\n", static_cast<int>(m.name.size()), m.name.data());
      }
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "latency_pingpong: %s needs a value\n%s", argv[i], kUsage);
      return 2;
    }
    const std::string_view value = argv[++i];
    if (arg == "--mode") {
      const auto* found = std::find_if(std::begin(kModes), std::end(kModes),
                                       [&](const ModeInfo& m) { return m.name == value; });
      if (found == std::end(kModes)) {
        std::fprintf(stderr, "latency_pingpong: unknown mode \"%s\" (--list shows them)\n",
                     argv[i]);
        return 2;
      }
      options.mode = found->mode;
      options.mode_name = found->name;
      have_mode = true;
      continue;
    }
    const auto number = parse_u64(value);
    if (!number) {
      std::fprintf(stderr, "latency_pingpong: %s: \"%s\" is not a number\n", argv[i - 1], argv[i]);
      return 2;
    }
    if (arg == "--size") {
      if (*number < kMinSize || *number > kMaxSize) {
        std::fprintf(stderr, "latency_pingpong: --size must be %llu..%llu bytes, not %s\n",
                     static_cast<unsigned long long>(kMinSize),
                     static_cast<unsigned long long>(kMaxSize), argv[i]);
        return 2;
      }
      options.size = *number;
    } else if (arg == "--rounds") {
      if (*number == 0 || *number > kMaxRounds) {
        std::fprintf(stderr, "latency_pingpong: --rounds must be 1..%llu\n",
                     static_cast<unsigned long long>(kMaxRounds));
        return 2;
      }
      options.rounds = *number;
    } else if (arg == "--warmup") {
      if (*number > kMaxRounds) {
        std::fprintf(stderr, "latency_pingpong: --warmup must be 0..%llu\n",
                     static_cast<unsigned long long>(kMaxRounds));
        return 2;
      }
      options.warmup = *number;
    } else if (arg == "--busy-poll") {
      if (*number > 1'000'000) {
        std::fprintf(stderr, "latency_pingpong: --busy-poll must be 0..1000000 microseconds\n");
        return 2;
      }
      options.busy_poll = std::chrono::microseconds(*number);
    } else if (arg == "--timeout") {
      if (*number == 0 || *number > 86400) {
        std::fprintf(stderr, "latency_pingpong: --timeout must be 1..86400 seconds\n");
        return 2;
      }
      options.timeout_s = static_cast<unsigned>(*number);
    } else {
      std::fprintf(stderr, "latency_pingpong: unknown option \"%s\"\n%s", argv[i - 1], kUsage);
      return 2;
    }
  }
  if (!have_mode) {
    std::fprintf(stderr, "latency_pingpong: --mode is required\n%s", kUsage);
    return 2;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// What both processes share: created before the fork in one anonymous MAP_SHARED mapping.

struct alignas(64) Line {
  std::atomic<std::uint64_t> value{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

/// raw-spin-1line: one direction's sequence word and payload in a single cache line, so a
/// message moves one line from the writer's cache to the reader's.
struct alignas(64) OneLine {
  std::atomic<std::uint64_t> sequence{0};
  std::atomic<std::uint64_t> payload{0};  ///< the counter; relaxed: published by `sequence`
};
static_assert(sizeof(OneLine) == 64);

struct Control {
  Line arrived;  ///< barrier: each side adds 1 per rendezvous
  Line failed;   ///< a side whose setup or loop failed sets it, so the other stops waiting
  Line ping;     ///< raw-spin: the last counter the initiator sent
  Line pong;     ///< raw-spin: the last counter the responder sent back
  OneLine ping_line;  ///< raw-spin-1line, initiator to responder
  OneLine pong_line;  ///< raw-spin-1line, responder to initiator
  /// CPU time (ns, CLOCK_PROCESS_CPUTIME_ID: every thread of the process) each side spent over
  /// the timed rounds; written before the closing rendezvous.
  Line initiator_cpu_ns;
  Line responder_cpu_ns;
};

class SharedPage {
 public:
  /// The Control block followed by two buffers of `buffer_size` bytes, each on its own page:
  /// raw-spin's ping and pong payloads, or the core-* modes' structures of each direction.
  static std::optional<SharedPage> create(std::uint64_t buffer_size) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t buffer = (static_cast<std::size_t>(buffer_size) + page - 1) / page * page;
    const std::size_t bytes = page + 2 * buffer;
    void* memory =
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return std::nullopt;
    // SAFETY: fresh zeroed mapping, page-aligned, large enough; Control is built there once.
    auto* control = new (memory) Control{};
    auto* base = static_cast<std::byte*>(memory);
    return SharedPage(control, base + page, base + page + buffer, memory, bytes);
  }
  SharedPage(SharedPage&& other) noexcept
      : m_control(other.m_control),
        m_ping(other.m_ping),
        m_pong(other.m_pong),
        m_memory(std::exchange(other.m_memory, nullptr)),
        m_bytes(other.m_bytes) {}
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;
  SharedPage& operator=(SharedPage&&) = delete;
  ~SharedPage() {
    if (m_memory != nullptr) ::munmap(m_memory, m_bytes);
  }
  Control& control() const { return *m_control; }
  std::byte* ping_buffer() const { return m_ping; }
  std::byte* pong_buffer() const { return m_pong; }

 private:
  SharedPage(Control* control, std::byte* ping, std::byte* pong, void* memory, std::size_t bytes)
      : m_control(control), m_ping(ping), m_pong(pong), m_memory(memory), m_bytes(bytes) {}
  Control* m_control;
  std::byte* m_ping;
  std::byte* m_pong;
  void* m_memory;
  std::size_t m_bytes;
};

/// Both sides call it with the same `generation` (1, 2, ...); false when the other side failed.
bool rendezvous(Control& control, std::uint64_t generation) {
  // ORDERING: acq_rel/acquire: what a side did before arriving happens before the other leaves.
  control.arrived.value.fetch_add(1, std::memory_order_acq_rel);
  while (control.arrived.value.load(std::memory_order_acquire) < 2 * generation) {
    if (control.failed.value.load(std::memory_order_relaxed) != 0) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return control.failed.value.load(std::memory_order_relaxed) == 0;
}

/// Pid-unique names, computed before the fork so both sides agree.
struct Names {
  std::string axon_ping, axon_pong, axon_ping_ready, axon_pong_ready;
  std::string mq_ping, mq_pong;
  std::string pid;
  explicit Names(pid_t parent) : pid(std::to_string(parent)) {
    axon_ping = "axon-bench/latency/" + pid + "/ping";
    axon_pong = "axon-bench/latency/" + pid + "/pong";
    axon_ping_ready = axon_ping + "-ready";
    axon_pong_ready = axon_pong + "-ready";
    mq_ping = "axon_bench_mq_" + pid + "_ping";
    mq_pong = "axon_bench_mq_" + pid + "_pong";
  }
};

/// Descriptors the raw baselines create before the fork (an eventfd is both ends of its way).
struct RawFds {
  int ping_read = -1, ping_write = -1;
  int pong_read = -1, pong_write = -1;
  int socket[2] = {-1, -1};
  void close_all() {
    std::array<int*, 6> all{&ping_read,  &ping_write, &pong_read,
                            &pong_write, &socket[0],  &socket[1]};
    for (std::size_t i = 0; i < all.size(); ++i) {
      const bool seen_before =
          std::any_of(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(i),
                      [&](const int* other) { return *other == *all[i]; });
      if (*all[i] >= 0 && !seen_before) ::close(*all[i]);
    }
    for (int* fd : all) *fd = -1;
  }
};

struct Context {
  const Options& options;
  const Names& names;
  SharedPage& page;
  RawFds& fds;
  Role role;
  const char* side() const { return role == Role::Initiator ? "initiator" : "responder"; }
};

// Set once both sides passed the first rendezvous: from then on the other side may be spinning
// or sleeping on us, so a failing responder must end the initiator itself.
bool g_in_timed_loop = false;

// What the initiator's signal handler unlinks, so that a run ended by the watchdog, Ctrl-C or a
// failed responder leaves no message queue behind (axon's own objects are reclaimed by the next
// node that starts: their node is dead).
std::array<char, 96> g_mq_ping_path{};
std::array<char, 96> g_mq_pong_path{};

extern "C" void on_initiator_signal(int signal) {
  static constexpr char kMessage[] = "latency_pingpong: stopped by a signal (watchdog or peer)\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  if (g_mq_ping_path[0] != '\0') ::shm_unlink(g_mq_ping_path.data());
  if (g_mq_pong_path[0] != '\0') ::shm_unlink(g_mq_pong_path.data());
  ::_exit(128 + signal);
}

[[noreturn]] void die_with(const Context& ctx, const char* what) {
  std::fprintf(stderr, "latency_pingpong [%s, %s]: %s\n", ctx.side(),
               std::string(ctx.options.mode_name).c_str(), what);
  ctx.page.control().failed.value.store(1, std::memory_order_relaxed);
  std::fflush(stderr);
  if (ctx.role == Role::Responder && g_in_timed_loop) ::kill(::getppid(), SIGTERM);
  std::exit(1);
}

int retry_eintr(auto call) {
  for (;;) {
    const auto r = call();
    if (r >= 0 || errno != EINTR) return static_cast<int>(r);
  }
}

// ---------------------------------------------------------------------------------------------
// Endpoints. Each has:
//   bool open(const Context&)            build this side's ports (after the fork)
//   void send(std::uint64_t counter)      one message; dies on error
//   std::uint64_t receive()               waits (spins or sleeps) for one message; dies on error
//   static constexpr std::uint64_t kCounterMask: the bits of the counter the transport carries.
// They are used through templates, so the timed loop makes no indirect call.

class RawSpin {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  bool open(const Context& ctx) {
    auto& c = ctx.page.control();
    const bool initiator = ctx.role == Role::Initiator;
    m_out_flag = initiator ? &c.ping.value : &c.pong.value;
    m_in_flag = initiator ? &c.pong.value : &c.ping.value;
    m_out = initiator ? ctx.page.ping_buffer() : ctx.page.pong_buffer();
    m_in = initiator ? ctx.page.pong_buffer() : ctx.page.ping_buffer();
    return true;
  }
  void send(std::uint64_t counter) {
    std::memcpy(m_out, &counter, sizeof counter);
    // ORDERING: release publishes the payload bytes written above.
    m_out_flag->store(counter, std::memory_order_release);
  }
  std::uint64_t receive() {
    // ORDERING: acquire pairs with the sender's release: the payload is there.
    while (m_in_flag->load(std::memory_order_acquire) == m_last) {
    }
    std::memcpy(&m_last, m_in, sizeof m_last);
    return m_last;
  }

 private:
  std::atomic<std::uint64_t>* m_out_flag = nullptr;
  std::atomic<std::uint64_t>* m_in_flag = nullptr;
  std::byte* m_out = nullptr;
  std::byte* m_in = nullptr;
  std::uint64_t m_last = 0;
};

/// raw-spin-1line: RawSpin with the payload in the flag's cache line. The reader's spinning load
/// and the writer's stores meet on one line per direction: the physical limit of a hand-off.
class RawSpinOneLine {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  bool open(const Context& ctx) {
    auto& c = ctx.page.control();
    const bool initiator = ctx.role == Role::Initiator;
    m_out = initiator ? &c.ping_line : &c.pong_line;
    m_in = initiator ? &c.pong_line : &c.ping_line;
    return true;
  }
  void send(std::uint64_t counter) {
    m_out->payload.store(counter, std::memory_order_relaxed);
    // ORDERING: release publishes the payload stored above.
    m_out->sequence.store(++m_sent, std::memory_order_release);
  }
  std::uint64_t receive() {
    // ORDERING: acquire pairs with the writer's release: the payload is there.
    while (m_in->sequence.load(std::memory_order_acquire) == m_received) {
    }
    ++m_received;
    return m_in->payload.load(std::memory_order_relaxed);
  }

 private:
  OneLine* m_out = nullptr;
  OneLine* m_in = nullptr;
  std::uint64_t m_sent = 0;
  std::uint64_t m_received = 0;
};

/// raw-epoll-eventfd (kPipe false) and raw-fifo (kPipe true): each side sleeps in its own epoll
/// on the incoming fd, then reads it. raw-eventfd (kEpoll false): each side sleeps in a blocking
/// read of its eventfd, the cheapest wait on one source (bench/README.md, "Why a sleeping round
/// trip costs what it does").
template <bool kPipe, bool kEpoll = true>
class RawEpoll {
 public:
  static constexpr std::uint64_t kCounterMask = kPipe ? 0xff : ~std::uint64_t{0};
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    const bool initiator = ctx.role == Role::Initiator;
    m_out = initiator ? ctx.fds.ping_write : ctx.fds.pong_write;
    m_in = initiator ? ctx.fds.pong_read : ctx.fds.ping_read;
    if constexpr (!kEpoll) return true;
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) return false;
    epoll_event event{};
    event.events = EPOLLIN;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_in, &event) == 0;
  }
  RawEpoll() = default;
  RawEpoll(const RawEpoll&) = delete;
  RawEpoll& operator=(const RawEpoll&) = delete;
  ~RawEpoll() {
    if (m_epoll >= 0) ::close(m_epoll);
  }
  void send(std::uint64_t counter) {
    ssize_t written = 0;
    if constexpr (kPipe) {
      const auto byte = static_cast<unsigned char>(counter);
      written = retry_eintr([&] { return ::write(m_out, &byte, 1); });
    } else {
      written = retry_eintr([&] { return ::write(m_out, &counter, sizeof counter); });
    }
    if (written <= 0) die_with(*m_ctx, "write failed");
  }
  std::uint64_t receive() {
    epoll_event event{};
    if (kEpoll && retry_eintr([&] { return ::epoll_wait(m_epoll, &event, 1, -1); }) != 1) {
      die_with(*m_ctx, "epoll_wait failed");
    }
    if constexpr (kPipe) {
      // One read drains the pipe, as the FIFO backend's drain would (it then reads EAGAIN).
      std::array<unsigned char, 64> sink{};
      const auto got = retry_eintr([&] { return ::read(m_in, sink.data(), sink.size()); });
      if (got != 1) die_with(*m_ctx, "pipe read did not return exactly one byte");
      return sink[0];
    } else {
      std::uint64_t value = 0;
      if (retry_eintr([&] { return ::read(m_in, &value, sizeof value); }) != sizeof value) {
        die_with(*m_ctx, "eventfd read failed");
      }
      return value;
    }
  }

 private:
  const Context* m_ctx = nullptr;
  int m_out = -1;
  int m_in = -1;
  int m_epoll = -1;
};

class RawUds {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    m_fd = ctx.fds.socket[ctx.role == Role::Initiator ? 0 : 1];
    // Touch the buffers now so that page faults are not timed.
    m_out.assign(ctx.options.size, std::byte{0x5a});
    m_in.assign(ctx.options.size, std::byte{0});
    return m_fd >= 0;
  }
  void send(std::uint64_t counter) {
    std::memcpy(m_out.data(), &counter, sizeof counter);
    for (std::size_t offset = 0; offset < m_out.size(); offset += kUdsMaxMessage) {
      const std::size_t n = std::min(kUdsMaxMessage, m_out.size() - offset);
      if (retry_eintr([&] { return ::send(m_fd, m_out.data() + offset, n, 0); }) !=
          static_cast<int>(n)) {
        die_with(*m_ctx, "send on the unix socket failed");
      }
    }
  }
  std::uint64_t receive() {
    for (std::size_t offset = 0; offset < m_in.size(); offset += kUdsMaxMessage) {
      const std::size_t n = std::min(kUdsMaxMessage, m_in.size() - offset);
      if (retry_eintr([&] { return ::recv(m_fd, m_in.data() + offset, n, 0); }) !=
          static_cast<int>(n)) {
        die_with(*m_ctx, "recv on the unix socket failed or was short");
      }
    }
    std::uint64_t counter = 0;
    std::memcpy(&counter, m_in.data(), sizeof counter);
    return counter;
  }

 private:
  const Context* m_ctx = nullptr;
  int m_fd = -1;
  std::vector<std::byte> m_out;
  std::vector<std::byte> m_in;
};

class RawBoostMq {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  using Queue = boost::interprocess::message_queue;
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    const bool initiator = ctx.role == Role::Initiator;
    try {
      m_out.emplace(boost::interprocess::open_only,
                    (initiator ? ctx.names.mq_ping : ctx.names.mq_pong).c_str());
      m_in.emplace(boost::interprocess::open_only,
                   (initiator ? ctx.names.mq_pong : ctx.names.mq_ping).c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "latency_pingpong: message_queue: %s\n", e.what());
      return false;
    }
    m_out_buffer.assign(ctx.options.size, std::byte{0x5a});
    m_in_buffer.assign(ctx.options.size, std::byte{0});
    return true;
  }
  /// Both queues, created by the parent before the fork (one message of `size` each).
  static bool create_queues(const Names& names, std::uint64_t size) {
    remove_queues(names);
    try {
      Queue ping(boost::interprocess::create_only, names.mq_ping.c_str(), 1, size);
      Queue pong(boost::interprocess::create_only, names.mq_pong.c_str(), 1, size);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "latency_pingpong: cannot create message queues: %s\n", e.what());
      remove_queues(names);
      return false;
    }
    return true;
  }
  static void remove_queues(const Names& names) {
    Queue::remove(names.mq_ping.c_str());
    Queue::remove(names.mq_pong.c_str());
  }
  void send(std::uint64_t counter) {
    std::memcpy(m_out_buffer.data(), &counter, sizeof counter);
    try {
      m_out->send(m_out_buffer.data(), m_out_buffer.size(), 0);
    } catch (const std::exception& e) {
      die_with(*m_ctx, e.what());
    }
  }
  std::uint64_t receive() {
    Queue::size_type received = 0;
    unsigned int priority = 0;
    try {
      m_in->receive(m_in_buffer.data(), m_in_buffer.size(), received, priority);
    } catch (const std::exception& e) {
      die_with(*m_ctx, e.what());
    }
    if (received != m_in_buffer.size()) die_with(*m_ctx, "short message");
    std::uint64_t counter = 0;
    std::memcpy(&counter, m_in_buffer.data(), sizeof counter);
    return counter;
  }

 private:
  const Context* m_ctx = nullptr;
  std::optional<Queue> m_out;
  std::optional<Queue> m_in;
  std::vector<std::byte> m_out_buffer;
  std::vector<std::byte> m_in_buffer;
};

/// The shared-memory structures one publisher-to-subscriber direction of axon-pubsub-spin uses,
/// laid out in the shared mapping before the fork and driven directly (core-* modes): a chunk
/// pool, a submission queue for a buffer of one under the default overflow policy (overwriting,
/// with core::kOverwriteSlack spare slots, popped with a window of one) and a completion queue,
/// taken back lazily as the publisher does. What these modes cost next to
/// raw-spin, and next to axon-pubsub-spin, splits the pub-sub round trip into the cost of the
/// data structures and the cost of the layer around them.
struct CoreWay {
  static constexpr std::uint64_t kChunks = 1 + 2 + 1 + 2 + axon::core::kOverwriteSlack;
  static constexpr std::uint64_t kSubmissions = 1 + axon::core::kOverwriteSlack;
  static constexpr std::uint64_t kCompletions = 2 * (kSubmissions + 2);  // 2 x (queue + borrows)
  static constexpr std::uint64_t kChunkSize = 64;  // header + counter: the modes are zero-copy
  static constexpr std::uint64_t kAlignment = 64;

  static constexpr std::size_t line_up(std::size_t n) { return (n + 63) / 64 * 64; }
  static constexpr std::size_t pool_bytes() {
    return line_up(axon::core::ChunkPool::required_size(kChunks, kChunkSize, kAlignment));
  }
  static constexpr std::size_t submission_bytes() {
    return line_up(axon::core::SpscIndexQueue::required_size(kSubmissions));
  }
  static constexpr std::size_t completion_bytes() {
    return line_up(axon::core::SpscIndexQueue::required_size(kCompletions));
  }
  static constexpr std::size_t bytes() {
    return pool_bytes() + submission_bytes() + completion_bytes();
  }
  /// Lays the three structures out in `block` (page-aligned, bytes() long).
  static std::optional<CoreWay> initialize(std::byte* block) {
    auto pool =
        axon::core::ChunkPool::initialize(block, pool_bytes(), kChunks, kChunkSize, kAlignment);
    auto submission = axon::core::SpscIndexQueue::initialize(
        block + pool_bytes(), submission_bytes(), kSubmissions,
        axon::core::SpscIndexQueue::Mode::Overwriting);
    auto completion = axon::core::SpscIndexQueue::initialize(
        block + pool_bytes() + submission_bytes(), completion_bytes(), kCompletions);
    if (!pool || !submission || !completion) return std::nullopt;
    return CoreWay{*pool, std::move(*submission), std::move(*completion)};
  }
  /// The structures initialize() laid out in `block` (validated again, as a peer would).
  static CoreWay attach(std::byte* block) {
    auto pool = axon::core::ChunkPool::attach(block, pool_bytes());
    auto submission = axon::core::SpscIndexQueue::attach(block + pool_bytes(), submission_bytes());
    auto completion = axon::core::SpscIndexQueue::attach(block + pool_bytes() + submission_bytes(),
                                                         completion_bytes());
    if (!pool || !submission || !completion) return CoreWay{};
    return CoreWay{*pool, std::move(*submission), std::move(*completion)};
  }

  axon::core::ChunkPool pool;
  axon::core::SpscIndexQueue submission;
  axon::core::SpscIndexQueue completion;
};

/// core-queue-spin (kPool false): the counter itself through one SpscIndexQueue a way.
/// core-pool-queues-spin (kPool true): what a sample does to the structures: the sender takes
/// back released chunks, allocates one, writes a header and the counter, pushes its offset; the
/// receiver pops, checks the offset, reads the chunk, pushes the offset back as released.
template <bool kPool>
class CoreSpin {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    const bool initiator = ctx.role == Role::Initiator;
    // main() laid out one CoreWay in each buffer before the fork; the mapping is shared and at
    // the same address in both processes.
    m_out = CoreWay::attach(initiator ? ctx.page.ping_buffer() : ctx.page.pong_buffer());
    m_in = CoreWay::attach(initiator ? ctx.page.pong_buffer() : ctx.page.ping_buffer());
    return m_out.pool.attached() && m_in.pool.attached();
  }
  void send(std::uint64_t counter) {
    if constexpr (!kPool) {
      (void)m_out.submission.push_overwrite(counter);
    } else {
      auto index = m_out.pool.allocate();
      if (!index) {
        // Released chunks are taken back only when the pool runs dry, as the publisher does.
        while (const auto back = m_out.completion.try_pop()) {
          const auto released = m_out.pool.index_of_offset(*back);
          if (!released || !m_out.pool.release(*released)) {
            die_with(*m_ctx, "bad released offset");
          }
        }
        index = m_out.pool.allocate();
      }
      if (!index) die_with(*m_ctx, "chunk pool empty");
      // SAFETY: a chunk of the pool, 64 bytes, 64-aligned: room for 8 words.
      auto* chunk = static_cast<std::uint64_t*>(m_out.pool.chunk(*index));
      chunk[0] = 1;  // as axon's chunk header: publisher id, sequence, payload size, reserved
      chunk[1] = counter;
      chunk[2] = sizeof counter;
      chunk[4] = counter;  // the payload
      // As the publisher does: what a position held is remembered here, not read back.
      const auto evicted = m_out.submission.push_overwrite(m_out.pool.offset_of(*index));
      if (!evicted) die_with(*m_ctx, "submission queue corrupted");
      auto& pushed = m_pushed[m_pushed_at];
      if (*evicted && !m_out.pool.release(pushed)) die_with(*m_ctx, "bad evicted chunk");
      pushed = *index;
      m_pushed_at = (m_pushed_at + 1) % CoreWay::kSubmissions;
    }
  }
  std::uint64_t receive() {
    for (;;) {
      const auto popped = m_in.submission.pop_newest(1).value_or(std::nullopt);
      if (!popped) continue;
      if constexpr (!kPool) {
        return *popped;
      } else {
        const auto index = m_in.pool.index_of_offset(*popped);
        if (!index) die_with(*m_ctx, "bad offset");
        // SAFETY: index_of_offset proved it is the start of a chunk of this pool.
        const auto* chunk = static_cast<const std::uint64_t*>(m_in.pool.chunk(*index));
        if (chunk[2] != sizeof(std::uint64_t)) die_with(*m_ctx, "bad chunk header");
        const std::uint64_t counter = chunk[4];
        if (!m_in.completion.try_push(*popped)) die_with(*m_ctx, "completion queue full");
        return counter;
      }
    }
  }

 private:
  const Context* m_ctx = nullptr;
  CoreWay m_out;
  CoreWay m_in;
  std::uint32_t m_pushed[CoreWay::kSubmissions] = {};
  std::size_t m_pushed_at = 0;
};

std::optional<axon::Node> make_node(const Context& ctx) {
  auto node = axon::NodeBuilder().name(std::string("latency-") + ctx.side()).create();
  if (!node) {
    std::fprintf(stderr, "latency_pingpong: cannot create node: %s\n",
                 axon::to_string(node.error()));
    return std::nullopt;
  }
  return std::move(*node);
}

std::optional<axon::ServiceName> service_name(const std::string& text) {
  auto name = axon::ServiceName::create(text);
  if (!name) {
    std::fprintf(stderr, "latency_pingpong: invalid service name \"%s\"\n", text.c_str());
    return std::nullopt;
  }
  return *name;
}

/// Opens (or creates) the event service `text` with `backend`.
std::optional<axon::EventService> open_events(axon::Node& node, const std::string& text,
                                              axon::EventBackend backend) {
  auto name = service_name(text);
  if (!name) return std::nullopt;
  auto service = node.service_builder(*name).event().backend(backend).open_or_create();
  if (!service) {
    std::fprintf(stderr, "latency_pingpong: event service \"%s\": %s\n", text.c_str(),
                 axon::to_string(service.error()));
    return std::nullopt;
  }
  return std::move(*service);
}

/// The WaitSet of a sleeping side: `budget` is its busy-poll budget (zero: none).
std::optional<axon::WaitSet> make_waitset(std::chrono::nanoseconds budget) {
  // No signal handlers: Ctrl-C ends both processes at once, as in every other mode.
  auto waitset =
      axon::WaitSetBuilder().capacity(4).signal_handling(false).busy_poll(budget).create();
  if (!waitset) {
    std::fprintf(stderr, "latency_pingpong: WaitSet: %s\n", axon::to_string(waitset.error()));
    return std::nullopt;
  }
  return std::move(*waitset);
}

/// The budget this mode's WaitSets get: --busy-poll in the *-poll modes, none elsewhere.
std::chrono::nanoseconds budget_of(const Context& ctx) {
  return polls(ctx.options.mode) ? std::chrono::nanoseconds(ctx.options.busy_poll)
                                 : std::chrono::nanoseconds(0);
}

/// A listener of `events` in a WaitSet of its own; the sleeping half of the waitset modes.
class ListenerWait {
 public:
  /// use_waitset false: the listener's own blocking_wait, without a WaitSet.
  bool open(axon::EventService& events, std::chrono::nanoseconds budget, bool use_waitset = true) {
    auto listener = events.listener_builder().create();
    if (!listener) {
      std::fprintf(stderr, "latency_pingpong: listener: %s\n", axon::to_string(listener.error()));
      return false;
    }
    m_listener.emplace(std::move(*listener));
    if (!use_waitset) return true;
    m_waitset = make_waitset(budget);
    if (!m_waitset) return false;
    auto guard = m_waitset->attach_notification(*m_listener);
    if (!guard) {
      std::fprintf(stderr, "latency_pingpong: attach: %s\n", axon::to_string(guard.error()));
      return false;
    }
    m_guard.emplace(std::move(*guard));
    return true;
  }
  /// Sleeps until the listener fires, then drains it; returns the highest id drained (or
  /// nullopt for a wake-up that carried no count) and false on error.
  bool wait_and_drain(std::optional<std::uint64_t>& last_id) {
    last_id.reset();
    if (!m_waitset) {
      return m_listener
          ->blocking_wait([&](axon::EventId id, std::uint64_t) { last_id = id.value; })
          .has_value();
    }
    bool ok = true;
    auto result = m_waitset->wait_and_process_once([&](axon::AttachmentId) {
      auto drained =
          m_listener->try_wait([&](axon::EventId id, std::uint64_t) { last_id = id.value; });
      ok = ok && drained.has_value();
      return axon::CallbackProgression::Continue;
    });
    return ok && result.has_value();
  }
  ~ListenerWait() {
    m_guard.reset();  // detach before the WaitSet and the listener go
  }
  ListenerWait() = default;
  ListenerWait(const ListenerWait&) = delete;
  ListenerWait& operator=(const ListenerWait&) = delete;

 private:
  std::optional<axon::Listener> m_listener;
  std::optional<axon::WaitSet> m_waitset;
  std::optional<axon::WaitSetGuard> m_guard;
};

/// axon-event-waitset(-fifo, -poll): notify on the outgoing service, sleep on the incoming one
/// (in the -poll mode the WaitSet busy-polls the listener for up to the budget first).
/// axon-event-blocking (kWaitSet false): the same, sleeping in the listener's blocking_wait.
template <axon::EventBackend kBackend, bool kWaitSet = true>
class AxonEvent {
 public:
  static constexpr std::uint64_t kCounterMask = kEventIdMask;
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    m_node = make_node(ctx);
    if (!m_node) return false;
    const bool initiator = ctx.role == Role::Initiator;
    m_out_service =
        open_events(*m_node, initiator ? ctx.names.axon_ping : ctx.names.axon_pong, kBackend);
    m_in_service =
        open_events(*m_node, initiator ? ctx.names.axon_pong : ctx.names.axon_ping, kBackend);
    if (!m_out_service || !m_in_service) return false;
    auto notifier = m_out_service->notifier_builder().create();
    if (!notifier) {
      std::fprintf(stderr, "latency_pingpong: notifier: %s\n", axon::to_string(notifier.error()));
      return false;
    }
    m_notifier.emplace(std::move(*notifier));
    return m_wait.open(*m_in_service, budget_of(ctx), kWaitSet);
  }
  void send(std::uint64_t counter) {
    auto reached = m_notifier->notify(axon::EventId{counter & kEventIdMask});
    if (!reached) die_with(*m_ctx, axon::to_string(reached.error()));
    if (*reached != 1) die_with(*m_ctx, "the notification reached no listener");
  }
  std::uint64_t receive() {
    std::optional<std::uint64_t> id;
    while (!id) {
      if (!m_wait.wait_and_drain(id)) die_with(*m_ctx, "WaitSet wait or listener drain failed");
    }
    return *id;
  }

 private:
  const Context* m_ctx = nullptr;
  std::optional<axon::Node> m_node;
  std::optional<axon::EventService> m_out_service;
  std::optional<axon::EventService> m_in_service;
  std::optional<axon::Notifier> m_notifier;
  ListenerWait m_wait;
};

/// How the receiving side of a pub-sub mode waits for a sample.
enum class PubSubWait {
  Spin,      ///< axon-pubsub-spin: busy-polls receive()
  Listener,  ///< axon-pubsub-waitset: a WaitSet on the listener of a separate event service
  Wakeable,  ///< axon-pubsub-wake / -waitset-poll: a WaitSet on a wakeable subscriber itself
};

/// axon-pubsub-spin, axon-pubsub-waitset (an event service per direction, notify_on_send),
/// axon-pubsub-wake and axon-pubsub-waitset-poll (wakeable subscribers attached to a WaitSet;
/// the publisher wakes them by itself; the -poll mode's WaitSet has the --busy-poll budget).
template <PubSubWait kWait>
class AxonPubSub {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  using Payload = axon::Slice<std::uint8_t>;
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    m_size = ctx.options.size;
    m_node = make_node(ctx);
    if (!m_node) return false;
    const bool initiator = ctx.role == Role::Initiator;
    auto out = open_service(initiator ? ctx.names.axon_ping : ctx.names.axon_pong);
    auto in = open_service(initiator ? ctx.names.axon_pong : ctx.names.axon_ping);
    if (!out || !in) return false;
    auto publisher = out->publisher_builder().max_slice_len(m_size).create();
    if (!publisher) {
      std::fprintf(stderr, "latency_pingpong: publisher: %s\n", axon::to_string(publisher.error()));
      return false;
    }
    m_publisher.emplace(std::move(*publisher));
    auto subscriber = in->subscriber_builder().wakeable(kWait == PubSubWait::Wakeable).create();
    if (!subscriber) {
      std::fprintf(stderr, "latency_pingpong: subscriber: %s\n",
                   axon::to_string(subscriber.error()));
      return false;
    }
    m_subscriber.emplace(std::move(*subscriber));
    if constexpr (kWait == PubSubWait::Wakeable) {
      m_waitset = make_waitset(budget_of(ctx));
      if (!m_waitset) return false;
      auto guard = m_waitset->attach_notification(*m_subscriber);
      if (!guard) {
        std::fprintf(stderr, "latency_pingpong: attach: %s\n", axon::to_string(guard.error()));
        return false;
      }
      m_guard.emplace(std::move(*guard));
    }
    if constexpr (kWait == PubSubWait::Listener) {
      const auto& out_ready = initiator ? ctx.names.axon_ping_ready : ctx.names.axon_pong_ready;
      const auto& in_ready = initiator ? ctx.names.axon_pong_ready : ctx.names.axon_ping_ready;
      m_out_events = open_events(*m_node, out_ready, axon::EventBackend::EventFd);
      m_in_events = open_events(*m_node, in_ready, axon::EventBackend::EventFd);
      if (!m_out_events || !m_in_events) return false;
      auto notifier = m_out_events->notifier_builder().create();
      if (!notifier) {
        std::fprintf(stderr, "latency_pingpong: notifier: %s\n", axon::to_string(notifier.error()));
        return false;
      }
      m_publisher->notify_on_send(std::move(*notifier));
      if (!m_wait.open(*m_in_events, std::chrono::nanoseconds(0))) return false;
    }
    return true;
  }
  ~AxonPubSub() {
    m_guard.reset();  // detach before the WaitSet and the subscriber go
  }
  AxonPubSub() = default;
  AxonPubSub(const AxonPubSub&) = delete;
  AxonPubSub& operator=(const AxonPubSub&) = delete;
  void send(std::uint64_t counter) {
    auto sample = m_publisher->loan_uninit(m_size);
    if (!sample) die_with(*m_ctx, axon::to_string(sample.error()));
    std::memcpy(sample->payload().data(), &counter, sizeof counter);
    auto sent = m_publisher->send(std::move(*sample));
    if (!sent) die_with(*m_ctx, axon::to_string(sent.error()));
    if (*sent != 1) die_with(*m_ctx, "the sample reached no subscriber");
  }
  std::uint64_t receive() {
    for (;;) {
      if constexpr (kWait == PubSubWait::Listener) {
        std::optional<std::uint64_t> ignored;
        if (!m_wait.wait_and_drain(ignored)) die_with(*m_ctx, "WaitSet wait failed");
      }
      auto sample = m_subscriber->receive();
      if (!sample) die_with(*m_ctx, axon::to_string(sample.error()));
      if (*sample) {
        std::uint64_t counter = 0;
        std::memcpy(&counter, (*sample)->payload().data(), sizeof counter);
        return counter;
      }
      if constexpr (kWait == PubSubWait::Wakeable) {
        // The empty receive above drained the subscriber's wake-up: the WaitSet fires (or its
        // budget sees a sample) only when the next one may be there. The receive is in the loop.
        auto woken = m_waitset->wait_and_process_once(
            [](axon::AttachmentId) { return axon::CallbackProgression::Continue; });
        if (!woken) die_with(*m_ctx, "WaitSet wait failed");
      }
    }
  }

 private:
  std::optional<axon::PubSubService<Payload>> open_service(const std::string& text) {
    auto name = service_name(text);
    if (!name) return std::nullopt;
    auto service = m_node->service_builder(*name)
                       .publish_subscribe<Payload>()
                       .max_publishers(1)
                       .max_subscribers(1)
                       .subscriber_max_buffer_size(1)
                       .history_size(0)
                       .open_or_create();
    if (!service) {
      std::fprintf(stderr, "latency_pingpong: service \"%s\": %s\n", text.c_str(),
                   axon::to_string(service.error()));
      return std::nullopt;
    }
    return std::move(*service);
  }

  const Context* m_ctx = nullptr;
  std::uint64_t m_size = 0;
  std::optional<axon::Node> m_node;
  std::optional<axon::Publisher<Payload>> m_publisher;
  std::optional<axon::Subscriber<Payload>> m_subscriber;
  std::optional<axon::EventService> m_out_events;
  std::optional<axon::EventService> m_in_events;
  ListenerWait m_wait;
  std::optional<axon::WaitSet> m_waitset;  // Wakeable: the WaitSet the subscriber sleeps in
  std::optional<axon::WaitSetGuard> m_guard;
};

/// axon-rr-spin (kWaitSet false) and axon-rr-waitset (kWaitSet true): one request-response
/// service, Slice<uint8_t> both ways (max length = size), 1 client, 1 server, a response buffer
/// of one, every other setting the default. The initiator is the client: send() loans a request,
/// writes the counter, sends it; receive() takes the one response, reads the counter, drops the
/// response and then the PendingResponse (as a client that wants one answer does; its channel
/// is free once the server has ended the stream too). The responder is the server: receive()
/// takes the request and keeps its ActiveRequest; send() loans a response, writes the counter,
/// sends it and drops the ActiveRequest, which ends the stream. In the WaitSet mode the client
/// notifies after each request and the server after its response and after the end of the
/// stream (what notify_on_send does), and each side sleeps in a WaitSet on its listener.
template <bool kWaitSet>
class AxonRequestResponse {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  using Payload = axon::Slice<std::uint8_t>;
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    m_size = ctx.options.size;
    m_node = make_node(ctx);
    if (!m_node) return false;
    const bool initiator = ctx.role == Role::Initiator;
    auto name = service_name(ctx.names.axon_ping);
    if (!name) return false;
    auto service = m_node->service_builder(*name)
                       .request_response<Payload, Payload>()
                       .max_clients(1)
                       .max_servers(1)
                       .max_response_buffer_size(1)
                       .open_or_create();
    if (!service) {
      std::fprintf(stderr, "latency_pingpong: service \"%s\": %s\n", ctx.names.axon_ping.c_str(),
                   axon::to_string(service.error()));
      return false;
    }
    std::optional<axon::Notifier> notifier;
    if constexpr (kWaitSet) {
      const auto& out_ready = initiator ? ctx.names.axon_ping_ready : ctx.names.axon_pong_ready;
      const auto& in_ready = initiator ? ctx.names.axon_pong_ready : ctx.names.axon_ping_ready;
      m_out_events = open_events(*m_node, out_ready, axon::EventBackend::EventFd);
      m_in_events = open_events(*m_node, in_ready, axon::EventBackend::EventFd);
      if (!m_out_events || !m_in_events) return false;
      auto made = m_out_events->notifier_builder().create();
      if (!made) {
        std::fprintf(stderr, "latency_pingpong: notifier: %s\n", axon::to_string(made.error()));
        return false;
      }
      notifier.emplace(std::move(*made));
      if (!m_wait.open(*m_in_events, std::chrono::nanoseconds(0))) return false;
    }
    if (initiator) {
      auto client = service->client_builder().max_slice_len(m_size).create();
      if (!client) {
        std::fprintf(stderr, "latency_pingpong: client: %s\n", axon::to_string(client.error()));
        return false;
      }
      m_client.emplace(std::move(*client));
      if (notifier) m_client->notify_on_send(std::move(*notifier));
      // The server may come later: the first request must reach it.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (m_client->number_of_servers() == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::fprintf(stderr, "latency_pingpong: no server appeared\n");
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    } else {
      auto server = service->server_builder().max_slice_len(m_size).create();
      if (!server) {
        std::fprintf(stderr, "latency_pingpong: server: %s\n", axon::to_string(server.error()));
        return false;
      }
      m_server.emplace(std::move(*server));
      if (notifier) m_server->notify_on_send(std::move(*notifier));
    }
    return true;
  }
  void send(std::uint64_t counter) {
    if (m_client) {
      auto request = m_client->loan_uninit(m_size);
      if (!request) die_with(*m_ctx, axon::to_string(request.error()));
      std::memcpy(request->payload().data(), &counter, sizeof counter);
      auto pending = m_client->send(std::move(*request));
      if (!pending) die_with(*m_ctx, axon::to_string(pending.error()));
      if (pending->number_of_server_connections() != 1) {
        die_with(*m_ctx, "the request reached no server");
      }
      m_pending.emplace(std::move(*pending));
      return;
    }
    auto response = m_active->loan_uninit(m_size);
    if (!response) die_with(*m_ctx, axon::to_string(response.error()));
    std::memcpy(response->payload().data(), &counter, sizeof counter);
    auto sent = m_active->send(std::move(*response));
    if (!sent) die_with(*m_ctx, axon::to_string(sent.error()));
    m_active.reset();  // ends the stream
  }
  std::uint64_t receive() {
    for (;;) {
      if constexpr (kWaitSet) {
        std::optional<std::uint64_t> ignored;
        if (!m_wait.wait_and_drain(ignored)) die_with(*m_ctx, "WaitSet wait failed");
      }
      std::uint64_t counter = 0;
      if (m_client) {
        auto response = m_pending->receive();
        if (!response) die_with(*m_ctx, axon::to_string(response.error()));
        if (!*response) continue;
        std::memcpy(&counter, (*response)->payload().data(), sizeof counter);
      } else {
        auto request = m_server->receive();
        if (!request) die_with(*m_ctx, axon::to_string(request.error()));
        if (!*request) continue;
        std::memcpy(&counter, (*request)->payload().data(), sizeof counter);
        m_active.emplace(std::move(**request));
        return counter;
      }
      // The response is released above; the request is done with: drop it.
      m_pending.reset();
      return counter;
    }
  }

 private:
  const Context* m_ctx = nullptr;
  std::uint64_t m_size = 0;
  std::optional<axon::Node> m_node;
  std::optional<axon::Client<Payload, Payload>> m_client;
  std::optional<axon::PendingResponse<Payload, Payload>> m_pending;
  std::optional<axon::Server<Payload, Payload>> m_server;
  std::optional<axon::ActiveRequest<Payload, Payload>> m_active;
  std::optional<axon::EventService> m_out_events;
  std::optional<axon::EventService> m_in_events;
  ListenerWait m_wait;
};

#if defined(AXON_BENCH_WITH_ICEORYX)
/// iceoryx-pubsub-spin / iceoryx-waitset: iceoryx 2.0 (Debian's libiceoryx-posh), the untyped
/// API (loan / publish / take / release), a subscriber queue of one, no history. Needs a running
/// RouDi whose mempools hold the payload: main() starts one (RoudiGuard) unless one runs.
template <bool kWaitSet>
class IceoryxPubSub {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  bool open(const Context& ctx) {
    m_ctx = &ctx;
    m_size = static_cast<std::uint32_t>(ctx.options.size);
    if (::access("/dev/shm/iceoryx_mgmt", F_OK) != 0) {
      std::fprintf(stderr, "latency_pingpong: no RouDi is running (start iox-roudi first)\n");
      return false;
    }
    // Warnings and worse only, and without announcing the level on stderr.
    iox::log::LogManager::GetLogManager().SetDefaultLogLevel(
        iox::log::LogLevel::kWarn, iox::log::LogLevelOutput::kHideLogLevel);
    const std::string runtime = "axon-bench-" + ctx.names.pid + "-" + ctx.side();
    iox::runtime::PoshRuntime::initRuntime(
        iox::RuntimeName_t(iox::cxx::TruncateToCapacity, runtime.c_str()));
    const bool initiator = ctx.role == Role::Initiator;
    auto describe = [&](const char* event) {
      return iox::capro::ServiceDescription(
          iox::capro::IdString_t(iox::cxx::TruncateToCapacity, "axon-bench"),
          iox::capro::IdString_t(iox::cxx::TruncateToCapacity, ctx.names.pid.c_str()),
          iox::capro::IdString_t(iox::cxx::TruncateToCapacity, event));
    };
    iox::popo::PublisherOptions publisher_options;
    publisher_options.historyCapacity = 0;
    m_publisher = std::make_unique<iox::popo::UntypedPublisher>(
        describe(initiator ? "ping" : "pong"), publisher_options);
    iox::popo::SubscriberOptions subscriber_options;
    subscriber_options.queueCapacity = 1;
    subscriber_options.historyRequest = 0;
    m_subscriber = std::make_unique<iox::popo::UntypedSubscriber>(
        describe(initiator ? "pong" : "ping"), subscriber_options);
    if constexpr (kWaitSet) {
      m_waitset = std::make_unique<iox::popo::WaitSet<>>();
      if (m_waitset->attachState(*m_subscriber, iox::popo::SubscriberState::HAS_DATA).has_error()) {
        std::fprintf(stderr, "latency_pingpong: iceoryx WaitSet attach failed\n");
        return false;
      }
    }
    // Subscriptions go through RouDi's discovery loop: wait until both directions are matched.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (m_subscriber->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED ||
           !m_publisher->hasSubscribers()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "latency_pingpong: iceoryx subscription did not complete\n");
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  ~IceoryxPubSub() {
    if (m_waitset && m_subscriber) {
      m_waitset->detachState(*m_subscriber, iox::popo::SubscriberState::HAS_DATA);
    }
  }
  IceoryxPubSub() = default;
  IceoryxPubSub(const IceoryxPubSub&) = delete;
  IceoryxPubSub& operator=(const IceoryxPubSub&) = delete;
  void send(std::uint64_t counter) {
    auto loan = m_publisher->loan(m_size);
    if (loan.has_error()) die_with(*m_ctx, "iceoryx loan failed (RouDi mempools too small?)");
    void* payload = loan.value();
    std::memcpy(payload, &counter, sizeof counter);
    m_publisher->publish(payload);
  }
  std::uint64_t receive() {
    for (;;) {
      auto taken = m_subscriber->take();
      if (!taken.has_error()) {
        std::uint64_t counter = 0;
        std::memcpy(&counter, taken.value(), sizeof counter);
        m_subscriber->release(taken.value());
        return counter;
      }
      if (taken.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) {
        die_with(*m_ctx, "iceoryx take failed");
      }
      if constexpr (kWaitSet) (void)m_waitset->wait();
    }
  }

 private:
  const Context* m_ctx = nullptr;
  std::uint32_t m_size = 0;
  std::unique_ptr<iox::popo::UntypedPublisher> m_publisher;
  std::unique_ptr<iox::popo::UntypedSubscriber> m_subscriber;
  std::unique_ptr<iox::popo::WaitSet<>> m_waitset;
};
#endif

#if defined(AXON_BENCH_WITH_FASTDDS)
/// The Fast DDS modes' type: `size` plain bytes (the counter in the first 8), written by hand
/// with the TopicDataType API (no IDL, no generator). Plain and bounded, so that a writer can
/// loan samples and, with data-sharing, a reader takes them in place. Its serialized form is
/// the 4-byte CDR encapsulation header (little-endian CDR) followed by the bytes, as Fast DDS
/// lays out a loaned sample.
class FastDdsBytesType final : public eprosima::fastdds::dds::TopicDataType {
 public:
  explicit FastDdsBytesType(std::uint32_t size) : m_size(size) {
    setName("axon_bench::Bytes");
    m_typeSize = kHeader + size;
    m_isGetKeyDefined = false;
  }
  bool serialize(void* data, eprosima::fastrtps::rtps::SerializedPayload_t* payload) override {
    if (payload->max_size < kHeader + m_size) return false;
    static constexpr std::array<std::uint8_t, kHeader> kCdrLe{0, 1, 0, 0};
    std::memcpy(payload->data, kCdrLe.data(), kHeader);
    std::memcpy(payload->data + kHeader, data, m_size);
    payload->encapsulation = CDR_LE;
    payload->length = kHeader + m_size;
    return true;
  }
  bool deserialize(eprosima::fastrtps::rtps::SerializedPayload_t* payload, void* data) override {
    if (payload->length < kHeader + m_size) return false;
    std::memcpy(data, payload->data + kHeader, m_size);
    return true;
  }
  std::function<std::uint32_t()> getSerializedSizeProvider(void*) override {
    return [size = m_typeSize] { return size; };
  }
  void* createData() override { return new std::uint64_t[(m_size + 7) / 8](); }
  void deleteData(void* data) override { delete[] static_cast<std::uint64_t*>(data); }
  bool getKey(void*, eprosima::fastrtps::rtps::InstanceHandle_t*, bool) override { return false; }
  bool is_bounded() const override { return true; }
  bool is_plain() const override { return true; }
  bool construct_sample(void* memory) const override {
    std::memset(memory, 0, m_size);
    return true;
  }

 private:
  static constexpr std::uint32_t kHeader = 4;  // SerializedPayload_t::representation_header_size
  std::uint32_t m_size;
};

/// fastdds-shm (kLoan false) and fastdds-loan (kLoan true): Fast DDS 2.9 (Debian's
/// libfastrtps), one participant per side on a domain of this run, the shared-memory transport
/// only (discovery too), a topic per direction, reliable, keep-last 1, volatile. fastdds-shm:
/// data-sharing off; write() serializes the whole payload into the transport and the reader's
/// take deserializes it (copying, as a type with a sequence would be). fastdds-loan: data-sharing
/// on; the writer loans a sample in the shared pool, writes the counter, writes it; the reader
/// takes it in place (loaned) and returns the loan. The reader sleeps in wait_for_unread_message
/// (Fast DDS's own blocking wait) and takes what came.
template <bool kLoan>
class FastDdsPubSub {
 public:
  static constexpr std::uint64_t kCounterMask = ~std::uint64_t{0};
  using Factory = eprosima::fastdds::dds::DomainParticipantFactory;
  bool open(const Context& ctx) {
    namespace dds = eprosima::fastdds::dds;
    m_ctx = &ctx;
    m_size = static_cast<std::uint32_t>((ctx.options.size + 7) / 8 * 8);
    // Log to stderr only: stdout carries the JSON line.
    dds::Log::ClearConsumers();
    auto consumer = std::make_unique<dds::StdoutErrConsumer>();
    consumer->stderr_threshold(dds::Log::Kind::Info);
    dds::Log::RegisterConsumer(std::move(consumer));
    dds::Log::SetVerbosity(dds::Log::Kind::Error);

    dds::DomainParticipantQos participant_qos;
    participant_qos.name(std::string("axon-bench-") + ctx.side());
    participant_qos.transport().use_builtin_transports = false;
    auto shm = std::make_shared<eprosima::fastdds::rtps::SharedMemTransportDescriptor>();
    // Room for a few whole messages of this size (fastdds-shm sends each sample as one).
    const std::uint64_t segment = std::max<std::uint64_t>(std::uint64_t{1} << 20, 4 * m_size);
    shm->segment_size(static_cast<std::uint32_t>(segment));
    shm->max_message_size(static_cast<std::uint32_t>(
        std::min<std::uint64_t>(segment / 2, std::numeric_limits<std::uint32_t>::max())));
    participant_qos.transport().user_transports.push_back(shm);
    // A domain of this run (0..232 are valid): nothing else on the machine is met.
    const auto domain = static_cast<dds::DomainId_t>(1 + std::stoul(ctx.names.pid) % 200);
    m_participant = Factory::get_instance()->create_participant(domain, participant_qos);
    if (m_participant == nullptr) return fail("participant");
    m_type = dds::TypeSupport(new FastDdsBytesType(m_size));
    if (m_type.register_type(m_participant) != ReturnCode::RETCODE_OK) return fail("type");
    const bool initiator = ctx.role == Role::Initiator;
    const std::string out_name = "axon_bench_" + ctx.names.pid + (initiator ? "_ping" : "_pong");
    const std::string in_name = "axon_bench_" + ctx.names.pid + (initiator ? "_pong" : "_ping");
    auto* out_topic =
        m_participant->create_topic(out_name, m_type.get_type_name(), dds::TOPIC_QOS_DEFAULT);
    auto* in_topic =
        m_participant->create_topic(in_name, m_type.get_type_name(), dds::TOPIC_QOS_DEFAULT);
    if (out_topic == nullptr || in_topic == nullptr) return fail("topics");
    auto* publisher = m_participant->create_publisher(dds::PUBLISHER_QOS_DEFAULT);
    auto* subscriber = m_participant->create_subscriber(dds::SUBSCRIBER_QOS_DEFAULT);
    if (publisher == nullptr || subscriber == nullptr) return fail("publisher/subscriber");

    dds::DataWriterQos writer_qos = dds::DATAWRITER_QOS_DEFAULT;
    writer_qos.reliability().kind = dds::RELIABLE_RELIABILITY_QOS;
    writer_qos.durability().kind = dds::VOLATILE_DURABILITY_QOS;
    writer_qos.history().kind = dds::KEEP_LAST_HISTORY_QOS;
    writer_qos.history().depth = 1;
    dds::DataReaderQos reader_qos = dds::DATAREADER_QOS_DEFAULT;
    reader_qos.reliability().kind = dds::RELIABLE_RELIABILITY_QOS;
    reader_qos.durability().kind = dds::VOLATILE_DURABILITY_QOS;
    reader_qos.history().kind = dds::KEEP_LAST_HISTORY_QOS;
    reader_qos.history().depth = 1;
    if constexpr (kLoan) {
      writer_qos.data_sharing().on("/dev/shm");
      reader_qos.data_sharing().on("/dev/shm");
    } else {
      writer_qos.data_sharing().off();
      reader_qos.data_sharing().off();
    }
    m_writer = publisher->create_datawriter(out_topic, writer_qos);
    m_reader = subscriber->create_datareader(in_topic, reader_qos);
    if (m_writer == nullptr || m_reader == nullptr) return fail("writer/reader");
    m_buffer.assign(m_size / 8, 0);
    // Discovery is asynchronous: wait until each direction is matched.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      dds::PublicationMatchedStatus written{};
      dds::SubscriptionMatchedStatus read{};
      m_writer->get_publication_matched_status(written);
      m_reader->get_subscription_matched_status(read);
      if (written.current_count > 0 && read.current_count > 0) break;
      if (std::chrono::steady_clock::now() > deadline) return fail("discovery (no match in 20 s)");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  FastDdsPubSub() = default;
  FastDdsPubSub(const FastDdsPubSub&) = delete;
  FastDdsPubSub& operator=(const FastDdsPubSub&) = delete;
  ~FastDdsPubSub() {
    if (m_participant != nullptr) {
      (void)m_participant->delete_contained_entities();
      (void)Factory::get_instance()->delete_participant(m_participant);
    }
  }
  void send(std::uint64_t counter) {
    if constexpr (kLoan) {
      void* sample = nullptr;
      if (m_writer->loan_sample(sample) != ReturnCode::RETCODE_OK) {
        die_with(*m_ctx, "Fast DDS loan_sample failed");
      }
      std::memcpy(sample, &counter, sizeof counter);
      if (!m_writer->write(sample)) die_with(*m_ctx, "Fast DDS write (loaned) failed");
    } else {
      m_buffer[0] = counter;
      if (!m_writer->write(m_buffer.data())) die_with(*m_ctx, "Fast DDS write failed");
    }
  }
  std::uint64_t receive() {
    namespace dds = eprosima::fastdds::dds;
    for (;;) {
      dds::LoanableSequence<std::uint64_t> data;
      dds::SampleInfoSeq infos;
      const auto taken = m_reader->take(data, infos, 1);
      if (taken == ReturnCode::RETCODE_OK) {
        std::optional<std::uint64_t> counter;
        if (infos.length() > 0 && infos[0].valid_data) {
          // A loaned sample starts 4 bytes (the CDR header) into its payload: not 8-aligned.
          std::uint64_t value = 0;
          std::memcpy(&value, data.buffer()[0], sizeof value);
          counter = value;
        }
        (void)m_reader->return_loan(data, infos);
        if (counter) return *counter;
        continue;
      }
      if (taken != ReturnCode::RETCODE_NO_DATA) die_with(*m_ctx, "Fast DDS take failed");
      // Sleeps until a sample is unread; the watchdog ends a run whose peer died.
      (void)m_reader->wait_for_unread_message(eprosima::fastrtps::Duration_t(1, 0));
    }
  }

 private:
  using ReturnCode = eprosima::fastrtps::types::ReturnCode_t;
  bool fail(const char* what) {
    std::fprintf(stderr, "latency_pingpong: Fast DDS: cannot create the %s\n", what);
    return false;
  }

  const Context* m_ctx = nullptr;
  std::uint32_t m_size = 0;
  eprosima::fastdds::dds::DomainParticipant* m_participant = nullptr;
  eprosima::fastdds::dds::TypeSupport m_type;
  eprosima::fastdds::dds::DataWriter* m_writer = nullptr;
  eprosima::fastdds::dds::DataReader* m_reader = nullptr;
  std::vector<std::uint64_t> m_buffer;  // fastdds-shm: the sample write() serializes
};
#endif

// ---------------------------------------------------------------------------------------------
// The timed loop and its statistics.

struct Stats {
  std::uint64_t median, p90, p99, p999, max;
  double mean;
};

Stats summarize(std::vector<std::uint64_t>& samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  // Nearest rank: the smallest sample with at least q of all samples at or below it.
  auto rank = [&](double q) {
    auto k = static_cast<std::size_t>(q * static_cast<double>(n) + 0.999999);
    return samples[std::clamp<std::size_t>(k, 1, n) - 1];
  };
  const auto sum =
      std::accumulate(samples.begin(), samples.end(), 0.0,
                      [](double a, std::uint64_t b) { return a + static_cast<double>(b); });
  return Stats{rank(0.5),   rank(0.9),      rank(0.99),
               rank(0.999), samples.back(), sum / static_cast<double>(n)};
}

/// CPU time of the whole process (every thread: a middleware's own threads count) in ns.
std::uint64_t process_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(t.tv_nsec);
}

template <typename Endpoint>
int run_side(const Context& ctx, std::vector<std::uint64_t>* samples) {
  Endpoint endpoint;
  if (!endpoint.open(ctx)) die_with(ctx, "setup failed");
  auto& control = ctx.page.control();
  if (!rendezvous(control, 1)) return 1;
  g_in_timed_loop = true;
  const std::uint64_t total = ctx.options.warmup + ctx.options.rounds;
  // Each side's CPU time over the timed rounds: from just before the first one to just after the
  // last (so a side that sleeps costs what its wake-ups cost, and a side that spins its whole
  // round trip). The one branch a round is not measurable next to a round trip.
  std::uint64_t cpu_start = ctx.options.warmup == 0 ? process_cpu_ns() : 0;
  if (ctx.role == Role::Initiator) {
    for (std::uint64_t i = 1; i <= total; ++i) {
      if (i == ctx.options.warmup + 1 && i > 1) cpu_start = process_cpu_ns();
      const auto start = std::chrono::steady_clock::now();
      endpoint.send(i);
      const auto reply = endpoint.receive();
      const auto stop = std::chrono::steady_clock::now();
      if (reply != (i & Endpoint::kCounterMask)) die_with(ctx, "the reply answers another message");
      if (i > ctx.options.warmup) {
        samples->push_back(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count()));
      }
    }
  } else {
    for (std::uint64_t i = 1; i <= total; ++i) {
      if (i == ctx.options.warmup + 1 && i > 1) cpu_start = process_cpu_ns();
      const auto message = endpoint.receive();
      if (message != (i & Endpoint::kCounterMask)) die_with(ctx, "a message was lost or reordered");
      endpoint.send(message);
    }
  }
  (ctx.role == Role::Initiator ? control.initiator_cpu_ns : control.responder_cpu_ns)
      .value.store(process_cpu_ns() - cpu_start, std::memory_order_relaxed);
  // Nobody tears its ports down while the other may still use them.
  return rendezvous(control, 2) ? 0 : 1;
}

int run_role(const Context& ctx, std::vector<std::uint64_t>* samples) {
  try {
    switch (ctx.options.mode) {
      case Mode::AxonPubSubSpin:
        return run_side<AxonPubSub<PubSubWait::Spin>>(ctx, samples);
      case Mode::AxonPubSubWaitSet:
        return run_side<AxonPubSub<PubSubWait::Listener>>(ctx, samples);
      case Mode::AxonPubSubWake:
      case Mode::AxonPubSubWaitSetPoll:
        return run_side<AxonPubSub<PubSubWait::Wakeable>>(ctx, samples);
      case Mode::AxonRequestResponseSpin:
        return run_side<AxonRequestResponse<false>>(ctx, samples);
      case Mode::AxonRequestResponseWaitSet:
        return run_side<AxonRequestResponse<true>>(ctx, samples);
      case Mode::AxonEventWaitSet:
      case Mode::AxonEventWaitSetPoll:
        return run_side<AxonEvent<axon::EventBackend::EventFd>>(ctx, samples);
      case Mode::AxonEventWaitSetFifo:
        return run_side<AxonEvent<axon::EventBackend::Fifo>>(ctx, samples);
      case Mode::AxonEventBlocking:
        return run_side<AxonEvent<axon::EventBackend::EventFd, false>>(ctx, samples);
      case Mode::RawSpin:
        return run_side<RawSpin>(ctx, samples);
      case Mode::RawSpinOneLine:
        return run_side<RawSpinOneLine>(ctx, samples);
      case Mode::RawEpollEventFd:
        return run_side<RawEpoll<false>>(ctx, samples);
      case Mode::RawEventFd:
        return run_side<RawEpoll<false, false>>(ctx, samples);
      case Mode::RawFifo:
        return run_side<RawEpoll<true>>(ctx, samples);
      case Mode::RawUds:
        return run_side<RawUds>(ctx, samples);
      case Mode::RawBoostMq:
        return run_side<RawBoostMq>(ctx, samples);
      case Mode::CoreQueueSpin:
        return run_side<CoreSpin<false>>(ctx, samples);
      case Mode::CorePoolQueuesSpin:
        return run_side<CoreSpin<true>>(ctx, samples);
#if defined(AXON_BENCH_WITH_ICEORYX)
      case Mode::IceoryxPubSubSpin:
        return run_side<IceoryxPubSub<false>>(ctx, samples);
      case Mode::IceoryxPubSubWaitSet:
        return run_side<IceoryxPubSub<true>>(ctx, samples);
#else
      case Mode::IceoryxPubSubSpin:
      case Mode::IceoryxPubSubWaitSet:
        break;
#endif
#if defined(AXON_BENCH_WITH_FASTDDS)
      case Mode::FastDdsShm:
        return run_side<FastDdsPubSub<false>>(ctx, samples);
      case Mode::FastDdsLoan:
        return run_side<FastDdsPubSub<true>>(ctx, samples);
#else
      case Mode::FastDdsShm:
      case Mode::FastDdsLoan:
        break;
#endif
    }
  } catch (const std::exception& e) {
    die_with(ctx, e.what());
  }
  die_with(ctx, "mode not built");
}

/// Creates what the raw baselines need before the fork; false (with a message) on failure.
bool create_raw_resources(const Options& options, const Names& names, RawFds& fds) {
  switch (options.mode) {
    case Mode::RawEpollEventFd:
    case Mode::RawEventFd: {
      fds.ping_read = fds.ping_write = ::eventfd(0, EFD_CLOEXEC);
      fds.pong_read = fds.pong_write = ::eventfd(0, EFD_CLOEXEC);
      return fds.ping_read >= 0 && fds.pong_read >= 0;
    }
    case Mode::RawFifo: {
      int ping[2];
      int pong[2];
      if (::pipe2(ping, O_CLOEXEC) != 0 || ::pipe2(pong, O_CLOEXEC) != 0) return false;
      fds.ping_read = ping[0];
      fds.ping_write = ping[1];
      fds.pong_read = pong[0];
      fds.pong_write = pong[1];
      return true;
    }
    case Mode::RawUds:
      return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds.socket) == 0;
    case Mode::RawBoostMq:
      return RawBoostMq::create_queues(names, options.size);
    default:
      return true;
  }
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    std::fprintf(stderr, "latency_pingpong: cannot pin to CPU %d: %s\n", cpu, std::strerror(errno));
  }
}

/// `cpu_ns`: both processes' CPU time over the timed rounds.
void print_json(const Options& options, Stats s, std::uint64_t cpu_ns) {
  std::array<char, 48> budget{};
  if (polls(options.mode)) {
    std::snprintf(budget.data(), budget.size(), ",\"busy_poll_us\":%lld",
                  static_cast<long long>(options.busy_poll.count()));
  }
  std::printf(
      "{\"mode\":\"%s\",\"size\":%llu,\"rounds\":%llu,\"median_ns\":%llu,\"p90_ns\":%llu,"
      "\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%.1f,"
      "\"cpu_ns_per_rt\":%.1f%s}\n",
      std::string(options.mode_name).c_str(), static_cast<unsigned long long>(options.size),
      static_cast<unsigned long long>(options.rounds), static_cast<unsigned long long>(s.median),
      static_cast<unsigned long long>(s.p90), static_cast<unsigned long long>(s.p99),
      static_cast<unsigned long long>(s.p999), static_cast<unsigned long long>(s.max), s.mean,
      static_cast<double>(cpu_ns) / static_cast<double>(options.rounds), budget.data());
  std::fflush(stdout);
}

#if defined(AXON_BENCH_WITH_ICEORYX)
/// The iceoryx modes' RouDi: when none runs, one is started for this run (with one mempool that
/// holds the payload) and stopped at its end. RouDi dies with us too (PR_SET_PDEATHSIG), so a
/// watchdog's kill leaves no daemon behind.
class RoudiGuard {
 public:
  RoudiGuard() = default;
  RoudiGuard(const RoudiGuard&) = delete;
  RoudiGuard& operator=(const RoudiGuard&) = delete;
  ~RoudiGuard() { stop(); }

  /// Whether this guard started the RouDi that runs (and will stop it).
  bool started() const { return m_pid > 0; }

  /// False (with a message) when RouDi is needed, not running and cannot be started.
  bool ensure(std::uint64_t payload) {
    if (::access("/dev/shm/iceoryx_mgmt", F_OK) == 0) return true;  // someone else's RouDi
    std::array<char, 64> config{};
    std::snprintf(config.data(), config.size(), "/tmp/axon-bench-roudi-%d.toml",
                  static_cast<int>(::getpid()));
    std::array<char, 64> log{};
    std::snprintf(log.data(), log.size(), "/tmp/axon-bench-roudi-%d.log",
                  static_cast<int>(::getpid()));
    m_config = config.data();
    m_log = log.data();
    // The payload, iceoryx's chunk header and room to spare, in a multiple of 64 bytes; a
    // small pool as well for anything iceoryx sends of its own.
    const std::uint64_t chunk = (payload + 1024 + 63) / 64 * 64;
    const std::uint64_t count = chunk > (1U << 20) ? 16 : 32;
    if (FILE* f = std::fopen(m_config.c_str(), "w")) {
      std::fprintf(f,
                   "[general]\nversion = 1\n\n[[segment]]\n\n[[segment.mempool]]\nsize = 128\n"
                   "count = 64\n\n[[segment.mempool]]\nsize = %llu\ncount = %llu\n",
                   static_cast<unsigned long long>(chunk), static_cast<unsigned long long>(count));
      std::fclose(f);
    } else {
      std::fprintf(stderr, "latency_pingpong: cannot write %s\n", m_config.c_str());
      return false;
    }
    const pid_t parent = ::getpid();
    std::fflush(stdout);
    std::fflush(stderr);
    m_pid = ::fork();
    if (m_pid < 0) return false;
    if (m_pid == 0) {
      (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) std::_Exit(1);
      const int out = ::open(m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (out >= 0) {
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
      }
      ::execlp("iox-roudi", "iox-roudi", "-c", m_config.c_str(), "-l", "warning",
               static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    m_owner = parent;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        std::fprintf(stderr, "latency_pingpong: iox-roudi %s (Debian package iceoryx)\n",
                     WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "not found"
                                                                     : "exited at start");
        return false;
      }
      if (::access("/dev/shm/iceoryx_mgmt", F_OK) == 0 && log_says_ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::fprintf(stderr, "latency_pingpong: RouDi did not become ready (log: %s)\n",
                 m_log.c_str());
    return false;
  }

 private:
  bool log_says_ready() const {
    FILE* f = std::fopen(m_log.c_str(), "r");
    if (f == nullptr) return false;
    std::array<char, 4096> text{};
    const auto n = std::fread(text.data(), 1, text.size() - 1, f);
    std::fclose(f);
    return std::string_view(text.data(), n).find("ready") != std::string_view::npos;
  }

  void stop() {
    // Only the process that started RouDi stops it (a forked responder returns through main).
    if (m_pid > 0 && ::getpid() == m_owner) {
      (void)::kill(m_pid, SIGTERM);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
      m_pid = -1;
    }
    if (::getpid() == m_owner) {
      if (!m_config.empty()) (void)::unlink(m_config.c_str());
      if (!m_log.empty()) (void)::unlink(m_log.c_str());
    }
  }

  pid_t m_pid = -1;
  pid_t m_owner = -1;
  std::string m_config;
  std::string m_log;
};
#endif

}  // namespace

/// One measurement: forks the responder, runs the initiator, prints the JSON line.
static int measure(const Options& options) {
  const pid_t parent = ::getpid();
  const Names names(parent);
  const bool core = options.mode == Mode::CoreQueueSpin || options.mode == Mode::CorePoolQueuesSpin;
  const std::uint64_t buffers =
      options.mode == Mode::RawSpin ? options.size : (core ? CoreWay::bytes() : 0);
  auto page = SharedPage::create(buffers);
  if (!page) {
    std::fprintf(stderr, "latency_pingpong: mmap of the shared page failed\n");
    return 1;
  }
  if (core &&
      (!CoreWay::initialize(page->ping_buffer()) || !CoreWay::initialize(page->pong_buffer()))) {
    std::fprintf(stderr, "latency_pingpong: cannot lay out the core structures\n");
    return 1;
  }
  RawFds fds;
  if (!create_raw_resources(options, names, fds)) {
    std::fprintf(stderr, "latency_pingpong: cannot create the %s baseline's descriptors: %s\n",
                 std::string(options.mode_name).c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<std::uint64_t> samples;
  samples.reserve(options.rounds);
  const auto cpus = allowed_cpus();
  if (cpus.size() < 2) {
    std::fprintf(stderr, "latency_pingpong: fewer than 2 CPUs allowed: not pinning\n");
  }

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "latency_pingpong: fork failed: %s\n", std::strerror(errno));
    return 1;
  }
  // The watchdog: a peer that died or hung must not keep the other spinning for ever.
  ::alarm(options.timeout_s);
  if (child == 0) {
    (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(1);
    if (cpus.size() >= 2) pin_to(cpus[1]);
    if (options.mode == Mode::RawUds) ::close(std::exchange(fds.socket[0], -1));
    Context ctx{options, names, *page, fds, Role::Responder};
    const int code = run_role(ctx, nullptr);
    fds.close_all();
    return code;
  }
  if (options.mode == Mode::RawBoostMq) {
    // Boost.Interprocess names POSIX shared memory "/" + name.
    std::snprintf(g_mq_ping_path.data(), g_mq_ping_path.size(), "/%s", names.mq_ping.c_str());
    std::snprintf(g_mq_pong_path.data(), g_mq_pong_path.size(), "/%s", names.mq_pong.c_str());
  }
  struct sigaction action {};
  action.sa_handler = on_initiator_signal;
  ::sigemptyset(&action.sa_mask);
  for (int signal : {SIGALRM, SIGTERM, SIGINT}) ::sigaction(signal, &action, nullptr);
  if (cpus.size() >= 2) pin_to(cpus[0]);
  if (options.mode == Mode::RawUds) ::close(std::exchange(fds.socket[1], -1));
  Context ctx{options, names, *page, fds, Role::Initiator};
  int code = run_role(ctx, &samples);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  fds.close_all();
  if (options.mode == Mode::RawBoostMq) RawBoostMq::remove_queues(names);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "latency_pingpong: the responder failed (status %d)\n", status);
    code = 1;
  }
  if (code != 0 || samples.size() != options.rounds) return code != 0 ? code : 1;
  const auto& control = page->control();
  print_json(options, summarize(samples),
             control.initiator_cpu_ns.value.load(std::memory_order_relaxed) +
                 control.responder_cpu_ns.value.load(std::memory_order_relaxed));
  return 0;
}

int main(int argc, char** argv) {
  Options options;
  if (auto exit_code = parse(argc, argv, options)) return *exit_code;
#if defined(AXON_BENCH_WITH_ICEORYX)
  if (options.mode == Mode::IceoryxPubSubSpin || options.mode == Mode::IceoryxPubSubWaitSet) {
    RoudiGuard roudi;
    if (!roudi.ensure(options.size)) return 1;
    if (roudi.started()) {
      // RouDi stops its registered processes when it stops: the measurement registers in a
      // child of ours, which has left before RouDi is told to stop.
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t runner = ::fork();
      if (runner < 0) return 1;
      if (runner == 0) std::exit(measure(options));  // exit: iceoryx deregisters at exit
      int status = 0;
      while (::waitpid(runner, &status, 0) < 0 && errno == EINTR) {
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
#endif
  return measure(options);
}
