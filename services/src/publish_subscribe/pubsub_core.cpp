#include "axon/publish_subscribe/pubsub_core.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <thread>

#include "axon/detail/payload_rules.hpp"
#include "axon/detail/port_segment.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/detail/wake_service.hpp"
#include "axon/platform/clock.hpp"
#include "axon/platform/cpu.hpp"

namespace axon {
namespace {

using platform::store_load_fence;

}  // namespace

const char* to_string(PublisherCreateError error) {
  switch (error) {
    case PublisherCreateError::ExceedsMaxPublishers: return "ExceedsMaxPublishers";
    case PublisherCreateError::InvalidSliceLength: return "InvalidSliceLength";
    case PublisherCreateError::InsufficientResources: return "InsufficientResources";
    case PublisherCreateError::Corrupted: return "Corrupted";
  }
  return "Unknown";
}

const char* to_string(PublisherLoanError error) {
  switch (error) {
    case PublisherLoanError::ExceedsMaxLoans: return "ExceedsMaxLoans";
    case PublisherLoanError::OutOfChunks: return "OutOfChunks";
    case PublisherLoanError::ExceedsMaxSliceLength: return "ExceedsMaxSliceLength";
  }
  return "Unknown";
}

const char* to_string(PublisherSendError error) {
  switch (error) {
    case PublisherSendError::Corrupted: return "Corrupted";
    case PublisherSendError::ExceedsMaxLoans: return "ExceedsMaxLoans";
    case PublisherSendError::OutOfChunks: return "OutOfChunks";
    case PublisherSendError::ExceedsMaxSliceLength: return "ExceedsMaxSliceLength";
    case PublisherSendError::PayloadSizeMismatch: return "PayloadSizeMismatch";
  }
  return "Unknown";
}

const char* to_string(SubscriberCreateError error) {
  switch (error) {
    case SubscriberCreateError::ExceedsMaxSubscribers: return "ExceedsMaxSubscribers";
    case SubscriberCreateError::Corrupted: return "Corrupted";
    case SubscriberCreateError::InsufficientResources: return "InsufficientResources";
    case SubscriberCreateError::WakeServiceUnavailable: return "WakeServiceUnavailable";
    case SubscriberCreateError::ResourceCreationFailed: return "ResourceCreationFailed";
  }
  return "Unknown";
}

const char* to_string(SubscriberReceiveError error) {
  switch (error) {
    case SubscriberReceiveError::ExceedsMaxBorrowedSamples: return "ExceedsMaxBorrowedSamples";
    case SubscriberReceiveError::Corrupted: return "Corrupted";
  }
  return "Unknown";
}

namespace detail {
namespace {

/// Where the connection of publisher slot `p` and subscriber slot `s` lies, and its queues' blocks
/// as the layout places them.
struct ConnectionBlocks {
  core::ConnectionHeader* header;
  std::byte* submission;
  std::size_t submission_bytes;
  std::byte* completion;
  std::size_t completion_bytes;
};

ConnectionBlocks connection_at(const ServiceCore& service, std::uint32_t p, std::uint32_t s) {
  const auto& settings = service.static_config().pubsub;
  const auto c = core::PubSubLayout::connection(settings);
  std::byte* base = service.region_element(std::uint64_t{p} * settings.max_subscribers + s);
  // SAFETY: the region and its layout were validated against the mapping when the service was
  // opened; the connection header was constructed there at creation.
  return ConnectionBlocks{reinterpret_cast<core::ConnectionHeader*>(base),
                          base + c.submission_offset, c.completion_offset - c.submission_offset,
                          base + c.completion_offset, c.stride - c.completion_offset};
}

}  // namespace

tl::expected<std::unique_ptr<PublisherCore>, PublisherCreateError> PublisherCore::create(
    std::shared_ptr<ServiceCore> service, std::uint64_t max_elements,
    std::chrono::nanoseconds block_timeout) {
  const auto& settings = service->static_config().pubsub;
  if (settings.is_slice == 0) max_elements = 1;
  if (max_elements == 0 || settings.type_size == 0 ||
      max_elements > core::ChunkPool::kMaxChunkSize / settings.type_size) {
    return tl::unexpected(PublisherCreateError::InvalidSliceLength);
  }
  const auto layout = chunk_layout(settings);
  const auto chunk_size = layout.payload_offset + settings.type_size * max_elements;
  const auto chunk_count = core::publisher_chunk_count(settings);
  const auto bytes = core::ChunkPool::required_size(chunk_count, chunk_size, layout.alignment);
  if (bytes == 0 || bytes > kMaxSegmentBytes) {
    return tl::unexpected(PublisherCreateError::InvalidSliceLength);
  }
  const auto claimed = service->claim_port(PubSubPattern::kPublisherTable);
  if (!claimed) return tl::unexpected(PublisherCreateError::ExceedsMaxPublishers);
  const auto slot = claimed->slot;
  const auto id = claimed->id;
  // release_port removes the segment too: the slot names it from its claim on.
  auto fail = [&](PublisherCreateError e) {
    service->release_port(PubSubPattern::kPublisherTable, slot);
    return tl::unexpected(e);
  };
  auto segment = create_port_segment(*service, id, chunk_count, chunk_size, layout.alignment);
  if (!segment) return fail(PublisherCreateError::InsufficientResources);
  auto& slot_data = service->port_slot<core::PublisherSlot>(PubSubPattern::kPublisherTable, slot);
  slot_data.segment_size = bytes;
  slot_data.chunk_count = chunk_count;
  slot_data.chunk_size = chunk_size;
  slot_data.max_elements = max_elements;
  std::unique_ptr<PublisherCore> core;
  try {
    core.reset(new PublisherCore(service, slot, id, std::move(segment->shm), segment->pool,
                                 max_elements, block_timeout));
  } catch (const std::bad_alloc&) {
    return fail(PublisherCreateError::InsufficientResources);  // the slot is still ours to free
  }
  // Existing subscribers are connected before anyone can see us, so none misses a sample.
  core->update_connections();
  service->publish_port(PubSubPattern::kPublisherTable, slot, id);
  return core;
}

PublisherCore::PublisherCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot,
                             std::uint64_t id, platform::SharedMemory segment,
                             core::ChunkPool pool, std::uint64_t max_elements,
                             std::chrono::nanoseconds block_timeout)
    : m_service(std::move(service)),
      m_slot(slot),
      m_id(id),
      m_segment(std::move(segment)),
      m_pool(pool),
      m_max_elements(max_elements),
      m_element_size(m_service->static_config().pubsub.type_size),
      m_layout(chunk_layout(m_service->static_config().pubsub)),
      m_subscriber_share(core::subscriber_share(m_service->static_config().pubsub)),
      m_block_timeout(block_timeout),
      m_settings(m_service->static_config().pubsub),
      m_refs(pool.chunk_count(), 0),
      m_connections(m_settings.max_subscribers),
      m_history(m_settings.history_size, 0) {
  for (std::uint32_t s = 0; s < m_settings.max_subscribers; ++s) {
    m_connections[s].header = connection_at(*m_service, m_slot, s).header;
    m_connections[s].in_flight.assign(m_refs.size(), 0);
    m_connections[s].pushed.assign(core::submission_capacity(m_settings), 0);
  }
  // Highest index on top: loans start at chunk 0, as the shared free list would hand them out.
  m_free.reserve(m_refs.size());
  for (auto i = static_cast<std::uint32_t>(m_refs.size()); i > 0; --i) m_free.push_back(i - 1);
}

PublisherCore::~PublisherCore() {
  // The connections stay as they are: subscribers drain what is queued for them (their mapping
  // of the segment outlives its name), and a publisher that takes this slot rebuilds them.
  // Removes the segment's name too; subscribers holding samples keep their own mapping.
  m_service->release_port(PubSubPattern::kPublisherTable, m_slot);
}

std::size_t PublisherCore::chunks_in_use() {
  update_connections();
  reclaim_all();
  return static_cast<std::size_t>(
      std::count_if(m_refs.begin(), m_refs.end(), [](std::uint32_t r) { return r > 0; }));
}

void PublisherCore::update_connections() {
  // The hot path (every loan and send): one load and two tests, inlined; the rest out of line.
  // ORDERING: acquire pairs with the release bump by subscribers that came or went.
  const auto generation =
      m_service->dynamic().generation[PubSubPattern::kSubscriberTable].load(std::memory_order_acquire);
  if (generation != m_seen_generation || m_wake_owed) [[unlikely]] reconnect(generation);
}

void PublisherCore::reconnect(std::uint64_t generation) {
  if (m_wake_owed) {
    if (m_wakeable != 0) {
      wake_subscribers();
    } else {
      m_wake_owed = false;  // nobody left to wake
    }
  }
  if (generation == m_seen_generation) return;
  m_seen_generation = generation;
  bool history_to_wake = false;
  for (std::uint32_t s = 0; s < m_connections.size(); ++s) {
    auto& c = m_connections[s];
    const auto& slot = m_service->port_slot<core::SubscriberSlot>(PubSubPattern::kSubscriberTable, s);
    // ORDERING: acquire: the subscriber wrote its flags (and made its listener) before its id.
    const auto subscriber_id = slot.port.port_id.load(std::memory_order_acquire);
    if (subscriber_id == c.subscriber_id) continue;
    if (c.subscriber_id != 0) disconnect(c);
    if (subscriber_id == 0) continue;
    const bool wakeable =
        (slot.flags.load(std::memory_order_relaxed) & core::kSubscriberWakeable) != 0;
    connect(s, subscriber_id, wakeable);
    history_to_wake = history_to_wake || (wakeable && m_history_len > 0);
  }
  // History delivered to a wakeable subscriber outside a send (which wakes anyway) wakes it too.
  if (history_to_wake) wake_subscribers();
}

void PublisherCore::wake_subscribers() {
  // A wake-up that could not be sent is owed until one is: every later loan, send or
  // chunks_in_use() tries again (update_connections), not only the next send.
  m_wake_owed = true;
  if (!m_wake) {
    // The first time a wakeable subscriber is connected, the wake service is opened: system
    // calls and allocation, once (and, while that fails, again at most every kWakeRetry).
    const auto now = std::chrono::steady_clock::now();
    if (now < m_wake_retry_at) return;
    if (auto service = WakeService::open_or_create(*m_service)) {
      if (auto notifier = service->notifier_builder().create()) m_wake.emplace(std::move(*notifier));
    }
    if (!m_wake) {
      m_wake_retry_at = now + kWakeRetry;
      return;
    }
  }
  // ORDERING: seq_cst fence between our pushes (release stores) and the notify's exchange of
  // `pending`, paired with the subscriber's fence after its drain (SubscriberCore::receive): a
  // store-buffering pattern, which release/acquire alone does not order.
  store_load_fence();
  const auto notified = m_wake->notify();
  // A listener that could not be woken for a passing reason (out of fds, its node slow to hand
  // out its channel) is owed the wake-up; the notifier's own back-off keeps the retries cheap.
  // A corrupted one (a hostile peer's) is not retried for ever.
  m_wake_owed = !notified && (notified.error() == NotifierNotifyError::ListenerUnresponsive ||
                              notified.error() == NotifierNotifyError::InsufficientResources);
}

void PublisherCore::disconnect(Connection& c) {
  if (c.wakeable) --m_wakeable;
  c.wakeable = false;
  // ORDERING: release: the pair is void before we take back its chunks.
  c.header->publisher_id.store(0, std::memory_order_release);
  (void)reclaim(c);
  // Everything still recorded as delivered is held by a subscriber that is gone: take it back.
  for (std::uint32_t i = 0; i < c.in_flight.size(); ++i) {
    while (c.in_flight[i] > 0) returned(c, i);
  }
  c.outstanding = 0;
  c.submission = core::SpscIndexQueue{};
  c.completion = core::SpscIndexQueue{};
  c.subscriber_id = 0;
}

void PublisherCore::connect(std::uint32_t subscriber_slot, std::uint64_t subscriber_id,
                            bool wakeable) {
  auto& c = m_connections[subscriber_slot];
  const auto shape = core::PubSubLayout::connection(m_settings);
  const auto blocks = connection_at(*m_service, m_slot, subscriber_slot);
  // ORDERING: the pair is void (0) while the queues are rebuilt; published with release below.
  c.header->publisher_id.store(0, std::memory_order_release);
  c.header->subscriber_id.store(0, std::memory_order_relaxed);
  core::reset_telemetry(*c.header, static_cast<std::uint64_t>(platform::monotonic_now().count()));
  // Only OverwriteOldest evicts, and only an evicting queue makes its consumer claim by CAS.
  const auto mode = m_settings.overflow == core::OverflowKind::OverwriteOldest
                        ? core::SpscIndexQueue::Mode::Overwriting
                        : core::SpscIndexQueue::Mode::Bounded;
  auto submission = core::SpscIndexQueue::initialize(blocks.submission, blocks.submission_bytes,
                                                     shape.submission_capacity, mode);
  auto completion = core::SpscIndexQueue::initialize(blocks.completion, blocks.completion_bytes,
                                                     shape.completion_capacity);
  if (!submission || !completion) return;  // cannot happen: the layout was validated
  c.submission = std::move(*submission);
  c.completion = std::move(*completion);
  c.outstanding = 0;
  c.pushed_at = 0;
  c.subscriber_id = subscriber_id;
  c.wakeable = wakeable;
  if (wakeable) ++m_wakeable;
  c.header->subscriber_id.store(subscriber_id, std::memory_order_relaxed);
  // ORDERING: release publishes the rebuilt queues before the subscriber can match the pair.
  c.header->publisher_id.store(m_id, std::memory_order_release);
  // A late joiner gets the newest samples of the history that fit in its buffer.
  const std::size_t fit =
      std::min<std::size_t>(m_history_len, m_settings.subscriber_buffer_size);
  for (std::size_t k = m_history_len - fit; k < m_history_len; ++k) {
    (void)deliver(c, m_history[(m_history_head + k) % m_history.size()]);
  }
}

std::optional<std::uint32_t> PublisherCore::returned_index(const Connection& c,
                                                            std::uint64_t offset) const {
  const auto index = m_pool.index_of_offset(offset);
  if (!index || c.in_flight[*index] == 0) return std::nullopt;
  return *index;
}

bool PublisherCore::reclaim(Connection& c) {
  // Bounded: a hostile subscriber cannot keep us here by refilling the queue.
  for (std::uint64_t n = c.completion.capacity(); n > 0; --n) {
    auto popped = c.completion.pop();
    if (!popped) return false;
    if (!*popped) return true;
    if (const auto index = returned_index(c, **popped)) returned(c, *index);
  }
  return true;
}

void PublisherCore::returned(Connection& c, std::uint32_t index) {
  --c.in_flight[index];
  --c.outstanding;
  drop_ref(index);
}

void PublisherCore::reclaim_all() {
  for (auto& c : m_connections) {
    if (c.subscriber_id != 0) (void)reclaim(c);
  }
}

void PublisherCore::drop_ref(std::uint32_t index) {
  if (m_refs[index] == 0) return;  // a bookkeeping bug must not list a chunk twice
  // Never allocates: m_free has room for every chunk, and a chunk is listed only at refs 0.
  if (--m_refs[index] == 0) m_free.push_back(index);
}

PublisherCore::Delivery PublisherCore::deliver(Connection& c, std::uint32_t index) {
  // Released chunks are taken back lazily: only once the connection holds a subscriber's whole
  // share (its queue and its borrows). Taken back at that moment, an honest subscriber holds at
  // most its share (what it has given back since is all that comes on top), so more than that
  // is a subscriber that keeps chunks it was never allowed: it gets no more. Its completion
  // queue, twice the share, never fills.
  if (c.outstanding >= m_subscriber_share) {
    if (!reclaim(c)) return Delivery::Corrupted;
    if (c.outstanding > m_subscriber_share) return Delivery::Corrupted;
  }
  const auto offset = m_pool.offset_of(index);
  switch (m_settings.overflow) {
    case core::OverflowKind::OverwriteOldest: {
      auto evicted = c.submission.push_overwrite(offset);
      if (!evicted) return Delivery::Corrupted;
      // The ring remembers what we pushed at each position, so an eviction names its chunk from
      // our own memory, not from a slot the subscriber can write.
      auto& pushed = c.pushed[c.pushed_at];
      if (*evicted && c.in_flight[pushed] > 0) {
        returned(c, pushed);
        core::telemetry_add(c.header->publisher_telemetry.overwritten);
      }
      pushed = index;
      c.pushed_at = c.pushed_at + 1 == c.pushed.size() ? 0 : c.pushed_at + 1;
      break;
    }
    case core::OverflowKind::Refuse:
      if (auto pushed = c.submission.push(offset); !pushed) {
        if (pushed.error() != core::CoreError::Full) return Delivery::Corrupted;
        core::telemetry_add(c.header->publisher_telemetry.refused);
        return Delivery::Refused;
      }
      break;
    case core::OverflowKind::Block: {
      const auto deadline = std::chrono::steady_clock::now() + m_block_timeout;
      auto pause = std::chrono::microseconds(1);
      while (true) {
        auto pushed = c.submission.push(offset);
        if (pushed) break;
        if (pushed.error() != core::CoreError::Full || !reclaim(c)) return Delivery::Corrupted;
        const auto& slot = m_service->port_slot<core::SubscriberSlot>(
            PubSubPattern::kSubscriberTable,
            static_cast<std::uint32_t>(&c - m_connections.data()));
        if (slot.port.port_id.load(std::memory_order_acquire) != c.subscriber_id) {
          return Delivery::Refused;  // it is gone: nobody to count it for
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          core::telemetry_add(c.header->publisher_telemetry.refused);
          return Delivery::Refused;
        }
        // A full queue means a slow reader: back off instead of burning its core.
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(500));
      }
      break;
    }
  }
  ++c.in_flight[index];
  ++c.outstanding;
  add_ref(index);
  core::telemetry_add(c.header->publisher_telemetry.delivered);
  return Delivery::Delivered;
}

