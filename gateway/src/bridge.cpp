#include "bridge.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <string_view>
#include <utility>
#include <variant>

namespace axon::gateway {

namespace {

/// Services the library makes for itself (wake services of wakeable subscribers) never cross.
constexpr std::string_view kInternalPrefix = "__axon_wake/";

/// The most samples one export or import moves per wake-up before the others get their turn
/// (the fd stays readable, so the rest is moved at the next wait).
constexpr int kBatch = 256;

/// A DDS history deeper than this is not made for an announcement that asks for it (a remote
/// gateway is not trusted with our memory).
constexpr std::uint32_t kMaxDepth = 4096;

std::uint64_t random_id() {
  std::random_device device;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{device()} << 32) ^ device();
  return id;
}

/// Whether a DDS sample is of payload type `type` with user header `header` (an empty name:
/// none), its header bytes `header.size` long.
bool same_type(const PayloadType& type, const PayloadType& header, const SampleView& sample) {
  return sample.type_name == type.name && sample.type_size == type.size &&
         sample.type_alignment == type.alignment && sample.is_slice == type.is_slice &&
         sample.user_header_name == header.name && sample.user_header_size == header.size &&
         sample.user_header_alignment == header.alignment &&
         sample.user_header.size() == header.size;
}

/// " with user header NAME" for a service that has one, for log lines.
std::string with_header(const PayloadType& header) {
  return header.name.empty() ? std::string() : " with user header " + header.name;
}

/// Whether an announcement's request and response types are `request` and `response`.
bool same_types(const PayloadType& request, const PayloadType& response, const Announcement& a) {
  return a.type_name == request.name && a.type_size == request.size &&
         a.type_alignment == request.alignment && a.is_slice == request.is_slice &&
         a.response_type_name == response.name && a.response_type_size == response.size &&
         a.response_type_alignment == response.alignment &&
         a.response_is_slice == response.is_slice;
}

std::uint32_t depth_of(std::uint32_t history, std::uint32_t buffer) {
  return std::clamp<std::uint32_t>(std::max(history, buffer), 1, kMaxDepth);
}

}  // namespace

struct Gateway::Export {
  std::string service;
  PayloadType type;
  PayloadType header;  ///< the service's user header type; an empty name: none
  UntypedPubSubService handle;
  UntypedSubscriber subscriber;
  SampleWriter writer;
  Announcement announcement;  ///< what we tell the other gateways about it
  bool block = false;         ///< the service's overflow policy is Block
  std::uint32_t readers = 0;  ///< DDS readers matched, as last logged
  std::optional<WaitSetGuard> guard;  // last: detached before the subscriber's fd goes
};

struct Gateway::Import {
  std::string service;
  PayloadType type;
  PayloadType header;  ///< the service's user header type; an empty name: none
  std::set<std::uint64_t> gateways;  ///< the remote gateways announcing it
  UntypedPubSubService handle;
  std::optional<UntypedPublisher> publisher;
  std::uint64_t max_len = 0;  ///< elements one sample of `publisher` may hold
  SampleReader reader;
  std::uint32_t writers = 0;  ///< DDS writers matched, as last logged
  std::optional<WaitSetGuard> guard;  // last: detached before the reader's fd goes
};

struct Gateway::EventExport {
  std::string service;
  EventService handle;
  Listener listener;
  Announcement announcement;
  /// Per event id: notifications our own import notifier made that the listener has not drained
  /// yet. They are not sent back (events carry no origin to skip them by).
  std::map<std::uint64_t, std::uint64_t> injected;
  std::optional<WaitSetGuard> guard;  // last: detached before the listener's fd goes
};

struct Gateway::EventImport {
  std::set<std::uint64_t> gateways;  ///< the remote gateways announcing it
  EventService handle;
  Notifier notifier;
};

/// The machine of the real servers: a local client sends what the requests topic brings.
struct Gateway::RrExport {
  /// One remote request: (client gateway, token).
  using Key = std::pair<std::uint64_t, std::uint64_t>;
  struct Pending {
    UntypedPendingResponse pending;
    std::uint64_t sequence = 0;  ///< of the next response written to DDS
    bool server_gone = false;    ///< a server left without ending its stream
  };
  struct Waiting {
    Key key;
    std::vector<std::byte> payload;
  };
  std::string service;
  PayloadType request_type;
  UntypedRequestResponseService handle;
  UntypedClient client;
  RrReader requests;
  RrWriter responses;
  Announcement announcement;
  std::map<Key, Pending> pending;  ///< sent locally, streams not over
  std::deque<Waiting> waiting;     ///< arrived while the client had no free channel
  std::uint64_t waiting_bytes = 0;  ///< their payloads' bytes
  std::optional<WaitSetGuard> guard;  // last: detached before the reader's fd goes
};

/// The machine of the remote clients: a local server whose requests cross to an exporter.
struct Gateway::RrImport {
  struct Forwarded {
    UntypedActiveRequest request;
    std::uint64_t target = 0;  ///< the exporting gateway that serves it
    std::chrono::steady_clock::time_point sent;
    bool accepted = false;           ///< the exporter sent it to its servers
    std::uint64_t next_sequence = 0;  ///< of the next response expected
    bool ended = false;              ///< nothing more comes: end once the backlog is out
    std::deque<std::vector<std::byte>> backlog;  ///< responses the client had no room for
    std::uint64_t backlog_bytes = 0;
  };
  std::string service;
  PayloadType request_type;
  PayloadType response_type;
  OverflowPolicy overflow = OverflowPolicy::Block;
  std::set<std::uint64_t> gateways;  ///< the remote gateways announcing it
  UntypedRequestResponseService handle;
  RrWriter requests;
  RrReader responses;
  std::optional<UntypedServer> server;  ///< made once both topics matched (ensure_rr_server)
  std::map<std::uint64_t, Forwarded> forwarded;  ///< by token
  std::optional<WaitSetGuard> guard;  // last: detached before the reader's fd goes
};

tl::expected<std::unique_ptr<Gateway>, std::string> Gateway::create(GatewayConfig config) {
  auto node = NodeBuilder().name("axon-gateway").create();
  if (!node) return tl::unexpected(std::string("cannot create the node: ") + to_string(node.error()));
  auto participant =
      Participant::create(DdsSettings{config.domain_id, config.network_interface});
  if (!participant) return tl::unexpected("cannot join DDS: " + to_string(participant.error()));
  auto out = AnnouncementWriter::create(*participant);
  if (!out) return tl::unexpected("cannot announce on DDS: " + to_string(out.error()));
  auto in = AnnouncementReader::create(*participant);
  if (!in) return tl::unexpected("cannot read announcements: " + to_string(in.error()));
  auto events_out = EventWriter::create(*participant);
  if (!events_out) return tl::unexpected("cannot write events: " + to_string(events_out.error()));
  auto events_in = EventReader::create(*participant);
  if (!events_in) return tl::unexpected("cannot read events: " + to_string(events_in.error()));
  auto waitset =
      WaitSetBuilder().busy_poll(std::chrono::microseconds(config.busy_poll_us)).create();
  if (!waitset) {
    return tl::unexpected(std::string("cannot create the WaitSet: ") + to_string(waitset.error()));
  }
  return std::unique_ptr<Gateway>(new Gateway(std::move(config), random_id(), std::move(*node),
                                              std::move(*participant), std::move(*out),
                                              std::move(*in), std::move(*events_out),
                                              std::move(*events_in), std::move(*waitset)));
}

