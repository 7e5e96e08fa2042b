// Publish-subscribe without a compile-time payload type: the same zero-copy ports, moving bytes.
// The payload is described at run time by a PayloadType (name, element size, alignment, slice or
// not), checked on open as the typed API checks it; a payload is `len` elements of `size` bytes.
// Tools that meet services they were not compiled for (`axon echo`), language bindings and
// gateways use this API; the typed API of service.hpp is a thin layer over it.
//
//   auto info = describe_service(name);               // discovery: what the service carries
//   auto type = PayloadType{info->pubsub.type_name, info->pubsub.type_size,
//                           info->pubsub.type_alignment, info->pubsub.is_slice};
//   auto service = node.service_builder(name).publish_subscribe(type).open();
//   auto subscriber = service->subscriber_builder().create();
//   while (auto received = subscriber->receive()) {
//     if (!*received) break;                            // nothing more
//     std::span<const std::byte> bytes = (*received)->payload();
//   }
//
// Loan, send, receive and release take no lock and allocate nothing. They make no system call,
// except the first receive after a publisher appeared, which maps that publisher's data segment
// (and, while that fails for want of fds or memory, a receive every 10 ms tries again), and send
// under OverflowPolicy::Block, which sleeps while a subscriber's buffer is full. Ports are not
// thread-safe: use each from one thread at a time, and release samples on the thread of their
// port. Lifetimes: a sample may outlive its port. A subscriber's port (and its slot in the
// service) lives until its last received sample is released; a publisher's until its last loan
// is sent or dropped (a send after the publisher was dropped still delivers). A moved-from port
// or sample may only be destroyed or assigned to.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "axon/access.hpp"
#include "axon/event/notifier.hpp"
#include "axon/publish_subscribe/payload_type.hpp"
#include "axon/publish_subscribe/static_config.hpp"
#include "axon/service_name.hpp"

