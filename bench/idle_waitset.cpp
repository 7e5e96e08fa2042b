// idle_waitset: what a WaitSet with a busy-poll budget costs while nothing arrives.
//
//   idle_waitset [--seconds S] [--busy-poll US] [--period-ms MS] [--max-percent P]
//
// One process, one Node: a publish-subscribe service with a publisher that never sends and a
// wakeable subscriber, an event service with a notifier that never notifies and a listener. A
// WaitSet with the budget (default 20 µs) holds the subscriber and the listener, so every wait
// busy-polls both for the whole budget and then sleeps. The process waits for --seconds (default
// 2): one wait that long (--period-ms 0, the default), or a wait with that timeout again and
// again (a control loop that wakes on its own every period, paying the budget each time). Its CPU
// time over those seconds (CLOCK_PROCESS_CPUTIME_ID) is the figure: the budget once per wait, a
// few system calls, nothing while it sleeps.
//
// Prints one JSON object: busy_poll_us, period_ms, seconds, waits, cpu_ns, cpu_percent (of one
// CPU), limit_percent and met (cpu_percent <= limit). Exit 0 when measured (whatever the
// verdict), 1 on a setup or wait failure, 2 on a usage error. The services are removed at exit.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "axon/axon.hpp"

namespace {

constexpr const char* kUsage =
    "usage: idle_waitset [--seconds S] [--busy-poll US] [--period-ms MS] [--max-percent P]\n";

struct Options {
  std::uint64_t seconds = 2;
  std::uint64_t busy_poll_us = 20;
  std::uint64_t period_ms = 0;  // 0: one wait for the whole time
  std::uint64_t max_percent = 1;
};

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<int> parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    const auto number = i + 1 < argc ? parse_u64(argv[i + 1]) : std::nullopt;
    if (!number) {
      std::fprintf(stderr, "idle_waitset: %s needs a number\n%s", argv[i], kUsage);
      return 2;
    }
    ++i;
    if (arg == "--seconds" && *number >= 1 && *number <= 3600) {
      options.seconds = *number;
    } else if (arg == "--busy-poll" && *number <= 1'000'000) {
      options.busy_poll_us = *number;
    } else if (arg == "--period-ms" && *number <= 3'600'000) {
      options.period_ms = *number;
    } else if (arg == "--max-percent" && *number <= 100) {
      options.max_percent = *number;
    } else {
      std::fprintf(stderr, "idle_waitset: bad option or value: %s %s\n%s", argv[i - 1], argv[i],
                   kUsage);
      return 2;
    }
  }
  return std::nullopt;
}

std::uint64_t process_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(t.tv_nsec);
}

template <typename T>
bool check(const T& result, const char* what) {
  if (result) return true;
  std::fprintf(stderr, "idle_waitset: %s: %s\n", what, axon::to_string(result.error()));
  return false;
}

int run(const Options& options) {
  auto node = axon::NodeBuilder().name("idle-waitset").create();
  if (!check(node, "node")) return 1;
  const std::string base = "axon-bench/idle/" + std::to_string(::getpid());
  auto data_name = axon::ServiceName::create(base + "/data");
  auto event_name = axon::ServiceName::create(base + "/event");
  if (!data_name || !event_name) {
    std::fprintf(stderr, "idle_waitset: invalid service name\n");
    return 1;
  }
  auto data = node->service_builder(*data_name).publish_subscribe<std::uint64_t>().create();
  if (!check(data, "publish-subscribe service")) return 1;
  auto publisher = data->publisher_builder().create();
  auto subscriber = data->subscriber_builder().wakeable(true).create();
  if (!check(publisher, "publisher") || !check(subscriber, "subscriber")) return 1;
  auto events = node->service_builder(*event_name).event().create();
  if (!check(events, "event service")) return 1;
  auto notifier = events->notifier_builder().create();
  auto listener = events->listener_builder().create();
  if (!check(notifier, "notifier") || !check(listener, "listener")) return 1;

  auto waitset = axon::WaitSetBuilder()
                     .capacity(4)
                     .signal_handling(false)
                     .busy_poll(std::chrono::microseconds(options.busy_poll_us))
                     .create();
  if (!check(waitset, "WaitSet")) return 1;
  auto on_subscriber = waitset->attach_notification(*subscriber);
  auto on_listener = waitset->attach_notification(*listener);
  if (!check(on_subscriber, "attach subscriber") || !check(on_listener, "attach listener")) {
    return 1;
  }

  const auto length = std::chrono::seconds(options.seconds);
  const auto period = options.period_ms == 0
                          ? std::chrono::nanoseconds(length)
                          : std::chrono::nanoseconds(std::chrono::milliseconds(options.period_ms));
  std::uint64_t waits = 0;
  std::uint64_t fired = 0;
  const auto cpu_start = process_cpu_ns();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + length;
  for (auto now = start; now < end; now = std::chrono::steady_clock::now()) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(end - now);
    auto result = waitset->wait_and_process_once_with_timeout(
        [&](axon::AttachmentId) {
          ++fired;
          return axon::CallbackProgression::Continue;
        },
        std::min(period, left));
    if (!check(result, "wait")) return 1;
    ++waits;
  }
  const auto cpu_ns = process_cpu_ns() - cpu_start;
  const double wall_ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  if (fired != 0) {
    std::fprintf(stderr, "idle_waitset: an attachment fired though nothing was sent\n");
    return 1;
  }
  const double percent = 100.0 * static_cast<double>(cpu_ns) / wall_ns;
  std::printf(
      "{\"check\":\"idle-waitset\",\"busy_poll_us\":%llu,\"period_ms\":%llu,\"seconds\":%.3f,"
      "\"waits\":%llu,\"cpu_ns\":%llu,\"cpu_percent\":%.4f,\"limit_percent\":%llu,\"met\":%s}\n",
      static_cast<unsigned long long>(options.busy_poll_us),
      static_cast<unsigned long long>(options.period_ms), wall_ns / 1e9,
      static_cast<unsigned long long>(waits), static_cast<unsigned long long>(cpu_ns), percent,
      static_cast<unsigned long long>(options.max_percent),
      percent <= static_cast<double>(options.max_percent) ? "true" : "false");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (auto exit_code = parse(argc, argv, options)) return *exit_code;
  return run(options);
}
