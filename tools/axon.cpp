// axon: inspect and drive the services of this machine from a shell.
//
//   axon service list [--json] [--watch]  axon node list [--json]
//   axon service show NAME [--json]       axon clean [--force NAME]
//   axon event list|show NAME [--json]    axon event set|clear|rm NAME
//   axon event wait NAME [--timeout S]
//   axon notify SERVICE [--id N] [--count K]
//   axon listen SERVICE [--timeout S] [--once]
//   axon echo SERVICE [--bytes N] [--as u32|i64|f64|string|hex]
//   axon request SERVICE (--string TEXT | --hex HEX | --file PATH) [--count N] [--timeout S]
//                [--bytes N] [--json]
//   axon publish SERVICE (--string TEXT | --hex HEX | --file PATH) [--count N] [--rate HZ]
//   axon service hz NAME [--window N] [--json]
//   axon service stats NAME [--interval S] [--watch] [--json]
//   axon config show [--json]             axon config check FILE
//
// Output formats and exit codes are a contract, documented in docs/cli.md: 0 success, 1 the
// command failed, 2 the command line is wrong. Every error is one line on stderr,
// `axon: error: <what>: <why>`.
//
// list, show and clean never create a node, so they change nothing but what `clean` removes.
// notify, listen, echo and request create a node, which (like every node) first cleans what
// dead nodes left.
#include "axon/axon.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "axon_cli/args.hpp"
#include "axon_cli/config_cmd.hpp"
#include "axon_cli/errors.hpp"
#include "axon_cli/event_cmd.hpp"
#include "axon_cli/format.hpp"
#include "axon_cli/hz_cmd.hpp"
#include "axon_cli/payload.hpp"
#include "axon_cli/publish_cmd.hpp"
#include "axon_cli/service_list_cmd.hpp"
#include "axon_cli/stats_cmd.hpp"
#include "axon_tools/messages.hpp"
#include "axon_tools/root_hint.hpp"
#include "axon_tools/version.hpp"

