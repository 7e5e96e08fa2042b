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
// Loan, send, receive and release take no lock and allocate nothing. They make no system call,
// except the first receive after a publisher appeared, which maps that publisher's data segment,
// and send under OverflowPolicy::Block, which sleeps while a subscriber's buffer is full. Ports
// are not thread-safe: use each from one thread at a time, and release samples on the thread of
// their port. Every typed class here wraps its untyped counterpart (untyped.hpp), which carries
// payloads described at run time.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

#include "axon/publish_subscribe/payload_type.hpp"
#include "axon/publish_subscribe/static_config.hpp"
#include "axon/publish_subscribe/untyped.hpp"
#include "axon/service_name.hpp"

namespace axon {

template <typename T, typename H>
class Publisher;
template <typename T, typename H>
class Subscriber;

/// A loaned, writable sample. Dropping it unsent gives the chunk back. H: the service's user
/// header type (`.user_header<H>()`), void when it has none.
template <typename T, typename H = void>
class SampleMut {
  using Element = typename detail::IsSlice<T>::Element;

 public:
  SampleMut(SampleMut&&) noexcept = default;
  SampleMut& operator=(SampleMut&&) = delete;

  /// The payload in shared memory (a span of the loaned length for slices).
  decltype(auto) payload() {
    if constexpr (detail::IsSlice<T>::value) {
      return std::span<Element>(reinterpret_cast<Element*>(m_sample.payload().data()),
                                m_sample.len());
    } else {
      return *std::launder(reinterpret_cast<T*>(m_sample.payload().data()));
    }
  }
  Element* operator->() requires(!detail::IsSlice<T>::value) { return &payload(); }
  /// The user header in shared memory, value-initialised at the loan.
  template <typename U = H>
    requires(!std::is_void_v<U>)
  U& user_header() {
    return *std::launder(reinterpret_cast<U*>(m_sample.user_header().data()));
  }

 private:
  friend class Publisher<T, H>;
  explicit SampleMut(UntypedSampleMut sample) : m_sample(std::move(sample)) {}
  UntypedSampleMut m_sample;
};

/// A received, read-only sample; it points into the publisher's data segment. Dropping it gives
/// the chunk back to the publisher.
template <typename T, typename H = void>
class Sample {
  using Element = typename detail::IsSlice<T>::Element;

 public:
  Sample(Sample&&) noexcept = default;
  Sample& operator=(Sample&&) = delete;

  decltype(auto) payload() const {
    const auto bytes = m_sample.payload();
    if constexpr (detail::IsSlice<T>::value) {
      return std::span<const Element>(reinterpret_cast<const Element*>(bytes.data()),
                                      bytes.size() / sizeof(Element));
    } else {
      return *std::launder(reinterpret_cast<const T*>(bytes.data()));
    }
  }
  const Element* operator->() const requires(!detail::IsSlice<T>::value) { return &payload(); }
  /// Per publisher, from 0: a gap means samples were overwritten or refused.
  std::uint64_t sequence() const { return m_sample.sequence(); }
  std::uint64_t publisher_id() const { return m_sample.publisher_id(); }
  /// When the publisher sent it, on steady_clock (CLOCK_MONOTONIC): `steady_clock::now() -
  /// send_time()` is its latency. As trustworthy as the publisher.
  std::chrono::steady_clock::time_point send_time() const { return m_sample.send_time(); }
  /// The user header, in the publisher's memory (read it as you read the payload).
  template <typename U = H>
    requires(!std::is_void_v<U>)
  const U& user_header() const {
    return *std::launder(reinterpret_cast<const U*>(m_sample.user_header().data()));
  }

 private:
  friend class Subscriber<T, H>;
  explicit Sample(UntypedSample sample) : m_sample(std::move(sample)) {}
  UntypedSample m_sample;
};

template <typename T, typename H>
class Publisher {
  using Element = typename detail::IsSlice<T>::Element;

