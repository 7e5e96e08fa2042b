// Request-response over the untyped ports, zero-copy as publish-subscribe is: a loaned request or
// response is a writable buffer in shared memory, a received request (ActiveRequest) or
// response a read-only one. Views hold their object; what would give a chunk up under a live
// view (send, close, release) raises BufferError instead.
//
// The two objects whose drop means something to the peer have an explicit end as well, since
// Python collects objects when it likes: ActiveRequest.close() ends the stream (a `with` block
// does it at its end), PendingResponse.close() cancels the request.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common.hpp"

namespace axon::python {
namespace {

/// The ctypes types (or None) of a service's payloads, and the response's element size (what
/// `len` and `.value` of a response count in).
struct Types {
  py::object request;
  py::object response;
  std::uint64_t request_size = 0;
  std::uint64_t response_size = 0;
};

struct PyClient {
  PyClient(UntypedClient c, Types t) : client(std::move(c)), types(std::move(t)) {}
  UntypedClient client;
  Types types;
};

struct PyRequestMut {
  PyRequestMut(UntypedRequestMut r, py::object c, py::object t)
      : request(std::move(r)), client(std::move(c)), type(std::move(t)) {}
  std::optional<UntypedRequestMut> request;  ///< empty once sent or dropped
  py::object client;                         ///< the PyClient: sends it
  py::object type;
  Py_ssize_t exports = 0;

  static constexpr const char* kGone = "the request was sent or dropped";
  UntypedRequestMut& get() {
    if (!request) throw py::value_error(kGone);
    return *request;
  }
  std::optional<std::span<const std::byte>> bytes() const {
    if (!request) return std::nullopt;
    return request->payload();
  }
};

struct PyResponse {
  PyResponse(UntypedResponse r, py::object t, std::uint64_t size)
      : response(std::move(r)), type(std::move(t)), element_size(size) {}
  std::optional<UntypedResponse> response;  ///< empty once released
  py::object type;
  std::uint64_t element_size;
  Py_ssize_t exports = 0;

  static constexpr const char* kGone = "the response was released";
  UntypedResponse& get() {
    if (!response) throw py::value_error(kGone);
    return *response;
  }
  std::optional<std::span<const std::byte>> bytes() const {
    if (!response) return std::nullopt;
    return response->payload();
  }
};

struct PyPendingResponse {
  PyPendingResponse(UntypedPendingResponse p, Types t) : pending(std::move(p)), types(std::move(t)) {}
  std::optional<UntypedPendingResponse> pending;  ///< empty once closed (cancelled)
  Types types;

  UntypedPendingResponse& get() {
    if (!pending) throw py::value_error("the pending response was closed");
    return *pending;
  }
};

struct PyServer {
  PyServer(UntypedServer s, Types t) : server(std::move(s)), types(std::move(t)) {}
  UntypedServer server;
  Types types;
  std::shared_ptr<PortGuard> guard = std::make_shared<PortGuard>("server");
};

struct PyActiveRequest {
  PyActiveRequest(UntypedActiveRequest r, Types t, std::shared_ptr<PortGuard> g)
      : request(std::move(r)), types(std::move(t)), guard(std::move(g)) {}
  PyActiveRequest(const PyActiveRequest&) = delete;
  PyActiveRequest& operator=(const PyActiveRequest&) = delete;
  /// Collected while its server sends on another thread: the stream ends after that send.
  ~PyActiveRequest() { guard->drop(request); }
  std::optional<UntypedActiveRequest> request;  ///< empty once closed (the stream ended)
  Types types;
  std::shared_ptr<PortGuard> guard;  ///< the server's: its objects are not thread-safe
  Py_ssize_t exports = 0;

