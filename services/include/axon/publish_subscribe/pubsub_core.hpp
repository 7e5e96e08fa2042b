// The machinery of publish-subscribe, inside the library: the public ports of untyped.hpp own
// these, the typed ones of service.hpp wrap those. A publisher owns one data segment (a chunk pool in its own shared-memory object, mapped
// read-only by subscribers) and, per subscriber, the connection's two queues: submission (offsets
// of sent chunks, publisher -> subscriber) and completion (offsets released, subscriber ->
// publisher). Reference counts live in the publisher's own memory, never in shared memory, so a
// subscriber that dies cannot strand a chunk: the publisher takes back everything it recorded as
// delivered on that connection.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/core/spsc_queue.hpp"
#include "axon/detail/listener_probe.hpp"
#include "axon/event/listener.hpp"
#include "axon/event/notifier.hpp"
#include "axon/publish_subscribe/untyped.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon {

namespace detail {

/// The send error that stands for a failed loan (send_copy loans first).
constexpr PublisherSendError send_error_of(PublisherLoanError error) {
  switch (error) {
    case PublisherLoanError::ExceedsMaxLoans:
      return PublisherSendError::ExceedsMaxLoans;
    case PublisherLoanError::OutOfChunks:
      return PublisherSendError::OutOfChunks;
    case PublisherLoanError::ExceedsMaxSliceLength:
      return PublisherSendError::ExceedsMaxSliceLength;
  }
  return PublisherSendError::Corrupted;  // not a PublisherLoanError value: unreachable
}

/// At the start of every chunk; the user header (if the service has one) and the payload follow
/// (`ChunkLayout`).
struct ChunkHeader {
  std::uint64_t publisher_id;
  std::uint64_t sequence;      ///< per publisher, from 0
  std::uint64_t payload_size;  ///< bytes written (a slice's length x element size)
  std::uint64_t send_time_ns;  ///< CLOCK_MONOTONIC when send() was called
};
static_assert(sizeof(ChunkHeader) == 32);

constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

/// The payload's offset in a chunk aligned to `alignment`, for a service without a user header.
constexpr std::uint64_t payload_offset(std::uint64_t alignment) {
  return align_up(sizeof(ChunkHeader), alignment);
}

/// Where the parts of a chunk lie: the chunk header at 0, the user header after it, the payload
/// after that, each aligned for its type. Computed from settings a service validated
/// (PubSubLayout::valid: alignments are powers of two up to 4096, a user header at most 64 KiB),
/// so nothing here overflows.
struct ChunkLayout {
  std::uint64_t alignment = 0;           ///< of every chunk
  std::uint64_t user_header_offset = 0;  ///< meaningful when user_header_size != 0
  std::uint64_t user_header_size = 0;
  std::uint64_t payload_offset = 0;
};
constexpr ChunkLayout chunk_layout(const core::PubSubSettings& s) {
  ChunkLayout l;
  l.alignment = std::max<std::uint64_t>(
      {s.type_alignment, s.user_header_alignment, std::uint64_t{alignof(ChunkHeader)}});
  l.user_header_size = s.user_header_size;
  std::uint64_t end = sizeof(ChunkHeader);
  if (l.user_header_size != 0) {
    l.user_header_offset = align_up(end, s.user_header_alignment);
    end = l.user_header_offset + l.user_header_size;
  }
  l.payload_offset = align_up(end, std::max<std::uint64_t>(s.type_alignment, 1));
  return l;
}

class PublisherCore {
 public:
  static tl::expected<std::unique_ptr<PublisherCore>, PublisherCreateError> create(
      std::shared_ptr<ServiceCore> service, std::uint64_t max_elements,
      std::chrono::nanoseconds block_timeout);
  PublisherCore(const PublisherCore&) = delete;
  PublisherCore& operator=(const PublisherCore&) = delete;
  ~PublisherCore();

