// axon: inspect and drive the services of this machine from a shell.
//
//   axon service list [--json]            axon node list [--json]
//   axon service show NAME [--json]       axon clean [--force NAME]
//   axon notify SERVICE [--id N] [--count K]
//   axon listen SERVICE [--timeout S] [--once]
//   axon echo SERVICE [--bytes N]
//   axon request SERVICE (--string TEXT | --hex HEX | --file PATH) [--count N] [--timeout S]
//                [--bytes N] [--json]
//   axon config show [--json]             axon config check FILE
//
// Output formats and exit codes are a contract, documented in docs/cli.md: 0 success, 1 the
// command failed, 2 the command line is wrong. Every error is one line on stderr.
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
#include "axon_cli/format.hpp"
#include "axon_cli/payload.hpp"
#include "axon_tools/messages.hpp"
#include "axon_tools/version.hpp"

namespace {

using namespace axon;
using namespace axon::cli;

int service_list(bool json) {
  auto scan = scan_services();
  if (!scan) {
    return fail(kExitFailure, std::string("cannot list services: ") + to_string(scan.error()));
  }
  // One list sorted by name: complete services and, marked, those whose objects are unreadable.
  std::vector<std::pair<std::string, std::string>> entries;  // (name, line or JSON object)
  for (const auto& info : scan->services) {
    entries.emplace_back(info.name, json ? json_line(service_json(info)) : service_line(info));
  }
  for (const auto& broken : scan->unreadable) {
    entries.emplace_back(broken.name, json ? unreadable_json(broken) : unreadable_line(broken));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (json) {
    std::vector<std::string> objects;
    objects.reserve(entries.size());
    for (auto& entry : entries) objects.push_back(std::move(entry.second));
    std::printf("%s\n", json_array_lines(objects).c_str());
  } else {
    for (const auto& entry : entries) std::printf("%s\n", entry.second.c_str());
  }
  return kExitOk;
}

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
    return fail(kExitFailure, std::string("cannot list nodes: ") + to_string(nodes.error()));
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
    return fail(kExitFailure, std::string("cannot list nodes: ") + to_string(nodes.error()));
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
  if (done->removed.empty()) {
    return fail(kExitFailure, "nothing of service \"" + text + "\" to remove");
  }
  return kExitOk;
}

std::optional<Node> create_node(const char* node_name, int& exit_code) {
  auto node = NodeBuilder().name(node_name).create();
  if (!node) {
    exit_code = fail(kExitFailure, std::string("cannot create a node: ") + to_string(node.error()));
    return std::nullopt;
  }
  return std::move(*node);
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
  auto node = create_node("axon-notify", code);
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
  auto node = create_node("axon-listen", code);
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
      std::printf("EventId(%llu) x%llu\n", static_cast<unsigned long long>(id.value),
                  static_cast<unsigned long long>(n));
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
/// the tool cannot know the type, so it shows the size and the first bytes in hex.
int echo(const std::string& text, const std::string& bytes) {
  int code = kExitOk;
  const auto name = parse_service_name(text, code);
  if (!name) return code;
  const auto parsed_bytes = parse_u64("--bytes", bytes, code);
  if (!parsed_bytes) return code;
  const std::uint64_t max_bytes = *parsed_bytes;
  auto info = describe_service(*name);
  if (!info) {
    if (info.error() == DiscoveryError::DoesNotExist) {
      return fail(kExitFailure, "no service named \"" + text + "\"");
    }
    return fail(kExitFailure, "cannot read service \"" + text + "\": " + to_string(info.error()));
  }
  switch (info->pattern) {
    case MessagingPattern::PublishSubscribe: break;
    case MessagingPattern::Event:
    case MessagingPattern::RequestResponse:
      return fail(kExitFailure, "service \"" + text + "\" is not a publish-subscribe service");
  }
  auto node = create_node("axon-echo", code);
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
  // Open with exactly the service's own payload description: the tool adopts its type.
  const PayloadType type{info->pubsub.type_name, info->pubsub.type_size,
                         info->pubsub.type_alignment, info->pubsub.is_slice};
  auto service = node->service_builder(*name).publish_subscribe(type).open();
  if (!service) {
    return fail(kExitFailure, "cannot open service \"" + text + "\": " + to_string(service.error()));
  }
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
      std::fprintf(stderr, "error: receive failed: %s\n", to_string(sample.error()));
      if (sample.error() == SubscriberReceiveError::Corrupted) continue;
      return kExitFailure;
    }
    idle = !*sample;
    if (idle) continue;
    const auto payload = (*sample)->payload();  // its size was validated once, at receive
    const auto shown = std::min<std::uint64_t>(payload.size(), max_bytes);
    std::string hex;
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::uint64_t i = 0; i < shown; ++i) {
      const auto b = static_cast<unsigned>(payload[i]);
      hex += kDigits[b >> 4];
      hex += kDigits[b & 15];
      if (i + 1 < shown) hex += ' ';
    }
    std::printf("sample %llu from %016llx: %llu bytes: %s%s\n",
                static_cast<unsigned long long>((*sample)->sequence()),
                static_cast<unsigned long long>((*sample)->publisher_id()),
                static_cast<unsigned long long>(payload.size()), hex.c_str(),
                payload.size() > max_bytes ? " ..." : "");
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

/// All of `path` ("-": stdin) as bytes, or nullopt when it cannot be read.
std::optional<std::vector<std::byte>> read_file(const std::string& path) {
  std::FILE* in = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (in == nullptr) return std::nullopt;
  std::vector<std::byte> bytes;
  std::byte buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), in)) > 0;) {
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  const bool failed = std::ferror(in) != 0;
  if (in != stdin) std::fclose(in);
  if (failed) return std::nullopt;
  return bytes;
}

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
  const int sources = (options.string ? 1 : 0) + (options.hex ? 1 : 0) + (options.file ? 1 : 0);
  if (sources != 1) {
    return fail(kExitUsage, "give the request as exactly one of --string, --hex or --file");
  }
  std::vector<std::byte> payload;
  if (options.string) {
    const auto& text = *options.string;
    payload.resize(text.size());
    std::memcpy(payload.data(), text.data(), text.size());
  } else if (options.hex) {
    auto parsed = parse_hex("--hex", *options.hex);
    if (!parsed) return fail(kExitUsage, parsed.error());
    payload = std::move(*parsed);
  } else {
    auto read = read_file(*options.file);
    if (!read) return fail(kExitFailure, "cannot read " + tools::quoted(*options.file));
    payload = std::move(*read);
  }

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

  auto node = create_node("axon-request", code);
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
    return "error: " + tools::escaped(what) + " (run '" + command_path(failed) + " --help')\n";
  });

  bool json = false;
  auto* service = app.add_subcommand("service", "List and inspect services");
  service->footer(kExitCodes);
  auto* service_list_cmd = service->add_subcommand("list", "List services, one line each");
  service_list_cmd->add_flag("--json", json, "Print a JSON array of objects instead");
  service_list_cmd->footer(
      "Output, one line per service, sorted by name:\n"
      "  event <name> nodes=<n> listeners=<n> notifiers=<n>\n"
      "  publish_subscribe <name> nodes=<n> publishers=<n> subscribers=<n>\n"
      "  request_response <name> nodes=<n> clients=<n> servers=<n> pending_requests=<n>\n"
      "--json: "
      "[{\"name\",\"pattern\",\"nodes\",<port counts>,\"settings\":{...}},...]\n" +
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
      "--force NAME: one 'removed <object>' line per object removed (a 'warning:' line on stderr\n"
      "per live node that still held it); exit 0 when something was removed, 1 when nothing of\n"
      "that name exists, 2 usage error or invalid NAME.\n" +
      std::string(kExitCodes));

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
  echo_cmd->add_option("--bytes", echo_bytes, "Show at most this many payload bytes in hex")
      ->type_name("N")
      ->capture_default_str();
  echo_cmd->footer(
      "Output: 'sample <sequence> from <publisher id>: <size> bytes: <hex> [...]' per sample.\n"
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
  if (service_list_cmd->parsed()) return service_list(json);
  if (service_show_cmd->parsed()) return service_show(show_name, json);
  if (service->parsed()) {
    return fail(kExitUsage, "missing command: list or show (run 'axon service --help')");
  }
  if (node_list_cmd->parsed()) return node_list(json);
  if (node->parsed()) return fail(kExitUsage, "missing command: list (run 'axon node --help')");
  if (clean_cmd->parsed()) return force_name ? clean_forcibly(*force_name) : clean();
  if (notify_cmd->parsed()) return notify(notify_options);
  if (listen_cmd->parsed()) return listen(listen_options);
  if (echo_cmd->parsed()) return echo(echo_service, echo_bytes);
  if (request_cmd->parsed()) return request(request_options);
  return fail(kExitUsage,
              "missing command: service, node, clean, notify, listen, echo or request (run 'axon "
              "--help')");
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