  static constexpr const char* kGone = "the request was closed (its stream ended)";
  /// The request, or ValueError once closed, RuntimeError while another thread sends.
  UntypedActiveRequest& get() {
    guard->check();
    if (!request) throw py::value_error(kGone);
    return *request;
  }
  std::optional<std::span<const std::byte>> bytes() const {
    if (!request) return std::nullopt;
    return request->payload();
  }
  /// Ends the stream; the request's bytes go back to the client, so no view may remain.
  void close() {
    if (!request) return;
    check_no_views(exports,
                   "a view of the request is still alive (memoryview, numpy array): release "
                   "it before closing, the request's chunk goes back to the client");
    guard->check();
    request.reset();
  }
};

struct PyResponseMut {
  PyResponseMut(UntypedResponseMut r, py::object a, py::object t)
      : response(std::move(r)),
        active(std::move(a)),
        type(std::move(t)),
        guard(active.cast<PyActiveRequest&>().guard) {}
  PyResponseMut(const PyResponseMut&) = delete;
  PyResponseMut& operator=(const PyResponseMut&) = delete;
  /// Collected while its server sends on another thread: dropped after that send.
  ~PyResponseMut() { guard->drop(response); }
  std::optional<UntypedResponseMut> response;  ///< empty once sent or dropped
  py::object active;                           ///< the PyActiveRequest: sends it
  py::object type;
  std::shared_ptr<PortGuard> guard;
  Py_ssize_t exports = 0;

