// Publish-subscribe over the untyped ports, zero-copy: a loaned sample is a writable buffer in
// shared memory, a received one a read-only buffer (numpy.frombuffer(sample) copies nothing).
// A view holds its sample (memoryview.obj), so a received chunk is released only when the last
// view of it is gone; a loan cannot be sent while a view of it lives (BufferError), so nobody
// writes into a chunk that subscribers read. Typed payloads are ctypes types: their name
// (AXON_TYPE_NAME or the class name), size and alignment make the PayloadType.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common.hpp"

namespace axon::python {
namespace {

struct PyPublisher {
  explicit PyPublisher(UntypedPublisher p, py::object t) : publisher(std::move(p)), type(std::move(t)) {}
  UntypedPublisher publisher;
  py::object type;  ///< the ctypes type of the service, or None
  std::shared_ptr<PortGuard> guard = std::make_shared<PortGuard>("publisher");
};

struct PySampleMut {
  PySampleMut(UntypedSampleMut s, py::object p, py::object t)
      : sample(std::move(s)),
        publisher(std::move(p)),
        type(std::move(t)),
        guard(publisher.cast<PyPublisher&>().guard) {}
  PySampleMut(const PySampleMut&) = delete;
  PySampleMut& operator=(const PySampleMut&) = delete;
  /// Collected while its publisher sends on another thread: dropped after that send.
  ~PySampleMut() { guard->drop(sample); }
  std::optional<UntypedSampleMut> sample;  ///< empty once sent or dropped
  py::object publisher;                    ///< the PyPublisher: sends it
  py::object type;
  std::shared_ptr<PortGuard> guard;
  Py_ssize_t exports = 0;  ///< buffer views alive

  UntypedSampleMut& get() {
    if (!sample) throw py::value_error(kGone);
    return *sample;
  }
  static constexpr const char* kGone = "the sample was sent or dropped";
  std::optional<std::span<const std::byte>> bytes() const {
    if (!sample) return std::nullopt;
    return sample->payload();
  }
};

struct PySample {
  PySample(UntypedSample s, py::object t, std::uint64_t size)
      : sample(std::move(s)), type(std::move(t)), element_size(size) {}
  std::optional<UntypedSample> sample;  ///< empty once released
  py::object type;
  std::uint64_t element_size;
  Py_ssize_t exports = 0;

