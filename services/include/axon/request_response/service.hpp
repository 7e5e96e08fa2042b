// Zero-copy request-response. A client loans a request in its data segment, writes it in place
// and sends it; every server connected then receives it as an ActiveRequest (read in place),
// loans responses in its own segment, sends as many as it likes, and ends the stream by dropping
// the ActiveRequest. The client reads the stream through the PendingResponse that send()
// returned; dropping that cancels the request.
//
//   auto service = node.service_builder(name).request_response<Goal, Feedback>().open_or_create();
//   auto server = service->server_builder().create();  // usually in another process
//   auto client = service->client_builder().create();
//   auto pending = client->send_copy(goal);
//   if (auto request = server->receive(); request && *request) {
//     (*request)->send_copy(Feedback{(*request)->payload().value, 1});  // as many as it likes
//   }  // dropping the ActiveRequest ends the stream
//   while (!pending->is_done()) {
//     auto response = pending->receive();
//     if (!response) break;  // ServerGone, ...
//     if (*response) use((**response).payload());
//   }
//
// (tests/unit/services/request_response_usage_test.cpp compiles and runs these lines.)
//
// Payload types must be trivially copyable; their names, sizes and alignments are checked on open
// (IncompatibleRequestType, IncompatibleResponseType). `request_response<Slice<T>, U>()` carries
// requests that are arrays of T (the client's builder fixes their max length), and likewise for
// responses. Every typed class here wraps its untyped counterpart (untyped.hpp), which describes
// the rules on threads, lifetimes and system calls.
#pragma once

#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

#include "axon/publish_subscribe/payload_type.hpp"
#include "axon/request_response/static_config.hpp"
#include "axon/request_response/untyped.hpp"

namespace axon {

namespace detail {
/// A payload of T (or of Slice<E>) in `bytes`, as a reference or a span.
template <typename T, typename Bytes>
decltype(auto) payload_view(Bytes bytes, std::uint64_t len) {
  using Element = typename IsSlice<T>::Element;
  using Byte = std::remove_reference_t<decltype(*bytes.data())>;
  constexpr bool kConst = std::is_const_v<Byte>;
  using E = std::conditional_t<kConst, const Element, Element>;
  if constexpr (IsSlice<T>::value) {
    return std::span<E>(reinterpret_cast<E*>(bytes.data()), len);
  } else {
    (void)len;
    return *std::launder(reinterpret_cast<E*>(bytes.data()));
  }
}
template <typename T>
std::uint64_t elements_in(std::span<const std::byte> bytes) {
  return bytes.size() / sizeof(typename IsSlice<T>::Element);
}
/// Value-initialises a loaned payload.
template <typename T>
void construct_payload(std::span<std::byte> bytes, std::uint64_t len) {
  using Element = typename IsSlice<T>::Element;
  auto* first = reinterpret_cast<Element*>(bytes.data());
  for (std::uint64_t i = 0; i < (IsSlice<T>::value ? len : 1); ++i) new (first + i) Element{};
}
}  // namespace detail

template <typename Req, typename Res>
class Client;
template <typename Req, typename Res>
class ActiveRequest;

/// A loaned request; dropping it unsent gives the chunk back.
template <typename Req>
class RequestMut {
  using Element = typename detail::IsSlice<Req>::Element;

 public:
  RequestMut(RequestMut&&) noexcept = default;
  RequestMut& operator=(RequestMut&&) = delete;
  decltype(auto) payload() { return detail::payload_view<Req>(m_request.payload(), m_request.len()); }
  Element* operator->() requires(!detail::IsSlice<Req>::value) { return &payload(); }

 private:
  template <typename, typename>
  friend class Client;
  explicit RequestMut(UntypedRequestMut request) : m_request(std::move(request)) {}
  UntypedRequestMut m_request;
};

/// One response of a stream, read in place in the server's data segment.
template <typename Res>
class Response {
  using Element = typename detail::IsSlice<Res>::Element;

 public:
  Response(Response&&) noexcept = default;
  Response& operator=(Response&&) = delete;
  decltype(auto) payload() const {
    const auto bytes = m_response.payload();
    return detail::payload_view<Res>(bytes, detail::elements_in<Res>(bytes));
  }
  const Element* operator->() const requires(!detail::IsSlice<Res>::value) { return &payload(); }
  /// Per server and request, from 0: a gap means responses were overwritten or refused.
  std::uint64_t sequence() const { return m_response.sequence(); }
  std::uint64_t server_id() const { return m_response.server_id(); }