namespace {

using namespace axon;
using namespace axon::cli;

int service_show(const std::string& text, bool json) {
  int code = kExitOk;
  const auto name = parse_service_name(text, code);
  if (!name) return code;
  auto info = describe_service(*name);
  if (!info) {
    if (info.error() == DiscoveryError::DoesNotExist) {
      return fail(kExitFailure, "no service named \"" + text + "\"");
    }
    return fail(kExitFailure, "cannot read service \"" + text + "\": " + to_string(info.error()));
  }
  if (json) {
    std::printf("%s\n", service_details_json(*info).c_str());
  } else {
    // Node details only enrich the `node:` lines; without them the ids are still shown.
    const auto nodes = Node::list();
    std::fputs(service_details_text(*info, nodes ? *nodes : std::vector<NodeInfo>{}).c_str(),
               stdout);
  }
  return kExitOk;
}

int node_list(bool json) {
  auto nodes = Node::list();
  if (!nodes) {
    return fail(kExitFailure,
                tools::with_root_hint(std::string("cannot list nodes: ") + to_string(nodes.error()),
                                      Config::from_environment()));
  }
  if (json) {
    std::vector<std::string> objects;
    objects.reserve(nodes->size());
    for (const auto& node : *nodes) objects.push_back(node_json(node));
    std::printf("%s\n", json_array_lines(objects).c_str());
  } else {
    for (const auto& node : *nodes) std::printf("%s\n", node_line(node).c_str());
  }
  return kExitOk;
}

int clean() {
  // cleanup_dead_nodes() reports nothing when it cannot even list the nodes; ask first so that
  // a permission problem is an error rather than "nothing to clean".
  if (auto nodes = Node::list(); !nodes) {
    return fail(kExitFailure,
                tools::with_root_hint(std::string("cannot list nodes: ") + to_string(nodes.error()),
                                      Config::from_environment()));
  }
  const auto report = Node::cleanup_dead_nodes();
  if (report.dead_nodes.empty() && report.removed_services.empty() && report.removed_ports == 0 &&
      report.removed_files.empty()) {
    std::printf("nothing to clean\n");
    return kExitOk;
  }
  for (const auto& id : report.dead_nodes) std::printf("removed node %s\n", id.to_string().c_str());
  for (const auto& service : report.removed_services) {
    std::printf("removed service %s\n", printable(service).c_str());
  }
  for (const auto& file : report.removed_files) std::printf("removed %s\n", printable(file).c_str());
  std::printf("removed %zu port(s)\n", report.removed_ports);
  return kExitOk;
}

/// `axon clean --force NAME`: every object of the service, whatever its state.
int clean_forcibly(const std::string& text) {
  int code = kExitOk;
  const auto name = parse_service_name(text, code);
  if (!name) return code;
  // Who still holds it is known only before the removal; say so first, then remove anyway.
  auto done = remove_service_forcibly(*name);
  if (!done) {
    return fail(kExitFailure, "cannot remove service \"" + text + "\": " + to_string(done.error()));
  }
  for (const auto& node : done->live_holders) {
    std::fprintf(stderr,
                 "warning: live node %s (pid %d%s%s) holds service \"%s\"; removed anyway\n",
                 node.id.to_string().c_str(), node.pid, node.name.empty() ? "" : ", ",
                 printable(node.name).c_str(), printable(text).c_str());
  }
  for (const auto& object : done->removed) std::printf("removed %s\n", printable(object).c_str());
  for (const auto& object : done->failed) {
    std::fprintf(stderr, "warning: cannot remove %s\n", printable(object).c_str());
  }
  const bool event_removed = remove_event_forcibly(text);
  if (done->removed.empty() && !event_removed) {
    return fail(kExitFailure, "nothing of service \"" + text + "\" to remove");
  }
  return kExitOk;
}

struct NotifyOptions {
  std::string service;
  std::string id = "0";
  std::string count = "1";
};

int notify(const NotifyOptions& options) {
  int code = kExitOk;
  const auto name = parse_service_name(options.service, code);
  if (!name) return code;
  const auto id = parse_u64("--id", options.id, code);
  if (!id) return code;
  const auto count = parse_u64("--count", options.count, code);
  if (!count) return code;
  if (*count == 0) return fail(kExitUsage, "--count must be at least 1");
  auto node = tool_node("axon-notify", code);
  if (!node) return code;
  // The node's first wait installs the SIGINT/SIGTERM handlers (a zero cycle only looks): from
  // here on a signal is remembered and ends the loop below between two notifications, rather
  // than killing the process in the middle of one.
  if (auto looked = node->wait(std::chrono::nanoseconds::zero());
      !looked && looked.error() == NodeWaitError::InternalFailure) {
    return fail(kExitFailure,
                std::string("cannot install signal handlers: ") + to_string(looked.error()));
  }
  auto service = node->service_builder(*name).event().open();
  if (!service) {
    if (service.error() == EventOpenError::DoesNotExist) {
      return fail(kExitFailure, "no service named \"" + options.service + "\"");
    }
    if (service.error() == EventOpenError::IncompatibleMessagingPattern) {
      return fail(kExitFailure, "service \"" + options.service + "\" is not an event service");
    }
    return fail(kExitFailure,
                "cannot open service \"" + options.service + "\": " + to_string(service.error()));
  }
  auto notifier = service->notifier_builder().default_event_id(EventId{*id}).create();
  if (!notifier) {
    if (notifier.error() == NotifierCreateError::EventIdOutOfBounds) {
      return fail(kExitFailure, "event id " + std::to_string(*id) + " is above the max event id " +
                                    std::to_string(service->static_config().event_id_max_value) +
                                    " of service \"" + options.service + "\"");
    }
    return fail(kExitFailure, "cannot create a notifier on \"" + options.service +
                                  "\": " + to_string(notifier.error()));
  }
  for (std::uint64_t i = 0; i < *count; ++i) {
    if (auto looked = node->wait(std::chrono::nanoseconds::zero()); !looked) {
      const std::string interrupted = "interrupted after " + std::to_string(i) + " notification(s)";
      switch (looked.error()) {
        case NodeWaitError::InterruptSignal:
          return fail(128 + SIGINT, interrupted);
        case NodeWaitError::TerminationRequest:
          return fail(128 + SIGTERM, interrupted);
        case NodeWaitError::InternalFailure:
          return fail(kExitFailure,
                      std::string("cannot install signal handlers: ") + to_string(looked.error()));
      }
    }
    auto reached = notifier->notify();
    if (!reached) {
      return fail(kExitFailure, std::string("notify failed: ") + to_string(reached.error()));
    }
    std::printf("notified %zu listener(s)\n", *reached);
  }
  return kExitOk;
}

struct ListenOptions {
  std::string service;
  std::optional<std::string> timeout;  ///< seconds; nullopt: until a signal
  bool once = false;
  bool json = false;
};

int listen(const ListenOptions& options) {
  int code = kExitOk;
  const auto name = parse_service_name(options.service, code);
  if (!name) return code;
  std::optional<Timeout> timeout;
  if (options.timeout) {
    timeout = parse_timeout("--timeout", *options.timeout, code);
    if (!timeout) return code;
  }
  // The WaitSet first: it installs the SIGINT/SIGTERM handlers, so a signal from now on is
  // remembered and ends the first wait below, instead of killing the process half-way through
  // creating its node or listener.
  auto waitset = WaitSetBuilder().capacity(1).create();
  if (!waitset) {
    return fail(kExitFailure,
                std::string("cannot create a wait set: ") + to_string(waitset.error()));
  }
  auto node = tool_node("axon-listen", code);
  if (!node) return code;
  auto service = node->service_builder(*name).event().open_or_create();
  if (!service) {
    if (service.error() == EventOpenOrCreateError{EventOpenError::IncompatibleMessagingPattern}) {
      return fail(kExitFailure, "service \"" + options.service + "\" is not an event service");
    }
    return fail(kExitFailure, "cannot open or create service \"" + options.service +
                                  "\": " + to_string(service.error()));
  }
  auto listener = service->listener_builder().create();
  if (!listener) {
    std::string message = "cannot create a listener on \"" + options.service +
                          "\": " + to_string(listener.error());
    if (const auto hint = tools::root_too_long_for_sockets(Config::from_environment())) {
      message += " (" + *hint + ")";
    }
    return fail(kExitFailure, message);
  }
  // The wait sleeps until the listener has something or a signal came (the WaitSet watches both),
  // so the loop never spins, and a signal that lands between two waits ends the next one.
  auto attached = waitset->attach_notification(*listener);
  if (!attached) {
    return fail(kExitFailure,
                std::string("cannot watch the listener: ") + to_string(attached.error()));
  }

  // The timeout counts from here, when the listener exists and can receive.
  const auto deadline =
      timeout && !timeout->forever ? tools::deadline_after(timeout->duration) : std::nullopt;
  std::uint64_t activations = 0;
  for (;;) {
    auto received = listener->try_wait([&](EventId id, std::uint64_t n) {
      if (options.json) {
        Json line;
        line["id"] = id.value;
        line["count"] = n;
        std::printf("%s\n", json_line(line).c_str());
      } else {
        std::printf("EventId(%llu) x%llu\n", static_cast<unsigned long long>(id.value),
                    static_cast<unsigned long long>(n));
        }
      ++activations;
    });
    if (!received && received.error() != ListenerWaitError::InterruptSignal) {
      return fail(kExitFailure, std::string("wait failed: ") + to_string(received.error()));
    }
    if (options.once && activations > 0) return kExitOk;
    std::optional<std::chrono::nanoseconds> remaining;  // nullopt: no timeout
    if (deadline) {
      remaining = tools::remaining_until(*deadline);
      if (remaining->count() == 0) break;
    }
    auto woken = waitset->wait(remaining);
    if (!woken) {
      return fail(kExitFailure, std::string("waiting failed: ") + to_string(woken.error()));
    }
    switch (woken->result) {
      case WaitSetRunResult::Interrupt:
      case WaitSetRunResult::TerminationRequest:
        return kExitOk;
      case WaitSetRunResult::AllEventsHandled:
      case WaitSetRunResult::StopRequest:  // never from wait(); the loop looks again
        break;
    }
  }
  if (activations > 0) return kExitOk;
  return fail(kExitFailure,
              "nothing arrived on \"" + options.service + "\" within " + *options.timeout + " s");
}

/// `axon echo`: prints every sample of a publish-subscribe service, whatever its payload type:
/// the tool cannot know the type, so it shows the size and the first bytes in hex, or decoded as
/// `--as` says.
int echo(const std::string& text, const std::string& bytes, const std::string& as, bool json) {
  int code = kExitOk;
  const auto name = parse_service_name(text, code);
  if (!name) return code;
  const auto parsed_bytes = parse_u64("--bytes", bytes, code);
  if (!parsed_bytes) return code;
  const auto decoding = parse_decoding(as);
  if (!decoding) {
    return fail(kExitUsage,
                "--as " + tools::quoted(as) + " is not one of u32, i64, f64, string, hex");
  }
  const std::uint64_t max_bytes = *parsed_bytes;
  const auto info = pubsub_service_info(*name, text, code);
  if (!info) return code;
  auto node = tool_node("axon-echo", code);
  if (!node) return code;
  // Sleeps for `cycle` (a zero cycle only looks); the exit status when the tool must end: 0 on
  // SIGINT/SIGTERM, as documented, 1 when the wait itself failed.
  const auto wait_a_cycle = [&](std::chrono::nanoseconds cycle) -> std::optional<int> {
    auto waited = node->wait(cycle);
    if (waited) return std::nullopt;
    switch (waited.error()) {
      case NodeWaitError::InterruptSignal:
      case NodeWaitError::TerminationRequest: return kExitOk;
      case NodeWaitError::InternalFailure: break;
    }
    return fail(kExitFailure, "cannot wait for signals (NodeWaitError::InternalFailure)");
  };
  // The handlers from here on (the first wait installs them), so a signal during the setup below
  // ends the tool through its own exit, not the default action.
  if (const auto stop = wait_a_cycle(std::chrono::nanoseconds::zero())) return *stop;
  // Open with exactly the service's own types: the tool adopts them.
  auto service = open_adopting_type(*node, *name, *info, text, code);
  if (!service) return code;
  auto subscriber = service->subscriber_builder().create();
  if (!subscriber) {
    return fail(kExitFailure, std::string("cannot create a subscriber: ") +
                                  to_string(subscriber.error()));
  }
  // A plain subscriber, polled: drain, then sleep a cycle. A wakeable one would make every
  // publisher notify it after each send; a tool that watches must not cost the publishers. Between
  // samples a zero wait only looks for a signal, so a busy stream still stops.
  static constexpr auto kCycle = std::chrono::milliseconds(1);
  bool idle = false;
  for (;;) {
    if (const auto stop = wait_a_cycle(idle ? kCycle : std::chrono::nanoseconds::zero())) {
      return *stop;
    }
    auto sample = subscriber->receive();
    if (!sample) {
      std::fprintf(
          stderr, "%s\n",
          tools::error_line(kProgram, std::string("receive failed: ") + to_string(sample.error()))
              .c_str());
      if (sample.error() == SubscriberReceiveError::Corrupted) continue;
      return kExitFailure;
    }
    idle = !*sample;
    if (idle) continue;
    // Copied once: the publisher may reuse the chunk while we read, and what is decoded must be
    // one state of it. Its size was validated once, at receive.
    const auto shared = (*sample)->payload();
    const std::vector<std::byte> payload(shared.begin(), shared.end());
    const auto latency = std::chrono::steady_clock::now() - (*sample)->send_time();
    const auto shared_header = (*sample)->user_header();
    const std::vector<std::byte> header(shared_header.begin(), shared_header.end());
    if (json) {
      Json line;
      line["sequence"] = (*sample)->sequence();
      line["publisher"] = (*sample)->publisher_id();
      line["size"] = payload.size();
      line["send_time_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 (*sample)->send_time().time_since_epoch())
                                 .count();
      line["latency_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count();
      line["payload"] = json_text(decoded_text(*decoding, payload, max_bytes));
      if (!header.empty()) line["user_header"] = hex_text(header, header.size());
      std::printf("%s\n", json_line(line).c_str());
      continue;
    }
    std::printf("sample %llu from %016llx: %llu bytes: %s%s\n",
                static_cast<unsigned long long>((*sample)->sequence()),
                static_cast<unsigned long long>((*sample)->publisher_id()),
                static_cast<unsigned long long>(payload.size()),
                decoded_text(*decoding, payload, max_bytes).c_str(),
                header.empty() ? "" : (" user_header: " + hex_text(header, header.size())).c_str());
  }
}

struct RequestOptions {
  std::string service;
  std::optional<std::string> string;  ///< the request's bytes, as they are
  std::optional<std::string> hex;     ///< the request's bytes in hex
  std::optional<std::string> file;    ///< a file holding the request's bytes; "-": stdin
  std::string count = "1";
  std::optional<std::string> timeout;  ///< seconds per request; nullopt: until its stream ends
  std::string bytes = "64";
  bool json = false;
};

/// `axon request`: a client of a request-response service, whatever its payload types. It adopts
/// the types discovery reports, sends the bytes given, and prints the responses of every server
/// until each has ended its stream. Nothing wakes a client without an event service of its own,
/// so it looks for responses every millisecond, sleeping in Node::wait (which also ends it on a
/// signal).
int request(const RequestOptions& options) {
  int code = kExitOk;
  const auto name = parse_service_name(options.service, code);
  if (!name) return code;
  const auto count = parse_u64("--count", options.count, code);
  if (!count) return code;
  if (*count == 0) return fail(kExitUsage, "--count must be at least 1");
  const auto max_bytes = parse_u64("--bytes", options.bytes, code);
  if (!max_bytes) return code;
  std::optional<Timeout> timeout;
  if (options.timeout) {
    timeout = parse_timeout("--timeout", *options.timeout, code);
    if (!timeout) return code;
  }
  auto given = payload_bytes({options.string, options.hex, options.file}, "the request");
  if (!given) return fail(given.error().code, given.error().message);
  const std::vector<std::byte> payload = std::move(*given);

  const std::string& text = options.service;
  auto info = describe_service(*name);
  if (!info) {
    if (info.error() == DiscoveryError::DoesNotExist) {
      return fail(kExitFailure, "no service named \"" + text + "\"");
    }
    return fail(kExitFailure, "cannot read service \"" + text + "\": " + to_string(info.error()));
  }
  switch (info->pattern) {
    case MessagingPattern::RequestResponse:
      break;
    case MessagingPattern::Event:
    case MessagingPattern::PublishSubscribe:
      return fail(kExitFailure, "service \"" + text + "\" is not a request-response service");
  }
  const auto& types = info->request_response;
  // The bytes are the user's to fix, like a bad number: a usage error, before any node exists.
  if (const auto takes = unmet_size_rule(types.request_type, payload.size())) {
    return fail(kExitUsage, std::to_string(payload.size()) + " bytes cannot be a request of \"" +
                                text + "\": it takes " + *takes);
  }

  auto node = tool_node("axon-request", code);
  if (!node) return code;
  // Sleeps for `cycle` (a zero cycle only looks); the exit status when a signal came, as for
  // `axon notify`: 128 + the signal, the request(s) not all answered.
  std::uint64_t answered = 0;
  const auto wait_a_cycle = [&](std::chrono::nanoseconds cycle) -> std::optional<int> {
    auto waited = node->wait(cycle);
    if (waited) return std::nullopt;
    const std::string interrupted =
        "interrupted after " + std::to_string(answered) + " complete request(s)";
    switch (waited.error()) {
      case NodeWaitError::InterruptSignal:
        return fail(128 + SIGINT, interrupted);
      case NodeWaitError::TerminationRequest:
        return fail(128 + SIGTERM, interrupted);
      case NodeWaitError::InternalFailure:
        break;
    }
    return fail(kExitFailure, "cannot wait for signals (NodeWaitError::InternalFailure)");
  };
  // The handlers from here on (the first wait installs them).
  if (const auto stop = wait_a_cycle(std::chrono::nanoseconds::zero())) return *stop;
  auto service =
      node->service_builder(*name).request_response(types.request_type, types.response_type).open();
  if (!service) {
    return fail(kExitFailure,
                "cannot open service \"" + text + "\": " + to_string(service.error()));
  }
  auto builder = service->client_builder();
  if (types.request_type.is_slice && types.request_type.size != 0) {
    builder.max_slice_len(std::max<std::uint64_t>(1, payload.size() / types.request_type.size));
  }
  auto client = builder.create();
  if (!client) {
    return fail(kExitFailure,
                "cannot create a client on \"" + text + "\": " + to_string(client.error()));
  }

  static constexpr auto kCycle = std::chrono::milliseconds(1);
  for (; answered < *count; ++answered) {
    if (const auto stop = wait_a_cycle(std::chrono::nanoseconds::zero())) return *stop;
    auto pending = client->send_copy(payload);
    if (!pending) {
      return fail(kExitFailure,
                  std::string("cannot send the request: ") + to_string(pending.error()));
    }
    // A request reaches the servers connected when it is sent. Checked before the first
    // receive, which is where a stream's end is seen: zero means it reached no server.
    if (pending->number_of_server_connections() == 0) {
      return fail(kExitFailure, "no server of \"" + text + "\" to send the request to");
    }
    // The timeout counts from the send, for each request.
    const auto deadline =
        timeout && !timeout->forever ? tools::deadline_after(timeout->duration) : std::nullopt;
    std::uint64_t received = 0;
    int status = kExitOk;
    for (bool idle = false;;) {
      // Before every receive, so that a stream which keeps sending and never ends times out too.
      if (deadline && tools::remaining_until(*deadline).count() == 0) {
        return fail(kExitFailure, "the response stream of \"" + text + "\" did not end within " +
                                      *options.timeout + " s (" + std::to_string(received) +
                                      " response(s) received)");
      }
      if (const auto stop = wait_a_cycle(idle ? kCycle : std::chrono::nanoseconds::zero())) {
        return *stop;
      }
      auto response = pending->receive();
      if (!response) {
        switch (response.error()) {
          case ResponseReceiveError::ServerGone:
            status = fail(kExitFailure, "a server of \"" + text +
                                            "\" went away without ending its response stream");
            break;
          case ResponseReceiveError::ExceedsMaxBorrowedResponses:  // each is released at once
          case ResponseReceiveError::Corrupted:
            status =
                fail(kExitFailure, std::string("receive failed: ") + to_string(response.error()));
            break;
        }
        idle = false;  // the other servers' streams are still read to their ends
        continue;
      }
      idle = !*response;
      if (*response) {
        // Copied once: the server may rewrite its segment while we read, and the hex and the
        // text must show the same bytes.
        const auto shared = (*response)->payload();
        const std::vector<std::byte> bytes(shared.begin(), shared.end());
        const auto line = options.json
                              ? response_json(pending->request_id(), (*response)->sequence(),
                                              (*response)->server_id(), bytes)
                              : response_line((*response)->sequence(), (*response)->server_id(),
                                              bytes, *max_bytes);
        std::printf("%s\n", line.c_str());
        ++received;
        continue;
      }
      if (pending->is_done()) break;
    }
    if (status != kExitOk) return status;
  }
  return kExitOk;
}

/// `axon service show`, from the deepest subcommand the parser reached, for error hints.
std::string command_path(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* sub = app;;) {
    const auto parsed = sub->get_subcommands();
    if (parsed.empty()) break;
    sub = parsed.front();
    path += " " + sub->get_name();
  }
  return path;
}

constexpr const char* kExitCodes = "Exit status: 0 success, 1 the command failed, 2 usage error.";

int run(int argc, char** argv) {
  CLI::App app{"Inspect and drive the axon services of this machine.", "axon"};
  app.set_version_flag("--version", tools::version_line("axon"), "Print the version and exit");
  app.footer(std::string(kExitCodes) +
             "\nEnvironment: AXON_PREFIX and AXON_ROOT select the axon instance (as for every "
             "axon process).\nOutput formats: docs/cli.md.");
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    // CLI11 repeats the arguments it refused: escaped, so that none reaches the terminal raw.
    std::string what = e.what();
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    return tools::error_line(
               kProgram, tools::escaped(what) + " (run '" + command_path(failed) + " --help')") +
           "\n";
  });