namespace axon {

enum class PubSubOpenError {
  DoesNotExist,                                ///< no service of that name
  IncompatibleMessagingPattern,                ///< the name belongs to another pattern
  IncompatibleTypes,                           ///< another payload type (name/size/alignment/slice)
  DoesNotSupportRequestedAmountOfPublishers,   ///< its max_publishers is below the request
  DoesNotSupportRequestedAmountOfSubscribers,  ///< its max_subscribers is below the request
  DoesNotSupportRequestedAmountOfNodes,        ///< its max_nodes is below the request
  DoesNotSupportRequestedHistorySize,          ///< its history is shorter than requested
  DoesNotSupportRequestedBufferSize,           ///< its subscriber buffer is smaller than requested
  IncompatibleOverflowPolicy,                  ///< it uses another overflow policy
  IncompatibleAccess,                          ///< it was created with another Access
  ExceedsMaxNodes,                             ///< every node slot is taken by live nodes
  PermissionDenied,                            ///< its objects belong to someone else (another
                                               ///< user's, or owner-only), or the root refused us
  VersionMismatch,                             ///< created by an incompatible axon version
  Corrupted,                                   ///< its shared memory fails validation
  InternalFailure,                             ///< a system call failed unexpectedly
  InsufficientResources,  ///< out of file descriptors (EMFILE/ENFILE) or memory
};
const char* to_string(PubSubOpenError error);

enum class PubSubCreateError {
  AlreadyExists,          ///< a service of that name exists (any pattern)
  InvalidSettings,        ///< a setting is 0 or above its limit, or the PayloadType is invalid
  PermissionDenied,       ///< the root directory or /dev/shm refused us
  InsufficientResources,  ///< not enough shared memory or fds
  InternalFailure,        ///< a system call failed unexpectedly
};
const char* to_string(PubSubCreateError error);

using PubSubOpenOrCreateError = std::variant<PubSubOpenError, PubSubCreateError>;
/// The name of whichever error it holds (every to_string of axon returns a static string).
const char* to_string(const PubSubOpenOrCreateError& error);

enum class PublisherCreateError {
  ExceedsMaxPublishers,   ///< every publisher slot of the service is taken
  InvalidSliceLength,     ///< a slice publisher's max length is 0 or too large
  InsufficientResources,  ///< the data segment could not be created (shared memory full?)
  Corrupted,              ///< the service's shared memory fails validation
};
const char* to_string(PublisherCreateError error);

enum class PublisherLoanError {
  ExceedsMaxLoans,        ///< this publisher already has max_loans samples out
  OutOfChunks,            ///< no free chunk (cannot happen with the computed pool size)
  ExceedsMaxSliceLength,  ///< a slice longer than the publisher's max was asked for
};
const char* to_string(PublisherLoanError error);

enum class PublisherSendError {
  Corrupted,  ///< a queue of a connection fails validation; other subscribers were served
  // Only from send_copy(): the loan it needed failed, as PublisherLoanError says; nothing was sent.
  ExceedsMaxLoans,        ///< this publisher already has max_loans samples out
  OutOfChunks,            ///< no free chunk
  ExceedsMaxSliceLength,  ///< a slice longer than the publisher's max was asked for
  /// Only from UntypedPublisher::send_copy(): the bytes are not one element (not a whole number
  /// of elements, for slices); nothing was sent.
  PayloadSizeMismatch,
};
const char* to_string(PublisherSendError error);

enum class SubscriberCreateError {
  ExceedsMaxSubscribers,  ///< every subscriber slot of the service is taken
  Corrupted,              ///< the service's shared memory fails validation
  InsufficientResources,  ///< not enough memory or fds for the port (or its wake channel)
  /// wakeable(true) only: its wake channel (an eventfd handed out by the node's socket, or a
  /// FIFO) could not be made, as ListenerCreateError::ResourceCreationFailed
  ResourceCreationFailed,
  /// wakeable(true) only: the service's wake service (`__axon_wake/<hash>`, docs/design.md §6)
  /// could not be opened or given a listener: it exists with other settings or as another
  /// pattern, belongs to someone else, or its listener slots are taken
  WakeServiceUnavailable,
};
const char* to_string(SubscriberCreateError error);

enum class SubscriberReceiveError {
  ExceedsMaxBorrowedSamples,  ///< release samples before receiving more
  Corrupted,  ///< an offset or header read from shared memory is out of bounds; it was dropped
};
const char* to_string(SubscriberReceiveError error);

namespace detail {
class NodeCore;
class ServiceCore;
class PublisherCore;
class SubscriberCore;

/// A received chunk. The header fields are copies taken once and validated at receive: the
/// chunk's own header may change after (a publisher may rewrite it).
struct ReceivedChunk {
  std::shared_ptr<const void> segment;  ///< keeps the publisher's data segment mapped
  std::uint32_t publisher_slot = 0;
  std::uint64_t publisher_id = 0;
  std::uint64_t offset = 0;
  std::uint64_t sequence = 0;
  std::uint64_t payload_size = 0;  ///< bytes, within the chunk and a whole number of elements
  std::uint64_t send_time_ns = 0;  ///< CLOCK_MONOTONIC, as the publisher wrote it
  const std::byte* payload = nullptr;
  const std::byte* user_header = nullptr;  ///< null when the service has none
  std::uint64_t user_header_size = 0;
};

/// The ports' hot path, compiled in the library (pubsub_core.cpp); the public ports below call
/// them inline, so a typed port costs one call per operation into compiled code, no more.
struct LoanedChunk {
  std::uint32_t index;
  std::byte* payload;
  std::uint64_t bytes;
  std::byte* user_header;  ///< null when the service has none
  std::uint64_t user_header_size;
};
tl::expected<LoanedChunk, PublisherLoanError> publisher_loan(PublisherCore& core,
                                                             std::uint64_t len);
void publisher_discard(PublisherCore& core, std::uint32_t index);
/// What the owner of a publisher's core calls instead of deleting it: deletes it, or, while loans
/// are out, leaves it to the last of them (a loan may outlive its publisher).
void release_publisher(PublisherCore* core);
tl::expected<std::size_t, PublisherSendError> publisher_send(PublisherCore& core,
                                                             std::uint32_t index,
                                                             std::uint64_t len);
tl::expected<std::optional<ReceivedChunk>, SubscriberReceiveError> subscriber_receive(
    SubscriberCore& core);
void subscriber_release(SubscriberCore& core, const ReceivedChunk& chunk);

/// What a publish-subscribe service builder asks for: the service's settings on create, the
/// requirements the service must meet on open.
struct PubSubRequest {
  PayloadType type;
  /// The service's user header; an empty name: none (also a requirement on open).
  PayloadType user_header;
  std::optional<std::uint32_t> max_publishers, max_subscribers, max_nodes, history_size,
      buffer_size, max_loans, max_borrowed;
  std::optional<OverflowPolicy> overflow;
  std::optional<Access> access;
};
}  // namespace detail

class UntypedPublisher;
class UntypedSubscriber;
// H: the user header's type, void for none (service.hpp).
template <typename T, typename H = void>
class Publisher;
template <typename T, typename H = void>
class Subscriber;

/// A loaned, writable chunk: `len()` elements whose bytes are `payload()`. Dropping it unsent
/// gives the chunk back.
class UntypedSampleMut {
 public:
  UntypedSampleMut(UntypedSampleMut&& other) noexcept
      : m_publisher(std::exchange(other.m_publisher, nullptr)),
        m_index(other.m_index),
        m_payload(other.m_payload),
        m_len(other.m_len),
        m_bytes(other.m_bytes),
        m_user_header(other.m_user_header),
        m_user_header_size(other.m_user_header_size) {}
  UntypedSampleMut& operator=(UntypedSampleMut&&) = delete;
  UntypedSampleMut(const UntypedSampleMut&) = delete;
  UntypedSampleMut& operator=(const UntypedSampleMut&) = delete;
  ~UntypedSampleMut() {
    if (m_publisher != nullptr) detail::publisher_discard(*m_publisher, m_index);
  }