tl::expected<PublisherCore::Loan, PublisherLoanError> PublisherCore::loan(std::uint64_t elements) {
  // Without slices a sample is exactly one element: 0 would publish a payload every subscriber
  // refuses as Corrupted.
  if (elements > m_max_elements || (m_settings.is_slice == 0 && elements != 1)) {
    return tl::unexpected(PublisherLoanError::ExceedsMaxSliceLength);
  }
  if (m_loans >= m_settings.max_loans) return tl::unexpected(PublisherLoanError::ExceedsMaxLoans);
  update_connections();
  if (m_free.empty()) {
    // Chunks released by subscribers are taken back only now: a loan usually costs nothing of
    // theirs, and the pool is sized so that, once everything released is back, one is free.
    reclaim_all();
    if (m_free.empty()) return tl::unexpected(PublisherLoanError::OutOfChunks);
  }
  const std::uint32_t index = m_free.back();
  m_free.pop_back();
  m_refs[index] = 1;
  ++m_loans;
  auto* chunk = static_cast<std::byte*>(m_pool.chunk(index));
  std::byte* user_header = nullptr;
  if (m_layout.user_header_size != 0) {
    user_header = chunk + m_layout.user_header_offset;
    std::memset(user_header, 0, m_layout.user_header_size);
  }
  return Loan{index, chunk + m_layout.payload_offset, user_header};
}