  static constexpr const char* kGone = "the response was sent or dropped";
  UntypedResponseMut& get() {
    if (!response) throw py::value_error(kGone);
    return *response;
  }
  std::optional<std::span<const std::byte>> bytes() const {
    if (!response) return std::nullopt;
    return response->payload();
  }
};

constexpr const char* kWriteUnderView =
    "a view of the loan is still alive (memoryview, numpy array or ctypes object): release it "
    "before sending, or it would write into memory the peer reads";

std::span<const std::byte> bytes_of(const py::buffer& data) {
  const auto info = data.request();
  return {static_cast<const std::byte*>(info.ptr),
          static_cast<std::size_t>(info.size * info.itemsize)};
}

std::unique_ptr<PyPendingResponse> send_request(PyRequestMut& self) {
  auto& request = self.get();
  check_no_views(self.exports, kWriteUnderView);
  auto& client = self.client.cast<PyClient&>();
  auto taken = std::move(request);
  self.request.reset();
  return std::make_unique<PyPendingResponse>(take(client.client.send(std::move(taken))),
                                             client.types);
}

void send_response(PyResponseMut& self) {
  auto& response = self.get();
  check_no_views(self.exports, kWriteUnderView);
  // The ActiveRequest stays alive through `owner` while the GIL is released; the response is
  // moved out first, so the ResponseMut may be collected meanwhile.
  const py::object owner = self.active;
  auto& active = owner.cast<PyActiveRequest&>().get();
  PortGuard::Hold hold(*self.guard);
  auto taken = std::move(response);
  self.response.reset();
  tl::expected<void, ResponseSendError> sent;
  {
    py::gil_scoped_release release;  // Block policy: may wait up to block_timeout
    sent = active.send(std::move(taken));
  }
  take(std::move(sent));
}

}  // namespace

void bind_request_response(py::module_& m) {
  py::class_<RequestResponseStaticConfig>(
      m, "RequestResponseStaticConfig", "The settings a request-response service was created with.")
      .def_readonly("request_type", &RequestResponseStaticConfig::request_type,
                    "What a request carries (PayloadType).")
      .def_readonly("response_type", &RequestResponseStaticConfig::response_type,
                    "What a response carries (PayloadType).")
      .def_readonly("max_clients", &RequestResponseStaticConfig::max_clients,
                    "Clients the service allows.")
      .def_readonly("max_servers", &RequestResponseStaticConfig::max_servers,
                    "Servers the service allows.")
      .def_readonly("max_nodes", &RequestResponseStaticConfig::max_nodes,
                    "Nodes that may have it open at once.")
      .def_readonly("max_active_requests_per_client",
                    &RequestResponseStaticConfig::max_active_requests_per_client,
                    "Requests one client may have in flight.")
      .def_readonly("max_response_buffer_size",
                    &RequestResponseStaticConfig::max_response_buffer_size,
                    "Responses to one request one server may have queued for the client.")
      .def_readonly("max_loaned_requests", &RequestResponseStaticConfig::max_loaned_requests,
                    "Loans one client may hold at once.")
      .def_readonly("max_loaned_responses", &RequestResponseStaticConfig::max_loaned_responses,
                    "Loans one server may hold at once.")
      .def_readonly("max_borrowed_responses",
                    &RequestResponseStaticConfig::max_borrowed_responses,
                    "Responses a client may hold received, per pending response and server.")
      .def_readonly("fire_and_forget", &RequestResponseStaticConfig::fire_and_forget,
                    "True: a server still receives a request whose PendingResponse was "
                    "dropped before it took it.")
      .def_readonly("overflow", &RequestResponseStaticConfig::overflow,
                    "What a server's send does when the client's buffer for the request is full.")
      .def_readonly("access", &RequestResponseStaticConfig::access,
                    "Who may use it besides the creator's user (Access).");

  auto request_mut_class =
      py::class_<PyRequestMut>(m, "RequestMut", py::buffer_protocol(),
                               "A loaned request in the client's shared memory, a writable "
                               "buffer (memoryview, numpy.frombuffer, or .value). send() sends "
                               "it without a copy once every view of it is released "
                               "(BufferError otherwise). Dropping it unsent gives it back.")
          .def_property_readonly(
              "payload", [](py::object self) { return py::memoryview(self); },
              "A writable memoryview of the request's bytes.")
          .def_property_readonly(
              "value",
              [](py::object self_obj) {
                auto& self = self_obj.cast<PyRequestMut&>();
                return ctypes_over(self.type, self_obj, self.get().len());
              },
              "The request as the service's ctypes type, over the shared memory: no copy. "
              "Release it (del) before send().")
          .def("__len__", [](PyRequestMut& self) { return self.get().len(); })
          .def_property_readonly(
              "len", [](PyRequestMut& self) { return self.get().len(); },
              "Elements loaned (1 unless requests are slices).")
          .def("send", &send_request,
               "Sends the request, without a copy, to every server connected now; returns its "
               "PendingResponse. Raises RequestSendError, or BufferError while a view lives.");
  set_chunk_buffer<PyRequestMut, false>(request_mut_class);

  auto response_class =
      py::class_<PyResponse>(m, "Response", py::buffer_protocol(),
                             "One response of a stream, read-only in the server's shared "
                             "memory: numpy.frombuffer(response, dtype) reads it without a "
                             "copy, and it stays valid while the response or a view of it "
                             "lives. A hostile server may still rewrite it: copy, then validate.")
          .def_property_readonly(
              "payload", [](py::object self) { return py::memoryview(self); },
              "A read-only memoryview of the response's bytes.")
          .def_property_readonly(
              "value",
              [](PyResponse& self) {
                return ctypes_copy(self.type, self.get().payload(), self.element_size);
              },
              "A copy of the response as the service's ctypes type (numpy.frombuffer reads "
              "it in place).")
          .def("__len__",
               [](PyResponse& self) {
                 const auto size = self.get().payload().size();
                 return self.element_size ? size / self.element_size : 0;
               })
          .def_property_readonly(
              "sequence", [](PyResponse& self) { return self.get().sequence(); },
              "Per server and request, from 0: a gap means responses were overwritten or "
              "refused.")
          .def_property_readonly(
              "server_id", [](PyResponse& self) { return self.get().server_id(); },
              "The id of the server that sent it.")
          .def(
              "release",
              [](PyResponse& self) {
                check_no_views(self.exports, "a view of the response is still alive");
                self.response.reset();
              },
              "Gives the response back to the server now (else when it is collected), so "
              "that max_borrowed_responses allows another. BufferError while a view lives.");
  set_chunk_buffer<PyResponse, true>(response_class);

  py::class_<PyPendingResponse>(
      m, "PendingResponse",
      "A request in flight and the stream of its responses from every server that got it. "
      "close() (or the end of a `with` block, or its collection) cancels it: the servers see "
      "is_connected() turn False and what they still send is dropped.")
      .def(
          "receive",
          [](PyPendingResponse& self) -> std::unique_ptr<PyResponse> {
            auto received = take(self.get().receive());
            if (!received) return nullptr;
            return std::make_unique<PyResponse>(std::move(*received), self.types.response,
                                                self.types.response_size);
          },
          "The next Response (round robin over servers, in order per server), or None. Raises "
          "ResponseReceiveError: ServerGone once for each server that vanished without ending "
          "its stream.")
      .def(
          "is_done", [](PyPendingResponse& self) { return self.get().is_done(); },
          "True once every server that got the request ended its stream (or is gone) and "
          "every response was received.")
      .def(
          "number_of_server_connections",
          [](PyPendingResponse& self) { return self.get().number_of_server_connections(); },
          "Servers that got the request and have neither ended their stream nor gone.")
      .def_property_readonly(
          "request",
          [](PyPendingResponse& self) {
            const auto bytes = self.get().request();
            return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          },
          "A copy of the request's bytes as sent.")
      .def_property_readonly(
          "request_id", [](PyPendingResponse& self) { return self.get().request_id(); },
          "Per client, from 1.")
      .def_property_readonly(
          "closed", [](PyPendingResponse& self) { return !self.pending.has_value(); },
          "True once close() cancelled it.")
      .def(
          "close", [](PyPendingResponse& self) { self.pending.reset(); },
          "Cancels the request now: nobody listens any more. Responses received before stay "
          "valid. A second close() does nothing.")
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__",
          [](PyPendingResponse& self, const py::args&) {
            self.pending.reset();
            return false;
          },
          "close().");