  /// The payload's bytes in shared memory, aligned for the payload type; uninitialised after
  /// loan_uninit().
  std::span<std::byte> payload() const { return {m_payload, m_bytes}; }
  /// Elements loaned (1 unless the service carries slices).
  std::uint64_t len() const { return m_len; }
  /// The user header's bytes in shared memory (empty when the service declares none), aligned
  /// for its type; zeroed at each loan.
  std::span<std::byte> user_header() const { return {m_user_header, m_user_header_size}; }

 private:
  friend class UntypedPublisher;
  template <typename, typename>
  friend class Publisher;
  UntypedSampleMut(detail::PublisherCore* publisher, const detail::LoanedChunk& chunk,
                   std::uint64_t len)
      : m_publisher(publisher),
        m_index(chunk.index),
        m_payload(chunk.payload),
        m_len(len),
        m_bytes(chunk.bytes),
        m_user_header(chunk.user_header),
        m_user_header_size(chunk.user_header_size) {}

  detail::PublisherCore* m_publisher;  ///< null once sent or moved from
  std::uint32_t m_index;
  std::byte* m_payload;
  std::uint64_t m_len;
  std::uint64_t m_bytes;
  std::byte* m_user_header;
  std::uint64_t m_user_header_size;
};

/// A received, read-only chunk in the publisher's data segment. Dropping it gives the chunk back.
class UntypedSample {
 public:
  UntypedSample(UntypedSample&& other) noexcept
      : m_owner(std::move(other.m_owner)), m_chunk(std::move(other.m_chunk)) {}
  UntypedSample& operator=(UntypedSample&&) = delete;
  UntypedSample(const UntypedSample&) = delete;
  UntypedSample& operator=(const UntypedSample&) = delete;
  ~UntypedSample() {
    if (m_owner) detail::subscriber_release(*m_owner, m_chunk);
  }

  /// The payload's bytes: a whole number of elements (one, unless the service carries slices),
  /// the size checked once at receive. The publisher's memory is read-only to us, but a hostile
  /// publisher may still rewrite these bytes while we read them: copy, then validate.
  std::span<const std::byte> payload() const { return {m_chunk.payload, m_chunk.payload_size}; }
  /// Per publisher, from 0: a gap means samples were overwritten or refused.
  std::uint64_t sequence() const { return m_chunk.sequence; }
  std::uint64_t publisher_id() const { return m_chunk.publisher_id; }
  /// When the publisher called send(), on CLOCK_MONOTONIC (what std::chrono::steady_clock reads
  /// on Linux), so `steady_clock::now() - send_time()` is how long the sample took to arrive.
  /// Written by the publisher: trust it as far as you trust the publisher.
  std::chrono::steady_clock::time_point send_time() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(m_chunk.send_time_ns)));
  }
  /// The user header's bytes (empty when the service declares none). Like the payload, in the
  /// publisher's memory: copy, then validate.
  std::span<const std::byte> user_header() const {
    return {m_chunk.user_header, m_chunk.user_header_size};
  }

 private:
  friend class UntypedSubscriber;
  template <typename, typename>
  friend class Subscriber;
  UntypedSample(std::shared_ptr<detail::SubscriberCore> owner, detail::ReceivedChunk chunk)
      : m_owner(std::move(owner)), m_chunk(std::move(chunk)) {}

  std::shared_ptr<detail::SubscriberCore> m_owner;  ///< null once moved from
  detail::ReceivedChunk m_chunk;
};

