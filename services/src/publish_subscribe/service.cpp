#include "axon/publish_subscribe/service.hpp"

#include "axon/detail/open_or_create.hpp"
#include "axon/detail/payload_rules.hpp"
#include "axon/detail/service_core.hpp"
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

std::size_t UntypedPubSubService::number_of_publishers() const {
  return m_core->count_ports(detail::PubSubPattern::kPublisherTable);
}

std::size_t UntypedPubSubService::number_of_subscribers() const {
  return m_core->count_ports(detail::PubSubPattern::kSubscriberTable);
}

std::size_t UntypedPubSubService::number_of_nodes() const { return m_core->count_nodes(); }

}  // namespace axon