  py::class_<PyClient>(m, "Client",
                       "Sends requests; each send returns the PendingResponse of its stream. "
                       "One thread at a time.")
      .def(
          "loan_uninit",
          [](py::object self_obj, std::uint64_t len) {
            auto& self = self_obj.cast<PyClient&>();
            return std::make_unique<PyRequestMut>(take(self.client.loan_uninit(len)), self_obj,
                                                  self.types.request);
          },
          py::arg("len") = 1, "A request of `len` elements (1 unless slices), uninitialised. "
          "Raises LoanError.")
      .def(
          "loan",
          [](py::object self_obj, std::uint64_t len) {
            auto& self = self_obj.cast<PyClient&>();
            return std::make_unique<PyRequestMut>(take(self.client.loan(len)), self_obj,
                                                  self.types.request);
          },
          py::arg("len") = 1, "As loan_uninit, zeroed. Raises LoanError.")
      .def("send", [](PyClient&, PyRequestMut& request) { return send_request(request); },
           py::arg("request"), "request.send().")
      .def(
          "send_copy",
          [](PyClient& self, const py::buffer& data) {
            return std::make_unique<PyPendingResponse>(
                take(self.client.send_copy(bytes_of(data))), self.types);
          },
          py::arg("data"),
          "Loans, copies `data` (any contiguous buffer: bytes, a ctypes object, a numpy array) "
          "in, sends; returns the PendingResponse. Raises RequestSendError.")
      .def(
          "notify_on_send",
          [](PyClient& self, PyNotifier& notifier) {
            auto& n = notifier.get();
            self.client.notify_on_send(std::move(n));
            notifier.notifier.reset();
          },
          py::arg("notifier"),
          "After each request sent `notifier` notifies (its default id), so a server's "
          "listener in a WaitSet wakes. The notifier is given away.")
      .def_property_readonly(
          "id", [](PyClient& self) { return self.client.id(); }, "The client's id.")
      .def_property_readonly(
          "max_slice_len", [](PyClient& self) { return self.client.max_slice_len(); },
          "Elements one request may carry.")
      .def(
          "number_of_servers", [](PyClient& self) { return self.client.number_of_servers(); },
          "Servers a request sent now would reach.");