  bool json = false;
  bool watch = false;
  auto* service = app.add_subcommand("service", "List and inspect services");
  service->footer(kExitCodes);
  auto* service_list_cmd = service->add_subcommand("list", "List services, one line each");
  service_list_cmd->add_flag("--json", json, "Print a JSON array of objects instead");
  service_list_cmd->add_flag("--watch", watch,
                             "Print services as they appear (+), change (~) and go (-), until "
                             "SIGINT or SIGTERM");
  service_list_cmd->footer(
      "Output, one line per service, sorted by name:\n"
      "  event <name> nodes=<n> listeners=<n> notifiers=<n>\n"
      "  publish_subscribe <name> nodes=<n> publishers=<n> subscribers=<n>\n"
      "  request_response <name> nodes=<n> clients=<n> servers=<n> pending_requests=<n>\n"
      "a port count followed by ' (<d> dead)' when d of its ports belong to dead nodes.\n"
      "--json: "
      "[{\"name\",\"pattern\",\"nodes\",<port counts>,\"dead\":{...},\"settings\":{...}},...]\n"
      "--watch: '+ <line>', '~ <line>', '- <name>' (with --json one object a line).\n" +
      std::string(kExitCodes));
  std::string show_name;
  auto* service_show_cmd =
      service->add_subcommand("show", "Show a service's settings, live ports and nodes");
  service_show_cmd->add_option("NAME", show_name, "Service name")->required();
  service_show_cmd->add_flag("--json", json, "Print one JSON object instead");
  service_show_cmd->footer(
      "Output: 'key: value' lines (name, pattern, creator, settings, nodes, port counts), then\n"
      "one 'node: <id> <pid> <alive|dead> <name>' line per node holding the service.\n"
      "Exit status: 0 shown, 1 no such service (or unreadable), 2 usage error or invalid NAME.");