Gateway::Gateway(GatewayConfig config, std::uint64_t id, Node node, Participant participant,
                 AnnouncementWriter announcements_out, AnnouncementReader announcements_in,
                 EventWriter events_out, EventReader events_in, WaitSet waitset)
    : m_config(std::move(config)),
      m_id(id),
      m_node(std::move(node)),
      m_participant(std::move(participant)),
      m_announcements_out(std::move(announcements_out)),
      m_announcements_in(std::move(announcements_in)),
      m_events_out(std::move(events_out)),
      m_events_in(std::move(events_in)),
      m_waitset(std::move(waitset)) {}

Gateway::~Gateway() {
  // Withdrawn, not Lost: the other gateways drop our services at once instead of after a lease.
  for (const auto& [service, e] : m_exports) (void)m_announcements_out.withdraw(m_id, service);
  for (const auto& [service, e] : m_event_exports) {
    (void)m_announcements_out.withdraw(m_id, service);
  }
  for (const auto& [service, e] : m_rr_exports) (void)m_announcements_out.withdraw(m_id, service);
}

void Gateway::log(const std::string& line, bool error) const {
  if (error || m_config.verbose) std::fprintf(stderr, "axon-gateway: %s\n", line.c_str());
}

void Gateway::log_once(const std::string& key, const std::string& line) {
  if (m_logged.insert(key).second) log(line, true);
}

int Gateway::run() {
  auto announcements = m_waitset.attach_fd(m_announcements_in.fd(), FdInterest::Read);
  auto events = m_waitset.attach_fd(m_events_in.fd(), FdInterest::Read);
  auto discovery = m_waitset.attach_interval(kDiscoveryPeriod);
  if (!announcements || !events || !discovery) {
    log("cannot attach to the WaitSet", true);
    return 1;
  }
  m_announcement_guard.emplace(std::move(*announcements));
  m_events_guard.emplace(std::move(*events));
  m_discovery_guard.emplace(std::move(*discovery));
  discover();
  std::printf("axon-gateway %s: ready (id %016llx, domain %u)\n", m_config.gateway_name.c_str(),
              static_cast<unsigned long long>(m_id), m_config.domain_id);
  std::fflush(stdout);
  for (;;) {
    auto batch = m_waitset.wait(std::nullopt);
    if (!batch) {
      log(std::string("waiting failed: ") + to_string(batch.error()), true);
      return 1;
    }
    if (batch->result != WaitSetRunResult::AllEventsHandled) break;
    for (const auto& id : batch->triggered) {
      if (id.has_event_from(*m_announcement_guard)) {
        on_announcements();
      } else if (id.has_event_from(*m_events_guard)) {
        on_events();
      } else if (id.has_event_from(*m_discovery_guard)) {
        discover();
      } else if (m_rr_poll_guard && id.has_event_from(*m_rr_poll_guard)) {
        for (auto& [service, e] : m_rr_exports) poll_rr_export(*e);
        for (auto& [service, i] : m_rr_imports) poll_rr_import(*i);
      } else if (const auto found = m_attachments.find(id); found != m_attachments.end()) {
        const auto [bridge, service] = found->second;
        if (bridge == Bridge::Export) {
          if (const auto e = m_exports.find(service); e != m_exports.end()) forward(*e->second);
        } else if (bridge == Bridge::Import) {
          if (const auto i = m_imports.find(service); i != m_imports.end()) deliver(*i->second);
        } else if (bridge == Bridge::RrExport) {
          if (const auto e = m_rr_exports.find(service); e != m_rr_exports.end()) {
            on_rr_requests(*e->second);
          }
        } else if (bridge == Bridge::RrImport) {
          if (const auto i = m_rr_imports.find(service); i != m_rr_imports.end()) {
            on_rr_responses(*i->second);
          }
        } else if (const auto e = m_event_exports.find(service); e != m_event_exports.end()) {
          forward_events(*e->second);
        }
      }
    }
    update_rr_polling();
  }
  std::printf(
      "exit exported=%llu imported=%llu write_failures=%llu publish_failures=%llu "
      "events_exported=%llu events_imported=%llu requests_out=%llu requests_in=%llu "
      "responses_out=%llu responses_in=%llu rr_dropped=%llu\n",
      static_cast<unsigned long long>(m_stats.exported),
      static_cast<unsigned long long>(m_stats.imported),
      static_cast<unsigned long long>(m_stats.write_failures),
      static_cast<unsigned long long>(m_stats.publish_failures),
      static_cast<unsigned long long>(m_stats.events_exported),
      static_cast<unsigned long long>(m_stats.events_imported),
      static_cast<unsigned long long>(m_stats.requests_out),
      static_cast<unsigned long long>(m_stats.requests_in),
      static_cast<unsigned long long>(m_stats.responses_out),
      static_cast<unsigned long long>(m_stats.responses_in),
      static_cast<unsigned long long>(m_stats.rr_dropped));
  std::fflush(stdout);
  return 0;
}

// ------------------------------------------------------------------------------------ export

