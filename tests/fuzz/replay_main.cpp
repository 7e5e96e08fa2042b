// main() for a fuzz target built without libFuzzer (g++, the regular test suite): runs the target
// over its seeds, then over a fixed stream of pseudo-random and mutated inputs. Deterministic:
// the same build replays the same inputs in the same order; only --seconds may cut it short.
//
//   axon_fuzz_<target> [--seeds DIR] [--runs N] [--seconds S] [--max-len N] [--seed N]
//   axon_fuzz_<target> FILE...      runs exactly these inputs (e.g. a crash libFuzzer saved)
//
// When an input crashes (a sanitizer report, a failed fuzz check, a signal), it is written to
// ./replay-crash-<target> before the process dies, so that it can be run again as a FILE.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Provided by the sanitizer runtimes; null when the program runs without one.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

using Bytes = std::vector<std::uint8_t>;

/// The input being run and where to save it should it kill the process. Plain globals: a signal
/// handler reads them.
const std::uint8_t* g_current = nullptr;
std::size_t g_current_size = 0;
char g_crash_path[512] = "replay-crash";

void save_current_input() {
  // Only async-signal-safe calls: this runs from a signal handler or a sanitizer's death path.
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::size_t written = 0;
  while (written < g_current_size) {
    const ssize_t n = ::write(fd, g_current + written, g_current_size - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  static constexpr char kNote[] = "replay: the crashing input is saved as ";
  (void)!::write(STDERR_FILENO, kNote, sizeof(kNote) - 1);
  (void)!::write(STDERR_FILENO, g_crash_path, std::strlen(g_crash_path));
  (void)!::write(STDERR_FILENO, "\n", 1);
}

void on_fatal_signal(int signal) {
  save_current_input();
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void run(const Bytes& input) {
  g_current = input.data();
  g_current_size = input.size();
  (void)LLVMFuzzerTestOneInput(input.data(), input.size());
}

/// splitmix64: small, fast, and the same stream on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_state{seed} {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform enough in 0..n-1 (n > 0).
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t m_state;
};

/// Values at the edges of the checks a parser makes: sizes, limits, alignments, all-ones.
constexpr std::uint64_t kInteresting[] = {0,
                                          1,
                                          2,
                                          7,
                                          8,
                                          63,
                                          64,
                                          65,
                                          127,
                                          128,
                                          255,
                                          256,
                                          4095,
                                          4096,
                                          65535,
                                          65536,
                                          0x7fff'ffff,
                                          0x8000'0000,
                                          0xffff'ffff,
                                          std::uint64_t{1} << 20,
                                          std::uint64_t{1} << 24,
                                          std::uint64_t{1} << 30,
                                          std::uint64_t{1} << 32,
                                          std::uint64_t{1} << 58,
                                          std::uint64_t{1} << 63,
                                          ~std::uint64_t{0},
                                          ~std::uint64_t{0} - 63};

class Mutator {
 public:
  Mutator(Rng& rng, std::size_t max_len) : m_rng{rng}, m_max_len{max_len} {}

  Bytes random_input() {
    // Mostly short: the targets read their fixed fields first.
    const std::size_t cap = m_rng.below(4) == 0 ? m_max_len : std::min<std::size_t>(m_max_len, 96);
    Bytes out(m_rng.below(cap + 1));
    for (auto& b : out) b = static_cast<std::uint8_t>(m_rng.next());
    return out;
  }

  void mutate(Bytes& input, const std::vector<Bytes>& pool) {
    const std::size_t steps = 1 + m_rng.below(6);
    for (std::size_t i = 0; i < steps; ++i) mutate_once(input, pool);
    if (input.size() > m_max_len) input.resize(m_max_len);
  }

 private:
  std::size_t position(const Bytes& input) { return m_rng.below(input.size()); }

  void write_value(Bytes& input, std::uint64_t value) {
    const std::size_t widths[] = {1, 2, 4, 8};
    const std::size_t width = std::min(widths[m_rng.below(4)], input.size());
    const std::size_t at = m_rng.below(input.size() - width + 1);
    std::memcpy(input.data() + at, &value, width);  // little-endian, as the targets read it
  }

  void mutate_once(Bytes& input, const std::vector<Bytes>& pool) {
    switch (m_rng.below(10)) {
      case 0:  // flip a bit
        if (!input.empty())
          input[position(input)] ^= static_cast<std::uint8_t>(1U << m_rng.below(8));
        break;
      case 1:  // set a byte
        if (!input.empty()) input[position(input)] = static_cast<std::uint8_t>(m_rng.next());
        break;
      case 2:  // an interesting value, maybe nudged by a little
        if (!input.empty()) {
          const std::uint64_t value = kInteresting[m_rng.below(std::size(kInteresting))];
          write_value(input, value + m_rng.below(3) - 1);
        }
        break;
      case 3:  // add a small delta to a byte
        if (!input.empty()) {
          input[position(input)] += static_cast<std::uint8_t>(m_rng.below(33) - 16);
        }
        break;
      case 4: {  // insert random bytes
        const std::size_t at = m_rng.below(input.size() + 1);
        Bytes extra(1 + m_rng.below(16));
        for (auto& b : extra) b = static_cast<std::uint8_t>(m_rng.next());
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), extra.begin(), extra.end());
        break;
      }
      case 5:  // erase a range
        if (!input.empty()) {
          const std::size_t at = position(input);
          const std::size_t n = 1 + m_rng.below(std::min<std::size_t>(16, input.size() - at));
          input.erase(input.begin() + static_cast<std::ptrdiff_t>(at),
                      input.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      case 6:  // copy a range over another place
        if (input.size() > 1) {
          const std::size_t from = position(input);
          const std::size_t to = position(input);
          const std::size_t n =
              std::min({1 + m_rng.below(16), input.size() - from, input.size() - to});
          std::memmove(input.data() + to, input.data() + from, n);
        }
        break;
      case 7:  // splice: our head, another input's tail
        if (!pool.empty()) {
          const Bytes& other = pool[m_rng.below(pool.size())];
          const std::size_t keep = m_rng.below(input.size() + 1);
          const std::size_t from = m_rng.below(other.size() + 1);
          input.resize(keep);
          input.insert(input.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        }
        break;
      case 8:  // truncate
        input.resize(m_rng.below(input.size() + 1));
        break;
      case 9: {  // append operations
        const std::size_t n = 1 + m_rng.below(32);
        for (std::size_t i = 0; i < n; ++i)
          input.push_back(static_cast<std::uint8_t>(m_rng.next()));
        break;
      }
    }
  }

  Rng& m_rng;
  std::size_t m_max_len;
};

bool read_file(const std::filesystem::path& path, Bytes& out) {
  std::ifstream file{path, std::ios::binary};
  if (!file) return false;
  out.assign(std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{});
  return true;
}

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--seeds DIR] [--runs N] [--seconds S] [--max-len N] [--seed N]\n"
               "       %s FILE...\n",
               program, program);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path seeds_dir;
  std::uint64_t runs = 50000;
  double seconds = 2.0;
  std::size_t max_len = 4096;
  std::uint64_t seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    if (arg == "--seeds") {
      seeds_dir = value();
    } else if (arg == "--runs") {
      runs = std::stoull(value());
    } else if (arg == "--seconds") {
      seconds = std::stod(value());
    } else if (arg == "--max-len") {
      max_len = std::stoull(value());
    } else if (arg == "--seed") {
      seed = std::stoull(value());
    } else if (arg.starts_with("--")) {
      usage(argv[0]);
    } else {
      files.emplace_back(arg);
    }
  }

  const std::string target = std::filesystem::path{argv[0]}.filename().string();
  std::snprintf(g_crash_path, sizeof(g_crash_path), "replay-crash-%s", target.c_str());
  if (__sanitizer_set_death_callback != nullptr) {
    // A sanitizer reports faults itself and then dies through this callback; taking its signals
    // would lose its report. A failed fuzz check aborts, which it leaves alone.
    __sanitizer_set_death_callback(save_current_input);
    std::signal(SIGABRT, on_fatal_signal);
  } else {
    for (const int s : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) std::signal(s, on_fatal_signal);
  }

  if (!files.empty()) {
    for (const auto& file : files) {
      Bytes input;
      if (!read_file(file, input)) {
        std::fprintf(stderr, "%s: cannot read %s\n", target.c_str(), file.c_str());
        return 1;
      }
      std::printf("%s: running %s (%zu bytes)\n", target.c_str(), file.c_str(), input.size());
      run(input);
    }
    std::printf("%s: %zu input(s), no crash\n", target.c_str(), files.size());
    return 0;
  }

  std::vector<Bytes> seeds;
  if (!seeds_dir.empty() && std::filesystem::is_directory(seeds_dir)) {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator{seeds_dir}) {
      if (entry.is_regular_file()) paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());  // directory order is not stable; the stream must be
    for (const auto& path : paths) {
      Bytes input;
      if (read_file(path, input)) seeds.push_back(std::move(input));
    }
  }

  const auto start = std::chrono::steady_clock::now();
  for (const auto& input : seeds) run(input);

  Rng rng{seed};
  Mutator mutator{rng, max_len};
  Bytes current;
  std::uint64_t done = 0;
  bool out_of_time = false;
  for (; done < runs; ++done) {
    if (done % 256 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) {
      out_of_time = true;
      break;
    }
    // A new base now and then (a seed, or noise when there are none); otherwise keep mutating the
    // previous input, which walks further from the seeds than one round of mutations can.
    if (done % 8 == 0 || current.empty()) {
      current = seeds.empty() || rng.below(8) == 0 ? mutator.random_input()
                                                   : seeds[rng.below(seeds.size())];
    }
    mutator.mutate(current, seeds);
    run(current);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %zu seeds and %llu generated inputs in %.2f s%s, no crash\n", target.c_str(),
              seeds.size(), static_cast<unsigned long long>(done), elapsed,
              out_of_time ? " (stopped at the time bound)" : "");
  return 0;
}
