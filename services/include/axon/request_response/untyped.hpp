// Request-response without compile-time payload types: the same zero-copy ports, moving bytes.
// Request and response payloads are described at run time by PayloadTypes, checked on open as
// the typed API (service.hpp) checks them; a payload is `len` elements of `size` bytes.
//
//   auto service = node.service_builder(name).request_response(request_type, response_type)
//                      .open_or_create();
//   auto client = service->client_builder().create();
//   auto pending = client->send_copy(bytes);            // a PendingResponse: the stream
//   while (!pending->is_done()) {
//     if (auto response = pending->receive(); response && *response) use((*response)->payload());
//   }
//
//   auto server = service->server_builder().create();    // in another process
//   if (auto request = server->receive(); request && *request) {
//     (*request)->send_copy(answer);                     // as many responses as it likes
//   }                                                    // dropping it ends the stream
//
// A client sends a request to every server connected at that moment; each server answers with a
// stream of zero or more responses, in order, and ends it by dropping its ActiveRequest. The
// PendingResponse that send() returned is the request's handle: it receives the responses of
// every server, says when every stream has ended, and dropping it tells the servers that nobody
// listens any more. Requests live in the client's data segment, responses in the server's; the
// peer reads them in place.
//
// Loan, send and receive take no lock and allocate nothing. They make no system call, except
// where a port first meets a peer (mapping its data segment; retried every 10 ms while that fails
// for want of fds or memory), a server's send under OverflowPolicy::Block while the client's
// buffer is full, and a pending response with nothing to receive, which asks at most every
// 100 ms whether a silent server's node still lives (so that a killed server ends the stream
// with ServerGone). Ports are not thread-safe: use each, and everything made from it, from one
// thread at a time. Lifetimes: loans, pending responses, responses and active requests may
// outlive their port, which (with its slot in the service) lives until the last of them goes. A
// moved-from object may only be destroyed or assigned to.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <variant>

#include <tl/expected.hpp>

#include "axon/access.hpp"
#include "axon/event/notifier.hpp"
#include "axon/publish_subscribe/payload_type.hpp"
#include "axon/request_response/static_config.hpp"
#include "axon/service_name.hpp"