void Gateway::discover() {
  auto services = list_services();
  if (!services) {
    log_once("discovery", std::string("cannot list local services: ") + to_string(services.error()));
    return;
  }
  std::set<std::string> wanted;
  for (const auto& info : *services) {
    if (info.name.starts_with(kInternalPrefix) || !m_config.exports(info.name)) continue;
    if (info.pattern == MessagingPattern::Event) {
      // As for samples: our own import notifier does not count.
      const std::size_t ours = m_event_imports.contains(info.name) ? 1 : 0;
      if (info.notifiers <= ours) continue;
      wanted.insert(info.name);
      if (!m_event_exports.contains(info.name)) start_event_export(info);
      continue;
    }
    if (info.pattern == MessagingPattern::RequestResponse) {
      // Our own import server does not count: what we imported is never exported again.
      const auto imported = m_rr_imports.find(info.name);
      const std::size_t ours = imported != m_rr_imports.end() && imported->second->server ? 1 : 0;
      if (info.servers <= ours) continue;
      wanted.insert(info.name);
      if (!m_rr_exports.contains(info.name)) start_rr_export(info);
      continue;
    }
    if (info.pattern != MessagingPattern::PublishSubscribe) continue;
    // Our own import publisher does not count: what we imported is never exported again.
    const auto imported = m_imports.find(info.name);
    const std::size_t ours = imported != m_imports.end() && imported->second->publisher ? 1 : 0;
    if (info.publishers <= ours) continue;
    wanted.insert(info.name);
    if (!m_exports.contains(info.name)) start_export(info);
  }
  for (auto it = m_exports.begin(); it != m_exports.end();) {
    const auto next = std::next(it);
    if (!wanted.contains(it->first)) end_export(m_exports, it->first);
    it = next;
  }
  for (auto it = m_event_exports.begin(); it != m_event_exports.end();) {
    const auto next = std::next(it);
    if (!wanted.contains(it->first)) end_export(m_event_exports, it->first);
    it = next;
  }
  for (auto it = m_rr_exports.begin(); it != m_rr_exports.end();) {
    const auto next = std::next(it);
    if (!wanted.contains(it->first)) end_export(m_rr_exports, it->first);
    it = next;
  }
  // An import serves its local clients once the far side's topics matched ours.
  for (auto& [service, i] : m_rr_imports) ensure_rr_server(*i);
  // Announcements are written again every kRefreshEvery discovery periods: a reader that declared them
  // Lost (the link was down for longer than their lease) sees them alive again only when a new
  // sample arrives, so a restored link is found again within that time.
  if (++m_discoveries % kRefreshEvery == 0) {
    for (const auto& [service, e] : m_exports) (void)m_announcements_out.write(e->announcement);
    for (const auto& [service, e] : m_event_exports) {
      (void)m_announcements_out.write(e->announcement);
    }
    for (const auto& [service, e] : m_rr_exports) (void)m_announcements_out.write(e->announcement);
  }
  // Who is connected, in the log (-v): a service crosses once both ends matched.
  for (auto& [service, e] : m_exports) {
    if (const auto n = e->writer.matched_readers(); n && *n != e->readers) {
      e->readers = *n;
      log(service + ": " + std::to_string(*n) + " remote reader(s)");
    }
  }
  for (auto& [service, i] : m_imports) {
    if (const auto n = i->reader.matched_writers(); n && *n != i->writers) {
      i->writers = *n;
      log(service + ": " + std::to_string(*n) + " remote writer(s)");
    }
  }
}

void Gateway::start_export(const ServiceInfo& info) {
  const auto key = "export " + info.name;
  auto name = ServiceName::create(info.name);
  if (!name) return;
  PayloadType type{info.pubsub.type_name, info.pubsub.type_size, info.pubsub.type_alignment,
                   info.pubsub.is_slice};
  // The user header is part of the service's type: it is opened with the one it has (none
  // when the name is empty), and its bytes cross with each sample.
  PayloadType header{info.pubsub.user_header_name, info.pubsub.user_header_size,
                     info.pubsub.user_header_alignment, false};
  auto handle = m_node.service_builder(*name).publish_subscribe(type).user_header(header).open();
  if (!handle) {
    log_once(key, "cannot export " + info.name + ": " + to_string(handle.error()));
    return;
  }
  auto subscriber = handle->subscriber_builder().wakeable(true).create();
  if (!subscriber) {
    log_once(key, "cannot export " + info.name + ": " + to_string(subscriber.error()));
    return;
  }
  const auto depth = depth_of(info.pubsub.history_size, info.pubsub.subscriber_buffer_size);
  auto writer = SampleWriter::create(m_participant, info.name, depth);
  if (!writer) {
    log_once(key, "cannot export " + info.name + ": " + to_string(writer.error()));
    return;
  }
  Announcement announcement;
  announcement.gateway = m_id;
  announcement.service = info.name;
  announcement.pattern = AnnouncedPattern::PublishSubscribe;
  announcement.type_name = type.name;
  announcement.type_size = type.size;
  announcement.type_alignment = type.alignment;
  announcement.is_slice = type.is_slice;
  announcement.history_size = info.pubsub.history_size;
  announcement.buffer_size = info.pubsub.subscriber_buffer_size;
  announcement.user_header_name = header.name;
  announcement.user_header_size = header.size;
  announcement.user_header_alignment = header.alignment;
  auto e = std::unique_ptr<Export>(new Export{info.name, type, header, std::move(*handle),
                                              std::move(*subscriber), std::move(*writer),
                                              std::move(announcement),
                                              info.pubsub.overflow == OverflowPolicy::Block, 0,
                                              {}});
  auto guard = m_waitset.attach_notification(e->subscriber);
  begin_export(m_exports, std::move(e), std::move(guard), Bridge::Export,
               type.name + with_header(header));
}

template <typename Exported>
void Gateway::begin_export(std::map<std::string, std::unique_ptr<Exported>>& exports,
                           std::unique_ptr<Exported> e,
                           tl::expected<WaitSetGuard, WaitSetAttachmentError> guard,
                           Bridge bridge, const std::string& what) {
  const auto key = "export " + e->service;
  if (!guard) {
    log_once(key, "cannot export " + e->service + ": " + to_string(guard.error()));
    return;
  }
  m_attachments[AttachmentId::from_guard(*guard)] = {bridge, e->service};
  e->guard.emplace(std::move(*guard));
  if (auto written = m_announcements_out.write(e->announcement); !written) {
    log_once(key, "cannot announce " + e->service + ": " + to_string(written.error()));
  }
  m_logged.erase(key);
  log("exporting " + e->service + " (" + what + ")");
  auto service = e->service;
  exports.emplace(std::move(service), std::move(e));
}

template <typename Exported>
void Gateway::end_export(std::map<std::string, std::unique_ptr<Exported>>& exports,
                         std::string service) {
  // `service` is a copy: callers pass the map's own key, which the erase below frees.
  const auto found = exports.find(service);
  if (found == exports.end()) return;
  if (found->second->guard) m_attachments.erase(AttachmentId::from_guard(*found->second->guard));
  (void)m_announcements_out.withdraw(m_id, service);
  exports.erase(found);
  log("no longer exporting " + service);
}

void Gateway::forward(Export& e) {
  const auto imported = m_imports.find(e.service);
  const std::optional<std::uint64_t> own =
      imported != m_imports.end() && imported->second->publisher
          ? std::optional(imported->second->publisher->id())
          : std::nullopt;
  for (int n = 0; n < kBatch; ++n) {
    auto received = e.subscriber.receive();
    if (!received) {
      log_once("receive " + e.service,
               "cannot receive from " + e.service + ": " + to_string(received.error()));
      return;
    }
    if (!*received) return;
    const auto& sample = **received;
    if (own && sample.publisher_id() == *own) continue;  // came from DDS: never sent back
    // The send time stays here: CLOCK_MONOTONIC is this machine's clock, meaningless on another
    // (the importing gateway's send() stamps its own).
    const OutgoingSample out{m_id,           sample.publisher_id(), sample.sequence(),
                             e.type.name,    e.type.size,           e.type.alignment,
                             e.type.is_slice, sample.payload(),     e.header.name,
                             e.header.size,  e.header.alignment,    sample.user_header()};
    auto written = e.writer.write(out);
    // Under Block the service loses nothing, so neither does its export: a write that timed out
    // (the far side slow to acknowledge) is tried again, up to kBlockWrites in all.
    for (int tries = 1; !written && written.error().kind == DdsErrorKind::Timeout && e.block &&
                        tries < kBlockWrites;
         ++tries) {
      written = e.writer.write(out);
    }
    if (!written) {
      ++m_stats.write_failures;
      log_once("write " + e.service, "cannot write " + e.service + " to DDS: " +
                                         to_string(written.error()) + " (samples are lost)");
      continue;
    }
    ++m_stats.exported;
  }
}