  struct Loan {
    std::uint32_t index;
    std::byte* payload;
    std::byte* user_header;  ///< null when the service has none
  };
  /// A chunk for `elements` elements; its payload is uninitialised.
  tl::expected<Loan, PublisherLoanError> loan(std::uint64_t elements);
  /// Gives back a chunk that will not be sent.
  void discard(std::uint32_t index);
  /// Delivers chunk `index` with `elements` elements; returns how many subscribers got it.
  tl::expected<std::size_t, PublisherSendError> send(std::uint32_t index, std::uint64_t elements);

  std::uint64_t id() const { return m_id; }
  std::uint64_t max_elements() const { return m_max_elements; }
  std::uint64_t element_size() const { return m_element_size; }
  std::uint64_t user_header_size() const { return m_layout.user_header_size; }
  bool is_slice() const { return m_settings.is_slice != 0; }
  /// Chunks of this publisher in use anywhere (loans, queues, subscribers, history); takes back
  /// what subscribers released first, so the figure is exact once they are quiet.
  std::size_t chunks_in_use();
  std::size_t chunk_count() const { return m_refs.size(); }
  void set_notifier(Notifier notifier) { m_notifier.emplace(std::move(notifier)); }

  /// Its owner (the public port) let go while loans were out: the last discard or send of those
  /// deletes this core (see release_publisher).
  void orphan() { m_orphaned = true; }
  bool orphaned_and_idle() const { return m_orphaned && m_loans == 0; }
  std::uint32_t loans() const { return m_loans; }

 private:
  struct Connection {
    std::uint64_t subscriber_id = 0;  ///< 0: not connected
    core::ConnectionHeader* header = nullptr;
    core::SpscIndexQueue submission;  ///< we produce
    core::SpscIndexQueue completion;  ///< we consume
    std::vector<std::uint32_t> in_flight;  ///< per chunk: delivered and not yet given back
    std::uint64_t outstanding = 0;         ///< sum of in_flight
    /// OverwriteOldest: the chunk pushed at each queue position (ring of the queue's capacity),
    /// so that an eviction is resolved from our own memory.
    std::vector<std::uint32_t> pushed;
    std::size_t pushed_at = 0;  ///< next position % capacity
    bool wakeable = false;      ///< the subscriber asked to be woken (read once, at connect)
  };
  PublisherCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id,
                platform::SharedMemory segment, core::ChunkPool pool, std::uint64_t max_elements,
                std::chrono::nanoseconds block_timeout);
  void update_connections();
  /// update_connections' slow path: the subscriber table changed, or a wake-up is owed.
  [[gnu::noinline]] void reconnect(std::uint64_t generation);
  void connect(std::uint32_t subscriber_slot, std::uint64_t subscriber_id, bool wakeable);
  /// Notifies the wake service, opening it first if need be (detail/wake_service.hpp).
  void wake_subscribers();
  void disconnect(Connection& c);
  /// Takes back what the subscriber released; false when its queue is corrupted.
  bool reclaim(Connection& c);
  void reclaim_all();
  /// Records that connection `c` no longer holds chunk `index`.
  void returned(Connection& c, std::uint32_t index);
  void add_ref(std::uint32_t index) { ++m_refs[index]; }
  void drop_ref(std::uint32_t index);
  enum class Delivery { Delivered, Refused, Corrupted };
  Delivery deliver(Connection& c, std::uint32_t index);
  /// Offset -> index for offsets coming back from a subscriber; nullopt when hostile.
  std::optional<std::uint32_t> returned_index(const Connection& c, std::uint64_t offset) const;

