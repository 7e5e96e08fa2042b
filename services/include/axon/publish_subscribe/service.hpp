// Zero-copy publish-subscribe. A publisher loans a chunk of its data segment, the user writes the
// payload in place, and send() hands subscribers only the chunk's offset; a subscriber reads the
// payload where the publisher wrote it. No copy, whatever the size.
//
//   auto service = node.service_builder(name).publish_subscribe<Pose>().open_or_create();
//   auto subscriber = service->subscriber_builder().create();
//   auto publisher = service->publisher_builder().create();
//   auto sample = publisher->loan_uninit();
//   sample->payload() = pose;
//   publisher->send(std::move(*sample));
//   while (auto received = subscriber->receive()) {
//     if (!*received) break;  // nothing more
//     use((*received)->payload());
//   }
//
// (tests/unit/services/pubsub_usage_test.cpp compiles and runs exactly these lines.)
//
// The payload type must be trivially copyable (it lives in shared memory, read by other
// processes). Its name, size and alignment are checked on open (IncompatibleTypes). The name is
// `T::AXON_TYPE_NAME` when T defines it (recommended across compilers), else the compiler's.
// `publish_subscribe<Slice<T>>()` carries arrays of T whose max length each publisher fixes.
//
// Loan, send, receive and release take no lock, make no system call and allocate nothing (the
// Block overflow policy sleeps while a subscriber's buffer is full). Ports are not thread-safe:
// use each from one thread at a time, and release samples on the thread of their port.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>

#include <tl/expected.hpp>

#include "axon/detail/open_or_create.hpp"
#include "axon/publish_subscribe/pubsub_core.hpp"
#include "axon/publish_subscribe/static_config.hpp"
#include "axon/event/service.hpp"
#include "axon/service_name.hpp"

namespace axon {

/// Marker: `publish_subscribe<Slice<T>>()` sends arrays of T.
template <typename T>
struct Slice {
  using ElementType = T;
};

namespace detail {
template <typename T>
struct IsSlice : std::false_type {
  using Element = T;
};
template <typename T>
struct IsSlice<Slice<T>> : std::true_type {
  using Element = T;
};

template <typename T>
constexpr std::string_view compiler_type_name() {
  constexpr std::string_view f = __PRETTY_FUNCTION__;
  constexpr std::string_view key = "T = ";
  constexpr auto start = f.find(key) + key.size();
  constexpr auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

template <typename T>
constexpr std::string_view type_name() {
  if constexpr (requires { T::AXON_TYPE_NAME; }) {
    return std::string_view(T::AXON_TYPE_NAME);
  } else {
    return compiler_type_name<T>();
  }
}
}  // namespace detail

enum class PubSubOpenError {
  DoesNotExist,                                ///< no service of that name
  IncompatibleMessagingPattern,                ///< the name belongs to another pattern
  IncompatibleTypes,                           ///< payload type name, size, alignment or slice-ness differ
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
  InvalidSettings,        ///< a setting is 0 or above its limit
  PermissionDenied,       ///< the root directory or /dev/shm refused us
  InsufficientResources,  ///< not enough shared memory or fds
  InternalFailure,        ///< a system call failed unexpectedly
};
const char* to_string(PubSubCreateError error);

using PubSubOpenOrCreateError = std::variant<PubSubOpenError, PubSubCreateError>;
/// The name of whichever error it holds (every to_string of axon returns a static string).
const char* to_string(const PubSubOpenOrCreateError& error);

namespace detail {
struct PubSubRequest {
  std::string_view type_name;
  std::uint64_t type_size = 0;
  std::uint64_t type_alignment = 0;
  bool is_slice = false;
  std::optional<std::uint32_t> max_publishers, max_subscribers, max_nodes, history_size,
      buffer_size, max_loans, max_borrowed;
  std::optional<OverflowPolicy> overflow;
  std::optional<Access> access;
};
tl::expected<std::shared_ptr<ServiceCore>, PubSubCreateError> create_pubsub(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const PubSubRequest& request);
tl::expected<std::shared_ptr<ServiceCore>, PubSubOpenError> open_pubsub(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const PubSubRequest& request);
PubSubStaticConfig pubsub_config(const ServiceCore& service);
std::size_t count_pubsub_ports(const ServiceCore& service, bool publishers);
}  // namespace detail

template <typename T>
class Publisher;
template <typename T>
class Subscriber;

/// A loaned, writable sample. Dropping it unsent gives the chunk back.
template <typename T>
class SampleMut {
  using Element = typename detail::IsSlice<T>::Element;