class UntypedPublisher {
 public:
  UntypedPublisher(UntypedPublisher&&) noexcept;
  /// Releases this publisher's port first, then takes `other`'s.
  UntypedPublisher& operator=(UntypedPublisher&& other) noexcept;
  UntypedPublisher(const UntypedPublisher&) = delete;
  UntypedPublisher& operator=(const UntypedPublisher&) = delete;
  /// Takes back every chunk; subscribers keep what they hold readable until they release it. With
  /// loans out, the port stays (in the service too) until the last of them is sent or dropped.
  ~UntypedPublisher();

  /// A chunk of `len` elements, uninitialised: exactly 1 unless the service carries slices, else
  /// 0 to max_slice_len() (ExceedsMaxSliceLength otherwise).
  tl::expected<UntypedSampleMut, PublisherLoanError> loan_uninit(std::uint64_t len = 1) {
    auto chunk = detail::publisher_loan(*m_core, len);
    if (!chunk) return tl::unexpected(chunk.error());
    return UntypedSampleMut(m_core.get(), *chunk, len);
  }
  /// As loan_uninit, with the bytes zeroed.
  tl::expected<UntypedSampleMut, PublisherLoanError> loan(std::uint64_t len = 1);
  /// Publishes without a copy; returns how many subscribers got it.
  tl::expected<std::size_t, PublisherSendError> send(UntypedSampleMut&& sample) {
    auto* core = std::exchange(sample.m_publisher, nullptr);
    return detail::publisher_send(*core, sample.m_index, sample.m_len);
  }
  /// Loans, copies `bytes` in, sends. The bytes must be one element (for slices: a whole number
  /// of elements, none included), else PayloadSizeMismatch; a failed loan is returned as the same
  /// error.
  tl::expected<std::size_t, PublisherSendError> send_copy(std::span<const std::byte> bytes);
  /// After each send, `notifier` notifies (its default id), so a subscriber's listener in a
  /// WaitSet wakes on new data.
  void notify_on_send(Notifier notifier);

  std::uint64_t id() const;
  /// Elements one sample may carry (1 unless the service carries slices).
  std::uint64_t max_slice_len() const;
  /// Chunks of this publisher in use anywhere (loans, subscribers, queues, history).
  std::size_t chunks_in_use() const;
  std::size_t chunk_count() const;

 private:
  friend class UntypedPublisherBuilder;
  template <typename, typename>
  friend class Publisher;  // loans straight into its SampleMut<T>
  explicit UntypedPublisher(std::unique_ptr<detail::PublisherCore> core);
  std::unique_ptr<detail::PublisherCore> m_core;  ///< null once moved from
};

class UntypedSubscriber {
 public:
  UntypedSubscriber(UntypedSubscriber&&) noexcept = default;
  UntypedSubscriber& operator=(UntypedSubscriber&&) noexcept = default;
  /// Not copyable: two handles on one port would split its queue between them.
  UntypedSubscriber(const UntypedSubscriber&) = delete;
  UntypedSubscriber& operator=(const UntypedSubscriber&) = delete;

  /// The next sample (round robin over publishers, in order per publisher), or nullopt.
  tl::expected<std::optional<UntypedSample>, SubscriberReceiveError> receive() {
    auto chunk = detail::subscriber_receive(*m_core);
    if (!chunk) return tl::unexpected(chunk.error());
    if (!*chunk) return std::optional<UntypedSample>{};
    return std::optional<UntypedSample>(UntypedSample(m_core, std::move(**chunk)));
  }
  std::uint64_t id() const;
  /// Wakeable subscribers (`wakeable(true)`): an fd readable while a sample may be waiting, for a
  /// WaitSet (`attach_notification(subscriber)`), poll or epoll; a receive that finds nothing
  /// makes it unreadable again. -1 for a subscriber that is not wakeable.
  int fd() const;