// ------------------------------------------------------------------------------------ import

void Gateway::on_announcements() {
  auto changes = m_announcements_in.take();
  if (!changes) {
    log_once("announcements", "cannot read announcements: " + to_string(changes.error()));
    return;
  }
  for (const auto& change : *changes) {
    const auto& a = change.announcement;
    if (a.gateway == m_id || !m_config.imports(a.service)) continue;
    if (change.kind == AnnouncementChange::Kind::Announced) {
      if (a.pattern == AnnouncedPattern::Event) {
        if (const auto found = m_event_imports.find(a.service); found != m_event_imports.end()) {
          found->second->gateways.insert(a.gateway);
        } else {
          start_event_import(a);
        }
      } else if (a.pattern == AnnouncedPattern::PublishSubscribe) {
        if (const auto found = m_imports.find(a.service); found != m_imports.end()) {
          found->second->gateways.insert(a.gateway);
        } else {
          start_import(a);
        }
      } else if (a.pattern == AnnouncedPattern::RequestResponse) {
        if (const auto found = m_rr_imports.find(a.service); found == m_rr_imports.end()) {
          start_rr_import(a);
        } else if (same_types(found->second->request_type, found->second->response_type, a)) {
          found->second->gateways.insert(a.gateway);
        } else {
          // Its responses would reach our clients as the type they expect: it serves nothing
          // here (and stops serving, if it changed its types).
          log_once("types " + a.service, "a remote gateway announced " + a.service +
                                             " with other types than the imported ones; ignored");
          drop_rr_gateway(a.service, a.gateway);
        }
      }
      continue;
    }
    if (m_rr_imports.contains(a.service)) {
      drop_rr_gateway(a.service, a.gateway);
      continue;
    }
    // Withdrawn or Lost: the service goes once no remote gateway announces it any more.
    if (const auto found = m_imports.find(a.service); found != m_imports.end()) {
      found->second->gateways.erase(a.gateway);
      if (found->second->gateways.empty()) stop_import(a.service);
    } else if (const auto event = m_event_imports.find(a.service); event != m_event_imports.end()) {
      event->second->gateways.erase(a.gateway);
      if (event->second->gateways.empty()) {
        m_event_imports.erase(event);
        log("no longer importing " + a.service);
      }
    }
  }
}

void Gateway::start_import(const Announcement& a) {
  const auto key = "import " + a.service;
  auto name = ServiceName::create(a.service);
  if (!name || a.service.starts_with(kInternalPrefix)) {
    log_once(key, "a remote gateway announced an invalid service name; ignored");
    return;
  }
  const PayloadType type{a.type_name, a.type_size, a.type_alignment, a.is_slice};
  const PayloadType header{a.user_header_name, a.user_header_size, a.user_header_alignment, false};
  // An existing local service is used as it is (its payload and user header types must be the
  // same); a new one gets the remote one's types, history and buffer.
  auto handle = m_node.service_builder(*name).publish_subscribe(type).user_header(header).open();
  if (!handle && handle.error() == PubSubOpenError::DoesNotExist) {
    auto builder = m_node.service_builder(*name).publish_subscribe(type).user_header(header);
    builder.history_size(a.history_size);
    if (a.buffer_size > 0) builder.subscriber_max_buffer_size(a.buffer_size);
    auto created = builder.create();
    if (created) {
      handle = std::move(*created);
    } else if (created.error() != PubSubCreateError::AlreadyExists) {
      log_once(key, "cannot import " + a.service + " (" + type.name + with_header(header) +
                        "): " + to_string(created.error()));
      return;
    } else {
      // Lost a race.
      handle = m_node.service_builder(*name).publish_subscribe(type).user_header(header).open();
    }
  }
  if (!handle) {
    // IncompatibleTypes: the local service exists with another payload or user header type.
    log_once(key, "cannot import " + a.service + " (" + type.name + with_header(header) +
                      "): " + to_string(handle.error()));
    return;
  }
  auto reader = SampleReader::create(m_participant, a.service, depth_of(a.history_size, a.buffer_size));
  if (!reader) {
    log_once(key, "cannot import " + a.service + ": " + to_string(reader.error()));
    return;
  }
  auto i = std::unique_ptr<Import>(new Import{a.service, type, header, {a.gateway},
                                              std::move(*handle),
                                              std::nullopt, 0, std::move(*reader), 0, {}});
  // The publisher exists from the start, so the service shows it (axon service list).
  if (!ensure_publisher(*i, type.is_slice ? kInitialImportBytes : type.size)) return;
  auto guard = m_waitset.attach_fd(i->reader.fd(), FdInterest::Read);
  if (!guard) {
    log_once(key, "cannot import " + a.service + ": " + to_string(guard.error()));
    return;
  }
  m_attachments[AttachmentId::from_guard(*guard)] = {Bridge::Import, a.service};
  i->guard.emplace(std::move(*guard));
  m_logged.erase(key);
  log("importing " + a.service + " (" + type.name + with_header(header) + ")");
  m_imports.emplace(a.service, std::move(i));
}

void Gateway::stop_import(const std::string& service) {
  const auto found = m_imports.find(service);
  if (found == m_imports.end()) return;
  if (found->second->guard) m_attachments.erase(AttachmentId::from_guard(*found->second->guard));
  m_imports.erase(found);
  log("no longer importing " + service);
}

bool Gateway::ensure_publisher(Import& i, std::uint64_t bytes) {
  const std::uint64_t len = i.type.is_slice ? bytes / i.type.size : 1;
  if (i.publisher && len <= i.max_len) return true;
  std::uint64_t max_len = 1;
  if (i.type.is_slice) {
    const auto wanted = std::max(bytes, kInitialImportBytes);
    if (wanted > kMaxImportBytes) {
      log_once("size " + i.service, "a sample of " + i.service + " is larger than " +
                                        std::to_string(kMaxImportBytes) + " bytes: dropped");
      return false;
    }
    max_len = std::max<std::uint64_t>(1, std::bit_ceil(wanted) / i.type.size);
  }
  // The smaller publisher goes first: the service may have no room for both.
  i.publisher.reset();
  i.max_len = 0;
  auto publisher = i.handle.publisher_builder().max_slice_len(max_len).create();
  if (!publisher) {
    log_once("publisher " + i.service,
             "cannot publish " + i.service + " here: " + to_string(publisher.error()));
    return false;
  }
  i.publisher.emplace(std::move(*publisher));
  i.max_len = max_len;
  return true;
}