  UntypedSample& get() {
    if (!sample) throw py::value_error(kGone);
    return *sample;
  }
  static constexpr const char* kGone = "the sample was released";
  std::optional<std::span<const std::byte>> bytes() const {
    if (!sample) return std::nullopt;
    return sample->payload();
  }
};

/// A service with the ctypes type (or None) its ports hand out.
struct PyPubSubService {
  UntypedPubSubService service;
  py::object type;
};
struct PyPubSubServiceBuilder {
  UntypedPubSubServiceBuilder builder;
  py::object type;
};
struct PyPublisherBuilder {
  UntypedPublisherBuilder builder;
  py::object type;
};
struct PySubscriberBuilder {
  UntypedSubscriberBuilder builder;
  py::object type;
  std::uint64_t element_size;
};
std::size_t send(PySampleMut& self) {
  auto& sample = self.get();
  check_no_views(self.exports,
                 "a view of the sample is still alive (memoryview, numpy array or ctypes "
                 "object): release it before sending, or it would write into a sample "
                 "subscribers read");
  // The publisher stays alive through `owner` while the GIL is released; the sample is moved out
  // first, so the SampleMut may be collected meanwhile.
  const py::object owner = self.publisher;
  auto& publisher = owner.cast<PyPublisher&>();
  PortGuard::Hold hold(*publisher.guard);
  auto taken = std::move(sample);
  self.sample.reset();
  tl::expected<std::size_t, PublisherSendError> sent;
  {
    py::gil_scoped_release release;  // Block policy: may wait up to block_timeout
    sent = publisher.publisher.send(std::move(taken));
  }
  return take(std::move(sent));
}

py::object sample_mut_value(py::object self_obj) {
  auto& self = self_obj.cast<PySampleMut&>();
  return ctypes_over(self.type, self_obj, self.get().len());
}

}  // namespace

PayloadType payload_type_of_ctypes(const py::handle& cls, bool is_slice) {
  const auto ctypes = py::module_::import("ctypes");
  const std::string name = py::hasattr(cls, "AXON_TYPE_NAME")
                               ? py::str(cls.attr("AXON_TYPE_NAME")).cast<std::string>()
                               : py::str(cls.attr("__name__")).cast<std::string>();
  return PayloadType{name, ctypes.attr("sizeof")(cls).cast<std::uint64_t>(),
                     ctypes.attr("alignment")(cls).cast<std::uint64_t>(), is_slice};
}

std::pair<PayloadType, py::object> payload_arg(const py::object& payload, bool is_slice) {
  if (py::isinstance<PayloadType>(payload)) return {payload.cast<PayloadType>(), py::none()};
  return {payload_type_of_ctypes(payload, is_slice), payload};
}

py::object ctypes_over(const py::object& type, const py::object& owner, std::uint64_t len) {
  if (type.is_none()) throw py::type_error("the service's payload has no ctypes type");
  if (len == 1 && !py::hasattr(type, "_length_")) return type.attr("from_buffer")(owner);
  return (type * py::int_(len)).attr("from_buffer")(owner);
}

py::object ctypes_copy(const py::object& type, std::span<const std::byte> bytes,
                       std::uint64_t element_size) {
  if (type.is_none()) throw py::type_error("the service's payload has no ctypes type");
  const py::bytes copy(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::uint64_t len = element_size ? bytes.size() / element_size : 0;
  if (len == 1 && !py::hasattr(type, "_length_")) return type.attr("from_buffer_copy")(copy);
  return (type * py::int_(len)).attr("from_buffer_copy")(copy);
}

void bind_publish_subscribe(py::module_& m) {
  py::enum_<OverflowPolicy>(m, "OverflowPolicy", "What a publisher does when a buffer is full.")
      .value("OverwriteOldest", OverflowPolicy::OverwriteOldest, "Drop the oldest unread sample (the default).")
      .value("Refuse", OverflowPolicy::Refuse, "That receiver does not get the new one; send counts it out.")
      .value("Block", OverflowPolicy::Block, "Wait for room, sleeping, at most the sender's block_timeout.");

  py::class_<PayloadType>(m, "PayloadType",
                          "What a publish-subscribe service carries: type name, element size, "
                          "alignment, slice or not; checked on open.")
      .def(py::init([](std::string name, std::uint64_t size, std::uint64_t alignment,
                       bool is_slice) {
             return PayloadType{std::move(name), size, alignment, is_slice};
           }),
           py::arg("name"), py::arg("size"), py::arg("alignment"), py::arg("is_slice") = false)
      .def_static(
          "of", [](const py::handle& cls, bool is_slice) {
            return payload_type_of_ctypes(cls, is_slice);
          },
          py::arg("ctypes_type"), py::arg("is_slice") = false,
          "The PayloadType of a ctypes type: AXON_TYPE_NAME (or the class name), "
          "ctypes.sizeof, ctypes.alignment; as C++ payload_type_of<T>() names the matching "
          "struct.")
      .def_readwrite("name", &PayloadType::name, "The type name checked on open.")
      .def_readwrite("size", &PayloadType::size, "sizeof of one element.")
      .def_readwrite("alignment", &PayloadType::alignment, "alignof of one element.")
      .def_readwrite("is_slice", &PayloadType::is_slice,
                     "True when a sample carries a variable number of elements.")
      .def("__eq__", [](const PayloadType& a, const PayloadType& b) { return a == b; })
      .def("__repr__", [](const PayloadType& t) {
        return "PayloadType(" + py::repr(py::str(t.name)).cast<std::string>() + ", " +
               std::to_string(t.size) + ", " + std::to_string(t.alignment) +
               (t.is_slice ? ", is_slice=True)" : ")");
      });

  py::class_<PubSubStaticConfig>(m, "PubSubStaticConfig",
                                 "The settings a publish-subscribe service was created with.")
      .def_readonly("type_name", &PubSubStaticConfig::type_name,
                    "The payload type's name (a C++ type name or AXON_TYPE_NAME).")
      .def_readonly("type_size", &PubSubStaticConfig::type_size,
                    "sizeof of one payload element.")
      .def_readonly("type_alignment", &PubSubStaticConfig::type_alignment,
                    "alignof of one payload element.")
      .def_readonly("is_slice", &PubSubStaticConfig::is_slice,
                    "True when samples carry a variable number of elements.")
      .def_readonly("user_header_name", &PubSubStaticConfig::user_header_name,
                    "The user header type's name; empty when samples carry none.")
      .def_readonly("user_header_size", &PubSubStaticConfig::user_header_size,
                    "sizeof of the user header; 0 when samples carry none.")
      .def_readonly("user_header_alignment", &PubSubStaticConfig::user_header_alignment,
                    "alignof of the user header; 0 when samples carry none.")
      .def_readonly("max_publishers", &PubSubStaticConfig::max_publishers,
                    "Publishers the service allows.")
      .def_readonly("max_subscribers", &PubSubStaticConfig::max_subscribers,
                    "Subscribers the service allows.")
      .def_readonly("max_nodes", &PubSubStaticConfig::max_nodes,
                    "Nodes that may have it open at once.")
      .def_readonly("history_size", &PubSubStaticConfig::history_size,
                    "Samples a new subscriber gets from each publisher's past.")
      .def_readonly("subscriber_buffer_size", &PubSubStaticConfig::subscriber_buffer_size,
                    "Samples each subscriber's buffer holds unread.")
      .def_readonly("max_loans", &PubSubStaticConfig::max_loans,
                    "Loans one publisher may hold at once.")
      .def_readonly("max_borrowed_samples", &PubSubStaticConfig::max_borrowed_samples,
                    "Samples one subscriber may hold received at once.")
      .def_readonly("overflow", &PubSubStaticConfig::overflow,
                    "What a send does when a subscriber's buffer is full (OverflowPolicy).")
      .def_readonly("access", &PubSubStaticConfig::access,
                    "Who may use it besides the creator's user (Access).");

  py::class_<PubSubConnectionStats>(
      m, "ConnectionStats",
      "One publisher -> subscriber connection's telemetry since it was built: counts, queue "
      "depth and a latency histogram (send to receive), read from shared memory.")
      .def_readonly("publisher_id", &PubSubConnectionStats::publisher_id,
                    "The id of the connection's Publisher.")
      .def_readonly("subscriber_id", &PubSubConnectionStats::subscriber_id,
                    "The id of the connection's Subscriber.")
      .def_property_readonly(
          "age_ns", [](const PubSubConnectionStats& c) { return c.age.count(); },
          "ns since the publisher built the connection.")
      .def_readonly("delivered", &PubSubConnectionStats::delivered,
                    "Samples the publisher pushed to this subscriber.")
      .def_readonly("overwritten", &PubSubConnectionStats::overwritten,
                    "Evicted before the subscriber took them (OverwriteOldest).")
      .def_readonly("refused", &PubSubConnectionStats::refused,
                    "Not delivered for want of room (Refuse, Block timeout).")
      .def_readonly("received", &PubSubConnectionStats::received,
                    "Samples the subscriber took.")
      .def_readonly("queued", &PubSubConnectionStats::queued, "Samples waiting now.")
      .def_readonly("high_water", &PubSubConnectionStats::high_water,
                    "Most samples waiting when one was taken (itself included).")
      .def_property_readonly(
          "latency_histogram",
          [](const PubSubConnectionStats& c) {
            return std::vector<std::uint64_t>(c.latency.begin(), c.latency.end());
          },
          "Samples per latency bucket (ConnectionStats.bucket_floor_ns(i) is bucket i's floor).")
      .def_static(
          "bucket_floor_ns",
          [](std::size_t b) { return PubSubConnectionStats::bucket_floor(b).count(); },
          py::arg("bucket"), "The smallest latency (ns) that histogram bucket `bucket` holds.")
      .def(
          "latency_quantile_ns",
          [](const PubSubConnectionStats& c, double q) { return c.latency_quantile(q).count(); },
          py::arg("q"),
          "The latency under which a fraction q of the samples arrived (a bucket's upper "
          "edge); 0 when none.")
      .def_property_readonly(
          "latency_mean_ns", [](const PubSubConnectionStats& c) { return c.latency_mean().count(); },
          "The mean latency (ns) of the samples received; 0 when none.");

  auto sample_mut_class =
      py::class_<PySampleMut>(m, "SampleMut", py::buffer_protocol(),
                              "A loaned chunk in shared memory, a writable buffer: "
                              "memoryview(sample), numpy.frombuffer(sample, ...), or .value "
                              "(the ctypes object over it). send() publishes it without a copy; "
                              "every view of it must be released first (BufferError). Dropping "
                              "it unsent gives the chunk back.")
          .def_property_readonly(
              "payload", [](py::object self) { return py::memoryview(self); },
              "A writable memoryview of the payload's bytes.")
          .def_property_readonly(
              "value", &sample_mut_value,
              "The payload as the service's ctypes type (an array of it for slices), over the "
              "shared memory: no copy. Release it (del) before send().")
          .def("__len__", [](PySampleMut& self) { return self.get().len(); })
          .def_property_readonly(
              "len", [](PySampleMut& self) { return self.get().len(); },
              "Elements loaned (1 unless the service carries slices).")
          .def_property(
              "user_header",
              [](PySampleMut& self) {
                const auto h = self.get().user_header();
                return py::bytes(reinterpret_cast<const char*>(h.data()), h.size());
              },
              [](PySampleMut& self, const py::bytes& value) {
                const auto text = std::string_view(value);
                const auto h = self.get().user_header();
                if (text.size() != h.size()) {
                  throw py::value_error("the user header is " + std::to_string(h.size()) +
                                        " bytes, not " + std::to_string(text.size()));
                }
                if (!h.empty()) std::memcpy(h.data(), text.data(), h.size());
              },
              "The user header's bytes (b'' when the service has none; zeroed at the loan). "
              "Assign exactly its size in bytes, e.g. bytes(MyHeader(...)).")
          .def("send", &send,
               "Publishes the sample without a copy; returns how many subscribers got it. "
               "Raises PublisherSendError, or BufferError while a view of it lives.");
  set_chunk_buffer<PySampleMut, false>(sample_mut_class);

  auto sample_class =
      py::class_<PySample>(m, "Sample", py::buffer_protocol(),
                           "A received chunk in the publisher's shared memory, a read-only "
                           "buffer: numpy.frombuffer(sample, dtype) reads it without a copy. "
                           "The chunk stays valid while the sample or any view of it lives. "
                           "A hostile publisher may still rewrite it: copy, then validate.")
          .def_property_readonly(
              "payload", [](py::object self) { return py::memoryview(self); },
              "A read-only memoryview of the payload's bytes.")
          .def_property_readonly(
              "value",
              [](PySample& self) {
                return ctypes_copy(self.type, self.get().payload(), self.element_size);
              },
              "A copy of the payload as the service's ctypes type (ctypes cannot map read-only "
              "memory; use numpy.frombuffer for zero-copy reads).")
          .def("__len__",
               [](PySample& self) {
                 const auto size = self.get().payload().size();
                 return self.element_size ? size / self.element_size : 0;
               })
          .def_property_readonly("sequence", [](PySample& self) { return self.get().sequence(); },
                                 "Per publisher, from 0: a gap means samples were lost.")
          .def_property_readonly(
              "publisher_id", [](PySample& self) { return self.get().publisher_id(); },
              "The id of the Publisher that sent it.")
          .def_property_readonly(
              "send_time_ns",
              [](PySample& self) {
                return static_cast<std::int64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        self.get().send_time().time_since_epoch())
                        .count());
              },
              "When the publisher sent it, in ns of CLOCK_MONOTONIC: time.monotonic_ns() - "
              "sample.send_time_ns is its latency. As trustworthy as the publisher.")
          .def_property_readonly(
              "user_header",
              [](PySample& self) {
                const auto h = self.get().user_header();
                return py::bytes(reinterpret_cast<const char*>(h.data()), h.size());
              },
              "A copy of the user header's bytes (b'' when the service has none): "
              "MyHeader.from_buffer_copy(sample.user_header).")
          .def(
              "release",
              [](PySample& self) {
                check_no_views(self.exports, "a view of the sample is still alive");
                self.sample.reset();
              },
              "Gives the chunk back now (else when the sample is collected). BufferError "
              "while a view of it lives.");
  set_chunk_buffer<PySample, true>(sample_class);

