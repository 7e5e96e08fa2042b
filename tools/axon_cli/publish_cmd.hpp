// `axon publish NAME (--string TEXT | --hex HEX | --file PATH) [--count N] [--rate HZ]`: a
// publisher on an existing publish-subscribe service, whatever its payload type, so that a user
// can poke a subscriber by hand (as `ros2 topic pub` does). It adopts the type discovery reports,
// takes bytes by the rules of `axon request` (one element, or a whole number of them for a slice
// type) and prints one line per sample sent, as `ros2 topic pub` does. docs/cli.md is the contract.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "axon/axon.hpp"
#include "errors.hpp"
#include "payload.hpp"
#include "pubsub_cmd.hpp"

namespace axon::cli {

struct PublishOptions {
  std::string service;
  PayloadSource payload;
  std::string count = "1";  ///< samples to send; 0: until SIGINT/SIGTERM
  std::string rate = "1";   ///< samples per second
};

/// The most samples a second `--rate` takes: beyond it the tool could not keep the pace anyway
/// (each send is a loan, a copy and a line on stdout), and the period stays above 1 µs.
inline constexpr double kMaxRate = 1e6;

/// `--rate` as the period between two samples: a finite decimal number above 0 and at most
/// kMaxRate (fractions allowed: `0.5` is one sample every two seconds); otherwise the usage error.
inline std::optional<std::chrono::nanoseconds> parse_rate(const std::string& text, int& exit_code) {
  double hz = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, hz);
  if (text.empty() || error != std::errc{} || stop != end || !std::isfinite(hz) || hz <= 0 ||
      hz > kMaxRate) {
    exit_code = fail(kExitUsage, "--rate " + tools::quoted(text) +
                                     " is not a rate in Hz above 0 and at most 1000000");
    return std::nullopt;
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(1e9 / hz)));
}

/// Adds `publish` to `app`; its options land in `options`.
inline CLI::App* add_publish_command(CLI::App& app, PublishOptions& options) {
  auto* cmd = app.add_subcommand(
      "publish", "Publish samples on a publish-subscribe service (e.g. to poke a subscriber)");
  cmd->add_option("SERVICE", options.service, "Publish-subscribe service name (must exist)")
      ->required();
  auto* string_opt =
      cmd->add_option("--string", options.payload.string, "The sample's bytes: TEXT as it is")
          ->type_name("TEXT");
  auto* hex_opt = cmd->add_option("--hex", options.payload.hex,
                                  "The sample's bytes in hex, e.g. '0a ff' or 0aff")
                      ->type_name("HEX");
  auto* file_opt = cmd->add_option("--file", options.payload.file,
                                   "The sample's bytes: the content of PATH ('-': stdin)")
                       ->type_name("PATH");
  string_opt->excludes(hex_opt)->excludes(file_opt);
  hex_opt->excludes(file_opt);
  cmd->add_option("--count", options.count, "Send N samples; 0: until SIGINT or SIGTERM")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--rate", options.rate,
                  "Samples per second (fractions allowed), the first at once")
      ->type_name("HZ")
      ->capture_default_str();
  cmd->footer(
      "The sample must be one element of the service's payload type (a whole number of\n"
      "elements for a slice type). It reaches the subscribers connected when it is sent.\n"
      "Output: 'published <n>: <size> bytes to <k> subscriber(s)' per sample, n from 1.\n"
      "Exit status: 0 all sent (--count 0: on SIGINT/SIGTERM); 1 no such service, not\n"
      "publish-subscribe, a failed send; 2 usage error (also a sample of the wrong size, bad\n"
      "hex); 130/143 SIGINT/SIGTERM before --count samples were sent.");
  return cmd;
}