 public:
  SampleMut(SampleMut&& other) noexcept
      : m_publisher(std::exchange(other.m_publisher, nullptr)),
        m_index(other.m_index),
        m_payload(other.m_payload),
        m_len(other.m_len) {}
  SampleMut& operator=(SampleMut&&) = delete;
  SampleMut(const SampleMut&) = delete;
  ~SampleMut() {
    if (m_publisher != nullptr) m_publisher->discard(m_index);
  }

  /// The payload in shared memory (a span of the loaned length for slices).
  decltype(auto) payload() {
    if constexpr (detail::IsSlice<T>::value) {
      return std::span<Element>(reinterpret_cast<Element*>(m_payload), m_len);
    } else {
      return *std::launder(reinterpret_cast<T*>(m_payload));
    }
  }
  Element* operator->() requires(!detail::IsSlice<T>::value) { return &payload(); }

 private:
  friend class Publisher<T>;
  SampleMut(detail::PublisherCore* publisher, std::uint32_t index, std::byte* payload,
            std::uint64_t len)
      : m_publisher(publisher), m_index(index), m_payload(payload), m_len(len) {}
  detail::PublisherCore* m_publisher;
  std::uint32_t m_index;
  std::byte* m_payload;
  std::uint64_t m_len;
};

/// A received, read-only sample; it points into the publisher's data segment. Dropping it gives
/// the chunk back to the publisher.
template <typename T>
class Sample {
  using Element = typename detail::IsSlice<T>::Element;

 public:
  Sample(Sample&& other) noexcept
      : m_owner(std::move(other.m_owner)), m_received(std::move(other.m_received)) {}
  Sample& operator=(Sample&&) = delete;
  Sample(const Sample&) = delete;
  ~Sample() {
    if (m_owner) m_owner->release(m_received);
  }

  decltype(auto) payload() const {
    if constexpr (detail::IsSlice<T>::value) {
      return std::span<const Element>(reinterpret_cast<const Element*>(m_received.payload),
                                      m_received.payload_size / sizeof(Element));
    } else {
      return *std::launder(reinterpret_cast<const T*>(m_received.payload));
    }
  }
  const Element* operator->() const requires(!detail::IsSlice<T>::value) { return &payload(); }
  /// Per publisher, from 0: a gap means samples were overwritten or refused.
  std::uint64_t sequence() const { return m_received.sequence; }
  std::uint64_t publisher_id() const { return m_received.publisher_id; }

 private:
  friend class Subscriber<T>;
  Sample(std::shared_ptr<detail::SubscriberCore> owner, detail::SubscriberCore::Received r)
      : m_owner(std::move(owner)), m_received(std::move(r)) {}
  std::shared_ptr<detail::SubscriberCore> m_owner;
  detail::SubscriberCore::Received m_received;
};

template <typename T>
class Publisher {
  using Element = typename detail::IsSlice<T>::Element;