void PublisherCore::discard(std::uint32_t index) {
  --m_loans;
  drop_ref(index);
}

tl::expected<std::size_t, PublisherSendError> PublisherCore::send(std::uint32_t index,
                                                                  std::uint64_t elements) {
  update_connections();
  // SAFETY: index came from our own loan; the chunk starts with room for a ChunkHeader.
  auto* header = static_cast<ChunkHeader*>(m_pool.chunk(index));
  header->publisher_id = m_id;
  header->sequence = m_sequence++;
  header->payload_size = elements * m_element_size;
  header->send_time_ns = static_cast<std::uint64_t>(platform::monotonic_now().count());
  std::size_t delivered = 0;
  bool corrupted = false;
  for (auto& c : m_connections) {
    if (c.subscriber_id == 0) continue;
    switch (deliver(c, index)) {
      case Delivery::Delivered: ++delivered; break;
      case Delivery::Refused: break;
      case Delivery::Corrupted: corrupted = true; break;
    }
  }
  if (!m_history.empty()) {
    if (m_history_len == m_history.size()) {
      drop_ref(m_history[m_history_head]);
      m_history_head = (m_history_head + 1) % m_history.size();
      --m_history_len;
    }
    m_history[(m_history_head + m_history_len) % m_history.size()] = index;
    ++m_history_len;
    add_ref(index);
  }
  --m_loans;
  drop_ref(index);
  if (m_wakeable != 0) wake_subscribers();
  if (m_notifier) (void)m_notifier->notify();
  if (corrupted) return tl::unexpected(PublisherSendError::Corrupted);
  return delivered;
}

