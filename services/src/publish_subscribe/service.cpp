#include "axon/publish_subscribe/service.hpp"

#include <cmath>

#include "axon/detail/open_or_create.hpp"
#include "axon/detail/payload_rules.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/platform/clock.hpp"
#include "axon/publish_subscribe/pattern.hpp"

namespace axon {

const char* to_string(PubSubOpenError error) {
  switch (error) {
    case PubSubOpenError::DoesNotExist: return "DoesNotExist";
    case PubSubOpenError::IncompatibleMessagingPattern: return "IncompatibleMessagingPattern";
    case PubSubOpenError::IncompatibleTypes: return "IncompatibleTypes";
    case PubSubOpenError::DoesNotSupportRequestedAmountOfPublishers:
      return "DoesNotSupportRequestedAmountOfPublishers";
    case PubSubOpenError::DoesNotSupportRequestedAmountOfSubscribers:
      return "DoesNotSupportRequestedAmountOfSubscribers";
    case PubSubOpenError::DoesNotSupportRequestedAmountOfNodes:
      return "DoesNotSupportRequestedAmountOfNodes";
    case PubSubOpenError::DoesNotSupportRequestedHistorySize:
      return "DoesNotSupportRequestedHistorySize";
    case PubSubOpenError::DoesNotSupportRequestedBufferSize:
      return "DoesNotSupportRequestedBufferSize";
    case PubSubOpenError::IncompatibleOverflowPolicy: return "IncompatibleOverflowPolicy";
    case PubSubOpenError::IncompatibleAccess:
      return "IncompatibleAccess";
    case PubSubOpenError::ExceedsMaxNodes: return "ExceedsMaxNodes";
    case PubSubOpenError::PermissionDenied: return "PermissionDenied";
    case PubSubOpenError::VersionMismatch: return "VersionMismatch";
    case PubSubOpenError::Corrupted: return "Corrupted";
    case PubSubOpenError::InternalFailure: return "InternalFailure";
    case PubSubOpenError::InsufficientResources: return "InsufficientResources";
  }
  return "Unknown";
}

const char* to_string(PubSubCreateError error) {
  switch (error) {
    case PubSubCreateError::AlreadyExists: return "AlreadyExists";
    case PubSubCreateError::InvalidSettings: return "InvalidSettings";
    case PubSubCreateError::PermissionDenied: return "PermissionDenied";
    case PubSubCreateError::InsufficientResources: return "InsufficientResources";
    case PubSubCreateError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(OverflowPolicy policy) {
  switch (policy) {
    case OverflowPolicy::OverwriteOldest: return "OverwriteOldest";
    case OverflowPolicy::Refuse: return "Refuse";
    case OverflowPolicy::Block: return "Block";
  }
  return "Unknown";
}

const char* to_string(const PubSubOpenOrCreateError& error) {
  return std::visit([](auto e) { return to_string(e); }, error);
}

namespace detail {
namespace {

bool in_range(std::uint32_t v, std::uint32_t max) { return v >= 1 && v <= max; }

}  // namespace

tl::expected<std::shared_ptr<ServiceCore>, PubSubCreateError> create_pubsub(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const PubSubRequest& r) {
  // What the builder was not given comes from the node's configuration (publish_subscribe).
  const auto& d = node->config().defaults.publish_subscribe;
  core::StaticConfig settings{};
  settings.access = r.access.value_or(d.access) == Access::Group ? core::AccessKind::Group
                                                                 : core::AccessKind::Owner;
  auto& p = settings.pubsub;
  if (!valid_payload_type(r.type)) return tl::unexpected(PubSubCreateError::InvalidSettings);
  p.type_name = *core::FixedString<core::kMaxTypeNameLength>::from(r.type.name);
  p.type_size = r.type.size;
  p.type_alignment = r.type.alignment;
  p.is_slice = r.type.is_slice ? 1 : 0;
  if (!r.user_header.name.empty()) {
    if (!valid_payload_type(r.user_header) || r.user_header.is_slice ||
        r.user_header.size > core::kMaxUserHeaderSize) {
      return tl::unexpected(PubSubCreateError::InvalidSettings);
    }
    p.user_header_name = *core::FixedString<core::kMaxTypeNameLength>::from(r.user_header.name);
    p.user_header_size = r.user_header.size;
    p.user_header_alignment = r.user_header.alignment;
  }
  p.max_publishers = r.max_publishers.value_or(d.max_publishers);
  p.max_subscribers = r.max_subscribers.value_or(d.max_subscribers);
  p.max_nodes = r.max_nodes.value_or(d.max_nodes);
  p.history_size = r.history_size.value_or(d.history_size);
  p.subscriber_buffer_size = r.buffer_size.value_or(d.subscriber_max_buffer_size);
  p.max_loans = r.max_loans.value_or(d.publisher_max_loans);
  p.max_borrowed_samples = r.max_borrowed.value_or(d.subscriber_max_borrowed_samples);
  p.overflow = to_overflow_kind(r.overflow.value_or(d.overflow_policy));
  if (!in_range(p.max_publishers, PubSubDefaults::kMaxPorts) ||
      !in_range(p.max_subscribers, PubSubDefaults::kMaxPorts) ||
      !in_range(p.max_nodes, PubSubDefaults::kMaxPorts) ||
      !in_range(p.subscriber_buffer_size, PubSubDefaults::kMaxQueue) ||
      !in_range(p.max_loans, PubSubDefaults::kMaxQueue) ||
      !in_range(p.max_borrowed_samples, PubSubDefaults::kMaxQueue) ||
      p.history_size > PubSubDefaults::kMaxQueue) {
    return tl::unexpected(PubSubCreateError::InvalidSettings);
  }
  return create_service<PubSubPattern, PubSubCreateError>(std::move(node), name, settings);
}

tl::expected<std::shared_ptr<ServiceCore>, PubSubOpenError> open_pubsub(
    const std::shared_ptr<NodeCore>& node, const ServiceName& name, const PubSubRequest& r) {
  auto requirements = [&](const core::StaticConfig& sc) -> std::optional<PubSubOpenError> {
    const auto& p = sc.pubsub;
    if (!same_payload_type(r.type, p.type_name, p.type_size, p.type_alignment, p.is_slice)) {
      return PubSubOpenError::IncompatibleTypes;
    }
    // The user header is part of the type: none asked opens only a service without one.
    const bool header_matches =
        r.user_header.name.empty()
            ? p.user_header_size == 0
            : same_payload_type(r.user_header, p.user_header_name, p.user_header_size,
                                p.user_header_alignment, 0);
    if (!header_matches) return PubSubOpenError::IncompatibleTypes;
    if (r.max_publishers && p.max_publishers < *r.max_publishers) {
      return PubSubOpenError::DoesNotSupportRequestedAmountOfPublishers;
    }
    if (r.max_subscribers && p.max_subscribers < *r.max_subscribers) {
      return PubSubOpenError::DoesNotSupportRequestedAmountOfSubscribers;
    }
    if (r.max_nodes && p.max_nodes < *r.max_nodes) {
      return PubSubOpenError::DoesNotSupportRequestedAmountOfNodes;
    }
    if (r.history_size && p.history_size < *r.history_size) {
      return PubSubOpenError::DoesNotSupportRequestedHistorySize;
    }
    if (r.buffer_size && p.subscriber_buffer_size < *r.buffer_size) {
      return PubSubOpenError::DoesNotSupportRequestedBufferSize;
    }
    const auto existing = pubsub_static_config(p, to_access(sc.access));
    if (r.overflow && existing.overflow != *r.overflow) {
      return PubSubOpenError::IncompatibleOverflowPolicy;
    }
    if (r.access && *r.access != existing.access) return PubSubOpenError::IncompatibleAccess;
    return std::nullopt;
  };
  return open_service<PubSubPattern, PubSubOpenError>(node, name, requirements);
}

PubSubStaticConfig pubsub_static_config(const core::PubSubSettings& p, Access access) {
  PubSubStaticConfig c;
  c.type_name = std::string(p.type_name.view());
  c.type_size = p.type_size;
  c.type_alignment = p.type_alignment;
  c.is_slice = p.is_slice != 0;
  c.user_header_name = std::string(p.user_header_name.view());
  c.user_header_size = p.user_header_size;
  c.user_header_alignment = p.user_header_alignment;
  c.max_publishers = p.max_publishers;
  c.max_subscribers = p.max_subscribers;
  c.max_nodes = p.max_nodes;
  c.history_size = p.history_size;
  c.subscriber_buffer_size = p.subscriber_buffer_size;
  c.max_loans = p.max_loans;
  c.max_borrowed_samples = p.max_borrowed_samples;
  // Checked at open (PubSubLayout::valid): only these three reach here.
  c.overflow = to_overflow_policy(p.overflow);
  c.access = access;
  return c;
}

}  // namespace detail
}  // namespace axon

namespace axon {

tl::expected<UntypedPubSubService, PubSubCreateError> UntypedPubSubServiceBuilder::create() const {
  return detail::create_pubsub(m_node, m_name, m_request).map([](auto core) {
    return UntypedPubSubService(std::move(core));
  });
}

tl::expected<UntypedPubSubService, PubSubOpenError> UntypedPubSubServiceBuilder::open() const {
  return detail::open_pubsub(m_node, m_name, m_request).map([](auto core) {
    return UntypedPubSubService(std::move(core));
  });
}

tl::expected<UntypedPubSubService, PubSubOpenOrCreateError>
UntypedPubSubServiceBuilder::open_or_create() const {
  return detail::open_or_create([&] { return open(); }, [&] { return create(); });
}

const ServiceName& UntypedPubSubService::name() const { return m_core->name(); }

PubSubStaticConfig UntypedPubSubService::static_config() const {
  return detail::pubsub_static_config(m_core->static_config().pubsub, m_core->access());
}

PayloadType UntypedPubSubService::payload_type() const {
  const auto& p = m_core->static_config().pubsub;
  return PayloadType{std::string(p.type_name.view()), p.type_size, p.type_alignment,
                     p.is_slice != 0};
}

PayloadType UntypedPubSubService::user_header_type() const {
  const auto& p = m_core->static_config().pubsub;
  return PayloadType{std::string(p.user_header_name.view()), p.user_header_size,
                     p.user_header_alignment, false};
}

std::size_t UntypedPubSubService::number_of_publishers() const {
  return m_core->count_ports(detail::PubSubPattern::kPublisherTable);
}

std::size_t UntypedPubSubService::number_of_subscribers() const {
  return m_core->count_ports(detail::PubSubPattern::kSubscriberTable);
}

std::size_t UntypedPubSubService::number_of_nodes() const { return m_core->count_nodes(); }

static_assert(PubSubConnectionStats::kLatencyBuckets == core::kLatencyBuckets);

std::chrono::nanoseconds PubSubConnectionStats::bucket_floor(std::size_t b) {
  return std::chrono::nanoseconds(core::latency_bucket_floor(b < kLatencyBuckets ? b : 0));
}

std::uint64_t PubSubConnectionStats::latency_count() const {
  std::uint64_t n = 0;
  for (const auto c : latency) n += c;
  return n;
}

std::chrono::nanoseconds PubSubConnectionStats::latency_quantile(double q) const {
  const auto total = latency_count();
  if (total == 0) return std::chrono::nanoseconds(0);
  q = q < 0 ? 0 : (q > 1 ? 1 : q);
  // The rank of the q-quantile, 1-based: the smallest k with k >= q * total.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  rank = rank == 0 ? 1 : rank;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kLatencyBuckets; ++b) {
    seen += latency[b];
    if (seen >= rank) {
      return b + 1 < kLatencyBuckets ? bucket_floor(b + 1) : bucket_floor(b);
    }
  }
  return bucket_floor(kLatencyBuckets - 1);
}

std::chrono::nanoseconds PubSubConnectionStats::latency_mean() const {
  const auto n = latency_count();
  return std::chrono::nanoseconds(n == 0 ? 0 : latency_sum_ns / n);
}

std::vector<PubSubConnectionStats> UntypedPubSubService::connection_stats() const {
  const auto& settings = m_core->static_config().pubsub;
  const auto shape = core::PubSubLayout::connection(settings);
  const auto now = static_cast<std::uint64_t>(platform::monotonic_now().count());
  std::vector<PubSubConnectionStats> stats;
  // ORDERING: every load here is relaxed or acquire on values a live port keeps changing: a
  // snapshot, which may mix counts from slightly different moments.
  for (std::uint32_t p = 0; p < settings.max_publishers; ++p) {
    const auto publisher = m_core->port_slot<core::PublisherSlot>(
        detail::PubSubPattern::kPublisherTable, p).port.port_id.load(std::memory_order_acquire);
    if (publisher == 0) continue;
    for (std::uint32_t s = 0; s < settings.max_subscribers; ++s) {
      auto* base = m_core->region_element(std::uint64_t{p} * settings.max_subscribers + s);
      // SAFETY: the region was validated against the mapping when the service was opened; each
      // element starts with the connection header constructed at creation.
      const auto& header = *reinterpret_cast<const core::ConnectionHeader*>(base);
      const auto subscriber = header.subscriber_id.load(std::memory_order_relaxed);
      if (header.publisher_id.load(std::memory_order_acquire) != publisher || subscriber == 0) {
        continue;
      }
      const auto& slot = m_core->port_slot<core::SubscriberSlot>(
          detail::PubSubPattern::kSubscriberTable, s);
      if (slot.port.port_id.load(std::memory_order_acquire) != subscriber) continue;
      PubSubConnectionStats c;
      c.publisher_id = publisher;
      c.subscriber_id = subscriber;
      const auto& pt = header.publisher_telemetry;
      const auto& st = header.subscriber_telemetry;
      const auto since = pt.connected_at_ns.load(std::memory_order_relaxed);
      c.age = std::chrono::nanoseconds(now > since ? now - since : 0);
      c.delivered = pt.delivered.load(std::memory_order_relaxed);
      c.overwritten = pt.overwritten.load(std::memory_order_relaxed);
      c.refused = pt.refused.load(std::memory_order_relaxed);
      c.received = st.received.load(std::memory_order_relaxed);
      c.high_water = st.high_water.load(std::memory_order_relaxed);
      c.latency_sum_ns = st.latency_sum_ns.load(std::memory_order_relaxed);
      for (std::size_t b = 0; b < core::kLatencyBuckets; ++b) {
        c.latency[b] = st.latency[b].load(std::memory_order_relaxed);
      }
      // A queue that fails validation (a hostile publisher's) reports nothing queued.
      if (auto q = core::SpscIndexQueue::attach(base + shape.submission_offset,
                                                shape.completion_offset - shape.submission_offset)) {
        c.queued = q->size();
      }
      stats.push_back(c);
    }
  }
  return stats;
}

}  // namespace axon