 private:
  template <typename, typename>
  friend class PendingResponse;
  explicit Response(UntypedResponse response) : m_response(std::move(response)) {}
  UntypedResponse m_response;
};

/// A request in flight and its stream of responses; dropping it cancels the request.
template <typename Req, typename Res>
class PendingResponse {
 public:
  PendingResponse(PendingResponse&&) noexcept = default;
  PendingResponse& operator=(PendingResponse&&) = delete;

  /// The next response, or nullopt when none is there now; ServerGone once per server that
  /// disappeared without ending its stream.
  tl::expected<std::optional<Response<Res>>, ResponseReceiveError> receive() {
    auto response = m_pending.receive();
    if (!response) return tl::unexpected(response.error());
    if (!*response) return std::optional<Response<Res>>{};
    return std::optional<Response<Res>>(Response<Res>(std::move(**response)));
  }
  /// True once every stream has ended (or its server is gone) and everything was received.
  bool is_done() { return m_pending.is_done(); }
  std::size_t number_of_server_connections() { return m_pending.number_of_server_connections(); }
  /// The request as sent.
  decltype(auto) request() const {
    const auto bytes = m_pending.request();
    return detail::payload_view<Req>(bytes, detail::elements_in<Req>(bytes));
  }
  std::uint64_t request_id() const { return m_pending.request_id(); }

 private:
  template <typename, typename>
  friend class Client;
  explicit PendingResponse(UntypedPendingResponse pending) : m_pending(std::move(pending)) {}
  UntypedPendingResponse m_pending;
};

template <typename Req, typename Res>
class Client {
 public:
  /// A request with uninitialised payload (for slices: `len` elements, up to the max length).
  tl::expected<RequestMut<Req>, LoanError> loan_uninit(std::uint64_t len = 1) {
    if constexpr (!detail::IsSlice<Req>::value) len = 1;
    return m_client.loan_uninit(len).map(
        [](UntypedRequestMut r) { return RequestMut<Req>(std::move(r)); });
  }
  /// A request whose payload is value-initialised.
  tl::expected<RequestMut<Req>, LoanError> loan(std::uint64_t len = 1) {
    auto request = loan_uninit(len);
    if (request) detail::construct_payload<Req>(request->m_request.payload(), len);
    return request;
  }
  tl::expected<PendingResponse<Req, Res>, RequestSendError> send(RequestMut<Req>&& request) {
    return m_client.send(std::move(request.m_request)).map([](UntypedPendingResponse p) {
      return PendingResponse<Req, Res>(std::move(p));
    });
  }
  tl::expected<PendingResponse<Req, Res>, RequestSendError> send_copy(const Req& value)
    requires(!detail::IsSlice<Req>::value)
  {
    return m_client.send_copy(std::as_bytes(std::span<const Req, 1>(&value, 1)))
        .map([](UntypedPendingResponse p) { return PendingResponse<Req, Res>(std::move(p)); });
  }
  /// After each send, `notifier` notifies (its default id): a server's listener wakes.
  void notify_on_send(Notifier notifier) { m_client.notify_on_send(std::move(notifier)); }
  std::uint64_t id() const { return m_client.id(); }
  std::uint64_t max_slice_len() const { return m_client.max_slice_len(); }
  std::size_t number_of_servers() const { return m_client.number_of_servers(); }

 private:
  template <typename, typename>
  friend class ClientBuilder;
  explicit Client(UntypedClient client) : m_client(std::move(client)) {}
  UntypedClient m_client;
};

/// A loaned response; dropping it unsent gives the chunk back.
template <typename Res>
class ResponseMut {
  using Element = typename detail::IsSlice<Res>::Element;

 public:
  ResponseMut(ResponseMut&&) noexcept = default;
  ResponseMut& operator=(ResponseMut&&) = delete;
  decltype(auto) payload() {
    return detail::payload_view<Res>(m_response.payload(), m_response.len());
  }
  Element* operator->() requires(!detail::IsSlice<Res>::value) { return &payload(); }

