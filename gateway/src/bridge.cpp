#include "bridge.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
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

bool same_type(const PayloadType& type, const SampleView& sample) {
  return sample.type_name == type.name && sample.type_size == type.size &&
         sample.type_alignment == type.alignment && sample.is_slice == type.is_slice;
}

std::uint32_t depth_of(std::uint32_t history, std::uint32_t buffer) {
  return std::clamp<std::uint32_t>(std::max(history, buffer), 1, kMaxDepth);
}

}  // namespace

struct Gateway::Export {
  std::string service;
  PayloadType type;
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
  auto waitset = WaitSetBuilder().create();
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
      } else if (const auto found = m_attachments.find(id); found != m_attachments.end()) {
        const auto [bridge, service] = found->second;
        if (bridge == Bridge::Export) {
          if (const auto e = m_exports.find(service); e != m_exports.end()) forward(*e->second);
        } else if (bridge == Bridge::Import) {
          if (const auto i = m_imports.find(service); i != m_imports.end()) deliver(*i->second);
        } else if (const auto e = m_event_exports.find(service); e != m_event_exports.end()) {
          forward_events(*e->second);
        }
      }
    }
  }
  std::printf(
      "exit exported=%llu imported=%llu write_failures=%llu publish_failures=%llu "
      "events_exported=%llu events_imported=%llu\n",
      static_cast<unsigned long long>(m_stats.exported),
      static_cast<unsigned long long>(m_stats.imported),
      static_cast<unsigned long long>(m_stats.write_failures),
      static_cast<unsigned long long>(m_stats.publish_failures),
      static_cast<unsigned long long>(m_stats.events_exported),
      static_cast<unsigned long long>(m_stats.events_imported));
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
  // Announcements are written again every kRefreshEvery discovery periods: a reader that declared them
  // Lost (the link was down for longer than their lease) sees them alive again only when a new
  // sample arrives, so a restored link is found again within that time.
  if (++m_discoveries % kRefreshEvery == 0) {
    for (const auto& [service, e] : m_exports) (void)m_announcements_out.write(e->announcement);
    for (const auto& [service, e] : m_event_exports) {
      (void)m_announcements_out.write(e->announcement);
    }
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
  auto handle = m_node.service_builder(*name).publish_subscribe(type).open();
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
  Announcement announcement{m_id,
                                  info.name,
                                  AnnouncedPattern::PublishSubscribe,
                                  type.name,
                                  type.size,
                                  type.alignment,
                                  type.is_slice,
                                  info.pubsub.history_size,
                                  info.pubsub.subscriber_buffer_size};
  auto e = std::unique_ptr<Export>(new Export{info.name, type, std::move(*handle),
                                              std::move(*subscriber), std::move(*writer),
                                              std::move(announcement),
                                              info.pubsub.overflow == OverflowPolicy::Block, 0,
                                              {}});
  auto guard = m_waitset.attach_notification(e->subscriber);
  begin_export(m_exports, std::move(e), std::move(guard), Bridge::Export, type.name);
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
    const OutgoingSample out{m_id,      sample.publisher_id(), sample.sequence(),
                             e.type.name, e.type.size,          e.type.alignment,
                             e.type.is_slice, sample.payload()};
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
      }
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
  // An existing local service is used as it is (its type must be the same); a new one gets the
  // remote one's history and buffer.
  auto handle = m_node.service_builder(*name).publish_subscribe(type).open();
  if (!handle && handle.error() == PubSubOpenError::DoesNotExist) {
    auto builder = m_node.service_builder(*name).publish_subscribe(type);
    builder.history_size(a.history_size);
    if (a.buffer_size > 0) builder.subscriber_max_buffer_size(a.buffer_size);
    auto created = builder.create();
    if (created) {
      handle = std::move(*created);
    } else if (created.error() != PubSubCreateError::AlreadyExists) {
      log_once(key, "cannot import " + a.service + ": " + to_string(created.error()));
      return;
    } else {
      handle = m_node.service_builder(*name).publish_subscribe(type).open();  // lost a race
    }
  }
  if (!handle) {
    log_once(key, "cannot import " + a.service + ": " + to_string(handle.error()));
    return;
  }
  auto reader = SampleReader::create(m_participant, a.service, depth_of(a.history_size, a.buffer_size));
  if (!reader) {
    log_once(key, "cannot import " + a.service + ": " + to_string(reader.error()));
    return;
  }
  auto i = std::unique_ptr<Import>(new Import{a.service, type, {a.gateway}, std::move(*handle),
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
  log("importing " + a.service + " (" + type.name + ")");
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
    for (const auto& sample : *samples) {
      if (sample.origin_gateway == m_id) continue;  // our own export, looped back by DDS
      const auto bytes = sample.payload.size();
      if (!same_type(i.type, sample) || i.type.size == 0 || bytes % i.type.size != 0 ||
          (!i.type.is_slice && bytes != i.type.size)) {
        ++m_stats.publish_failures;
        log_once("type " + i.service, "a sample of " + i.service +
                                          " does not match its payload type: dropped");
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

}  // namespace axon::gateway