 private:
  friend class UntypedSubscriberBuilder;
  friend class WaitSet;  // busy-polls its wake listener
  template <typename, typename>
  friend class Subscriber;  // receives straight into its Sample<T>
  explicit UntypedSubscriber(std::shared_ptr<detail::SubscriberCore> core)
      : m_core(std::move(core)) {}
  /// Shared with the samples it handed out, which may outlive it.
  std::shared_ptr<detail::SubscriberCore> m_core;
};

class UntypedPublisherBuilder {
 public:
  /// Slices: the most elements one sample may carry (default 1). Fixed for the publisher's life.
  UntypedPublisherBuilder& max_slice_len(std::uint64_t n) {
    m_max_len = n;
    return *this;
  }
  /// Block policy: how long send() waits for room in a subscriber's buffer.
  UntypedPublisherBuilder& block_timeout(std::chrono::nanoseconds t) {
    m_block_timeout = t;
    return *this;
  }
  tl::expected<UntypedPublisher, PublisherCreateError> create() const;

 private:
  friend class UntypedPubSubService;
  explicit UntypedPublisherBuilder(std::shared_ptr<detail::ServiceCore> s)
      : m_service(std::move(s)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  std::uint64_t m_max_len = 1;
  std::chrono::nanoseconds m_block_timeout = PubSubDefaults::kBlockTimeout;
};

class UntypedSubscriberBuilder {
 public:
  /// true: publishers wake this subscriber after each send, so it can sleep in a WaitSet
  /// (`attach_notification(subscriber)`) or on its fd(). Default false: publishers pay nothing
  /// for it. Costs: the subscriber holds a listener on the service's wake service (an eventfd or
  /// FIFO, docs/design.md §6); each send to it notifies (a system call when it had drained the
  /// last one, unless its WaitSet is busy-polling); a receive that finds nothing drains its wake
  /// channel (a system call when a wake-up was written).
  UntypedSubscriberBuilder& wakeable(bool on) {
    m_wakeable = on;
    return *this;
  }
  tl::expected<UntypedSubscriber, SubscriberCreateError> create() const;

 private:
  friend class UntypedPubSubService;
  explicit UntypedSubscriberBuilder(std::shared_ptr<detail::ServiceCore> s)
      : m_service(std::move(s)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  bool m_wakeable = false;
};

/// What one publisher -> subscriber connection recorded since its publisher built it (docs/design.md
/// §6, "Connection telemetry"): read from shared memory without disturbing either port, as
/// `axon service stats` shows it. The counters are written by the two ports, so a hostile port can
/// make them say anything; they are statistics, never used to decide.
struct PubSubConnectionStats {
  /// Buckets of the latency histogram: 0..3 ns one each, then four per power of two up to 2^36 ns;
  /// the last one also holds everything longer.
  static constexpr std::size_t kLatencyBuckets = 140;
  /// The smallest latency bucket `b` holds.
  static std::chrono::nanoseconds bucket_floor(std::size_t b);

  std::uint64_t publisher_id = 0;
  std::uint64_t subscriber_id = 0;
  /// How long ago the publisher built the connection (when the counters started).
  std::chrono::nanoseconds age{0};
  std::uint64_t delivered = 0;    ///< the publisher pushed to this subscriber
  std::uint64_t overwritten = 0;  ///< evicted unread (OverwriteOldest)
  std::uint64_t refused = 0;      ///< not delivered for want of room (Refuse, Block timeout)
  std::uint64_t received = 0;     ///< the subscriber took
  std::uint64_t queued = 0;       ///< waiting now
  std::uint64_t high_water = 0;   ///< most waiting when the subscriber took one (itself included)
  std::uint64_t latency_sum_ns = 0;
  /// Receive time minus send time (CLOCK_MONOTONIC) of each sample taken, per bucket.
  std::array<std::uint64_t, kLatencyBuckets> latency{};