  py::class_<PyPublisher>(m, "Publisher", "Publishes zero-copy samples. One thread at a time.")
      .def(
          "loan_uninit",
          [](py::object self_obj, std::uint64_t len) {
            auto& self = self_obj.cast<PyPublisher&>();
            self.guard->check();
            return std::make_unique<PySampleMut>(take(self.publisher.loan_uninit(len)), self_obj,
                                                 self.type);
          },
          py::arg("len") = 1, "A chunk of `len` elements (1 unless slices), uninitialised.")
      .def(
          "loan",
          [](py::object self_obj, std::uint64_t len) {
            auto& self = self_obj.cast<PyPublisher&>();
            self.guard->check();
            return std::make_unique<PySampleMut>(take(self.publisher.loan(len)), self_obj,
                                                 self.type);
          },
          py::arg("len") = 1, "As loan_uninit, zeroed. Raises PublisherLoanError.")
      .def("send", [](PyPublisher&, PySampleMut& sample) { return send(sample); },
           py::arg("sample"), "sample.send().")
      .def(
          "send_copy",
          [](PyPublisher& self, const py::buffer& data) {
            const auto info = data.request();
            const auto* bytes = static_cast<const std::byte*>(info.ptr);
            const std::span<const std::byte> span(
                bytes, static_cast<std::size_t>(info.size * info.itemsize));
            PortGuard::Hold hold(*self.guard);
            tl::expected<std::size_t, PublisherSendError> sent;
            {
              // `data` is held by the caller and `info` pins its buffer for the call.
              py::gil_scoped_release release;
              sent = self.publisher.send_copy(span);
            }
            return take(std::move(sent));
          },
          py::arg("data"),
          "Loans, copies `data` (any contiguous buffer: bytes, a ctypes object, a numpy array) "
          "in, sends. Raises PublisherSendError (PayloadSizeMismatch: not whole elements).")
      .def(
          "notify_on_send",
          [](PyPublisher& self, PyNotifier& notifier) {
            self.guard->check();
            auto& n = notifier.get();
            self.publisher.notify_on_send(std::move(n));
            notifier.notifier.reset();
          },
          py::arg("notifier"),
          "After each send `notifier` notifies (its default id). The notifier is given away.")
      .def_property_readonly(
          "id", [](PyPublisher& self) { return self.publisher.id(); },
          "Unique within the service for its life; Sample.publisher_id names it.")
      .def_property_readonly(
          "max_slice_len", [](PyPublisher& self) { return self.publisher.max_slice_len(); },
          "Elements one sample may carry (1 unless the service carries slices).")
      .def(
          "chunks_in_use", [](PyPublisher& self) { return self.publisher.chunks_in_use(); },
          "Chunks of this publisher in use anywhere (loans, subscribers, queues, history).")
      .def(
          "chunk_count", [](PyPublisher& self) { return self.publisher.chunk_count(); },
          "Chunks in the publisher's data segment, used or free.");

