// wake_probe: what a *sleeping* two-process round trip costs on this machine, primitive by
// primitive, and what changes it. bench/README.md "Why a sleeping round trip costs what it does"
// explains the figures; latency_pingpong measures axon itself.
//
//   wake_probe --transport T [--place split|same|free] [--spinner] [--poll-us N]
//              [--rounds N] [--warmup N]
//
// Transports (each side blocks in the kernel until the other side's message arrives):
//   eventfd        blocking read() of an eventfd, no epoll
//   epoll-eventfd  epoll_wait() on the eventfd, then read() (what axon's WaitSet does)
//   futex          FUTEX_WAIT on a word in a shared page, FUTEX_WAKE by the sender
//   udp            two UDP sockets on 127.0.0.1, blocking recv() (what ddsperf's receive thread does)
//   uds            a unix SOCK_DGRAM socketpair, blocking recv()
//   pipe           blocking read() of a pipe
// Placement: split pins the initiator to the first allowed CPU and the responder to the second
// (as latency_pingpong does), same pins both to the first, free pins neither.
// --spinner starts, in each process, a SCHED_IDLE thread that spins on the process's CPU(s): the
// CPU never halts, and the kernel preempts the spinner at once when the real thread wakes.
// --poll-us N: before blocking, a receiver polls its source without blocking for up to N µs.
//
// Output: one JSON object: median and p99 round trip (ns), the CPU time of both processes per
// round trip (ns), and per round trip the idle entries (cpuidle state usage, both CPUs) and the
// rescheduling + function-call interrupts (/proc/interrupts RES + CAL, both CPUs).
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class Transport { EventFd, EpollEventFd, Futex, Udp, Uds, Pipe };
enum class Place { Split, Same, Free };

struct Options {
  Transport transport = Transport::EventFd;
  std::string transport_name = "eventfd";
  Place place = Place::Split;
  std::string place_name = "split";
  bool spinner = false;
  std::uint64_t poll_us = 0;
  std::uint64_t rounds = 10000;
  std::uint64_t warmup = 1000;
};

/// Shared between the two processes (MAP_SHARED before the fork).
struct Shared {
  std::atomic<std::uint32_t> ready{0};
  alignas(64) std::atomic<std::uint32_t> futex_word[2];  // [0] initiator -> responder, [1] back
  alignas(64) std::atomic<std::int64_t> responder_cpu_ns{0};
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "wake_probe: %s: %s\n", what, std::strerror(errno));
  std::_Exit(1);
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
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

std::int64_t process_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Idle entries of every CPU (sum over every cpuidle state): how often a CPU halted.
std::uint64_t idle_entries() {
  std::uint64_t total = 0;
  for (int cpu = 0; cpu < 64; ++cpu) {
    for (int state = 0; state < 8; ++state) {
      std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpuidle/state" +
                       std::to_string(state) + "/usage");
      if (!in) break;
      std::uint64_t n = 0;
      in >> n;
      total += n;
    }
  }
  return total;
}

/// Rescheduling and function-call interrupts of every CPU: the IPIs of a remote wake-up.
std::uint64_t ipis() {
  std::ifstream in("/proc/interrupts");
  std::string line;
  std::uint64_t total = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    if (name != "RES:" && name != "CAL:") continue;
    std::string word;
    while (words >> word) {
      if (word.empty() || word.find_first_not_of("0123456789") != std::string::npos) break;
      total += std::stoull(word);
    }
  }
  return total;
}