tl::expected<std::shared_ptr<SubscriberCore>, SubscriberCreateError> SubscriberCore::create(
    const std::shared_ptr<ServiceCore>& service, bool wakeable) {
  // The listener exists before the port is published: a publisher that connects to a wakeable
  // subscriber finds someone to wake from its first send to it on.
  std::optional<Listener> wake;
  if (wakeable) {
    auto wake_service = WakeService::open_or_create(*service);
    if (!wake_service) {
      return tl::unexpected(wake_service.error() == WakeServiceError::InsufficientResources
                                ? SubscriberCreateError::InsufficientResources
                                : SubscriberCreateError::WakeServiceUnavailable);
    }
    auto listener = wake_service->listener_builder().create();
    if (!listener) {
      switch (listener.error()) {
        case ListenerCreateError::InsufficientResources:
          return tl::unexpected(SubscriberCreateError::InsufficientResources);
        case ListenerCreateError::ResourceCreationFailed:
          return tl::unexpected(SubscriberCreateError::ResourceCreationFailed);
        case ListenerCreateError::ExceedsMaxListeners:
        case ListenerCreateError::Corrupted:
        case ListenerCreateError::InvalidBusyPoll:  // not asked for
          return tl::unexpected(SubscriberCreateError::WakeServiceUnavailable);
      }
      return tl::unexpected(SubscriberCreateError::WakeServiceUnavailable);
    }
    wake.emplace(std::move(*listener));
  }
  const auto claimed = service->claim_port(PubSubPattern::kSubscriberTable);
  if (!claimed) return tl::unexpected(SubscriberCreateError::ExceedsMaxSubscribers);
  std::shared_ptr<SubscriberCore> core;
  try {
    core = std::make_shared<SubscriberCore>(service, claimed->slot, claimed->id);
  } catch (const std::bad_alloc&) {
    service->release_port(PubSubPattern::kSubscriberTable, claimed->slot);
    return tl::unexpected(SubscriberCreateError::InsufficientResources);
  }
  core->m_wake = std::move(wake);
  // ORDERING: relaxed; publish_port's release store of the id publishes it.
  service->port_slot<core::SubscriberSlot>(PubSubPattern::kSubscriberTable, claimed->slot)
      .flags.store(wakeable ? core::kSubscriberWakeable : 0, std::memory_order_relaxed);
  service->publish_port(PubSubPattern::kSubscriberTable, claimed->slot, claimed->id);
  return core;
}