  auto active_request_class =
      py::class_<PyActiveRequest>(
          m, "ActiveRequest", py::buffer_protocol(),
          "A request a server received, a read-only buffer in the client's shared memory "
          "(numpy.frombuffer(request) reads it in place), and the stream of responses to it. "
          "close(), or the end of a `with` block, ends the stream (so does its collection, at "
          "a time Python chooses): close it explicitly. BufferError while a view lives.")
          .def_property_readonly(
              "payload", [](py::object self) { return py::memoryview(self); },
              "A read-only memoryview of the request's bytes.")
          .def_property_readonly(
              "value",
              [](PyActiveRequest& self) {
                return ctypes_copy(self.types.request, self.get().payload(),
                                   self.types.request_size);
              },
              "A copy of the request as the service's ctypes type.")
          .def("__len__",
               [](PyActiveRequest& self) {
                 const auto size = self.get().payload().size();
                 return self.types.request_size ? size / self.types.request_size : 0;
               })
          .def_property_readonly(
              "client_id", [](PyActiveRequest& self) { return self.get().client_id(); },
              "The id of the client that sent it.")
          .def_property_readonly(
              "request_id", [](PyActiveRequest& self) { return self.get().request_id(); },
              "Per client, from 1.")
          .def(
              "is_connected", [](PyActiveRequest& self) { return self.get().is_connected(); },
              "True while the client listens (it has not closed its PendingResponse nor left).")
          .def(
              "loan_uninit",
              [](py::object self_obj, std::uint64_t len) {
                auto& self = self_obj.cast<PyActiveRequest&>();
                return std::make_unique<PyResponseMut>(take(self.get().loan_uninit(len)),
                                                       self_obj, self.types.response);
              },
              py::arg("len") = 1, "A response of `len` elements, uninitialised. Raises LoanError.")
          .def(
              "loan",
              [](py::object self_obj, std::uint64_t len) {
                auto& self = self_obj.cast<PyActiveRequest&>();
                return std::make_unique<PyResponseMut>(take(self.get().loan(len)), self_obj,
                                                       self.types.response);
              },
              py::arg("len") = 1, "As loan_uninit, zeroed. Raises LoanError.")
          .def("send", [](PyActiveRequest&, PyResponseMut& response) { send_response(response); },
               py::arg("response"), "response.send().")
          .def(
              "send_copy",
              [](PyActiveRequest& self, const py::buffer& data) {
                auto& active = self.get();
                const auto info = data.request();  // pins the buffer while the GIL is released
                const std::span<const std::byte> bytes(
                    static_cast<const std::byte*>(info.ptr),
                    static_cast<std::size_t>(info.size * info.itemsize));
                PortGuard::Hold hold(*self.guard);
                tl::expected<void, ResponseSendError> sent;
                {
                  py::gil_scoped_release release;  // Block policy: may wait up to block_timeout
                  sent = active.send_copy(bytes);
                }
                take(std::move(sent));
              },
              py::arg("data"),
              "Loans, copies `data` in and sends it as the stream's next response. Raises "
              "ResponseSendError (NotConnected: the client stopped listening).")
          .def_property_readonly(
              "closed", [](PyActiveRequest& self) { return !self.request.has_value(); },
              "True once close() ended the stream.")
          .def("close", &PyActiveRequest::close,
               "Ends the stream now. BufferError while a view of the request lives. A second "
               "close() does nothing.")
          .def("__enter__", [](py::object self) { return self; })
          .def(
              "__exit__",
              [](PyActiveRequest& self, const py::args&) {
                self.close();
                return false;
              },
              "close().");
  set_chunk_buffer<PyActiveRequest, true>(active_request_class);

  auto response_mut_class =
      py::class_<PyResponseMut>(m, "ResponseMut", py::buffer_protocol(),
                                "A loaned response in the server's shared memory, a writable "
                                "buffer. send() sends it as the stream's next response once "
                                "every view of it is released. Dropping it unsent gives it back.")
          .def_property_readonly(
              "payload", [](py::object self) { return py::memoryview(self); },
              "A writable memoryview of the response's bytes.")
          .def_property_readonly(
              "value",
              [](py::object self_obj) {
                auto& self = self_obj.cast<PyResponseMut&>();
                return ctypes_over(self.type, self_obj, self.get().len());
              },
              "The response as the service's ctypes type, over the shared memory: no copy. "
              "Release it (del) before send().")
          .def("__len__", [](PyResponseMut& self) { return self.get().len(); })
          .def_property_readonly(
              "len", [](PyResponseMut& self) { return self.get().len(); },
              "Elements loaned (1 unless responses are slices).")
          .def("send", &send_response,
               "Sends the response without a copy. Raises ResponseSendError, ValueError when "
               "the request was closed, BufferError while a view lives.");
  set_chunk_buffer<PyResponseMut, false>(response_mut_class);