  StatsOptions stats_options;
  auto* service_stats_cmd = service->add_subcommand(
      "stats", "Show each publish-subscribe connection's latency, rate, drops and queue");
  service_stats_cmd->add_option("NAME", stats_options.service, "Service name")->required();
  service_stats_cmd
      ->add_option("--interval", stats_options.interval,
                   "Seconds between the two reads a rate needs (and between --watch rounds)")
      ->type_name("S")
      ->capture_default_str();
  service_stats_cmd->add_flag("--watch", stats_options.watch,
                              "Print again every interval until SIGINT or SIGTERM");
  service_stats_cmd->add_flag("--json", stats_options.json,
                              "Print a JSON array of objects (one array per round)");
  service_stats_cmd->footer(
      "Reads the telemetry each publisher-subscriber connection keeps in shared memory; the\n"
      "applications are not disturbed. Output, one line per connection, after --interval:\n"
      "  <publisher id> -> <subscriber id> rate=<r>/s p50=<t> p99=<t> p99.9=<t> max=<t>\n"
      "  received=<n> delivered=<n> overwritten=<n> refused=<n> queued=<n> high_water=<n>\n"
      "(one line; latencies are upper bucket edges, send to receive) or 'no connections'.\n"
      "--json: [{\"publisher\",\"subscriber\",\"rate_hz\",\"received\",\"delivered\",\n"
      "\"overwritten\",\"refused\",\"queued\",\"high_water\",\"latency_ns\":{\"p50\",\"p99\",\n"
      "\"p99.9\",\"max\",\"mean\"},\"age_s\"},...]\n"
      "Exit status: 0 shown (or ended by a signal), 1 no such service or not publish-subscribe,\n"
      "2 usage error.");