SubscriberCore::SubscriberCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot,
                               std::uint64_t id)
    : m_service(std::move(service)),
      m_slot(slot),
      m_id(id),
      m_settings(m_service->static_config().pubsub),
      m_layout(chunk_layout(m_settings)),
      m_sources(m_settings.max_publishers) {}

SubscriberCore::~SubscriberCore() { m_service->release_port(PubSubPattern::kSubscriberTable, m_slot); }

void SubscriberCore::update_sources() {
  // ORDERING: acquire pairs with the release bump by publishers that came or went.
  const auto generation =
      m_service->dynamic().generation[PubSubPattern::kPublisherTable].load(std::memory_order_acquire);
  if (generation == m_seen_generation) {
    // A segment we could not map for a passing reason is looked for again, every kRemapRetry.
    if (!m_remap_at || std::chrono::steady_clock::now() < *m_remap_at) return;
  }
  m_seen_generation = generation;
  m_remap_at.reset();
  for (std::uint32_t p = 0; p < m_sources.size(); ++p) {
    auto& slot = m_service->port_slot<core::PublisherSlot>(PubSubPattern::kPublisherTable, p);
    // ORDERING: acquire: the slot's fields and the segment exist before the id is published.
    const auto publisher_id = slot.port.port_id.load(std::memory_order_acquire);
    auto& source = m_sources[p];
    if (publisher_id == source.publisher_id) continue;
    if (publisher_id == 0 && source.publisher_id != 0) {
      // Gone, maybe with samples still queued for us: receive() drains them, then drops it.
      source.departed = true;
      continue;
    }
    source = Source{};  // samples of a replaced publisher keep their own segment reference
    if (publisher_id == 0) continue;
    auto segment = map_port_segment(*m_service, publisher_id,
                                    m_layout.payload_offset + m_settings.type_size,
                                    m_layout.alignment);
    if (!segment) {
      // Out of fds or memory passes: look again soon, or the publisher's samples would wait
      // for the next change of publishers. Anything else (it left already, or the object is
      // not one a publisher makes) waits for that change.
      if (segment.error() == MapFailure::Passing) {
        m_remap_at = std::chrono::steady_clock::now() + kRemapRetry;
      }
      continue;
    }
    source.publisher_id = publisher_id;
    source.segment = std::move(segment->shm);
    source.pool = segment->pool;
    source.chunk_capacity = source.pool.chunk_size() - m_layout.payload_offset;
    source.header = connection_at(*m_service, p, m_slot).header;
  }
}

