// `axon service stats NAME`: the telemetry every publish-subscribe connection keeps in shared
// memory (docs/design.md §6, "Connection telemetry"), read without touching the applications:
// latency percentiles, rate, drops, queue depth. The output formats are a contract (docs/cli.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axon/axon.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "format.hpp"
#include "pubsub_cmd.hpp"

namespace axon::cli {

struct StatsOptions {
  std::string service;
  std::string interval = "1";  ///< seconds between the two snapshots a rate needs
  bool watch = false;
  bool json = false;
};

/// A latency as the text output prints it: in ns below 1 us, then us, ms, s, so that the number
/// stays below 1000; up to four significant digits, never an exponent.
inline std::string latency_text(std::chrono::nanoseconds d) {
  const auto ns = static_cast<double>(d.count());
  char out[32];
  if (ns < 1e3) {
    std::snprintf(out, sizeof out, "%.0fns", ns);
  } else if (ns < 1e6) {
    std::snprintf(out, sizeof out, "%.4gus", ns / 1e3);
  } else if (ns < 1e9) {
    std::snprintf(out, sizeof out, "%.4gms", ns / 1e6);
  } else {
    std::snprintf(out, sizeof out, "%.4gs", ns / 1e9);
  }
  return out;
}

/// One connection between two snapshots `seconds` apart (`before` null: no rate yet).
inline Json stats_json(const PubSubConnectionStats& now, const PubSubConnectionStats* before,
                       double seconds) {
  Json o;
  o["publisher"] = now.publisher_id;
  o["subscriber"] = now.subscriber_id;
  if (before != nullptr && seconds > 0 && now.received >= before->received) {
    o["rate_hz"] = static_cast<double>(now.received - before->received) / seconds;
  } else {
    o["rate_hz"] = nullptr;
  }
  o["received"] = now.received;
  o["delivered"] = now.delivered;
  o["overwritten"] = now.overwritten;
  o["refused"] = now.refused;
  o["queued"] = now.queued;
  o["high_water"] = now.high_water;
  Json latency;
  latency["p50"] = now.latency_quantile(0.5).count();
  latency["p99"] = now.latency_quantile(0.99).count();
  latency["p99.9"] = now.latency_quantile(0.999).count();
  latency["max"] = now.latency_quantile(1.0).count();
  latency["mean"] = now.latency_mean().count();
  o["latency_ns"] = std::move(latency);
  o["age_s"] = static_cast<double>(now.age.count()) / 1e9;
  return o;
}

inline std::string stats_line(const PubSubConnectionStats& now,
                              const PubSubConnectionStats* before, double seconds) {
  char rate[32] = "-";
  if (before != nullptr && seconds > 0 && now.received >= before->received) {
    std::snprintf(rate, sizeof rate, "%.1f",
                  static_cast<double>(now.received - before->received) / seconds);
  }
  char line[512];
  std::snprintf(
      line, sizeof line,
      "%016llx -> %016llx rate=%s/s p50=%s p99=%s p99.9=%s max=%s received=%llu "
      "delivered=%llu overwritten=%llu refused=%llu queued=%llu high_water=%llu",
      static_cast<unsigned long long>(now.publisher_id),
      static_cast<unsigned long long>(now.subscriber_id), rate,
      latency_text(now.latency_quantile(0.5)).c_str(),
      latency_text(now.latency_quantile(0.99)).c_str(),
      latency_text(now.latency_quantile(0.999)).c_str(),
      latency_text(now.latency_quantile(1.0)).c_str(),
      static_cast<unsigned long long>(now.received),
      static_cast<unsigned long long>(now.delivered),
      static_cast<unsigned long long>(now.overwritten),
      static_cast<unsigned long long>(now.refused), static_cast<unsigned long long>(now.queued),
      static_cast<unsigned long long>(now.high_water));
  return line;
}

inline int service_stats(const StatsOptions& options) {
  int code = kExitOk;
  const auto name = parse_service_name(options.service, code);
  if (!name) return code;
  const auto interval = parse_timeout("--interval", options.interval, code);
  if (!interval) return code;
  if (interval->forever || interval->duration <= std::chrono::nanoseconds::zero()) {
    return fail(kExitUsage, "--interval: must be a positive number of seconds");
  }
  const auto info = pubsub_service_info(*name, options.service, code);
  if (!info) return code;
  auto node = tool_node("axon-stats", code);
  if (!node) return code;
  // Opened with the service's own types, whatever they are: the tool adopts them. It makes no
  // port: the telemetry is read from the service's shared memory.
  const auto service = open_adopting_type(*node, *name, *info, options.service, code);
  if (!service) return code;
  const auto key = [](const PubSubConnectionStats& c) {
    return std::make_pair(c.publisher_id, c.subscriber_id);
  };
  std::map<std::pair<std::uint64_t, std::uint64_t>, PubSubConnectionStats> before;
  for (const auto& c : service->connection_stats()) before[key(c)] = c;
  auto last = std::chrono::steady_clock::now();
  std::uint64_t rounds = 0;
  for (;;) {
    // The wait also catches SIGINT and SIGTERM: the documented way to end --watch (exit 0).
    if (auto waited = node->wait(interval->duration); !waited) {
      if (waited.error() == NodeWaitError::InternalFailure) {
        return fail(kExitFailure, "cannot wait for signals (NodeWaitError::InternalFailure)");
      }
      return kExitOk;
    }
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last).count();
    last = now;
    const auto snapshot = service->connection_stats();
    std::vector<std::string> lines;
    for (const auto& c : snapshot) {
      const auto found = before.find(key(c));
      const auto* previous = found == before.end() ? nullptr : &found->second;
      lines.push_back(options.json ? json_line(stats_json(c, previous, seconds))
                                   : stats_line(c, previous, seconds));
    }
    if (options.watch && !options.json && rounds++ > 0) std::printf("\n");
    if (options.json) {
      std::printf("%s\n", json_array_lines(lines).c_str());
    } else if (lines.empty()) {
      std::printf("no connections\n");
    } else {
      for (const auto& line : lines) std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
    before.clear();
    for (const auto& c : snapshot) before[key(c)] = c;
    if (!options.watch) return kExitOk;
  }
}

}  // namespace axon::cli