  py::class_<PySubscriber>(m, "Subscriber", "Receives zero-copy samples. Never blocks.")
      .def(
          "receive",
          [](PySubscriber& self) -> std::unique_ptr<PySample> {
            auto received = take(self.subscriber.receive());
            if (!received) return nullptr;
            return std::make_unique<PySample>(std::move(*received), self.type, self.element_size);
          },
          "The next Sample, or None. Raises SubscriberReceiveError.")
      .def_property_readonly(
          "id", [](PySubscriber& self) { return self.subscriber.id(); },
          "Unique within the service for its life.")
      .def(
          "fileno",
          [](const PySubscriber& self) {
            const int fd = self.subscriber.fd();
            if (fd < 0) {
              PyErr_SetString(py::module_::import("io").attr("UnsupportedOperation").ptr(),
                              "this subscriber is not wakeable: create it with "
                              "subscriber_builder().wakeable(True)");
              throw py::error_already_set();
            }
            return fd;
          },
          "Wakeable subscribers: an fd readable while a sample may be waiting (for select, "
          "poll, asyncio or a WaitSet); others raise io.UnsupportedOperation.");

  py::class_<PyPublisherBuilder>(m, "PublisherBuilder", "PubSubService.publisher_builder()")
      .def(
          "max_slice_len",
          [](PyPublisherBuilder& b, std::uint64_t n) -> PyPublisherBuilder& {
            b.builder.max_slice_len(n);
            return b;
          },
          py::arg("n"), py::return_value_policy::reference_internal,
          "Slices: the most elements one sample may carry.")
      .def(
          "block_timeout",
          [](PyPublisherBuilder& b, const py::handle& t) -> PyPublisherBuilder& {
            b.builder.block_timeout(duration_arg(t));
            return b;
          },
          py::arg("timeout"), py::return_value_policy::reference_internal,
          "Block policy: how long send() waits for room.")
      .def(
          "create",
          [](PyPublisherBuilder& b) {
            return std::make_unique<PyPublisher>(take(b.builder.create()), b.type);
          },
          "Raises PublisherCreateError.");