void Gateway::deliver(Import& i) {
  for (int n = 0; n < kBatch; n += static_cast<int>(SampleReader::kDefaultMaxTake)) {
    auto samples = i.reader.take();
    if (!samples) {
      log_once("take " + i.service, "cannot read " + i.service + ": " + to_string(samples.error()));
      return;
    }
    if (samples->empty()) return;
    const auto mismatch = [&] {
      ++m_stats.publish_failures;
      log_once("type " + i.service, "a sample of " + i.service +
                                        " does not match its payload or user header type: "
                                        "dropped");
    };
    for (const auto& sample : *samples) {
      if (sample.origin_gateway == m_id) continue;  // our own export, looped back by DDS
      const auto bytes = sample.payload.size();
      if (!same_type(i.type, i.header, sample) || i.type.size == 0 ||
          bytes % i.type.size != 0 || (!i.type.is_slice && bytes != i.type.size)) {
        mismatch();
        continue;
      }
      if (!ensure_publisher(i, bytes)) {
        ++m_stats.publish_failures;
        continue;
      }
      auto loan = i.publisher->loan_uninit(i.type.is_slice ? bytes / i.type.size : 1);
      if (!loan) {
        ++m_stats.publish_failures;
        log_once("loan " + i.service, "cannot loan for " + i.service + ": " + to_string(loan.error()));
        continue;
      }
      if (bytes > 0) std::memcpy(loan->payload().data(), sample.payload.data(), bytes);
      // The service was opened with i.header, so its loans' headers are the sample's length
      // (checked above); said again here, where the bytes are copied. The send time is the one
      // this send() stamps: the origin's clock does not cross.
      const auto header = loan->user_header();
      if (header.size() != sample.user_header.size()) {
        mismatch();
        continue;
      }
      if (!header.empty()) {
        std::memcpy(header.data(), sample.user_header.data(), header.size());
      }
      if (auto sent = i.publisher->send(std::move(*loan)); !sent) {
        ++m_stats.publish_failures;
        log_once("send " + i.service, "cannot publish " + i.service + ": " + to_string(sent.error()));
        continue;
      }
      ++m_stats.imported;
    }
  }
}

// ------------------------------------------------------------------------------------ events

void Gateway::start_event_export(const ServiceInfo& info) {
  const auto key = "export " + info.name;
  auto name = ServiceName::create(info.name);
  if (!name) return;
  auto handle = m_node.service_builder(*name).event().open();
  if (!handle) {
    log_once(key, "cannot export " + info.name + ": " + to_string(handle.error()));
    return;
  }
  auto listener = handle->listener_builder().create();
  if (!listener) {
    log_once(key, "cannot export " + info.name + ": " + to_string(listener.error()));
    return;
  }
  Announcement announcement;
  announcement.gateway = m_id;
  announcement.service = info.name;
  announcement.pattern = AnnouncedPattern::Event;
  auto e = std::unique_ptr<EventExport>(new EventExport{info.name, std::move(*handle),
                                                        std::move(*listener),
                                                        std::move(announcement), {}, {}});
  auto guard = m_waitset.attach_notification(e->listener);
  begin_export(m_event_exports, std::move(e), std::move(guard), Bridge::EventExport, "events");
}

void Gateway::forward_events(EventExport& e) {
  auto drained = e.listener.try_wait([&](EventId id, std::uint64_t count) {
    // What our own notifier made is taken off first: it came from DDS and never goes back.
    if (const auto ours = e.injected.find(id.value); ours != e.injected.end()) {
      const auto mine = std::min(ours->second, count);
      count -= mine;
      ours->second -= mine;
      if (ours->second == 0) e.injected.erase(ours);
    }
    if (count == 0) return;
    if (auto written = m_events_out.write(m_id, e.service, id.value, count); !written) {
      ++m_stats.write_failures;
      log_once("write " + e.service, "cannot write events of " + e.service + " to DDS: " +
                                         to_string(written.error()) + " (they are lost)");
      return;
    }
    m_stats.events_exported += count;
  });
  if (!drained) {
    log_once("listen " + e.service,
             "cannot drain the listener of " + e.service + ": " + to_string(drained.error()));
  }
}

void Gateway::start_event_import(const Announcement& a) {
  const auto key = "import " + a.service;
  auto name = ServiceName::create(a.service);
  if (!name || a.service.starts_with(kInternalPrefix)) {
    log_once(key, "a remote gateway announced an invalid service name; ignored");
    return;
  }
  auto handle = m_node.service_builder(*name).event().open_or_create();
  if (!handle) {
    log_once(key, "cannot import " + a.service + ": " + to_string(handle.error()));
    return;
  }
  auto notifier = handle->notifier_builder().create();
  if (!notifier) {
    log_once(key, "cannot import " + a.service + ": " + to_string(notifier.error()));
    return;
  }
  m_logged.erase(key);
  log("importing " + a.service + " (events)");
  m_event_imports.emplace(a.service, std::unique_ptr<EventImport>(new EventImport{
                                         {a.gateway}, std::move(*handle), std::move(*notifier)}));
}

void Gateway::on_events() {
  auto notifications = m_events_in.take();
  if (!notifications) {
    log_once("events", "cannot read events: " + to_string(notifications.error()));
    return;
  }
  for (const auto& n : *notifications) {
    if (n.origin_gateway == m_id) continue;  // ours, looped back by DDS
    const auto found = m_event_imports.find(n.service);
    if (found == m_event_imports.end()) continue;
    // A remote gateway is not trusted with our time: a count is bounded.
    const auto count = std::min<std::uint64_t>(n.count, kMaxEventCount);
    const auto exported = m_event_exports.find(n.service);
    for (std::uint64_t k = 0; k < count; ++k) {
      const auto notified = found->second->notifier.notify(EventId(n.event_id));
      if (!notified && notified.error() == NotifierNotifyError::EventIdOutOfBounds) {
        ++m_stats.publish_failures;
        log_once("event id " + n.service, "an event id of " + n.service +
                                              " is above the local service's maximum: dropped");
        break;
      }
      ++m_stats.events_imported;
      // Counted at once, so the drain of our own export listener subtracts it.
      if (exported != m_event_exports.end()) ++exported->second->injected[n.event_id];
    }
  }
}

// ---------------------------------------------------------------------------- request-response

namespace {

/// Whether `bytes` can be one payload of `type` (a whole number of elements; exactly one for a
/// type that is not a slice) of at most `max_len` elements.
bool fits(const PayloadType& type, std::size_t bytes, std::uint64_t max_len) {
  if (type.size == 0 || bytes % type.size != 0) return false;
  if (!type.is_slice) return bytes == type.size;
  return bytes / type.size <= max_len;
}

/// Elements of `type` the gateway's ports are made for: kMaxRrPayloadBytes of a slice.
std::uint64_t rr_max_len(const PayloadType& type) {
  if (!type.is_slice || type.size == 0) return 1;
  return std::max<std::uint64_t>(1, kMaxRrPayloadBytes / type.size);
}

RrMessageView marker(std::uint64_t client_gateway, std::uint64_t token, std::uint64_t server,
                     RrResponseKind kind) {
  return RrMessageView{client_gateway, token, true, server, static_cast<std::uint8_t>(kind), 0,
                       {}};
}

/// Messages a request's DDS instance may hold unacknowledged: a request and its cancel.
constexpr std::uint32_t kRequestDepth = 4;

}  // namespace