  py::class_<PyServer>(m, "Server", "Receives requests and answers them. One thread at a time.")
      .def(
          "receive",
          [](PyServer& self) -> std::unique_ptr<PyActiveRequest> {
            self.guard->check();
            auto received = take(self.server.receive());
            if (!received) return nullptr;
            return std::make_unique<PyActiveRequest>(std::move(*received), self.types,
                                                     self.guard);
          },
          "The next ActiveRequest (round robin over clients), or None. Raises "
          "ServerReceiveError.")
      .def(
          "notify_on_send",
          [](PyServer& self, PyNotifier& notifier) {
            self.guard->check();
            auto& n = notifier.get();
            self.server.notify_on_send(std::move(n));
            notifier.notifier.reset();
          },
          py::arg("notifier"),
          "After each response sent and each stream ended `notifier` notifies (its default "
          "id), so a client's listener in a WaitSet wakes. The notifier is given away.")
      .def_property_readonly(
          "id", [](PyServer& self) { return self.server.id(); }, "The server's id.")
      .def_property_readonly(
          "max_slice_len", [](PyServer& self) { return self.server.max_slice_len(); },
          "Elements one response may carry.")
      .def(
          "chunks_in_use", [](PyServer& self) { return self.server.chunks_in_use(); },
          "Chunks of this server in use anywhere (loans, queues, clients).")
      .def(
          "chunk_count", [](PyServer& self) { return self.server.chunk_count(); },
          "Chunks of this server's data segment.");

  struct PyClientBuilder {
    UntypedClientBuilder builder;
    Types types;
  };
  struct PyServerBuilder {
    UntypedServerBuilder builder;
    Types types;
  };
  constexpr auto self_ref = py::return_value_policy::reference_internal;
  py::class_<PyClientBuilder>(m, "ClientBuilder", "RequestResponseService.client_builder()")
      .def(
          "max_slice_len",
          [](PyClientBuilder& b, std::uint64_t n) -> PyClientBuilder& {
            b.builder.max_slice_len(n);
            return b;
          },
          py::arg("n"), self_ref, "Slices: the most elements one request may carry.")
      .def(
          "create",
          [](PyClientBuilder& b) {
            return std::make_unique<PyClient>(take(b.builder.create()), b.types);
          },
          "Raises ClientCreateError.");
  py::class_<PyServerBuilder>(m, "ServerBuilder", "RequestResponseService.server_builder()")
      .def(
          "max_slice_len",
          [](PyServerBuilder& b, std::uint64_t n) -> PyServerBuilder& {
            b.builder.max_slice_len(n);
            return b;
          },
          py::arg("n"), self_ref, "Slices: the most elements one response may carry.")
      .def(
          "block_timeout",
          [](PyServerBuilder& b, const py::handle& t) -> PyServerBuilder& {
            b.builder.block_timeout(duration_arg(t));
            return b;
          },
          py::arg("timeout"), self_ref,
          "Block policy: how long a send waits for room in the client's buffer.")
      .def(
          "create",
          [](PyServerBuilder& b) {
            return std::make_unique<PyServer>(take(b.builder.create()), b.types);
          },
          "Raises ServerCreateError.");

  struct PyService {
    UntypedRequestResponseService service;
    Types types;
  };
  py::class_<PyService>(m, "RequestResponseService",
                        "An open request-response service; its ports keep it alive.")
      .def_property_readonly(
          "name", [](PyService& s) { return s.service.name(); }, "The service's name.")
      .def_property_readonly(
          "static_config", [](PyService& s) { return s.service.static_config(); },
          "The settings it was created with.")
      .def(
          "number_of_clients", [](PyService& s) { return s.service.number_of_clients(); },
          "Clients alive now.")
      .def(
          "number_of_servers", [](PyService& s) { return s.service.number_of_servers(); },
          "Servers alive now.")
      .def(
          "number_of_nodes", [](PyService& s) { return s.service.number_of_nodes(); },
          "Nodes that have the service open.")
      .def(
          "client_builder",
          [](PyService& s) { return PyClientBuilder{s.service.client_builder(), s.types}; },
          "Builds a Client.")
      .def(
          "server_builder",
          [](PyService& s) { return PyServerBuilder{s.service.server_builder(), s.types}; },
          "Builds a Server.");