  py::class_<PySubscriberBuilder>(m, "SubscriberBuilder", "PubSubService.subscriber_builder()")
      .def(
          "wakeable",
          [](PySubscriberBuilder& b, bool on) -> PySubscriberBuilder& {
            b.builder.wakeable(on);
            return b;
          },
          py::arg("on") = true,
          "True: publishers wake this subscriber after each send, so a WaitSet can sleep on it "
          "(attach_notification) or on its fileno(). Default False: publishers pay nothing for "
          "it. A receive that finds nothing makes its fileno() unreadable again.",
          py::return_value_policy::reference_internal)
      .def(
          "create",
          [](PySubscriberBuilder& b) {
            return PySubscriber{take(b.builder.create()), b.type, b.element_size};
          },
          "Raises SubscriberCreateError.");

  py::class_<PyPubSubService>(m, "PubSubService",
                              "An open publish-subscribe service; its ports keep it alive.")
      .def_property_readonly(
          "name", [](PyPubSubService& s) { return s.service.name(); }, "The service name.")
      .def_property_readonly(
          "static_config", [](PyPubSubService& s) { return s.service.static_config(); },
          "The settings it was created with (PubSubStaticConfig).")
      .def_property_readonly(
          "payload_type", [](PyPubSubService& s) { return s.service.payload_type(); },
          "What it carries (PayloadType).")
      .def_property_readonly(
          "user_header_type", [](PyPubSubService& s) { return s.service.user_header_type(); },
          "The user header every sample carries (PayloadType; an empty name when none).")
      .def(
          "connection_stats", [](PyPubSubService& s) { return s.service.connection_stats(); },
          "Every live publisher -> subscriber connection's telemetry (ConnectionStats), as "
          "`axon service stats` reads it.")
      .def(
          "number_of_publishers",
          [](PyPubSubService& s) { return s.service.number_of_publishers(); },
          "Publishers alive now, in every process.")
      .def(
          "number_of_subscribers",
          [](PyPubSubService& s) { return s.service.number_of_subscribers(); },
          "Subscribers alive now, in every process.")
      .def(
          "number_of_nodes", [](PyPubSubService& s) { return s.service.number_of_nodes(); },
          "Nodes that have the service open now.")
      .def(
          "publisher_builder",
          [](PyPubSubService& s) {
            return PyPublisherBuilder{s.service.publisher_builder(), s.type};
          },
          "Starts building a Publisher of this service.")
      .def(
          "subscriber_builder",
          [](PyPubSubService& s) {
            return PySubscriberBuilder{s.service.subscriber_builder(), s.type,
                                       s.service.payload_type().size};
          },
          "Starts building a Subscriber of this service.");

