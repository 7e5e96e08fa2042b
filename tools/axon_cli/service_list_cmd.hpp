// `axon service list [--json] [--watch]`: every service of the instance, once or as it changes.
// Output formats are a contract (docs/cli.md).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "axon/axon.hpp"
#include "errors.hpp"
#include "event_cmd.hpp"
#include "format.hpp"

namespace axon::cli {

/// How often `--watch` asks discovery again: often enough for a person watching, rare enough
/// that a scan of /dev/shm (a few ms with many services) stays out of the way.
inline constexpr auto kWatchInterval = std::chrono::milliseconds(500);

/// One list sorted by name of complete services and, marked, those whose objects are unreadable:
/// (name, its text line or JSON object).
inline std::vector<std::pair<std::string, std::string>> service_entries(const ServiceScan& scan,
                                                                        bool json) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& info : scan.services) {
    entries.emplace_back(info.name, json ? json_line(service_json(info)) : service_line(info));
  }
  for (const auto& broken : scan.unreadable) {
    entries.emplace_back(broken.name, json ? unreadable_json(broken) : unreadable_line(broken));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return entries;
}

inline int service_list(bool json) {
  auto scan = scan_services();
  if (!scan) {
    return fail(kExitFailure, std::string("cannot list services: ") + to_string(scan.error()));
  }
  auto entries = service_entries(*scan, json);
  if (json) {
    std::vector<std::string> objects;
    objects.reserve(entries.size());
    for (auto& entry : entries) objects.push_back(std::move(entry.second));
    std::printf("%s\n", json_array_lines(objects).c_str());
  } else {
    for (const auto& entry : entries) std::printf("%s\n", entry.second.c_str());
  }
  if (scan->services.empty() && scan->unreadable.empty()) say_nothing_found("services");
  return kExitOk;
}

/// `--watch`: the services at the start as `+ <line>`, then every change as it is seen, until
/// SIGINT or SIGTERM (exit 0): `+ <line>` a service that appeared, `- <name>` one that went,
/// `~ <line>` one whose line changed (its ports or nodes). With --json one object a line:
/// {"change":"+"|"~","service":{...}} or {"change":"-","name":"<name>"}. Polls discovery every
/// kWatchInterval, sleeping in a WaitSet (which also ends the wait on a signal); so a service that
/// lives shorter than that may go unseen. Creates no node.
inline int service_watch(bool json) {
  auto waitset = WaitSetBuilder().capacity(1).create();
  if (!waitset) {
    return fail(kExitFailure,
                std::string("cannot install signal handlers: ") + to_string(waitset.error()));
  }
  auto interval = waitset->attach_interval(kWatchInterval);
  if (!interval) {
    return fail(kExitFailure,
                std::string("cannot set the interval: ") + to_string(interval.error()));
  }
  std::map<std::string, std::string> shown;  // name -> what was printed for it (line or JSON)
  for (bool first = true;; first = false) {
    auto scan = scan_services();
    if (!scan) {
      return fail(kExitFailure, std::string("cannot list services: ") + to_string(scan.error()));
    }
    std::map<std::string, std::string> now;
    for (auto& [name, entry] : service_entries(*scan, json)) now.emplace(name, std::move(entry));
    for (const auto& [name, before] : shown) {
      if (now.contains(name)) continue;
      if (json) {
        Json change = Json::object();
        change["change"] = "-";
        change["name"] = json_text(name);
        std::printf("%s\n", json_line(change).c_str());
      } else {
        std::printf("- %s\n", printable(name).c_str());
      }
    }
    for (const auto& [name, current] : now) {
      const auto before = shown.find(name);
      if (before != shown.end() && before->second == current) continue;
      const char* mark = before == shown.end() ? "+" : "~";
      if (json) {
        std::printf("{\"change\":\"%s\",\"service\":%s}\n", mark, current.c_str());
      } else {
        std::printf("%s %s\n", mark, current.c_str());
      }
    }
    if (first && now.empty()) say_nothing_found("services");
    std::fflush(stdout);
    shown = std::move(now);

    auto woken = waitset->wait(std::nullopt);
    if (!woken)
      return fail(kExitFailure, std::string("waiting failed: ") + to_string(woken.error()));
    switch (woken->result) {
      case WaitSetRunResult::Interrupt:
      case WaitSetRunResult::TerminationRequest:
        return kExitOk;
      case WaitSetRunResult::AllEventsHandled:  // the interval
      case WaitSetRunResult::StopRequest:       // never from wait()
        break;
    }
  }
}

}  // namespace axon::cli