 public:
  /// A chunk with uninitialised payload (for slices: `len` elements, up to the max length).
  tl::expected<SampleMut<T>, PublisherLoanError> loan_uninit(std::uint64_t len = 1) {
    if constexpr (!detail::IsSlice<T>::value) len = 1;
    auto loan = m_core->loan(len);
    if (!loan) return tl::unexpected(loan.error());
    return SampleMut<T>(m_core.get(), loan->index, loan->payload, len);
  }
  /// A chunk whose payload is value-initialised.
  tl::expected<SampleMut<T>, PublisherLoanError> loan(std::uint64_t len = 1) {
    auto sample = loan_uninit(len);
    if (sample) {
      if constexpr (detail::IsSlice<T>::value) {
        for (auto& e : sample->payload()) new (&e) Element{};
      } else {
        new (&sample->payload()) T{};
      }
    }
    return sample;
  }
  /// Publishes without a copy; returns how many subscribers got it.
  tl::expected<std::size_t, PublisherSendError> send(SampleMut<T>&& sample) {
    auto* core = std::exchange(sample.m_publisher, nullptr);
    return core->send(sample.m_index, sample.m_len);
  }
  /// Loans, copies `value` in, sends. A failed loan is returned as the same error (ExceedsMaxLoans,
  /// ...), not as Corrupted: nothing is wrong with shared memory then.
  tl::expected<std::size_t, PublisherSendError> send_copy(const T& value)
    requires(!detail::IsSlice<T>::value)
  {
    auto sample = loan_uninit();
    if (!sample) return tl::unexpected(detail::send_error_of(sample.error()));
    std::memcpy(static_cast<void*>(&sample->payload()), &value, sizeof(T));
    return send(std::move(*sample));
  }
  /// After each send, `notifier` notifies (its default id), so a subscriber's listener in a
  /// WaitSet wakes on new data.
  void notify_on_send(Notifier notifier) { m_core->set_notifier(std::move(notifier)); }

  std::uint64_t id() const { return m_core->id(); }
  std::uint64_t max_slice_len() const { return m_core->max_elements(); }
  /// Chunks of this publisher in use anywhere (loans, subscribers, queues, history).
  std::size_t chunks_in_use() const { return m_core->chunks_in_use(); }
  std::size_t chunk_count() const { return m_core->chunk_count(); }

 private:
  template <typename>
  friend class PublisherBuilder;
  explicit Publisher(std::unique_ptr<detail::PublisherCore> core) : m_core(std::move(core)) {}
  std::unique_ptr<detail::PublisherCore> m_core;
};

template <typename T>
class Subscriber {
 public:
  /// The next sample (round robin over publishers, in order per publisher), or nullopt.
  tl::expected<std::optional<Sample<T>>, SubscriberReceiveError> receive() {
    auto r = m_core->receive();
    if (!r) return tl::unexpected(r.error());
    if (!*r) return std::optional<Sample<T>>{};
    return std::optional<Sample<T>>(Sample<T>(m_core, std::move(**r)));
  }
  std::uint64_t id() const { return m_core->id(); }

 private:
  template <typename>
  friend class SubscriberBuilder;
  explicit Subscriber(std::shared_ptr<detail::SubscriberCore> core) : m_core(std::move(core)) {}
  std::shared_ptr<detail::SubscriberCore> m_core;
};

template <typename T>
class PublisherBuilder {
 public:
  /// Slices: the most elements one sample may carry (default 1). Fixed for the publisher's life.
  PublisherBuilder& max_slice_len(std::uint64_t n) {
    m_max_len = n;
    return *this;
  }
  /// Block policy: how long send() waits for room in a subscriber's buffer.
  PublisherBuilder& block_timeout(std::chrono::nanoseconds t) {
    m_block_timeout = t;
    return *this;
  }
  tl::expected<Publisher<T>, PublisherCreateError> create() {
    auto core = detail::PublisherCore::create(m_service, m_max_len, m_block_timeout);
    if (!core) return tl::unexpected(core.error());
    return Publisher<T>(std::move(*core));
  }

 private:
  template <typename>
  friend class PubSubService;
  explicit PublisherBuilder(std::shared_ptr<detail::ServiceCore> s) : m_service(std::move(s)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  std::uint64_t m_max_len = 1;
  std::chrono::nanoseconds m_block_timeout = PubSubDefaults::kBlockTimeout;
};

template <typename T>
class SubscriberBuilder {
 public:
  tl::expected<Subscriber<T>, SubscriberCreateError> create() {
    auto core = detail::SubscriberCore::create(m_service);
    if (!core) return tl::unexpected(core.error());
    return Subscriber<T>(std::move(*core));
  }

 private:
  template <typename>
  friend class PubSubService;
  explicit SubscriberBuilder(std::shared_ptr<detail::ServiceCore> s) : m_service(std::move(s)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
};

template <typename T>
class PubSubService {
 public:
  const ServiceName& name() const;
  PubSubStaticConfig static_config() const { return detail::pubsub_config(*m_core); }
  std::size_t number_of_publishers() const { return detail::count_pubsub_ports(*m_core, true); }
  std::size_t number_of_subscribers() const { return detail::count_pubsub_ports(*m_core, false); }