bool Gateway::write_rr(RrWriter& writer, const RrMessageView& message, const std::string& service) {
  auto written = writer.write(message);
  // A stream loses nothing in the gateway: a write that timed out (the far side slow to
  // acknowledge) is tried again, up to kBlockWrites in all, as a Block export's samples are.
  for (int tries = 1; !written && written.error().kind == DdsErrorKind::Timeout &&
                      tries < kBlockWrites;
       ++tries) {
    written = writer.write(message);
  }
  if (!written) {
    ++m_stats.write_failures;
    log_once("write " + service, "cannot write " + service + " to DDS: " +
                                     to_string(written.error()) + " (a request or response is lost)");
    return false;
  }
  return true;
}

void Gateway::start_rr_export(const ServiceInfo& info) {
  const auto key = "export " + info.name;
  auto name = ServiceName::create(info.name);
  if (!name) return;
  const auto& rr = info.request_response;
  auto handle =
      m_node.service_builder(*name).request_response(rr.request_type, rr.response_type).open();
  if (!handle) {
    log_once(key, "cannot export " + info.name + ": " + to_string(handle.error()));
    return;
  }
  auto client = handle->client_builder().max_slice_len(rr_max_len(rr.request_type)).create();
  if (!client) {
    log_once(key, "cannot export " + info.name + ": " + to_string(client.error()));
    return;
  }
  auto requests = RrReader::create(m_participant, RrTopic::Requests, info.name, kRequestDepth);
  auto responses = RrWriter::create(m_participant, RrTopic::Responses, info.name,
                                    depth_of(rr.max_response_buffer_size, 1));
  if (!requests || !responses) {
    log_once(key, "cannot export " + info.name + ": " +
                      to_string(!requests ? requests.error() : responses.error()));
    return;
  }
  Announcement a;
  a.gateway = m_id;
  a.service = info.name;
  a.pattern = AnnouncedPattern::RequestResponse;
  a.type_name = rr.request_type.name;
  a.type_size = rr.request_type.size;
  a.type_alignment = rr.request_type.alignment;
  a.is_slice = rr.request_type.is_slice;
  a.response_type_name = rr.response_type.name;
  a.response_type_size = rr.response_type.size;
  a.response_type_alignment = rr.response_type.alignment;
  a.response_is_slice = rr.response_type.is_slice;
  a.max_clients = rr.max_clients;
  a.max_active_requests = rr.max_active_requests_per_client;
  a.response_buffer_size = rr.max_response_buffer_size;
  a.fire_and_forget = rr.fire_and_forget;
  a.overflow = static_cast<std::uint8_t>(rr.overflow);
  auto e = std::unique_ptr<RrExport>(new RrExport{info.name, rr.request_type, std::move(*handle),
                                                  std::move(*client), std::move(*requests),
                                                  std::move(*responses), std::move(a), {}, {},
                                                  0, {}});
  auto guard = m_waitset.attach_fd(e->requests.fd(), FdInterest::Read);
  begin_export(m_rr_exports, std::move(e), std::move(guard), Bridge::RrExport,
               "request-response " + rr.request_type.name + " -> " + rr.response_type.name);
}

void Gateway::on_rr_requests(RrExport& e) {
  for (int n = 0; n < kBatch; n += static_cast<int>(RrReader::kDefaultMaxTake)) {
    auto messages = e.requests.take();
    if (!messages) {
      log_once("take " + e.service, "cannot read " + e.service + ": " + to_string(messages.error()));
      return;
    }
    if (messages->empty()) break;
    for (const auto& m : *messages) {
      const RrExport::Key key{m.client_gateway, m.token};
      const bool cancel = !m.alive || m.kind == static_cast<std::uint8_t>(RrRequestKind::Cancel);
      if (cancel) {
        // The remote client stopped listening (or its gateway finished the request or is gone):
        // dropping the PendingResponse tells the servers (is_connected() turns false).
        if (m.alive && m.server_gateway != m_id) continue;
        if (e.pending.erase(key) > 0) (void)e.responses.finish(key.first, key.second);
        std::erase_if(e.waiting, [&](const RrExport::Waiting& w) {
          if (w.key != key) return false;
          e.waiting_bytes -= w.payload.size();
          return true;
        });
        continue;
      }
      if (m.server_gateway != m_id) continue;  // for another exporting gateway
      const auto refuse = [&](const std::string& why) {
        ++m_stats.rr_dropped;
        log_once("refuse " + e.service, "a request for " + e.service + " " + why + ": refused");
        (void)write_rr(e.responses, marker(key.first, key.second, m_id, RrResponseKind::Refused),
                       e.service);
        (void)e.responses.finish(key.first, key.second);
      };
      if (m.kind != static_cast<std::uint8_t>(RrRequestKind::Request)) {
        ++m_stats.rr_dropped;
        continue;
      }
      if (e.pending.contains(key) ||
          std::ranges::any_of(e.waiting, [&](const RrExport::Waiting& w) { return w.key == key; })) {
        ++m_stats.rr_dropped;  // a token used twice: the first one stays
        continue;
      }
      if (!fits(e.request_type, m.payload.size(), e.client.max_slice_len())) {
        refuse("does not match its request type or is larger than " +
               std::to_string(kMaxRrPayloadBytes) + " bytes");
        continue;
      }
      if (!e.waiting.empty() || !send_rr_request(e, key.first, key.second, m.payload)) {
        if (e.waiting.size() >= kMaxRrWaitingRequests ||
            e.waiting_bytes + m.payload.size() > kMaxRrWaitingBytes) {
          refuse("found " + std::to_string(e.waiting.size()) + " requests (" +
                 std::to_string(e.waiting_bytes) + " bytes) waiting");
          continue;
        }
        e.waiting.push_back({key, std::vector<std::byte>(m.payload.begin(), m.payload.end())});
        e.waiting_bytes += m.payload.size();
      }
    }
  }
}

bool Gateway::send_rr_request(RrExport& e, std::uint64_t client_gateway, std::uint64_t token,
                              std::span<const std::byte> payload) {
  auto pending = e.client.send_copy(payload);
  if (!pending) {
    if (pending.error() == RequestSendError::ExceedsMaxActiveRequests) return false;
    ++m_stats.rr_dropped;
    log_once("send " + e.service,
             "cannot send a request of " + e.service + ": " + to_string(pending.error()));
    (void)write_rr(e.responses, marker(client_gateway, token, m_id, RrResponseKind::Refused),
                   e.service);
    (void)e.responses.finish(client_gateway, token);
    return true;
  }
  ++m_stats.requests_in;
  (void)write_rr(e.responses, marker(client_gateway, token, m_id, RrResponseKind::Accepted),
                 e.service);
  e.pending.emplace(RrExport::Key{client_gateway, token},
                    RrExport::Pending{std::move(*pending), 0, false});
  return true;
}