  using B = PyPubSubServiceBuilder;
  constexpr auto self_ref = py::return_value_policy::reference_internal;
#define AXON_PYTHON_SETTER(method, doc)                                  \
  def(                                                                   \
      #method,                                                           \
      [](B& b, std::uint32_t n) -> B& {                                  \
        b.builder.method(n);                                             \
        return b;                                                        \
      },                                                                 \
      py::arg("n"), self_ref, doc)
  py::class_<B>(m, "PubSubServiceBuilder",
                "node.service_builder(name).publish_subscribe(type): settings given to "
                "create() are the service's; given to open() they are requirements.")
      .AXON_PYTHON_SETTER(history_size, "Samples a new subscriber gets from each publisher's past.")
      .AXON_PYTHON_SETTER(subscriber_max_buffer_size, "Samples each subscriber's buffer holds unread.")
      .AXON_PYTHON_SETTER(max_publishers, "Publishers the service allows.")
      .AXON_PYTHON_SETTER(max_subscribers, "Subscribers the service allows.")
      .AXON_PYTHON_SETTER(max_nodes, "Nodes that may have it open at once.")
      .AXON_PYTHON_SETTER(publisher_max_loans, "Loans one publisher may hold at once.")
      .AXON_PYTHON_SETTER(subscriber_max_borrowed_samples,
                          "Samples one subscriber may hold received at once.")
      .def(
          "overflow_policy",
          [](B& b, OverflowPolicy p) -> B& {
            b.builder.overflow_policy(p);
            return b;
          },
          py::arg("policy"), self_ref,
          "What a send does when a subscriber's buffer is full (default OverwriteOldest).")
      .def(
          "access",
          [](B& b, Access a) -> B& {
            b.builder.access(a);
            return b;
          },
          py::arg("access"), self_ref,
          "Who may use the service besides our user (default Access.Owner).")
      .def(
          "user_header",
          [](B& b, const py::object& type) -> B& {
            auto header = payload_arg(type, false).first;
            b.builder.user_header(std::move(header));
            return b;
          },
          py::arg("type"), self_ref,
          "Every sample carries a value of this type (a ctypes type or a PayloadType) beside "
          "its payload, part of the service's type (checked on open).")
      .def(
          "create", [](B& b) { return PyPubSubService{take(b.builder.create()), b.type}; },
          "Raises PubSubCreateError.")
      .def(
          "open", [](B& b) { return PyPubSubService{take(b.builder.open()), b.type}; },
          "Raises PubSubOpenError (IncompatibleTypes: another payload type).")
      .def(
          "open_or_create",
          [](B& b) { return PyPubSubService{take(b.builder.open_or_create()), b.type}; },
          "Opens, or creates when absent.");
#undef AXON_PYTHON_SETTER

  m.attr("ServiceBuilder").cast<py::class_<ServiceBuilder>>().def(
      "publish_subscribe",
      [](const ServiceBuilder& sb, const py::object& type, bool is_slice) {
        auto [payload, ctypes_type] = payload_arg(type, is_slice);
        return B{sb.publish_subscribe(std::move(payload)), std::move(ctypes_type)};
      },
      py::arg("payload"), py::arg("is_slice") = false,
      "A zero-copy publish-subscribe service of `payload`: a ctypes type (a Structure, "
      "c_uint8, ...; is_slice: samples are arrays of it) or a PayloadType (then samples are "
      "bytes only).");
}

}  // namespace axon::python