 public:
  /// A chunk with uninitialised payload (for slices: `len` elements, up to the max length); its
  /// user header, if the service has one, is value-initialised.
  tl::expected<SampleMut<T, H>, PublisherLoanError> loan_uninit(std::uint64_t len = 1) {
    if constexpr (!detail::IsSlice<T>::value) len = 1;
    // Straight into a SampleMut<T>, not through an UntypedSampleMut result: one move less.
    auto* core = m_port.m_core.get();
    auto chunk = detail::publisher_loan(*core, len);
    if (!chunk) return tl::unexpected(chunk.error());
    if constexpr (!std::is_void_v<H>) new (chunk->user_header) H{};
    return SampleMut<T, H>(UntypedSampleMut(core, *chunk, len));
  }
  /// A chunk whose payload is value-initialised.
  tl::expected<SampleMut<T, H>, PublisherLoanError> loan(std::uint64_t len = 1) {
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
  tl::expected<std::size_t, PublisherSendError> send(SampleMut<T, H>&& sample) {
    return m_port.send(std::move(sample.m_sample));
  }
  /// Loans, copies `value` in, sends (a user header goes out value-initialised). A failed loan is
  /// returned as the same error (ExceedsMaxLoans, ...), not as Corrupted: nothing is wrong with
  /// shared memory then.
  tl::expected<std::size_t, PublisherSendError> send_copy(const T& value)
    requires(!detail::IsSlice<T>::value)
  {
    return m_port.send_copy(std::as_bytes(std::span<const T, 1>(&value, 1)));
  }
  /// After each send, `notifier` notifies (its default id), so a subscriber's listener in a
  /// WaitSet wakes on new data.
  void notify_on_send(Notifier notifier) { m_port.notify_on_send(std::move(notifier)); }

  std::uint64_t id() const { return m_port.id(); }
  std::uint64_t max_slice_len() const { return m_port.max_slice_len(); }
  /// Chunks of this publisher in use anywhere (loans, subscribers, queues, history).
  std::size_t chunks_in_use() const { return m_port.chunks_in_use(); }
  std::size_t chunk_count() const { return m_port.chunk_count(); }

 private:
  template <typename, typename>
  friend class PublisherBuilder;
  explicit Publisher(UntypedPublisher port) : m_port(std::move(port)) {}
  UntypedPublisher m_port;
};

template <typename T, typename H>
class Subscriber {
 public:
  /// The next sample (round robin over publishers, in order per publisher), or nullopt.
  tl::expected<std::optional<Sample<T, H>>, SubscriberReceiveError> receive() {
    // Straight into a Sample<T>, not through an UntypedSample result: one move less per sample.
    auto chunk = detail::subscriber_receive(*m_port.m_core);
    if (!chunk) return tl::unexpected(chunk.error());
    if (!*chunk) return std::optional<Sample<T, H>>{};
    return std::optional<Sample<T, H>>(
        Sample<T, H>(UntypedSample(m_port.m_core, std::move(**chunk))));
  }
  std::uint64_t id() const { return m_port.id(); }
  /// Wakeable subscribers: readable while a sample may be waiting; -1 otherwise (untyped.hpp).
  int fd() const { return m_port.fd(); }

 private:
  template <typename, typename>
  friend class SubscriberBuilder;
  friend class WaitSet;  // attaches its port
  explicit Subscriber(UntypedSubscriber port) : m_port(std::move(port)) {}
  UntypedSubscriber m_port;
};

template <typename T, typename H = void>
class PublisherBuilder {
 public:
  /// Slices: the most elements one sample may carry (default 1). Fixed for the publisher's life.
  PublisherBuilder& max_slice_len(std::uint64_t n) {
    m_builder.max_slice_len(n);
    return *this;
  }
  /// Block policy: how long send() waits for room in a subscriber's buffer.
  PublisherBuilder& block_timeout(std::chrono::nanoseconds t) {
    m_builder.block_timeout(t);
    return *this;
  }
  tl::expected<Publisher<T, H>, PublisherCreateError> create() const {
    return m_builder.create().map(
        [](UntypedPublisher p) { return Publisher<T, H>(std::move(p)); });
  }

 private:
  template <typename, typename>
  friend class PubSubService;
  explicit PublisherBuilder(UntypedPublisherBuilder builder) : m_builder(std::move(builder)) {}
  UntypedPublisherBuilder m_builder;
};

template <typename T, typename H = void>
class SubscriberBuilder {
 public:
  /// true: publishers wake this subscriber after each send, so it can sleep in a WaitSet
  /// (UntypedSubscriberBuilder::wakeable says what it costs). Default false.
  SubscriberBuilder& wakeable(bool on) {
    m_builder.wakeable(on);
    return *this;
  }
  tl::expected<Subscriber<T, H>, SubscriberCreateError> create() const {
    return m_builder.create().map(
        [](UntypedSubscriber s) { return Subscriber<T, H>(std::move(s)); });
  }

 private:
  template <typename, typename>
  friend class PubSubService;
  explicit SubscriberBuilder(UntypedSubscriberBuilder builder) : m_builder(std::move(builder)) {}
  UntypedSubscriberBuilder m_builder;
};

/// A handle on an open publish-subscribe service of payload T; ports made from it keep the
/// service alive.
template <typename T, typename H = void>
class PubSubService {
 public:
  const ServiceName& name() const { return m_service.name(); }
  PubSubStaticConfig static_config() const { return m_service.static_config(); }
  std::size_t number_of_publishers() const { return m_service.number_of_publishers(); }
  std::size_t number_of_subscribers() const { return m_service.number_of_subscribers(); }
  std::size_t number_of_nodes() const { return m_service.number_of_nodes(); }
  /// Every live connection's telemetry (UntypedPubSubService::connection_stats).
  std::vector<PubSubConnectionStats> connection_stats() const {
    return m_service.connection_stats();
  }