/// One side's end of the transport: send a counter, block until the other side's arrives.
class Endpoint {
 public:
  Endpoint(const Options& options, Shared& shared, bool initiator, int out, int in)
      : m_options(options), m_shared(shared), m_initiator(initiator), m_out(out), m_in(in) {
    if (options.transport == Transport::EpollEventFd) {
      m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
      epoll_event event{};
      event.events = EPOLLIN;
      if (m_epoll < 0 || ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_in, &event) != 0) die("epoll");
    }
  }

  void send(std::uint64_t counter) {
    switch (m_options.transport) {
      case Transport::Futex: {
        auto& word = m_shared.futex_word[m_initiator ? 0 : 1];
        word.store(static_cast<std::uint32_t>(counter), std::memory_order_release);
        ::syscall(SYS_futex, &word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
        return;
      }
      case Transport::Pipe: {
        const auto byte = static_cast<unsigned char>(counter);
        if (::write(m_out, &byte, 1) != 1) die("pipe write");
        return;
      }
      case Transport::Udp:
      case Transport::Uds:
        if (::send(m_out, &counter, sizeof counter, 0) != sizeof counter) die("send");
        return;
      default:
        if (::write(m_out, &counter, sizeof counter) != sizeof counter) die("eventfd write");
        return;
    }
  }

  /// Waits for the next counter; checks it is the one expected.
  void receive(std::uint64_t expected) {
    if (m_options.poll_us > 0 && poll(expected)) return;
    for (;;) {
      if (try_take(expected, true)) return;
    }
  }

 private:
  /// Polls without blocking for up to the budget; true when the message came.
  bool poll(std::uint64_t expected) {
    const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(m_options.poll_us) * 1000;
    do {
      if (try_take(expected, false)) return true;
    } while (now_ns() < deadline);
    return false;
  }

  /// One attempt (blocking or not); true when the expected counter was taken.
  bool try_take(std::uint64_t expected, bool block) {
    const int flags = block ? 0 : MSG_DONTWAIT;
    switch (m_options.transport) {
      case Transport::Futex: {
        auto& word = m_shared.futex_word[m_initiator ? 1 : 0];
        const auto want = static_cast<std::uint32_t>(expected);
        std::uint32_t seen = word.load(std::memory_order_acquire);
        if (seen == want) return true;
        if (block) ::syscall(SYS_futex, &word, FUTEX_WAIT, seen, nullptr, nullptr, 0);
        return word.load(std::memory_order_acquire) == want;
      }
      case Transport::Udp:
      case Transport::Uds: {
        std::uint64_t value = 0;
        const auto got = ::recv(m_in, &value, sizeof value, flags);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return false;
        if (got != sizeof value || value != expected) die("recv");
        return true;
      }
      case Transport::Pipe: {
        if (!block) set_nonblocking(true);
        unsigned char byte = 0;
        const auto got = ::read(m_in, &byte, 1);
        const int saved = errno;
        if (!block) set_nonblocking(false);
        if (got < 0 && (saved == EAGAIN || saved == EINTR)) return false;
        if (got != 1 || byte != static_cast<unsigned char>(expected)) die("pipe read");
        return true;
      }
      case Transport::EpollEventFd:
        if (block) {
          epoll_event event{};
          if (::epoll_wait(m_epoll, &event, 1, -1) < 0 && errno != EINTR) die("epoll_wait");
        }
        [[fallthrough]];
      case Transport::EventFd: {
        // The eventfd is non-blocking for epoll-eventfd and for a poll budget; plain eventfd
        // mode without a budget keeps it blocking, so its read is the sleep.
        if (!block || m_options.transport == Transport::EpollEventFd) set_nonblocking(true);
        std::uint64_t value = 0;
        const auto got = ::read(m_in, &value, sizeof value);
        const int saved = errno;
        if (!block || m_options.transport == Transport::EpollEventFd) set_nonblocking(false);
        if (got < 0 && (saved == EAGAIN || saved == EINTR)) return false;
        if (got != sizeof value || value != expected) die("eventfd read");
        return true;
      }
    }
    return false;
  }

  /// Toggling O_NONBLOCK costs two fcntl calls; kept only where the mode needs it, and the
  /// flag is cached so that a poll loop toggles once.
  void set_nonblocking(bool on) {
    if (on == m_nonblocking) return;
    const int flags = ::fcntl(m_in, F_GETFL);
    ::fcntl(m_in, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
    m_nonblocking = on;
  }

  const Options& m_options;
  Shared& m_shared;
  bool m_initiator;
  int m_out;
  int m_in;
  int m_epoll = -1;
  bool m_nonblocking = false;
};

/// A SCHED_IDLE thread that spins until told to stop: keeps its CPU out of the idle loop
/// without taking time from any normal thread (a wake-up preempts it at once).
class Spinner {
 public:
  explicit Spinner(bool on) {
    if (!on) return;
    m_thread = std::thread([this] {
      sched_param param{};
      if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &param) != 0) die("SCHED_IDLE");
      while (!m_stop.load(std::memory_order_relaxed)) {
        __builtin_ia32_pause();
      }
    });
  }
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;
  ~Spinner() {
    m_stop.store(true, std::memory_order_relaxed);
    if (m_thread.joinable()) m_thread.join();
  }

 private:
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) return {};
      return argv[++i];
    };
    if (arg == "--transport") {
      o.transport_name = std::string(value());
      if (o.transport_name == "eventfd") o.transport = Transport::EventFd;
      else if (o.transport_name == "epoll-eventfd") o.transport = Transport::EpollEventFd;
      else if (o.transport_name == "futex") o.transport = Transport::Futex;
      else if (o.transport_name == "udp") o.transport = Transport::Udp;
      else if (o.transport_name == "uds") o.transport = Transport::Uds;
      else if (o.transport_name == "pipe") o.transport = Transport::Pipe;
      else return false;
    } else if (arg == "--place") {
      o.place_name = std::string(value());
      if (o.place_name == "split") o.place = Place::Split;
      else if (o.place_name == "same") o.place = Place::Same;
      else if (o.place_name == "free") o.place = Place::Free;
      else return false;
    } else if (arg == "--spinner") {
      o.spinner = true;
    } else if (arg == "--poll-us") {
      o.poll_us = std::strtoull(std::string(value()).c_str(), nullptr, 10);
    } else if (arg == "--rounds") {
      o.rounds = std::strtoull(std::string(value()).c_str(), nullptr, 10);
    } else if (arg == "--warmup") {
      o.warmup = std::strtoull(std::string(value()).c_str(), nullptr, 10);
    } else {
      return false;
    }
  }
  return o.rounds > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: wake_probe --transport eventfd|epoll-eventfd|futex|udp|uds|pipe "
                 "[--place split|same|free] [--spinner] [--poll-us N] [--rounds N] "
                 "[--warmup N]\n");
    return 2;
  }
  void* page = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) die("mmap");
  auto* shared = new (page) Shared{};

  // fds[0]: initiator -> responder, fds[1]: back. Each entry: {write end, read end}.
  int fds[2][2] = {{-1, -1}, {-1, -1}};
  for (auto& way : fds) {
    switch (options.transport) {
      case Transport::EventFd:
      case Transport::EpollEventFd:
        way[0] = way[1] = ::eventfd(0, EFD_CLOEXEC);
        if (way[0] < 0) die("eventfd");
        break;
      case Transport::Pipe: {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) die("pipe");
        way[0] = p[1];
        way[1] = p[0];
        break;
      }
      case Transport::Uds: {
        int p[2];
        if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, p) != 0) die("socketpair");
        way[0] = p[0];
        way[1] = p[1];
        break;
      }
      case Transport::Udp: {
        const int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        const int tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (rx < 0 || tx < 0 || ::bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(rx, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
            ::connect(tx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
          die("udp socket");
        }
        way[0] = tx;
        way[1] = rx;
        break;
      }
      case Transport::Futex:
        break;
    }
  }

  const auto cpus = allowed_cpus();
  const std::uint64_t total = options.warmup + options.rounds;
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) die("fork");
  if (child == 0) {
    (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(1);
    if (options.place == Place::Split && cpus.size() >= 2) pin_to(cpus[1]);
    if (options.place == Place::Same && !cpus.empty()) pin_to(cpus[0]);
    Spinner spinner(options.spinner);
    Endpoint side(options, *shared, false, fds[1][0], fds[0][1]);
    shared->ready.fetch_add(1);
    while (shared->ready.load() < 2) {
    }
    std::int64_t cpu_start = 0;
    for (std::uint64_t i = 1; i <= total; ++i) {
      if (i == options.warmup + 1) cpu_start = process_cpu_ns();
      side.receive(i);
      side.send(i);
    }
    shared->responder_cpu_ns.store(process_cpu_ns() - cpu_start);
    std::_Exit(0);
  }
  if (options.place != Place::Free && !cpus.empty()) pin_to(cpus[0]);
  Spinner spinner(options.spinner);
  Endpoint side(options, *shared, true, fds[0][0], fds[1][1]);
  shared->ready.fetch_add(1);
  while (shared->ready.load() < 2) {
  }
  std::vector<std::int64_t> samples;
  samples.reserve(options.rounds);
  std::int64_t cpu_start = 0;
  std::uint64_t idle_start = 0;
  std::uint64_t ipi_start = 0;
  for (std::uint64_t i = 1; i <= total; ++i) {
    if (i == options.warmup + 1) {
      cpu_start = process_cpu_ns();
      idle_start = idle_entries();
      ipi_start = ipis();
    }
    const std::int64_t t0 = now_ns();
    side.send(i);
    side.receive(i);
    if (i > options.warmup) samples.push_back(now_ns() - t0);
  }
  const std::int64_t cpu_ns = process_cpu_ns() - cpu_start;
  const std::uint64_t idle = idle_entries() - idle_start;
  const std::uint64_t ipi = ipis() - ipi_start;
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "wake_probe: the responder failed (status %d)\n", status);
    return 1;
  }
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))];
  };
  const double n = static_cast<double>(options.rounds);
  std::printf(
      "{\"transport\":\"%s\",\"place\":\"%s\",\"spinner\":%s,\"poll_us\":%llu,\"rounds\":%llu,"
      "\"median_ns\":%lld,\"p99_ns\":%lld,\"cpu_ns_per_rt\":%.0f,\"idle_entries_per_rt\":%.2f,"
      "\"ipis_per_rt\":%.2f}\n",
      options.transport_name.c_str(), options.place_name.c_str(),
      options.spinner ? "true" : "false", static_cast<unsigned long long>(options.poll_us),
      static_cast<unsigned long long>(options.rounds), static_cast<long long>(at(0.5)),
      static_cast<long long>(at(0.99)),
      static_cast<double>(cpu_ns + shared->responder_cpu_ns.load()) / n,
      static_cast<double>(idle) / n, static_cast<double>(ipi) / n);
  return 0;
}