  std::shared_ptr<ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  platform::SharedMemory m_segment;
  core::ChunkPool m_pool;
  std::uint64_t m_max_elements;
  std::uint64_t m_element_size;
  ChunkLayout m_layout;
  std::uint64_t m_subscriber_share;  ///< most chunks one subscriber may hold (queue + borrows)
  std::chrono::nanoseconds m_block_timeout;
  core::PubSubSettings m_settings;
  std::vector<std::uint32_t> m_refs;  ///< per chunk: loan + history + every connection holding it
  /// Chunks with no reference, most recently freed on top. The segment's chunks belong to this
  /// publisher alone (subscribers map it read-only), so their free list is process-local: a loan
  /// takes no atomic operation and reads nothing a peer could have written.
  std::vector<std::uint32_t> m_free;
  std::vector<Connection> m_connections;  ///< one per subscriber slot
  std::vector<std::uint32_t> m_history;   ///< ring of chunk indices, oldest at m_history_head
  std::size_t m_history_head = 0;
  std::size_t m_history_len = 0;
  std::uint32_t m_loans = 0;
  bool m_orphaned = false;
  std::uint64_t m_sequence = 0;
  std::uint64_t m_seen_generation = ~0ULL;
  std::optional<Notifier> m_notifier;
  std::uint32_t m_wakeable = 0;      ///< connections to wakeable subscribers
  std::optional<Notifier> m_wake;    ///< on the wake service, once a wakeable subscriber came
  std::chrono::steady_clock::time_point m_wake_retry_at{};
  bool m_wake_owed = false;  ///< a wake-up could not be sent: retried at every call (B3)
  static constexpr std::chrono::milliseconds kWakeRetry{100};
};

class SubscriberCore : public std::enable_shared_from_this<SubscriberCore> {
 public:
  static tl::expected<std::shared_ptr<SubscriberCore>, SubscriberCreateError> create(
      const std::shared_ptr<ServiceCore>& service, bool wakeable);
  SubscriberCore(const SubscriberCore&) = delete;
  SubscriberCore& operator=(const SubscriberCore&) = delete;
  ~SubscriberCore();

  using Received = ReceivedChunk;
  tl::expected<std::optional<Received>, SubscriberReceiveError> receive();
  void release(const Received& sample);
  std::uint64_t id() const { return m_id; }
  /// The wake channel's fd (readable while a sample may wait); -1 unless wakeable.
  int wake_fd() const { return m_wake ? m_wake->fd() : -1; }
  /// Its wake listener's shared state, for a busy-polling WaitSet; empty when not wakeable.
  ListenerProbe wake_probe() const { return m_wake ? m_wake->probe() : ListenerProbe{}; }

  SubscriberCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id);

 private:
  struct Source {
    std::uint64_t publisher_id = 0;  ///< 0: no publisher in this slot
    std::shared_ptr<const platform::SharedMemory> segment;
    core::ChunkPool pool;
    std::uint64_t chunk_capacity = 0;  ///< payload bytes a chunk can hold
    core::ConnectionHeader* header = nullptr;
    /// Attached when the pair is first seen connected: the publisher builds them before that.
    core::SpscIndexQueue submission;  ///< we consume
    core::SpscIndexQueue completion;  ///< we produce
    std::uint32_t borrowed = 0;
    bool departed = false;  ///< its publisher left; drained, then dropped
  };
  void update_sources();
  bool connected(const Source& s) const;
  /// Updates the connection's telemetry for a sample just taken from `source`.
  void record(Source& source, std::uint64_t send_time_ns);
  /// Attaches the queues of a source seen connected for the first time; false when corrupted.
  bool attach_queues(Source& s, std::uint32_t publisher_slot);

  std::shared_ptr<ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  core::PubSubSettings m_settings;
  ChunkLayout m_layout;
  std::vector<Source> m_sources;  ///< one per publisher slot
  std::uint64_t m_seen_generation = ~0ULL;
  /// Set while a publisher's segment could not be mapped for a passing reason (out of fds or
  /// memory): when to try again, though the publishers did not change.
  std::optional<std::chrono::steady_clock::time_point> m_remap_at;
  static constexpr std::chrono::milliseconds kRemapRetry{10};
  std::uint32_t m_next = 0;       ///< round-robin start, so no publisher starves the others
  /// Wakeable subscribers: the listener on the service's wake service (detail/wake_service.hpp).
  std::optional<Listener> m_wake;
};

}  // namespace detail
}  // namespace axon