void Gateway::poll_rr_export(RrExport& e) {
  while (!e.waiting.empty()) {
    auto& w = e.waiting.front();
    if (!send_rr_request(e, w.key.first, w.key.second, w.payload)) break;
    e.waiting_bytes -= w.payload.size();
    e.waiting.pop_front();
  }
  for (auto it = e.pending.begin(); it != e.pending.end();) {
    auto& [key, p] = *it;
    for (int n = 0; n < kBatch; ++n) {
      auto received = p.pending.receive();
      if (!received) {
        if (received.error() == ResponseReceiveError::ServerGone) {
          p.server_gone = true;
        } else {
          ++m_stats.rr_dropped;
          log_once("receive " + e.service, "cannot receive a response of " + e.service + ": " +
                                               to_string(received.error()));
        }
        continue;
      }
      if (!*received) break;
      const RrMessageView out{key.first, key.second, true, m_id,
                              static_cast<std::uint8_t>(RrResponseKind::Response), p.sequence,
                              (**received).payload()};
      if (write_rr(e.responses, out, e.service)) {
        ++p.sequence;
        ++m_stats.responses_out;
      }
    }
    if (!p.pending.is_done()) {
      ++it;
      continue;
    }
    // Every stream is over: the end marker says how, then the request's instance is finished.
    (void)write_rr(e.responses,
                   marker(key.first, key.second, m_id,
                          p.server_gone ? RrResponseKind::ServerGone : RrResponseKind::End),
                   e.service);
    (void)e.responses.finish(key.first, key.second);
    it = e.pending.erase(it);
  }
}

void Gateway::start_rr_import(const Announcement& a) {
  const auto key = "import " + a.service;
  auto name = ServiceName::create(a.service);
  if (!name || a.service.starts_with(kInternalPrefix)) {
    log_once(key, "a remote gateway announced an invalid service name; ignored");
    return;
  }
  const PayloadType request{a.type_name, a.type_size, a.type_alignment, a.is_slice};
  const PayloadType response{a.response_type_name, a.response_type_size,
                             a.response_type_alignment, a.response_is_slice};
  if (a.overflow > static_cast<std::uint8_t>(OverflowPolicy::Block) || response.size == 0 ||
      response.size > kMaxRrPayloadBytes) {
    log_once(key, "a remote gateway announced " + a.service + " with invalid settings; ignored");
    return;
  }
  const auto overflow = static_cast<OverflowPolicy>(a.overflow);
  // An existing local service is used as it is (its types must be the same); a new one gets the
  // remote one's settings (create refuses values beyond the library's limits).
  auto handle = m_node.service_builder(*name).request_response(request, response).open();
  if (!handle && handle.error() == RequestResponseOpenError::DoesNotExist) {
    auto builder = m_node.service_builder(*name).request_response(request, response);
    builder.max_clients(a.max_clients)
        .max_active_requests_per_client(a.max_active_requests)
        .max_response_buffer_size(a.response_buffer_size)
        .fire_and_forget(a.fire_and_forget)
        .overflow_policy(overflow);
    auto created = builder.create();
    if (created) {
      handle = std::move(*created);
    } else if (created.error() != RequestResponseCreateError::AlreadyExists) {
      log_once(key, "cannot import " + a.service + ": " + to_string(created.error()));
      return;
    } else {
      handle = m_node.service_builder(*name).request_response(request, response).open();
    }
  }
  if (!handle) {
    log_once(key, "cannot import " + a.service + ": " + to_string(handle.error()));
    return;
  }
  auto requests = RrWriter::create(m_participant, RrTopic::Requests, a.service, kRequestDepth);
  auto responses = RrReader::create(m_participant, RrTopic::Responses, a.service,
                                    depth_of(a.response_buffer_size, 1));
  if (!requests || !responses) {
    log_once(key, "cannot import " + a.service + ": " +
                      to_string(!requests ? requests.error() : responses.error()));
    return;
  }
  auto i = std::unique_ptr<RrImport>(new RrImport{a.service, request, response, overflow,
                                                  {a.gateway},
                                                  std::move(*handle), std::move(*requests),
                                                  std::move(*responses), std::nullopt, {}, {}});
  auto guard = m_waitset.attach_fd(i->responses.fd(), FdInterest::Read);
  if (!guard) {
    log_once(key, "cannot import " + a.service + ": " + to_string(guard.error()));
    return;
  }
  m_attachments[AttachmentId::from_guard(*guard)] = {Bridge::RrImport, a.service};
  i->guard.emplace(std::move(*guard));
  m_logged.erase(key);
  log("importing " + a.service + " (request-response " + request.name + " -> " + response.name +
      ")");
  ensure_rr_server(*i);
  m_rr_imports.emplace(a.service, std::move(i));
}

void Gateway::stop_rr_import(const std::string& service) {
  const auto found = m_rr_imports.find(service);
  if (found == m_rr_imports.end()) return;
  if (found->second->guard) m_attachments.erase(AttachmentId::from_guard(*found->second->guard));
  // Its ActiveRequests go with it: every local client waiting on it sees its stream end.
  m_rr_imports.erase(found);
  log("no longer importing " + service);
}

void Gateway::drop_rr_gateway(const std::string& service, std::uint64_t gateway) {
  const auto found = m_rr_imports.find(service);
  if (found == m_rr_imports.end()) return;
  auto& i = *found->second;
  // The streams that gateway was serving end now: their local clients must not wait on it.
  i.gateways.erase(gateway);
  for (auto& [token, f] : i.forwarded) {
    if (f.target == gateway) f.ended = true;
  }
  if (i.gateways.empty()) {
    stop_rr_import(service);
  } else {
    tend_forwarded(i);
  }
}

void Gateway::ensure_rr_server(RrImport& i) {
  if (i.server) return;
  // A request sent before the far side's reader matched would be lost (VOLATILE): the local
  // clients see a server only once both topics are matched.
  const auto readers = i.requests.matched_readers();
  const auto writers = i.responses.matched_writers();
  if (!readers || !writers || *readers == 0 || *writers == 0) return;
  // Block waits in the gateway (backlog), never in the server's send: one thread serves all.
  auto server = i.handle.server_builder()
                    .max_slice_len(rr_max_len(i.response_type))
                    .block_timeout(std::chrono::nanoseconds(0))
                    .create();
  if (!server) {
    log_once("server " + i.service,
             "cannot serve " + i.service + " here: " + to_string(server.error()));
    return;
  }
  i.server.emplace(std::move(*server));
  log("serving " + i.service + " for the remote gateway");
}