 private:
  template <typename, typename>
  friend class ActiveRequest;
  explicit ResponseMut(UntypedResponseMut response) : m_response(std::move(response)) {}
  UntypedResponseMut m_response;
};

/// A request a server received, and the stream of its responses; dropping it ends the stream.
template <typename Req, typename Res>
class ActiveRequest {
 public:
  ActiveRequest(ActiveRequest&&) noexcept = default;
  ActiveRequest& operator=(ActiveRequest&&) = delete;

  decltype(auto) payload() const {
    const auto bytes = m_request.payload();
    return detail::payload_view<Req>(bytes, detail::elements_in<Req>(bytes));
  }
  std::uint64_t client_id() const { return m_request.client_id(); }
  std::uint64_t request_id() const { return m_request.request_id(); }
  /// True while the client listens.
  bool is_connected() const { return m_request.is_connected(); }

  tl::expected<ResponseMut<Res>, LoanError> loan_uninit(std::uint64_t len = 1) {
    if constexpr (!detail::IsSlice<Res>::value) len = 1;
    return m_request.loan_uninit(len).map(
        [](UntypedResponseMut r) { return ResponseMut<Res>(std::move(r)); });
  }
  tl::expected<ResponseMut<Res>, LoanError> loan(std::uint64_t len = 1) {
    auto response = loan_uninit(len);
    if (response) detail::construct_payload<Res>(response->m_response.payload(), len);
    return response;
  }
  tl::expected<void, ResponseSendError> send(ResponseMut<Res>&& response) {
    return m_request.send(std::move(response.m_response));
  }
  tl::expected<void, ResponseSendError> send_copy(const Res& value)
    requires(!detail::IsSlice<Res>::value)
  {
    return m_request.send_copy(std::as_bytes(std::span<const Res, 1>(&value, 1)));
  }

 private:
  template <typename, typename>
  friend class Server;
  explicit ActiveRequest(UntypedActiveRequest request) : m_request(std::move(request)) {}
  UntypedActiveRequest m_request;
};

template <typename Req, typename Res>
class Server {
 public:
  /// The next request (round robin over clients, in order per client), or nullopt.
  tl::expected<std::optional<ActiveRequest<Req, Res>>, ServerReceiveError> receive() {
    auto request = m_server.receive();
    if (!request) return tl::unexpected(request.error());
    if (!*request) return std::optional<ActiveRequest<Req, Res>>{};
    return std::optional<ActiveRequest<Req, Res>>(ActiveRequest<Req, Res>(std::move(**request)));
  }
  /// After each response and each ended stream, `notifier` notifies: a client's listener wakes.
  void notify_on_send(Notifier notifier) { m_server.notify_on_send(std::move(notifier)); }
  std::uint64_t id() const { return m_server.id(); }
  std::uint64_t max_slice_len() const { return m_server.max_slice_len(); }
  std::size_t chunks_in_use() const { return m_server.chunks_in_use(); }
  std::size_t chunk_count() const { return m_server.chunk_count(); }

 private:
  template <typename, typename>
  friend class ServerBuilder;
  explicit Server(UntypedServer server) : m_server(std::move(server)) {}
  UntypedServer m_server;
};

template <typename Req, typename Res>
class ClientBuilder {
 public:
  /// Slice requests: the most elements one request may carry (default 1).
  ClientBuilder& max_slice_len(std::uint64_t n) {
    m_builder.max_slice_len(n);
    return *this;
  }
  tl::expected<Client<Req, Res>, ClientCreateError> create() const {
    return m_builder.create().map([](UntypedClient c) { return Client<Req, Res>(std::move(c)); });
  }

 private:
  template <typename, typename>
  friend class RequestResponseService;
  explicit ClientBuilder(UntypedClientBuilder builder) : m_builder(std::move(builder)) {}
  UntypedClientBuilder m_builder;
};

template <typename Req, typename Res>
class ServerBuilder {
 public:
  /// Slice responses: the most elements one response may carry (default 1).
  ServerBuilder& max_slice_len(std::uint64_t n) {
    m_builder.max_slice_len(n);
    return *this;
  }
  /// Block policy: how long a send waits for room in the client's buffer.
  ServerBuilder& block_timeout(std::chrono::nanoseconds t) {
    m_builder.block_timeout(t);
    return *this;
  }
  tl::expected<Server<Req, Res>, ServerCreateError> create() const {
    return m_builder.create().map([](UntypedServer s) { return Server<Req, Res>(std::move(s)); });
  }