namespace axon {

enum class RequestResponseOpenError {
  DoesNotExist,                               ///< no service of that name
  IncompatibleMessagingPattern,               ///< the name belongs to another pattern
  IncompatibleRequestType,                    ///< another request PayloadType
  IncompatibleResponseType,                   ///< another response PayloadType
  DoesNotSupportRequestedAmountOfClients,     ///< its max_clients is below the request
  DoesNotSupportRequestedAmountOfServers,     ///< its max_servers is below the request
  DoesNotSupportRequestedAmountOfNodes,       ///< its max_nodes is below the request
  DoesNotSupportRequestedAmountOfActiveRequests,  ///< fewer active requests per client
  DoesNotSupportRequestedResponseBufferSize,  ///< a smaller response buffer
  DoesNotSupportRequestedAmountOfLoans,       ///< fewer loaned requests or responses
  DoesNotSupportRequestedAmountOfBorrowedResponses,  ///< fewer borrowed responses
  IncompatibleFireAndForget,                  ///< it decides fire-and-forget the other way
  IncompatibleOverflowPolicy,                 ///< it uses another overflow policy
  IncompatibleAccess,                         ///< it was created with another Access
  ExceedsMaxNodes,                            ///< every node slot is taken by live nodes
  PermissionDenied,                           ///< its objects belong to someone else
  VersionMismatch,                            ///< created by an incompatible axon version
  Corrupted,                                  ///< its shared memory fails validation
  InternalFailure,                            ///< a system call failed unexpectedly
  InsufficientResources,                      ///< out of file descriptors or memory
};
const char* to_string(RequestResponseOpenError error);

enum class RequestResponseCreateError {
  AlreadyExists,          ///< a service of that name exists (any pattern)
  InvalidSettings,        ///< a setting is 0 or above its limit, or a PayloadType is invalid
  PermissionDenied,       ///< the root directory or /dev/shm refused us
  InsufficientResources,  ///< not enough shared memory or fds
  InternalFailure,        ///< a system call failed unexpectedly
};
const char* to_string(RequestResponseCreateError error);

using RequestResponseOpenOrCreateError =
    std::variant<RequestResponseOpenError, RequestResponseCreateError>;
const char* to_string(const RequestResponseOpenOrCreateError& error);

enum class ClientCreateError {
  ExceedsMaxClients,      ///< every client slot of the service is taken
  InvalidSliceLength,     ///< a slice client's max request length is 0 or too large
  InsufficientResources,  ///< its data segment could not be created (shared memory full?)
};
const char* to_string(ClientCreateError error);

enum class ServerCreateError {
  ExceedsMaxServers,      ///< every server slot of the service is taken
  InvalidSliceLength,     ///< a slice server's max response length is 0 or too large
  InsufficientResources,  ///< its data segment could not be created (shared memory full?)
};
const char* to_string(ServerCreateError error);

/// Why a request or response could not be loaned.
enum class LoanError {
  ExceedsMaxLoans,        ///< the port has its max loans out already
  OutOfChunks,            ///< no free chunk (cannot happen with the computed pool size)
  ExceedsMaxSliceLength,  ///< a slice longer than the port's max was asked for
};
const char* to_string(LoanError error);

enum class RequestSendError {
  /// max_active_requests_per_client requests are in flight: drop a PendingResponse, or wait for
  /// the servers to end their streams.
  ExceedsMaxActiveRequests,
  // Only from send_copy(): the loan failed, or the bytes do not fit; nothing was sent.
  ExceedsMaxLoans,
  OutOfChunks,
  ExceedsMaxSliceLength,
  PayloadSizeMismatch,  ///< not one element (not a whole number of elements, for slices)
};
const char* to_string(RequestSendError error);

enum class ResponseReceiveError {
  /// A server that got the request disappeared (it was killed, or its node died) without
  /// ending its stream; its responses sent before were all delivered. Reported once per server.
  ServerGone,
  ExceedsMaxBorrowedResponses,  ///< release responses before receiving more
  Corrupted,  ///< an offset or header read from shared memory is out of bounds; it was dropped
};
const char* to_string(ResponseReceiveError error);

enum class ServerReceiveError {
  Corrupted,  ///< a request failed validation (offset, size, channel); it was dropped
};
const char* to_string(ServerReceiveError error);

enum class ResponseSendError {
  /// The client no longer listens (it dropped the PendingResponse, left or died): dropped.
  NotConnected,
  /// Refuse: the client's buffer for this request is full; Block: it stayed full for the block
  /// timeout. The response was dropped.
  BufferFull,
  Corrupted,  ///< the client's queues fail validation; dropped
  // Only from send_copy(): the loan failed, or the bytes do not fit; nothing was sent.
  ExceedsMaxLoans,
  OutOfChunks,
  ExceedsMaxSliceLength,
  PayloadSizeMismatch,
};
const char* to_string(ResponseSendError error);

namespace detail {
class NodeCore;
class ServiceCore;
class ClientCore;
class ServerCore;

/// A loaned chunk of a port's data segment.
struct LoanedRequestChunk {
  std::uint32_t index = 0;
  std::byte* payload = nullptr;
  std::uint64_t bytes = 0;
};

/// A received response; header fields copied once and validated at receive.
struct ReceivedResponse {
  std::shared_ptr<const void> segment;  ///< keeps the server's data segment mapped
  std::uint32_t channel = 0;
  std::uint32_t server_slot = 0;
  std::uint64_t server_id = 0;
  std::uint64_t offset = 0;
  std::uint64_t sequence = 0;
  std::uint64_t payload_size = 0;
  const std::byte* payload = nullptr;
};

/// A received request, its header copied once and validated at receive.
struct ReceivedRequest {
  std::shared_ptr<const void> segment;  ///< keeps the client's data segment mapped
  const void* header = nullptr;         ///< the chunk's header: only its `cancelled` is read
  std::uint32_t client_slot = 0;
  std::uint64_t client_id = 0;
  std::uint32_t channel = 0;
  std::uint64_t request_id = 0;
  std::uint64_t payload_size = 0;
  const std::byte* payload = nullptr;
};

/// What a request-response service builder asks for: the settings on create, the requirements
/// on open.
struct RequestResponseRequest {
  PayloadType request_type;
  PayloadType response_type;
  std::optional<std::uint32_t> max_clients, max_servers, max_nodes, max_active_requests,
      response_buffer_size, max_loaned_requests, max_loaned_responses, max_borrowed_responses;
  std::optional<bool> fire_and_forget;
  std::optional<OverflowPolicy> overflow;
  std::optional<Access> access;
};
}  // namespace detail

/// A loaned, writable request: `len()` elements whose bytes are `payload()`. Dropping it unsent
/// gives the chunk back.
class UntypedRequestMut {
 public:
  UntypedRequestMut(UntypedRequestMut&&) noexcept;
  UntypedRequestMut& operator=(UntypedRequestMut&&) = delete;
  UntypedRequestMut(const UntypedRequestMut&) = delete;
  UntypedRequestMut& operator=(const UntypedRequestMut&) = delete;
  ~UntypedRequestMut();