  PublisherBuilder<T> publisher_builder() const { return PublisherBuilder<T>(m_core); }
  SubscriberBuilder<T> subscriber_builder() const { return SubscriberBuilder<T>(m_core); }

 private:
  template <typename>
  friend class PubSubServiceBuilder;
  explicit PubSubService(std::shared_ptr<detail::ServiceCore> core) : m_core(std::move(core)) {}
  std::shared_ptr<detail::ServiceCore> m_core;
};

template <typename T>
class PubSubServiceBuilder {
  using Element = typename detail::IsSlice<T>::Element;
  static_assert(std::is_trivially_copyable_v<Element>,
                "axon publish-subscribe payloads live in shared memory read by other processes: "
                "the payload type must be trivially copyable (no pointers to heap data, no "
                "virtual functions, no owning members)");

 public:
  PubSubServiceBuilder& history_size(std::uint32_t n) { return set(m_request.history_size, n); }
  PubSubServiceBuilder& subscriber_max_buffer_size(std::uint32_t n) {
    return set(m_request.buffer_size, n);
  }
  PubSubServiceBuilder& max_publishers(std::uint32_t n) { return set(m_request.max_publishers, n); }
  PubSubServiceBuilder& max_subscribers(std::uint32_t n) {
    return set(m_request.max_subscribers, n);
  }
  PubSubServiceBuilder& max_nodes(std::uint32_t n) { return set(m_request.max_nodes, n); }
  PubSubServiceBuilder& publisher_max_loans(std::uint32_t n) { return set(m_request.max_loans, n); }
  PubSubServiceBuilder& subscriber_max_borrowed_samples(std::uint32_t n) {
    return set(m_request.max_borrowed, n);
  }
  PubSubServiceBuilder& overflow_policy(OverflowPolicy p) {
    m_request.overflow = p;
    return *this;
  }
  /// Who may use the service besides our user (default Access::Owner); see access.hpp.
  PubSubServiceBuilder& access(Access a) {
    m_request.access = a;
    return *this;
  }

  tl::expected<PubSubService<T>, PubSubCreateError> create() {
    auto core = detail::create_pubsub(m_node, m_name, m_request);
    if (!core) return tl::unexpected(core.error());
    return PubSubService<T>(std::move(*core));
  }
  tl::expected<PubSubService<T>, PubSubOpenError> open() {
    auto core = detail::open_pubsub(m_node, m_name, m_request);
    if (!core) return tl::unexpected(core.error());
    return PubSubService<T>(std::move(*core));
  }
  /// Opens, or creates when absent; safe when many processes race for the same name.
  tl::expected<PubSubService<T>, PubSubOpenOrCreateError> open_or_create() {
    return detail::open_or_create(
        [&] {
          return detail::open_pubsub(m_node, m_name, m_request).map([](auto core) {
            return PubSubService<T>(std::move(core));
          });
        },
        [&] {
          return detail::create_pubsub(m_node, m_name, m_request).map([](auto core) {
            return PubSubService<T>(std::move(core));
          });
        });
  }

 private:
  friend class ServiceBuilder;
  PubSubServiceBuilder(std::shared_ptr<detail::NodeCore> node, ServiceName name)
      : m_node(std::move(node)), m_name(std::move(name)) {
    m_request.type_name = detail::type_name<Element>();
    m_request.type_size = sizeof(Element);
    m_request.type_alignment = alignof(Element);
    m_request.is_slice = detail::IsSlice<T>::value;
  }
  PubSubServiceBuilder& set(std::optional<std::uint32_t>& field, std::uint32_t n) {
    field = n;
    return *this;
  }
  std::shared_ptr<detail::NodeCore> m_node;
  ServiceName m_name;
  detail::PubSubRequest m_request;
};

namespace detail {
const ServiceName& service_name_of(const ServiceCore& service);
}
template <typename T>
const ServiceName& PubSubService<T>::name() const {
  return detail::service_name_of(*m_core);
}

}  // namespace axon