  auto* node = app.add_subcommand("node", "List nodes (processes using axon)");
  node->footer(kExitCodes);
  auto* node_list_cmd = node->add_subcommand("list", "List nodes, alive and dead, one line each");
  node_list_cmd->add_flag("--json", json, "Print a JSON array of objects instead");
  node_list_cmd->footer(
      "Output, one line per node, sorted by id:\n"
      "  <id> <pid> <alive|dead> <name>\n"
      "--json: [{\"id\",\"pid\",\"state\",\"name\"},...]\n" +
      std::string(kExitCodes));

  std::optional<std::string> force_name;
  auto* clean_cmd = app.add_subcommand("clean", "Remove what dead nodes left behind");
  clean_cmd
      ->add_option("--force", force_name,
                   "Remove every object of service NAME, whatever its state, even in use")
      ->type_name("NAME");
  clean_cmd->footer(
      "Removes the ports of dead nodes in every service, services no live node uses, and the\n"
      "nodes' files. Safe while other processes work and when several cleaners run at once.\n"
      "Output: 'removed node <id>', 'removed service <name>', 'removed <path>' (a stale lock\n"
      "file), 'removed <n> port(s)', or\n"
      "'nothing to clean'.\n"
      "Then one 'unheld event <name>' line per latched event no process holds (not removed).\n"
      "--force NAME: one 'removed <object>' line per object removed (a 'warning:' line on stderr\n"
      "per live node that still held it); exit 0 when something was removed, 1 when nothing of\n"
      "that name exists, 2 usage error or invalid NAME. A latched event NAME is removed too\n"
      "('removed event <name>').\n" +
      std::string(kExitCodes));