void Gateway::poll_rr_import(RrImport& i) {
  if (i.server) {
    const auto exported = m_rr_exports.find(i.service);
    for (int n = 0; n < kBatch; ++n) {
      auto received = i.server->receive();
      if (!received) {
        ++m_stats.rr_dropped;
        log_once("receive " + i.service, "cannot receive a request of " + i.service + ": " +
                                             to_string(received.error()));
        continue;
      }
      if (!*received) break;
      auto& request = **received;
      // Our own export client's request: dropping it ends its stream here, unforwarded (what
      // came from DDS never goes back).
      if (exported != m_rr_exports.end() && request.client_id() == exported->second->client.id()) {
        continue;
      }
      if (i.gateways.empty() || request.payload().size() > kMaxRrPayloadBytes) {
        ++m_stats.rr_dropped;
        continue;  // dropped: the stream ends without a response
      }
      // One exporting gateway serves each request (the lowest id: every importer agrees).
      const auto target = *i.gateways.begin();
      const auto token = ++m_next_token;
      const RrMessageView out{m_id, token, true, target,
                              static_cast<std::uint8_t>(RrRequestKind::Request), 0,
                              request.payload()};
      if (!write_rr(i.requests, out, i.service)) {
        ++m_stats.rr_dropped;
        // The instance this write may have registered is given back, as at every other end.
        (void)i.requests.finish(m_id, token);
        continue;
      }
      ++m_stats.requests_out;
      i.forwarded.emplace(token, RrImport::Forwarded{std::move(request), target,
                                                     std::chrono::steady_clock::now(), false, 0,
                                                     false, {}, 0});
    }
  }
  tend_forwarded(i);
}

void Gateway::tend_forwarded(RrImport& i) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = i.forwarded.begin(); it != i.forwarded.end();) {
    auto& [token, f] = *it;
    if (!f.request.is_connected()) {
      // The local client stopped listening: the exporter drops its PendingResponse, so the
      // real servers see it too.
      (void)write_rr(i.requests,
                     RrMessageView{m_id, token, true, f.target,
                                   static_cast<std::uint8_t>(RrRequestKind::Cancel), 0, {}},
                     i.service);
      (void)i.requests.finish(m_id, token);
      it = i.forwarded.erase(it);
      continue;
    }
    while (!f.backlog.empty()) {
      auto sent = f.request.send_copy(f.backlog.front());
      if (!sent && sent.error() == ResponseSendError::BufferFull) break;
      if (sent) {
        ++m_stats.responses_in;
      } else {
        ++m_stats.rr_dropped;
      }
      f.backlog_bytes -= f.backlog.front().size();
      f.backlog.pop_front();
    }
    if (!f.accepted && !f.ended && now - f.sent > kRrAcceptTimeout) {
      ++m_stats.rr_dropped;
      log_once("accept " + i.service, "a request of " + i.service +
                                          " was not accepted by the remote gateway in time: ended");
      f.ended = true;
    }
    if (f.ended && f.backlog.empty()) {
      // Dropping the ActiveRequest ends the local client's stream.
      (void)i.requests.finish(m_id, token);
      it = i.forwarded.erase(it);
      continue;
    }
    ++it;
  }
}

void Gateway::on_rr_responses(RrImport& i) {
  for (int n = 0; n < kBatch; n += static_cast<int>(RrReader::kDefaultMaxTake)) {
    auto messages = i.responses.take();
    if (!messages) {
      log_once("take " + i.service, "cannot read " + i.service + ": " + to_string(messages.error()));
      return;
    }
    if (messages->empty()) break;
    for (const auto& m : *messages) {
      if (m.client_gateway != m_id) continue;  // another importing gateway's request
      const auto found = i.forwarded.find(m.token);
      if (!m.alive) {
        // The exporter finished the request (after its end marker), or its writer is gone: in
        // either case nothing more comes.
        if (found != i.forwarded.end()) found->second.ended = true;
        continue;
      }
      if (found == i.forwarded.end() || found->second.target != m.server_gateway) {
        ++m_stats.rr_dropped;  // an unknown request (cancelled, ended, or never ours)
        continue;
      }
      auto& f = found->second;
      switch (static_cast<RrResponseKind>(m.kind)) {
        case RrResponseKind::Accepted:
          f.accepted = true;
          break;
        case RrResponseKind::Response: {
          f.accepted = true;
          // The exporter numbers what it writes and DDS keeps one request's messages in order:
          // a number already seen is a duplicate (dropped: a response reaches the client once),
          // one beyond the next says some were lost on the far side (logged; this one is fine).
          if (m.sequence < f.next_sequence) {
            ++m_stats.rr_dropped;
            log_once("sequence " + i.service,
                     "a response of " + i.service + " came twice or out of order: dropped");
            break;
          }
          if (m.sequence > f.next_sequence) {
            log_once("gap " + i.service, "responses of " + i.service +
                                             " were lost before they reached DDS on the far side");
          }
          f.next_sequence = m.sequence + 1;
          if (f.ended || !i.server ||
              !fits(i.response_type, m.payload.size(), i.server->max_slice_len())) {
            ++m_stats.rr_dropped;
            log_once("size " + i.service, "a response of " + i.service +
                                              " does not match its response type or is larger "
                                              "than " + std::to_string(kMaxRrPayloadBytes) +
                                              " bytes: dropped");
            break;
          }
          if (f.backlog.empty()) {
            auto sent = f.request.send_copy(m.payload);
            if (sent) {
              ++m_stats.responses_in;
              break;
            }
            // NotConnected: the client left, tend_forwarded cancels. Refuse and
            // OverwriteOldest lose what the client has no room for, as locally.
            if (sent.error() != ResponseSendError::BufferFull || i.overflow != OverflowPolicy::Block) {
              ++m_stats.rr_dropped;
              break;
            }
          }
          // Block: the response waits in the gateway until the client makes room.
          if (f.backlog.size() >= kMaxRrBacklogResponses ||
              f.backlog_bytes + m.payload.size() > kMaxRrBacklogBytes) {
            ++m_stats.rr_dropped;
            log_once("backlog " + i.service, "a client of " + i.service +
                                                 " is too slow: responses dropped");
            break;
          }
          f.backlog.emplace_back(m.payload.begin(), m.payload.end());
          f.backlog_bytes += m.payload.size();
          break;
        }
        case RrResponseKind::ServerGone:
          log("a server of " + i.service + " on the remote machine is gone: its stream ended");
          f.ended = true;
          break;
        case RrResponseKind::End:
        case RrResponseKind::Refused:
          f.ended = true;
          break;
        default:
          ++m_stats.rr_dropped;
          break;
      }
    }
  }
  tend_forwarded(i);
}

void Gateway::update_rr_polling() {
  bool needed = std::ranges::any_of(m_rr_exports, [](const auto& entry) {
    return !entry.second->pending.empty() || !entry.second->waiting.empty();
  });
  for (const auto& [service, i] : m_rr_imports) {
    if (needed) break;
    if (!i->forwarded.empty()) {
      needed = true;
    } else if (i->server) {
      // Local clients besides our own export client's.
      const std::size_t ours = m_rr_exports.contains(service) ? 1 : 0;
      needed = i->handle.number_of_clients() > ours;
    }
  }
  if (needed == m_rr_poll_guard.has_value()) return;
  if (!needed) {
    m_rr_poll_guard.reset();
    return;
  }
  auto guard = m_waitset.attach_interval(kRrPollPeriod);
  if (!guard) {
    log_once("poll", std::string("cannot attach the request-response poll: ") +
                         to_string(guard.error()));
    return;
  }
  m_rr_poll_guard.emplace(std::move(*guard));
}

}  // namespace axon::gateway