  std::span<std::byte> payload() const { return {m_chunk.payload, m_chunk.bytes}; }
  std::uint64_t len() const { return m_len; }

 private:
  friend class UntypedClient;
  UntypedRequestMut(std::shared_ptr<detail::ClientCore> client, detail::LoanedRequestChunk chunk,
                    std::uint64_t len);
  std::shared_ptr<detail::ClientCore> m_client;  ///< null once sent or moved from
  detail::LoanedRequestChunk m_chunk;
  std::uint64_t m_len = 0;
};

/// One response of a stream, read-only in the server's data segment. Dropping it gives the chunk
/// back to the server.
class UntypedResponse {
 public:
  UntypedResponse(UntypedResponse&&) noexcept;
  UntypedResponse& operator=(UntypedResponse&&) = delete;
  UntypedResponse(const UntypedResponse&) = delete;
  UntypedResponse& operator=(const UntypedResponse&) = delete;
  ~UntypedResponse();

  /// A whole number of elements, the size checked once at receive. A hostile server may still
  /// rewrite these bytes while we read them: copy, then validate.
  std::span<const std::byte> payload() const { return {m_chunk.payload, m_chunk.payload_size}; }
  /// Per server and request, from 0: a gap means responses were overwritten or refused.
  std::uint64_t sequence() const { return m_chunk.sequence; }
  std::uint64_t server_id() const { return m_chunk.server_id; }

 private:
  friend class UntypedPendingResponse;
  UntypedResponse(std::shared_ptr<detail::ClientCore> client, detail::ReceivedResponse chunk);
  std::shared_ptr<detail::ClientCore> m_client;  ///< null once moved from
  detail::ReceivedResponse m_chunk;
};

/// A request in flight and the stream of its responses. Dropping it cancels the request: the
/// servers see that nobody listens (ActiveRequest::is_connected()), and what they still send is
/// dropped.
class UntypedPendingResponse {
 public:
  UntypedPendingResponse(UntypedPendingResponse&&) noexcept;
  UntypedPendingResponse& operator=(UntypedPendingResponse&&) = delete;
  UntypedPendingResponse(const UntypedPendingResponse&) = delete;
  UntypedPendingResponse& operator=(const UntypedPendingResponse&) = delete;
  ~UntypedPendingResponse();

  /// The next response (round robin over servers, in order per server), or nullopt when none is
  /// there now. ServerGone once for each server that disappeared without ending its stream.
  tl::expected<std::optional<UntypedResponse>, ResponseReceiveError> receive();
  /// True once every server that got the request has ended its stream (or is gone) and every
  /// response has been received: receive() will never return a response again. A stream that
  /// ended is seen here as soon as its last response was received; a server gone is seen by
  /// receive() (which reports ServerGone once), as is, under OverwriteOldest, a stream whose
  /// last responses receive() still has to skip.
  bool is_done();
  /// Servers that got the request and have not ended their stream nor gone.
  std::size_t number_of_server_connections();
  /// The request as sent (in our own data segment).
  std::span<const std::byte> request() const;
  /// Per client, from 1.
  std::uint64_t request_id() const { return m_request_id; }

 private:
  friend class UntypedClient;
  UntypedPendingResponse(std::shared_ptr<detail::ClientCore> client, std::uint32_t channel,
                         std::uint64_t request_id);
  std::shared_ptr<detail::ClientCore> m_client;  ///< null once moved from
  std::uint32_t m_channel = 0;
  std::uint64_t m_request_id = 0;
};

class UntypedClient {
 public:
  UntypedClient(UntypedClient&&) noexcept = default;
  UntypedClient& operator=(UntypedClient&&) noexcept = default;
  UntypedClient(const UntypedClient&) = delete;
  UntypedClient& operator=(const UntypedClient&) = delete;
  ~UntypedClient();

  /// A request of `len` elements, uninitialised (exactly 1 unless requests are slices).
  tl::expected<UntypedRequestMut, LoanError> loan_uninit(std::uint64_t len = 1);
  /// As loan_uninit, with the bytes zeroed.
  tl::expected<UntypedRequestMut, LoanError> loan(std::uint64_t len = 1);
  /// Sends the request, without a copy, to every server connected now.
  tl::expected<UntypedPendingResponse, RequestSendError> send(UntypedRequestMut&& request);
  /// Loans, copies `bytes` in, sends.
  tl::expected<UntypedPendingResponse, RequestSendError> send_copy(
      std::span<const std::byte> bytes);
  /// After each send, `notifier` notifies (its default id), so a server's listener in a WaitSet
  /// wakes on a new request.
  void notify_on_send(Notifier notifier);