  PublisherBuilder<T, H> publisher_builder() const {
    return PublisherBuilder<T, H>(m_service.publisher_builder());
  }
  SubscriberBuilder<T, H> subscriber_builder() const {
    return SubscriberBuilder<T, H>(m_service.subscriber_builder());
  }

 private:
  template <typename, typename>
  friend class PubSubServiceBuilder;
  explicit PubSubService(UntypedPubSubService service) : m_service(std::move(service)) {}
  UntypedPubSubService m_service;
};

/// `node.service_builder(name).publish_subscribe<T>()`, or with a user header
/// `.publish_subscribe<T>().user_header<H>()`; see UntypedPubSubServiceBuilder for what each
/// setting means on create and on open.
template <typename T, typename H = void>
class PubSubServiceBuilder {
  using Element = typename detail::IsSlice<T>::Element;
  static_assert(std::is_trivially_copyable_v<Element>,
                "axon publish-subscribe payloads live in shared memory read by other processes: "
                "the payload type must be trivially copyable (no pointers to heap data, no "
                "virtual functions, no owning members)");
  static_assert(std::is_void_v<H> || std::is_trivially_copyable_v<H>,
                "a user header lives in shared memory too: it must be trivially copyable");

 public:
  /// Every sample carries a value of type U beside its payload (a timestamp of the data, a frame
  /// id...), which publishers fill (`SampleMut::user_header()`) and subscribers read in place
  /// (`Sample::user_header()`). Part of the service's type: checked on open like the payload.
  template <typename U>
  PubSubServiceBuilder<T, U> user_header() const
    requires(std::is_void_v<H> && !detail::IsSlice<U>::value)
  {
    auto builder = m_builder;
    builder.user_header(payload_type_of<U>());
    return PubSubServiceBuilder<T, U>(std::move(builder));
  }
  PubSubServiceBuilder& history_size(std::uint32_t n) { return forward(&B::history_size, n); }
  PubSubServiceBuilder& subscriber_max_buffer_size(std::uint32_t n) {
    return forward(&B::subscriber_max_buffer_size, n);
  }
  PubSubServiceBuilder& max_publishers(std::uint32_t n) { return forward(&B::max_publishers, n); }
  PubSubServiceBuilder& max_subscribers(std::uint32_t n) {
    return forward(&B::max_subscribers, n);
  }
  PubSubServiceBuilder& max_nodes(std::uint32_t n) { return forward(&B::max_nodes, n); }
  PubSubServiceBuilder& publisher_max_loans(std::uint32_t n) {
    return forward(&B::publisher_max_loans, n);
  }
  PubSubServiceBuilder& subscriber_max_borrowed_samples(std::uint32_t n) {
    return forward(&B::subscriber_max_borrowed_samples, n);
  }
  PubSubServiceBuilder& overflow_policy(OverflowPolicy p) {
    return forward(&B::overflow_policy, p);
  }
  /// Who may use the service besides our user (default Access::Owner); see access.hpp.
  PubSubServiceBuilder& access(Access a) { return forward(&B::access, a); }

  tl::expected<PubSubService<T, H>, PubSubCreateError> create() const {
    return m_builder.create().map(typed);
  }
  tl::expected<PubSubService<T, H>, PubSubOpenError> open() const {
    return m_builder.open().map(typed);
  }
  /// Opens, or creates when absent; safe when many processes race for the same name.
  tl::expected<PubSubService<T, H>, PubSubOpenOrCreateError> open_or_create() const {
    return m_builder.open_or_create().map(typed);
  }

 private:
  using B = UntypedPubSubServiceBuilder;
  friend class ServiceBuilder;
  template <typename, typename>
  friend class PubSubServiceBuilder;
  explicit PubSubServiceBuilder(UntypedPubSubServiceBuilder builder)
      : m_builder(std::move(builder)) {}
  template <typename Setter, typename Value>
  PubSubServiceBuilder& forward(Setter setter, Value value) {
    (m_builder.*setter)(value);
    return *this;
  }
  static PubSubService<T, H> typed(UntypedPubSubService service) {
    return PubSubService<T, H>(std::move(service));
  }
  UntypedPubSubServiceBuilder m_builder;
};

}  // namespace axon