  const auto event_commands = add_event_commands(app, kExitCodes);

  NotifyOptions notify_options;
  auto* notify_cmd = app.add_subcommand("notify", "Notify the listeners of an event service");
  notify_cmd->add_option("SERVICE", notify_options.service, "Event service name (must exist)")
      ->required();
  notify_cmd->add_option("--id", notify_options.id, "Event id to send")
      ->type_name("N")
      ->capture_default_str();
  notify_cmd->add_option("--count", notify_options.count, "How many times to notify (>= 1)")
      ->type_name("K")
      ->capture_default_str();
  notify_cmd->footer(
      "Output: 'notified <n> listener(s)' per notification (0 listeners is not an error).\n"
      "Exit status: 0 sent, 1 no such service or id above the service's max event id, 2 usage\n"
      "error.");

  ListenOptions listen_options;
  auto* listen_cmd =
      app.add_subcommand("listen", "Print the notifications of an event service as they arrive");
  listen_cmd
      ->add_option("SERVICE", listen_options.service, "Event service name (created when absent)")
      ->required();
  listen_cmd
      ->add_option("--timeout", listen_options.timeout,
                   "Stop after S seconds (fractions allowed, e.g. 0.2)")
      ->type_name("S");
  listen_cmd->add_flag("--json", listen_options.json,
                       "Print {\"id\",\"count\"} objects, one a line, instead");
  listen_cmd->add_flag("--once", listen_options.once,
                       "Stop after the first wake-up that brought notifications");
  listen_cmd->footer(
      "Output: 'EventId(<id>) x<count>' per id and wake-up; the same id notified n times\n"
      "between two wake-ups arrives once as x<n>. Runs until SIGINT or SIGTERM (exit 0).\n"
      "Exit status: 0 on a signal, with --once after the first notifications, or with --timeout\n"
      "when anything arrived; 1 when nothing arrived within --timeout or on failure; 2 usage\n"
      "error.");