 private:
  template <typename, typename>
  friend class RequestResponseService;
  explicit ServerBuilder(UntypedServerBuilder builder) : m_builder(std::move(builder)) {}
  UntypedServerBuilder m_builder;
};

/// A handle on an open request-response service; ports made from it keep the service alive.
template <typename Req, typename Res>
class RequestResponseService {
 public:
  const ServiceName& name() const { return m_service.name(); }
  RequestResponseStaticConfig static_config() const { return m_service.static_config(); }
  std::size_t number_of_clients() const { return m_service.number_of_clients(); }
  std::size_t number_of_servers() const { return m_service.number_of_servers(); }
  std::size_t number_of_nodes() const { return m_service.number_of_nodes(); }
  ClientBuilder<Req, Res> client_builder() const {
    return ClientBuilder<Req, Res>(m_service.client_builder());
  }
  ServerBuilder<Req, Res> server_builder() const {
    return ServerBuilder<Req, Res>(m_service.server_builder());
  }

 private:
  template <typename, typename>
  friend class RequestResponseServiceBuilder;
  explicit RequestResponseService(UntypedRequestResponseService service)
      : m_service(std::move(service)) {}
  UntypedRequestResponseService m_service;
};

/// `node.service_builder(name).request_response<Req, Res>()`; see
/// UntypedRequestResponseServiceBuilder for what each setting means on create and on open.
template <typename Req, typename Res>
class RequestResponseServiceBuilder {
  static_assert(std::is_trivially_copyable_v<typename detail::IsSlice<Req>::Element> &&
                    std::is_trivially_copyable_v<typename detail::IsSlice<Res>::Element>,
                "axon request and response payloads live in shared memory read by other "
                "processes: they must be trivially copyable");
  using B = UntypedRequestResponseServiceBuilder;

 public:
  RequestResponseServiceBuilder& max_clients(std::uint32_t n) { return forward(&B::max_clients, n); }
  RequestResponseServiceBuilder& max_servers(std::uint32_t n) { return forward(&B::max_servers, n); }
  RequestResponseServiceBuilder& max_nodes(std::uint32_t n) { return forward(&B::max_nodes, n); }
  RequestResponseServiceBuilder& max_active_requests_per_client(std::uint32_t n) {
    return forward(&B::max_active_requests_per_client, n);
  }
  RequestResponseServiceBuilder& max_response_buffer_size(std::uint32_t n) {
    return forward(&B::max_response_buffer_size, n);
  }
  RequestResponseServiceBuilder& max_loaned_requests(std::uint32_t n) {
    return forward(&B::max_loaned_requests, n);
  }
  RequestResponseServiceBuilder& max_loaned_responses(std::uint32_t n) {
    return forward(&B::max_loaned_responses, n);
  }
  RequestResponseServiceBuilder& max_borrowed_responses(std::uint32_t n) {
    return forward(&B::max_borrowed_responses, n);
  }
  RequestResponseServiceBuilder& fire_and_forget(bool enabled) {
    return forward(&B::fire_and_forget, enabled);
  }
  RequestResponseServiceBuilder& overflow_policy(OverflowPolicy p) {
    return forward(&B::overflow_policy, p);
  }
  RequestResponseServiceBuilder& access(Access a) { return forward(&B::access, a); }

  tl::expected<RequestResponseService<Req, Res>, RequestResponseCreateError> create() const {
    return m_builder.create().map(typed);
  }
  tl::expected<RequestResponseService<Req, Res>, RequestResponseOpenError> open() const {
    return m_builder.open().map(typed);
  }
  tl::expected<RequestResponseService<Req, Res>, RequestResponseOpenOrCreateError>
  open_or_create() const {
    return m_builder.open_or_create().map(typed);
  }

 private:
  friend class ServiceBuilder;
  explicit RequestResponseServiceBuilder(UntypedRequestResponseServiceBuilder builder)
      : m_builder(std::move(builder)) {}
  template <typename Setter, typename Value>
  RequestResponseServiceBuilder& forward(Setter setter, Value value) {
    (m_builder.*setter)(value);
    return *this;
  }
  static RequestResponseService<Req, Res> typed(UntypedRequestResponseService service) {
    return RequestResponseService<Req, Res>(std::move(service));
  }
  UntypedRequestResponseServiceBuilder m_builder;
};

}  // namespace axon