bool SubscriberCore::attach_queues(Source& s, std::uint32_t publisher_slot) {
  const auto blocks = connection_at(*m_service, publisher_slot, m_slot);
  auto submission = core::SpscIndexQueue::attach(blocks.submission, blocks.submission_bytes);
  auto completion = core::SpscIndexQueue::attach(blocks.completion, blocks.completion_bytes);
  if (!submission || !completion) return false;
  s.submission = std::move(*submission);
  s.completion = std::move(*completion);
  return true;
}

bool SubscriberCore::connected(const Source& s) const {
  // ORDERING: acquire pairs with the publisher's release of the pair after rebuilding queues.
  return s.header->publisher_id.load(std::memory_order_acquire) == s.publisher_id &&
         s.header->subscriber_id.load(std::memory_order_relaxed) == m_id;
}

tl::expected<std::optional<SubscriberCore::Received>, SubscriberReceiveError>
SubscriberCore::receive() {
  // One look over every publisher's queue; a wakeable subscriber that found nothing takes a
  // second one (below). One function, so a sample is built in the result in place (a receive
  // that called a look function and returned its result paid a move more per sample).
  for (bool second_look = false;; second_look = true) {
    update_sources();
    const auto n = static_cast<std::uint32_t>(m_sources.size());
    bool at_borrow_limit = false;
    for (std::uint32_t k = 0; k < n; ++k) {
      const auto p = (m_next + k) % n;
      auto& source = m_sources[p];
      if (source.publisher_id == 0 || !connected(source)) continue;
      if (!source.submission.attached() && !attach_queues(source, p)) {
        return tl::unexpected(SubscriberReceiveError::Corrupted);
      }
      if (source.borrowed >= m_settings.max_borrowed_samples) {
        at_borrow_limit = at_borrow_limit || !source.submission.empty();
        continue;
      }
      // Under OverwriteOldest the queue has spare slots (core::submission_capacity): the queue
      // hands us the oldest of the newest `buffer` and skips what is older (the publisher evicts
      // it). Refuse and Block queues hold exactly `buffer`.
      auto popped = source.submission.pop_newest(m_settings.subscriber_buffer_size);
      // A publisher that took the slot may be rebuilding the queue under us: not corruption.
      if (!connected(source)) continue;
      if (!popped) return tl::unexpected(SubscriberReceiveError::Corrupted);
      if (!*popped) {
        if (source.departed) source = Source{};
        continue;
      }
      const auto offset = **popped;
      const auto index = source.pool.index_of_offset(offset);
      if (!index) return tl::unexpected(SubscriberReceiveError::Corrupted);
      const auto* chunk = static_cast<const std::byte*>(source.pool.chunk(*index));
      // SAFETY: index_of_offset proved the chunk lies inside the segment and is aligned for it.
      const auto* shared_header = reinterpret_cast<const ChunkHeader*>(chunk);
      // The publisher can rewrite its header at any moment: read it once, check the copy, and
      // hand out only the copy, so a length checked here is the length used everywhere after.
      ChunkHeader header;
      std::memcpy(&header, shared_header, sizeof(header));
      if (!payload_size_fits(header.payload_size, source.chunk_capacity, m_settings.type_size,
                             m_settings.is_slice != 0)) {
        (void)source.completion.try_push(offset);  // give it back; never read past the chunk
        return tl::unexpected(SubscriberReceiveError::Corrupted);
      }
      ++source.borrowed;
      m_next = (p + 1) % n;
      record(source, header.send_time_ns);
      return Received{source.segment,
                      p,
                      source.publisher_id,
                      offset,
                      header.sequence,
                      header.payload_size,
                      header.send_time_ns,
                      chunk + m_layout.payload_offset,
                      m_layout.user_header_size != 0 ? chunk + m_layout.user_header_offset
                                                     : nullptr,
                      m_layout.user_header_size};
    }
    if (at_borrow_limit) {
      return tl::unexpected(SubscriberReceiveError::ExceedsMaxBorrowedSamples);
    }
    if (!m_wake || second_look) return std::nullopt;
    // Nothing for a wakeable subscriber: its wake channel is drained, then the queues looked at
    // once more. A sample pushed after that look finds `pending` 0 and writes a wake-up; one
    // pushed before is seen by it. So the channel stays readable exactly while something may
    // wait. ORDERING: the listener's seq_cst store of `pending` pairs with the publisher's
    // seq_cst exchange after its push (docs/design.md §6, "Wakeable subscribers"); the fence
    // orders that store before the second look's loads (see wake_subscribers()).
    (void)m_wake->try_wait([](EventId, std::uint64_t) {});
    store_load_fence();
  }
}