  std::uint64_t id() const;
  /// Elements one request may carry (1 unless requests are slices).
  std::uint64_t max_slice_len() const;
  /// Servers this client sends to now.
  std::size_t number_of_servers() const;

 private:
  friend class UntypedClientBuilder;
  explicit UntypedClient(std::shared_ptr<detail::ClientCore> core);
  /// Shared with its loans and pending responses, which may outlive it.
  std::shared_ptr<detail::ClientCore> m_core;
};

/// A loaned, writable response. Dropping it unsent gives the chunk back.
class UntypedResponseMut {
 public:
  UntypedResponseMut(UntypedResponseMut&&) noexcept;
  UntypedResponseMut& operator=(UntypedResponseMut&&) = delete;
  UntypedResponseMut(const UntypedResponseMut&) = delete;
  UntypedResponseMut& operator=(const UntypedResponseMut&) = delete;
  ~UntypedResponseMut();

  std::span<std::byte> payload() const { return {m_chunk.payload, m_chunk.bytes}; }
  std::uint64_t len() const { return m_len; }

 private:
  friend class UntypedActiveRequest;
  UntypedResponseMut(std::shared_ptr<detail::ServerCore> server, detail::LoanedRequestChunk chunk,
                     std::uint64_t len);
  std::shared_ptr<detail::ServerCore> m_server;  ///< null once sent or moved from
  detail::LoanedRequestChunk m_chunk;
  std::uint64_t m_len = 0;
};

/// A request a server received, read in place in the client's data segment, and the stream of
/// responses to it. Dropping it ends the stream.
class UntypedActiveRequest {
 public:
  UntypedActiveRequest(UntypedActiveRequest&&) noexcept;
  UntypedActiveRequest& operator=(UntypedActiveRequest&&) = delete;
  UntypedActiveRequest(const UntypedActiveRequest&) = delete;
  UntypedActiveRequest& operator=(const UntypedActiveRequest&) = delete;
  ~UntypedActiveRequest();

  /// The request's bytes, the size checked once at receive (a hostile client may still rewrite
  /// them: copy, then validate).
  std::span<const std::byte> payload() const { return {m_request.payload, m_request.payload_size}; }
  std::uint64_t client_id() const { return m_request.client_id; }
  std::uint64_t request_id() const { return m_request.request_id; }
  /// True while the client listens: it has not dropped its PendingResponse nor left.
  bool is_connected() const;

  tl::expected<UntypedResponseMut, LoanError> loan_uninit(std::uint64_t len = 1);
  tl::expected<UntypedResponseMut, LoanError> loan(std::uint64_t len = 1);
  /// Sends one response of the stream, without a copy.
  tl::expected<void, ResponseSendError> send(UntypedResponseMut&& response);
  tl::expected<void, ResponseSendError> send_copy(std::span<const std::byte> bytes);

 private:
  friend class UntypedServer;
  UntypedActiveRequest(std::shared_ptr<detail::ServerCore> server,
                       detail::ReceivedRequest request);
  std::shared_ptr<detail::ServerCore> m_server;  ///< null once moved from
  detail::ReceivedRequest m_request;
};

class UntypedServer {
 public:
  UntypedServer(UntypedServer&&) noexcept = default;
  UntypedServer& operator=(UntypedServer&&) noexcept = default;
  UntypedServer(const UntypedServer&) = delete;
  UntypedServer& operator=(const UntypedServer&) = delete;
  ~UntypedServer();

  /// The next request (round robin over clients, in order per client), or nullopt.
  tl::expected<std::optional<UntypedActiveRequest>, ServerReceiveError> receive();
  /// After each response sent and each stream ended, `notifier` notifies (its default id), so a
  /// client's listener in a WaitSet wakes.
  void notify_on_send(Notifier notifier);

  std::uint64_t id() const;
  /// Elements one response may carry (1 unless responses are slices).
  std::uint64_t max_slice_len() const;
  /// Chunks of this server in use anywhere (loans, queues, clients).
  std::size_t chunks_in_use() const;
  std::size_t chunk_count() const;

 private:
  friend class UntypedServerBuilder;
  explicit UntypedServer(std::shared_ptr<detail::ServerCore> core);
  std::shared_ptr<detail::ServerCore> m_core;
};

class UntypedClientBuilder {
 public:
  /// Slices: the most elements one request may carry (default 1).
  UntypedClientBuilder& max_slice_len(std::uint64_t n) {
    m_max_len = n;
    return *this;
  }
  tl::expected<UntypedClient, ClientCreateError> create() const;