  std::string echo_service;
  std::string echo_bytes = "64";
  auto* echo_cmd =
      app.add_subcommand("echo", "Print the samples of a publish-subscribe service as they arrive");
  echo_cmd->add_option("SERVICE", echo_service, "Publish-subscribe service name (must exist)")
      ->required();
  echo_cmd->add_option("--bytes", echo_bytes, "Show at most this many payload bytes")
      ->type_name("N")
      ->capture_default_str();
  bool echo_json = false;
  echo_cmd->add_flag("--json", echo_json,
                     "Print one JSON object a sample, one a line, instead (docs/cli.md)");
  std::string echo_as = "hex";
  echo_cmd
      ->add_option("--as", echo_as,
                   "Show the payload as u32, i64 or f64 values (this machine's byte order), as a "
                   "string, or in hex")
      ->type_name("TYPE")
      ->capture_default_str();
  echo_cmd->footer(
      "Output: 'sample <sequence> from <publisher id>: <size> bytes: <hex> [...]' per sample;\n"
      "with --as, the values, or '(<size> bytes are not a whole number of ...)' for a sample\n"
      "they do not fit.\n"
      "Runs until SIGINT or SIGTERM (exit 0). Exit status: 1 no such service or not\n"
      "publish-subscribe, 2 usage error.");