  /// Samples in the histogram.
  std::uint64_t latency_count() const;
  /// The latency under which a fraction `q` (0..1) of the samples arrived: the upper edge of the
  /// bucket that holds that rank, so never below the true value. 0 when nothing was received.
  std::chrono::nanoseconds latency_quantile(double q) const;
  std::chrono::nanoseconds latency_mean() const;
};

/// A handle on an open publish-subscribe service; ports made from it keep the service alive.
class UntypedPubSubService {
 public:
  const ServiceName& name() const;
  PubSubStaticConfig static_config() const;
  /// What the service carries, from its static config.
  PayloadType payload_type() const;
  /// The type of the user header every sample carries; an empty name when it declares none.
  PayloadType user_header_type() const;
  std::size_t number_of_publishers() const;
  std::size_t number_of_subscribers() const;
  std::size_t number_of_nodes() const;
  /// Every live connection's telemetry, by publisher then subscriber slot.
  std::vector<PubSubConnectionStats> connection_stats() const;

  UntypedPublisherBuilder publisher_builder() const { return UntypedPublisherBuilder(m_core); }
  UntypedSubscriberBuilder subscriber_builder() const { return UntypedSubscriberBuilder(m_core); }

 private:
  friend class UntypedPubSubServiceBuilder;
  explicit UntypedPubSubService(std::shared_ptr<detail::ServiceCore> core)
      : m_core(std::move(core)) {}
  std::shared_ptr<detail::ServiceCore> m_core;
};

/// `node.service_builder(name).publish_subscribe(type)`: settings given to create() are the
/// service's; given to open() they are requirements the existing service must meet (the payload
/// type exactly, at least that many ports and that much buffer and history, exactly that overflow
/// policy and access).
class UntypedPubSubServiceBuilder {
 public:
  UntypedPubSubServiceBuilder& history_size(std::uint32_t n) {
    return set(m_request.history_size, n);
  }
  UntypedPubSubServiceBuilder& subscriber_max_buffer_size(std::uint32_t n) {
    return set(m_request.buffer_size, n);
  }
  UntypedPubSubServiceBuilder& max_publishers(std::uint32_t n) {
    return set(m_request.max_publishers, n);
  }
  UntypedPubSubServiceBuilder& max_subscribers(std::uint32_t n) {
    return set(m_request.max_subscribers, n);
  }
  UntypedPubSubServiceBuilder& max_nodes(std::uint32_t n) { return set(m_request.max_nodes, n); }
  UntypedPubSubServiceBuilder& publisher_max_loans(std::uint32_t n) {
    return set(m_request.max_loans, n);
  }
  UntypedPubSubServiceBuilder& subscriber_max_borrowed_samples(std::uint32_t n) {
    return set(m_request.max_borrowed, n);
  }
  UntypedPubSubServiceBuilder& overflow_policy(OverflowPolicy p) {
    m_request.overflow = p;
    return *this;
  }
  /// Who may use the service besides our user (default Access::Owner); see access.hpp.
  UntypedPubSubServiceBuilder& access(Access a) {
    m_request.access = a;
    return *this;
  }
  /// A user header: a value of this type (a name, a size that is a multiple of its alignment,
  /// is_slice false) in every sample, beside the payload, that publishers fill and subscribers
  /// read in place (iceoryx2's and iceoryx's custom header). Part of the service's type: on open
  /// it must be exactly the service's (IncompatibleTypes otherwise), and not giving one opens
  /// only a service without. At most core::kMaxUserHeaderSize (64 KiB) bytes.
  UntypedPubSubServiceBuilder& user_header(PayloadType type) {
    m_request.user_header = std::move(type);
    return *this;
  }

  tl::expected<UntypedPubSubService, PubSubCreateError> create() const;
  tl::expected<UntypedPubSubService, PubSubOpenError> open() const;
  /// Opens, or creates when absent; safe when many processes race for the same name.
  tl::expected<UntypedPubSubService, PubSubOpenOrCreateError> open_or_create() const;

 private:
  friend class ServiceBuilder;
  UntypedPubSubServiceBuilder(std::shared_ptr<detail::NodeCore> node, ServiceName name,
                              PayloadType type)
      : m_node(std::move(node)), m_name(std::move(name)) {
    m_request.type = std::move(type);
  }
  UntypedPubSubServiceBuilder& set(std::optional<std::uint32_t>& field, std::uint32_t n) {
    field = n;
    return *this;
  }
  std::shared_ptr<detail::NodeCore> m_node;
  ServiceName m_name;
  detail::PubSubRequest m_request;
};

}  // namespace axon