/// `axon publish`.
inline int publish(const PublishOptions& options) {
  int code = kExitOk;
  const auto name = parse_service_name(options.service, code);
  if (!name) return code;
  const auto count = parse_u64("--count", options.count, code);
  if (!count) return code;
  const auto period = parse_rate(options.rate, code);
  if (!period) return code;
  auto payload = payload_bytes(options.payload, "the sample");
  if (!payload) return fail(payload.error().code, payload.error().message);

  const std::string& text = options.service;
  const auto info = pubsub_service_info(*name, text, code);
  if (!info) return code;
  const auto type = payload_type_of(*info);
  // The bytes are the user's to fix, like a bad number: a usage error, before any node exists.
  if (const auto takes = unmet_size_rule(type, payload->size())) {
    return fail(kExitUsage, std::to_string(payload->size()) + " bytes cannot be a sample of " +
                                tools::quoted(text) + ": it takes " + *takes);
  }

  auto node = tool_node("axon-publish", code);
  if (!node) return code;
  // Sleeps for `cycle` (a zero cycle only looks); the exit status when a signal came: 0 when
  // publishing until one comes (--count 0), else 128 + the signal, as for `axon notify`.
  std::uint64_t sent = 0;
  const auto wait_a_cycle = [&](std::chrono::nanoseconds cycle) -> std::optional<int> {
    auto waited = node->wait(cycle);
    if (waited) return std::nullopt;
    const std::string interrupted = "interrupted after " + std::to_string(sent) + " sample(s)";
    switch (waited.error()) {
      case NodeWaitError::InterruptSignal:
        return *count == 0 ? kExitOk : fail(128 + SIGINT, interrupted);
      case NodeWaitError::TerminationRequest:
        return *count == 0 ? kExitOk : fail(128 + SIGTERM, interrupted);
      case NodeWaitError::InternalFailure:
        break;
    }
    return fail(kExitFailure, "cannot wait for signals: NodeWaitError::InternalFailure");
  };
  // The handlers from here on (the first wait installs them).
  if (const auto stop = wait_a_cycle(std::chrono::nanoseconds::zero())) return *stop;
  const auto service = open_adopting_type(*node, *name, *info, text, code);
  if (!service) return code;
  auto builder = service->publisher_builder();
  if (type.is_slice && type.size != 0) {
    builder.max_slice_len(std::max<std::uint64_t>(1, payload->size() / type.size));
  }
  auto publisher = builder.create();
  if (!publisher) {
    return fail(kExitFailure, "cannot create a publisher on " + tools::quoted(text) + ": " +
                                  to_string(publisher.error()));
  }

  // Sample i goes at start + i x period: a late send does not delay the ones after it.
  const auto start = std::chrono::steady_clock::now();
  for (; *count == 0 || sent < *count;) {
    if (sent > 0) {
      const auto due = start + *period * sent;
      for (auto now = std::chrono::steady_clock::now(); now < due;
           now = std::chrono::steady_clock::now()) {
        if (const auto stop =
                wait_a_cycle(std::chrono::ceil<std::chrono::nanoseconds>(due - now))) {
          return *stop;
        }
      }
    }
    if (const auto stop = wait_a_cycle(std::chrono::nanoseconds::zero())) return *stop;
    auto reached = publisher->send_copy(*payload);
    if (!reached) {
      return fail(kExitFailure, "cannot send sample " + std::to_string(sent + 1) + ": " +
                                    to_string(reached.error()));
    }
    ++sent;
    std::printf("published %llu: %zu bytes to %zu subscriber(s)\n",
                static_cast<unsigned long long>(sent), payload->size(), *reached);
  }

  // A subscriber maps a publisher's segment on its first receive from it, and a segment whose
  // publisher is gone cannot be mapped any more (design.md §6): leaving at once would lose the
  // samples of subscribers that have not looked yet. So the tool stays, at most a second, until
  // the subscribers have taken what was queued for them (only the history still holds chunks).
  const std::size_t kept =
      static_cast<std::size_t>(std::min<std::uint64_t>(sent, info->pubsub.history_size));
  const auto linger = tools::deadline_after(std::chrono::seconds(1));
  while (publisher->chunks_in_use() > kept && linger &&
         tools::remaining_until(*linger).count() > 0) {
    // Everything was sent: a signal (or a failed wait) only ends the wait early.
    if (!node->wait(std::chrono::milliseconds(1))) break;
  }
  return kExitOk;
}

}  // namespace axon::cli