void SubscriberCore::record(Source& source, std::uint64_t send_time_ns) {
  auto& t = source.header->subscriber_telemetry;
  const auto now = static_cast<std::uint64_t>(platform::monotonic_now().count());
  // A send time after our receive time is a clock the publisher did not read (or a hostile
  // one): counted as 0 ns rather than as ~584 years.
  const std::uint64_t latency = now > send_time_ns ? now - send_time_ns : 0;
  core::telemetry_add(t.received);
  core::telemetry_add(t.latency[core::latency_bucket(latency)]);
  core::telemetry_add(t.latency_sum_ns, latency);
  // The one we took counts: a sample that waited alone has a backlog of 1. The producer may
  // have pushed into the slot we freed before we looked: no queue holds more than its capacity.
  const std::uint64_t queued =
      std::min(source.submission.backlog() + 1, source.submission.capacity());
  // ORDERING: relaxed: statistics, and we are the only writer.
  if (queued > t.high_water.load(std::memory_order_relaxed)) {
    t.high_water.store(queued, std::memory_order_relaxed);
  }
}

void SubscriberCore::release(const Received& sample) {
  auto& source = m_sources[sample.publisher_slot];
  if (source.publisher_id != sample.publisher_id) return;  // its publisher is gone
  --source.borrowed;
  if (connected(source)) (void)source.completion.try_push(sample.offset);
}

}  // namespace detail
}  // namespace axon