  RequestOptions request_options;
  auto* request_cmd = app.add_subcommand(
      "request", "Send a request to a request-response service and print the responses");
  request_cmd
      ->add_option("SERVICE", request_options.service, "Request-response service name (must exist)")
      ->required();
  auto* string_opt =
      request_cmd
          ->add_option("--string", request_options.string, "The request's bytes: TEXT as it is")
          ->type_name("TEXT");
  auto* hex_opt = request_cmd
                      ->add_option("--hex", request_options.hex,
                                   "The request's bytes in hex, e.g. '0a ff' or 0aff")
                      ->type_name("HEX");
  auto* file_opt = request_cmd
                       ->add_option("--file", request_options.file,
                                    "The request's bytes: the content of PATH ('-': stdin)")
                       ->type_name("PATH");
  string_opt->excludes(hex_opt)->excludes(file_opt);
  hex_opt->excludes(file_opt);
  request_cmd
      ->add_option("--count", request_options.count,
                   "Send N requests, each after the previous stream ended (>= 1)")
      ->type_name("N")
      ->capture_default_str();
  request_cmd
      ->add_option("--timeout", request_options.timeout,
                   "Fail when a request's streams have not all ended S seconds after its send")
      ->type_name("S");
  request_cmd
      ->add_option("--bytes", request_options.bytes,
                   "Show at most this many bytes of each response")
      ->type_name("N")
      ->capture_default_str();
  request_cmd->add_flag("--json", request_options.json,
                        "Print one JSON object a response, one a line, instead");
  request_cmd->footer(
      "The request must be one element of the service's request type (a whole number of\n"
      "elements for a slice type). It goes to every server connected when it is sent.\n"
      "Output: 'response <sequence> from <server id>: <size> bytes: <hex> [...] [\"<text>\"]' per\n"
      "response; --json: one {\"request\",\"server\",\"sequence\",\"size\",\"payload\",\"text\"}\n"
      "object a line.\n"
      "Exit status: 0 every stream ended; 1 no such service, not request-response, no server, a\n"
      "server gone before ending its stream, or --timeout; 2 usage error (also a request of the\n"
      "wrong size, bad hex); 130/143 SIGINT/SIGTERM before the streams ended.");

  PublishOptions publish_options;
  auto* publish_cmd = add_publish_command(app, publish_options);
  HzOptions hz_options;
  auto* hz_cmd = add_hz_command(*service, hz_options);
  const ConfigCommand config_cmd(app);  // `axon config show|check`: axon_cli/config_cmd.hpp

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  // Before the check below: `config` is how a user finds out what is wrong with the file.
  if (config_cmd.parsed()) return config_cmd.run();

  // Every command works on the instance the environment selects; a malformed one is refused
  // before anything is read or created.
  if (const auto problem = tools::config_problem(Config::from_environment())) {
    return fail(kExitUsage, *problem);
  }
  if (service_list_cmd->parsed()) return watch ? service_watch(json) : service_list(json);
  if (service_show_cmd->parsed()) return service_show(show_name, json);
  if (service_stats_cmd->parsed()) return service_stats(stats_options);
  if (hz_cmd->parsed()) return service_hz(hz_options);
  if (service->parsed()) {
    return fail(kExitUsage,
                "missing command: list, show, stats or hz (run 'axon service --help')");
  }
  if (node_list_cmd->parsed()) return node_list(json);
  if (node->parsed()) return fail(kExitUsage, "missing command: list (run 'axon node --help')");
  if (clean_cmd->parsed()) {
    if (force_name) return clean_forcibly(*force_name);
    const int cleaned = clean();
    if (cleaned == kExitOk) report_unheld_events();
    return cleaned;
  }
  if (const auto ran = run_event_command(*event_commands)) return *ran;
  if (notify_cmd->parsed()) return notify(notify_options);
  if (listen_cmd->parsed()) return listen(listen_options);
  if (echo_cmd->parsed()) return echo(echo_service, echo_bytes, echo_as, echo_json);
  if (request_cmd->parsed()) return request(request_options);
  if (publish_cmd->parsed()) return publish(publish_options);
  return fail(kExitUsage,
              "missing command: service, node, event, clean, notify, listen, echo, request, "
              "publish or config (run 'axon --help')");
}

}  // namespace

int main(int argc, char** argv) {
  // Each line reaches a pipe at once: scripts and tests read `listen` as it happens.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return fail(kExitFailure, e.what());
  } catch (...) {
    return fail(kExitFailure, "unexpected failure");
  }
}
