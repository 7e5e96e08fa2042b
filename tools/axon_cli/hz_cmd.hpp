// `axon service hz NAME [--window N] [--json]`: the rate and jitter of a publish-subscribe
// service, as `ros2 topic hz` shows them: every second, the mean rate over the last N samples and
// the min, max and standard deviation of the intervals between them.
//
// Samples carry no send time yet, so the intervals are measured on receipt: the tool's own
// scheduling adds to the jitter it reports. To keep that small it sleeps as a wakeable subscriber
// in a WaitSet, woken by each send (which costs every publisher a notification per sample while
// the tool runs), and stamps each sample as it takes it. When the service's wake channel cannot be
// had it falls back to looking every millisecond, which adds up to a millisecond of jitter.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>

#include "args.hpp"
#include "axon/axon.hpp"
#include "errors.hpp"
#include "format.hpp"
#include "pubsub_cmd.hpp"

namespace axon::cli {

struct HzOptions {
  std::string service;
  std::string window = "10000";  ///< samples the figures are computed over (ros2's default)
  bool json = false;
};

/// The most samples a window holds: ten minutes at 100 kHz is plenty, and the bound keeps its
/// memory small (8 bytes a sample).
inline constexpr std::uint64_t kMaxWindow = 100'000'000;

/// Adds `hz` under `service`; its options land in `options`.
inline CLI::App* add_hz_command(CLI::App& service, HzOptions& options) {
  auto* cmd = service.add_subcommand(
      "hz", "Print the rate and jitter of a publish-subscribe service every second");
  cmd->add_option("NAME", options.service, "Publish-subscribe service name (must exist)")
      ->required();
  cmd->add_option("--window", options.window,
                  "Compute over the last N samples received (at least 2)")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_flag("--json", options.json, "Print one JSON object a second, one a line, instead");
  cmd->footer(
      "Measured on receipt. Output, every second until SIGINT or SIGTERM (exit 0):\n"
      "  average rate: <hz> Hz min: <ms> ms max: <ms> ms std dev: <ms> ms window: <n>\n"
      "or 'no new samples'. --json: {\"rate_hz\",\"min_ms\",\"max_ms\",\"stddev_ms\",\"window\",\n"
      "\"samples\"} (null figures when no new samples).\n"
      "Exit status: 1 no such service or not publish-subscribe, 2 usage error.");
  return cmd;
}

/// Figures over the receive times of a window of samples.
struct HzFigures {
  double rate_hz = 0;
  double min_ms = 0;
  double max_ms = 0;
  double stddev_ms = 0;
  std::size_t window = 0;  ///< samples (one more than intervals)
};

/// The figures of `times` (oldest first, at least two): the rate is one over the mean interval;
/// the deviation is the population's, as ros2 prints it.
inline HzFigures hz_figures(const std::deque<std::chrono::steady_clock::time_point>& times) {
  HzFigures out;
  out.window = times.size();
  const auto intervals = static_cast<double>(times.size() - 1);
  double sum = 0;
  double sum_squares = 0;
  double min = 0;
  double max = 0;
  for (std::size_t i = 1; i < times.size(); ++i) {
    const double ms = std::chrono::duration<double, std::milli>(times[i] - times[i - 1]).count();
    sum += ms;
    sum_squares += ms * ms;
    min = i == 1 ? ms : std::min(min, ms);
    max = i == 1 ? ms : std::max(max, ms);
  }
  const double mean = sum / intervals;
  out.rate_hz = mean > 0 ? 1000.0 / mean : 0;
  out.min_ms = min;
  out.max_ms = max;
  out.stddev_ms = std::sqrt(std::max(0.0, sum_squares / intervals - mean * mean));
  return out;
}

inline std::string hz_line(const HzFigures& f) {
  char line[256];
  std::snprintf(line, sizeof(line),
                "average rate: %.3f Hz min: %.3f ms max: %.3f ms std dev: %.3f ms window: %zu",
                f.rate_hz, f.min_ms, f.max_ms, f.stddev_ms, f.window);
  return line;
}

/// Three decimals, as the text form shows them, as a JSON number.
inline Json rounded(double value) { return std::round(value * 1000.0) / 1000.0; }

inline std::string hz_json(const std::optional<HzFigures>& f, std::uint64_t samples) {
  Json object = Json::object();
  object["rate_hz"] = f ? rounded(f->rate_hz) : Json(nullptr);
  object["min_ms"] = f ? rounded(f->min_ms) : Json(nullptr);
  object["max_ms"] = f ? rounded(f->max_ms) : Json(nullptr);
  object["stddev_ms"] = f ? rounded(f->stddev_ms) : Json(nullptr);
  object["window"] = std::uint64_t{f ? f->window : 0};
  object["samples"] = samples;
  return json_line(object);
}

/// `axon service hz`.
inline int service_hz(const HzOptions& options) {
  int code = kExitOk;
  const auto name = parse_service_name(options.service, code);
  if (!name) return code;
  const auto window = parse_u64("--window", options.window, code, kMaxWindow);
  if (!window) return code;
  if (*window < 2) return fail(kExitUsage, "--window must be at least 2 (one interval)");
  const std::string& text = options.service;
  const auto info = pubsub_service_info(*name, text, code);
  if (!info) return code;

  // The WaitSet first: it installs the SIGINT/SIGTERM handlers, so a signal from now on ends
  // its next wait instead of killing the tool half-way through its setup.
  auto waitset = WaitSetBuilder().capacity(1).create();
  if (!waitset) {
    return fail(kExitFailure,
                std::string("cannot create a wait set: ") + to_string(waitset.error()));
  }
  auto node = tool_node("axon-hz", code);
  if (!node) return code;
  const auto service = open_adopting_type(*node, *name, *info, text, code);
  if (!service) return code;
  auto subscriber = service->subscriber_builder().wakeable(true).create();
  bool wakeable = true;
  if (!subscriber && (subscriber.error() == SubscriberCreateError::ResourceCreationFailed ||
                      subscriber.error() == SubscriberCreateError::WakeServiceUnavailable)) {
    wakeable = false;
    subscriber = service->subscriber_builder().create();
  }
  if (!subscriber) {
    return fail(kExitFailure, "cannot create a subscriber on " + tools::quoted(text) + ": " +
                                  to_string(subscriber.error()));
  }
  static constexpr auto kPollCycle = std::chrono::milliseconds(1);
  auto guard =
      wakeable ? waitset->attach_notification(*subscriber) : waitset->attach_interval(kPollCycle);
  if (!guard) {
    return fail(kExitFailure,
                std::string("cannot watch the subscriber: ") + to_string(guard.error()));
  }

  // What was queued before the tool came (the service's history) arrives in one burst: no
  // interval of the stream, so it is dropped.
  std::deque<std::chrono::steady_clock::time_point> times;
  std::uint64_t samples = 0;  ///< received since the start, the dropped ones not counted
  const auto drain = [&](bool measure) -> bool {
    for (;;) {
      auto sample = subscriber->receive();
      if (!sample) {
        // A corrupted chunk was dropped by the library: say so, and go on with the stream.
        std::fprintf(
            stderr, "%s\n",
            tools::error_line(kProgram, std::string("receive failed: ") + to_string(sample.error()))
                .c_str());
        if (sample.error() == SubscriberReceiveError::Corrupted) continue;
        return false;
      }
      if (!*sample) return true;
      if (!measure) continue;
      times.push_back(std::chrono::steady_clock::now());
      if (times.size() > *window) times.pop_front();
      ++samples;
    }
  };
  if (!drain(false)) return kExitFailure;

  static constexpr auto kReportPeriod = std::chrono::seconds(1);
  auto next_report = std::chrono::steady_clock::now() + kReportPeriod;
  std::uint64_t reported = 0;  ///< `samples` at the last report
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_report) {
      const bool fresh = samples > reported && times.size() >= 2;
      const auto figures = fresh ? std::optional<HzFigures>(hz_figures(times)) : std::nullopt;
      if (options.json) {
        std::printf("%s\n", hz_json(figures, samples).c_str());
      } else {
        std::printf("%s\n", figures ? hz_line(*figures).c_str() : "no new samples");
      }
      reported = samples;
      // A tool that was held up does not print the reports it missed in a burst.
      while (next_report <= now) next_report += kReportPeriod;
    }
    const auto remaining =
        std::chrono::ceil<std::chrono::nanoseconds>(next_report - std::chrono::steady_clock::now());
    auto woken = waitset->wait(std::max(remaining, std::chrono::nanoseconds::zero()));
    if (!woken) {
      return fail(kExitFailure, std::string("waiting failed: ") + to_string(woken.error()));
    }
    switch (woken->result) {
      case WaitSetRunResult::Interrupt:
      case WaitSetRunResult::TerminationRequest:
        return kExitOk;
      case WaitSetRunResult::AllEventsHandled:
      case WaitSetRunResult::StopRequest:  // never from wait()
        break;
    }
    if (!drain(true)) return kExitFailure;
  }
}

}  // namespace axon::cli