  struct PyServiceBuilder {
    UntypedRequestResponseServiceBuilder builder;
    Types types;
  };
  using B = PyServiceBuilder;
#define AXON_PYTHON_SETTER(method, doc)                                  \
  def(                                                                   \
      #method,                                                           \
      [](B& b, std::uint32_t n) -> B& {                                  \
        b.builder.method(n);                                             \
        return b;                                                        \
      },                                                                 \
      py::arg("n"), self_ref, doc)
  py::class_<B>(m, "RequestResponseServiceBuilder",
                "node.service_builder(name).request_response(request, response): settings given "
                "to create() are the service's; given to open() they are requirements.")
      .AXON_PYTHON_SETTER(max_clients, "Clients the service allows.")
      .AXON_PYTHON_SETTER(max_servers, "Servers the service allows.")
      .AXON_PYTHON_SETTER(max_nodes, "Nodes that may have it open.")
      .AXON_PYTHON_SETTER(max_active_requests_per_client, "Requests one client may have in flight.")
      .AXON_PYTHON_SETTER(max_response_buffer_size,
                          "Responses to one request one server may have queued.")
      .AXON_PYTHON_SETTER(max_loaned_requests, "Loans per client.")
      .AXON_PYTHON_SETTER(max_loaned_responses, "Loans per server.")
      .AXON_PYTHON_SETTER(max_borrowed_responses,
                          "Responses a client may hold per request and server.")
      .def(
          "fire_and_forget",
          [](B& b, bool enabled) -> B& {
            b.builder.fire_and_forget(enabled);
            return b;
          },
          py::arg("enabled"), self_ref,
          "False: servers skip requests whose PendingResponse was closed before they took them.")
      .def(
          "overflow_policy",
          [](B& b, OverflowPolicy p) -> B& {
            b.builder.overflow_policy(p);
            return b;
          },
          py::arg("policy"), self_ref,
          "What a server's send does when the client's buffer for the request is full.")
      .def(
          "access",
          [](B& b, Access a) -> B& {
            b.builder.access(a);
            return b;
          },
          py::arg("access"), self_ref, "Who may use the service besides our user.")
      .def(
          "create", [](B& b) { return PyService{take(b.builder.create()), b.types}; },
          "Raises RequestResponseCreateError.")
      .def(
          "open", [](B& b) { return PyService{take(b.builder.open()), b.types}; },
          "Raises RequestResponseOpenError (IncompatibleRequestType, ...).")
      .def(
          "open_or_create",
          [](B& b) { return PyService{take(b.builder.open_or_create()), b.types}; },
          "Opens, or creates when absent; raises the error class of the step that failed.");
#undef AXON_PYTHON_SETTER

  m.attr("ServiceBuilder").cast<py::class_<ServiceBuilder>>().def(
      "request_response",
      [](const ServiceBuilder& sb, const py::object& request, const py::object& response,
         bool request_is_slice, bool response_is_slice) {
        auto [request_type, request_ctypes] = payload_arg(request, request_is_slice);
        auto [response_type, response_ctypes] = payload_arg(response, response_is_slice);
        Types types{std::move(request_ctypes), std::move(response_ctypes),
                    request_type.size, response_type.size};
        return B{sb.request_response(std::move(request_type), std::move(response_type)),
                 std::move(types)};
      },
      py::arg("request"), py::arg("response"), py::arg("request_is_slice") = false,
      py::arg("response_is_slice") = false,
      "A zero-copy request-response service: `request` and `response` are ctypes types (a "
      "Structure, c_uint8, ...; *_is_slice: payloads are arrays of it) or PayloadTypes (then "
      "payloads are bytes only).");
}

}  // namespace axon::python