 private:
  friend class UntypedRequestResponseService;
  explicit UntypedClientBuilder(std::shared_ptr<detail::ServiceCore> s) : m_service(std::move(s)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  std::uint64_t m_max_len = 1;
};

class UntypedServerBuilder {
 public:
  /// Slices: the most elements one response may carry (default 1).
  UntypedServerBuilder& max_slice_len(std::uint64_t n) {
    m_max_len = n;
    return *this;
  }
  /// Block policy: how long a send waits for room in the client's buffer.
  UntypedServerBuilder& block_timeout(std::chrono::nanoseconds t) {
    m_block_timeout = t;
    return *this;
  }
  tl::expected<UntypedServer, ServerCreateError> create() const;

 private:
  friend class UntypedRequestResponseService;
  explicit UntypedServerBuilder(std::shared_ptr<detail::ServiceCore> s) : m_service(std::move(s)) {}
  std::shared_ptr<detail::ServiceCore> m_service;
  std::uint64_t m_max_len = 1;
  std::chrono::nanoseconds m_block_timeout = RequestResponseDefaults::kBlockTimeout;
};

/// A handle on an open request-response service; ports made from it keep the service alive.
class UntypedRequestResponseService {
 public:
  const ServiceName& name() const;
  RequestResponseStaticConfig static_config() const;
  std::size_t number_of_clients() const;
  std::size_t number_of_servers() const;
  std::size_t number_of_nodes() const;

  UntypedClientBuilder client_builder() const { return UntypedClientBuilder(m_core); }
  UntypedServerBuilder server_builder() const { return UntypedServerBuilder(m_core); }

 private:
  friend class UntypedRequestResponseServiceBuilder;
  explicit UntypedRequestResponseService(std::shared_ptr<detail::ServiceCore> core)
      : m_core(std::move(core)) {}
  std::shared_ptr<detail::ServiceCore> m_core;
};

/// `node.service_builder(name).request_response(request_type, response_type)`: settings given
/// to create() are the service's; given to open() they are requirements the existing service
/// must meet (both payload types exactly; at least that many ports, active requests, buffer,
/// loans and borrows; exactly that fire-and-forget choice, overflow policy and access).
class UntypedRequestResponseServiceBuilder {
 public:
  using Self = UntypedRequestResponseServiceBuilder;
  Self& max_clients(std::uint32_t n) { return set(m_request.max_clients, n); }
  Self& max_servers(std::uint32_t n) { return set(m_request.max_servers, n); }
  Self& max_nodes(std::uint32_t n) { return set(m_request.max_nodes, n); }
  Self& max_active_requests_per_client(std::uint32_t n) {
    return set(m_request.max_active_requests, n);
  }
  Self& max_response_buffer_size(std::uint32_t n) { return set(m_request.response_buffer_size, n); }
  Self& max_loaned_requests(std::uint32_t n) { return set(m_request.max_loaned_requests, n); }
  Self& max_loaned_responses(std::uint32_t n) { return set(m_request.max_loaned_responses, n); }
  Self& max_borrowed_responses(std::uint32_t n) {
    return set(m_request.max_borrowed_responses, n);
  }
  Self& fire_and_forget(bool enabled) {
    m_request.fire_and_forget = enabled;
    return *this;
  }
  /// What a server's send does when a client's buffer for the request is full.
  Self& overflow_policy(OverflowPolicy p) {
    m_request.overflow = p;
    return *this;
  }
  /// Who may use the service besides our user (default Access::Owner); see access.hpp.
  Self& access(Access a) {
    m_request.access = a;
    return *this;
  }

  tl::expected<UntypedRequestResponseService, RequestResponseCreateError> create() const;
  tl::expected<UntypedRequestResponseService, RequestResponseOpenError> open() const;
  /// Opens, or creates when absent; safe when many processes race for the same name.
  tl::expected<UntypedRequestResponseService, RequestResponseOpenOrCreateError> open_or_create()
      const;

 private:
  friend class ServiceBuilder;
  UntypedRequestResponseServiceBuilder(std::shared_ptr<detail::NodeCore> node, ServiceName name,
                                       PayloadType request, PayloadType response)
      : m_node(std::move(node)), m_name(std::move(name)) {
    m_request.request_type = std::move(request);
    m_request.response_type = std::move(response);
  }
  Self& set(std::optional<std::uint32_t>& field, std::uint32_t n) {
    field = n;
    return *this;
  }
  std::shared_ptr<detail::NodeCore> m_node;
  ServiceName m_name;
  detail::RequestResponseRequest m_request;
};

}  // namespace axon