// The public ports (untyped.hpp): each owns its core. Their hot path (loan, send, receive,
// release) is inline in the header and calls the detail:: functions below, one call each.
namespace axon {

tl::expected<detail::LoanedChunk, PublisherLoanError> detail::publisher_loan(PublisherCore& core,
                                                                             std::uint64_t len) {
  auto loan = core.loan(len);
  if (!loan) return tl::unexpected(loan.error());
  return LoanedChunk{loan->index, loan->payload, len * core.element_size(), loan->user_header,
                     core.user_header_size()};
}

void detail::publisher_discard(PublisherCore& core, std::uint32_t index) {
  core.discard(index);
  if (core.orphaned_and_idle()) delete &core;  // the last loan of a dropped publisher
}

tl::expected<std::size_t, PublisherSendError> detail::publisher_send(PublisherCore& core,
                                                                     std::uint32_t index,
                                                                     std::uint64_t len) {
  auto sent = core.send(index, len);
  if (core.orphaned_and_idle()) delete &core;  // the last loan of a dropped publisher
  return sent;
}

void detail::release_publisher(PublisherCore* core) {
  if (core == nullptr) return;
  if (core->loans() == 0) {
    delete core;
  } else {
    core->orphan();
  }
}

tl::expected<std::optional<detail::ReceivedChunk>, SubscriberReceiveError>
detail::subscriber_receive(SubscriberCore& core) {
  return core.receive();
}

void detail::subscriber_release(SubscriberCore& core, const ReceivedChunk& chunk) {
  core.release(chunk);
}

UntypedPublisher::UntypedPublisher(std::unique_ptr<detail::PublisherCore> core)
    : m_core(std::move(core)) {}
UntypedPublisher::UntypedPublisher(UntypedPublisher&&) noexcept = default;

UntypedPublisher& UntypedPublisher::operator=(UntypedPublisher&& other) noexcept {
  if (this != &other) {
    detail::release_publisher(m_core.release());  // ours goes first, as when we are destroyed
    m_core = std::move(other.m_core);
  }
  return *this;
}

UntypedPublisher::~UntypedPublisher() { detail::release_publisher(m_core.release()); }

tl::expected<UntypedSampleMut, PublisherLoanError> UntypedPublisher::loan(std::uint64_t len) {
  auto sample = loan_uninit(len);
  if (sample) std::memset(sample->payload().data(), 0, sample->payload().size());
  return sample;
}

tl::expected<std::size_t, PublisherSendError> UntypedPublisher::send_copy(
    std::span<const std::byte> bytes) {
  const auto element = m_core->element_size();
  const bool slice = m_core->is_slice();
  if (bytes.size() % element != 0 || (!slice && bytes.size() != element)) {
    return tl::unexpected(PublisherSendError::PayloadSizeMismatch);
  }
  auto sample = loan_uninit(bytes.size() / element);
  if (!sample) return tl::unexpected(detail::send_error_of(sample.error()));
  // An empty slice may come as a null span: memcpy must not see it, even for 0 bytes.
  if (!bytes.empty()) std::memcpy(sample->payload().data(), bytes.data(), bytes.size());
  return send(std::move(*sample));
}

void UntypedPublisher::notify_on_send(Notifier notifier) {
  m_core->set_notifier(std::move(notifier));
}

std::uint64_t UntypedPublisher::id() const { return m_core->id(); }
std::uint64_t UntypedPublisher::max_slice_len() const { return m_core->max_elements(); }
std::size_t UntypedPublisher::chunks_in_use() const { return m_core->chunks_in_use(); }
std::size_t UntypedPublisher::chunk_count() const { return m_core->chunk_count(); }

std::uint64_t UntypedSubscriber::id() const { return m_core->id(); }
int UntypedSubscriber::fd() const { return m_core ? m_core->wake_fd() : -1; }

tl::expected<UntypedPublisher, PublisherCreateError> UntypedPublisherBuilder::create() const {
  return detail::PublisherCore::create(m_service, m_max_len, m_block_timeout).map([](auto core) {
    return UntypedPublisher(std::move(core));
  });
}

tl::expected<UntypedSubscriber, SubscriberCreateError> UntypedSubscriberBuilder::create() const {
  return detail::SubscriberCore::create(m_service, m_wakeable).map([](auto core) {
    return UntypedSubscriber(std::move(core));
  });
}

}  // namespace axon
