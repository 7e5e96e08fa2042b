#include "axon/request_response/service.hpp"

#include <cstring>

#include "axon/detail/open_or_create.hpp"
#include "axon/detail/payload_rules.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/request_response/pattern.hpp"
#include "axon/request_response/rr_core.hpp"

namespace axon {

const char* to_string(RequestResponseOpenError error) {
  using E = RequestResponseOpenError;
  switch (error) {
    case E::DoesNotExist: return "DoesNotExist";
    case E::IncompatibleMessagingPattern: return "IncompatibleMessagingPattern";
    case E::IncompatibleRequestType: return "IncompatibleRequestType";
    case E::IncompatibleResponseType: return "IncompatibleResponseType";
    case E::DoesNotSupportRequestedAmountOfClients: return "DoesNotSupportRequestedAmountOfClients";
    case E::DoesNotSupportRequestedAmountOfServers: return "DoesNotSupportRequestedAmountOfServers";
    case E::DoesNotSupportRequestedAmountOfNodes: return "DoesNotSupportRequestedAmountOfNodes";
    case E::DoesNotSupportRequestedAmountOfActiveRequests:
      return "DoesNotSupportRequestedAmountOfActiveRequests";
    case E::DoesNotSupportRequestedResponseBufferSize:
      return "DoesNotSupportRequestedResponseBufferSize";
    case E::DoesNotSupportRequestedAmountOfLoans: return "DoesNotSupportRequestedAmountOfLoans";
    case E::DoesNotSupportRequestedAmountOfBorrowedResponses:
      return "DoesNotSupportRequestedAmountOfBorrowedResponses";
    case E::IncompatibleFireAndForget: return "IncompatibleFireAndForget";
    case E::IncompatibleOverflowPolicy: return "IncompatibleOverflowPolicy";
    case E::IncompatibleAccess: return "IncompatibleAccess";
    case E::ExceedsMaxNodes: return "ExceedsMaxNodes";
    case E::PermissionDenied: return "PermissionDenied";
    case E::VersionMismatch: return "VersionMismatch";
    case E::Corrupted: return "Corrupted";
    case E::InternalFailure: return "InternalFailure";
    case E::InsufficientResources: return "InsufficientResources";
  }
  return "Unknown";
}

const char* to_string(RequestResponseCreateError error) {
  using E = RequestResponseCreateError;
  switch (error) {
    case E::AlreadyExists: return "AlreadyExists";
    case E::InvalidSettings: return "InvalidSettings";
    case E::PermissionDenied: return "PermissionDenied";
    case E::InsufficientResources: return "InsufficientResources";
    case E::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(const RequestResponseOpenOrCreateError& error) {
  return std::visit([](auto e) { return to_string(e); }, error);
}

const char* to_string(ClientCreateError error) {
  switch (error) {
    case ClientCreateError::ExceedsMaxClients: return "ExceedsMaxClients";
    case ClientCreateError::InvalidSliceLength: return "InvalidSliceLength";
    case ClientCreateError::InsufficientResources: return "InsufficientResources";
  }
  return "Unknown";
}

const char* to_string(ServerCreateError error) {
  switch (error) {
    case ServerCreateError::ExceedsMaxServers: return "ExceedsMaxServers";
    case ServerCreateError::InvalidSliceLength: return "InvalidSliceLength";
    case ServerCreateError::InsufficientResources: return "InsufficientResources";
  }
  return "Unknown";
}

const char* to_string(LoanError error) {
  switch (error) {
    case LoanError::ExceedsMaxLoans: return "ExceedsMaxLoans";
    case LoanError::OutOfChunks: return "OutOfChunks";
    case LoanError::ExceedsMaxSliceLength: return "ExceedsMaxSliceLength";
  }
  return "Unknown";
}

const char* to_string(RequestSendError error) {
  switch (error) {
    case RequestSendError::ExceedsMaxActiveRequests: return "ExceedsMaxActiveRequests";
    case RequestSendError::ExceedsMaxLoans: return "ExceedsMaxLoans";
    case RequestSendError::OutOfChunks: return "OutOfChunks";
    case RequestSendError::ExceedsMaxSliceLength: return "ExceedsMaxSliceLength";
    case RequestSendError::PayloadSizeMismatch: return "PayloadSizeMismatch";
  }
  return "Unknown";
}

const char* to_string(ResponseReceiveError error) {
  switch (error) {
    case ResponseReceiveError::ServerGone: return "ServerGone";
    case ResponseReceiveError::ExceedsMaxBorrowedResponses: return "ExceedsMaxBorrowedResponses";
    case ResponseReceiveError::Corrupted: return "Corrupted";
  }
  return "Unknown";
}

const char* to_string(ServerReceiveError error) {
  switch (error) {
    case ServerReceiveError::Corrupted: return "Corrupted";
  }
  return "Unknown";
}

const char* to_string(ResponseSendError error) {
  switch (error) {
    case ResponseSendError::NotConnected: return "NotConnected";
    case ResponseSendError::BufferFull: return "BufferFull";
    case ResponseSendError::Corrupted: return "Corrupted";
    case ResponseSendError::ExceedsMaxLoans: return "ExceedsMaxLoans";
    case ResponseSendError::OutOfChunks: return "OutOfChunks";
    case ResponseSendError::ExceedsMaxSliceLength: return "ExceedsMaxSliceLength";
    case ResponseSendError::PayloadSizeMismatch: return "PayloadSizeMismatch";
  }
  return "Unknown";
}

namespace detail {
namespace {

PayloadType type_of(const core::FixedString<core::kMaxTypeNameLength>& name, std::uint64_t size,
                    std::uint64_t alignment, std::uint32_t is_slice) {
  return PayloadType{std::string(name.view()), size, alignment, is_slice != 0};
}

}  // namespace

RequestResponseStaticConfig request_response_static_config(const core::RequestResponseSettings& s,
                                                           Access access) {
  RequestResponseStaticConfig c;
  c.request_type = type_of(s.request_type_name, s.request_type_size, s.request_type_alignment,
                           s.request_is_slice);
  c.response_type = type_of(s.response_type_name, s.response_type_size,
                            s.response_type_alignment, s.response_is_slice);
  c.max_clients = s.max_clients;
  c.max_servers = s.max_servers;
  c.max_nodes = s.max_nodes;
  c.max_active_requests_per_client = s.max_active_requests;
  c.max_response_buffer_size = s.response_buffer_size;
  c.max_loaned_requests = s.max_loaned_requests;
  c.max_loaned_responses = s.max_loaned_responses;
  c.max_borrowed_responses = s.max_borrowed_responses;
  c.fire_and_forget = s.fire_and_forget != 0;
  c.overflow = to_overflow_policy(s.overflow);
  c.access = access;
  return c;
}

tl::expected<std::shared_ptr<ServiceCore>, RequestResponseCreateError> create_request_response(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const RequestResponseRequest& r) {
  // What the builder was not given comes from the node's configuration (request_response).
  const auto& d = node->config().defaults.request_response;
  core::StaticConfig settings{};
  settings.access = r.access.value_or(d.access) == Access::Group ? core::AccessKind::Group
                                                                 : core::AccessKind::Owner;
  auto& s = settings.request_response;
  if (!valid_payload_type(r.request_type) || !valid_payload_type(r.response_type)) {
    return tl::unexpected(RequestResponseCreateError::InvalidSettings);
  }
  s.request_type_name = *core::FixedString<core::kMaxTypeNameLength>::from(r.request_type.name);
  s.request_type_size = r.request_type.size;
  s.request_type_alignment = r.request_type.alignment;
  s.request_is_slice = r.request_type.is_slice ? 1 : 0;
  s.response_type_name = *core::FixedString<core::kMaxTypeNameLength>::from(r.response_type.name);
  s.response_type_size = r.response_type.size;
  s.response_type_alignment = r.response_type.alignment;
  s.response_is_slice = r.response_type.is_slice ? 1 : 0;
  s.max_clients = r.max_clients.value_or(d.max_clients);
  s.max_servers = r.max_servers.value_or(d.max_servers);
  s.max_nodes = r.max_nodes.value_or(d.max_nodes);
  s.max_active_requests = r.max_active_requests.value_or(d.max_active_requests_per_client);
  s.response_buffer_size = r.response_buffer_size.value_or(d.max_response_buffer_size);
  s.max_loaned_requests = r.max_loaned_requests.value_or(d.max_loaned_requests);
  s.max_loaned_responses = r.max_loaned_responses.value_or(d.max_loaned_responses);
  s.max_borrowed_responses = r.max_borrowed_responses.value_or(d.max_borrowed_responses);
  s.fire_and_forget = r.fire_and_forget.value_or(d.fire_and_forget) ? 1 : 0;
  s.overflow = to_overflow_kind(r.overflow.value_or(d.overflow_policy));
  // The layout's own limits (ports, queues, pools) are the creator's: what it refuses, every
  // opener would read as Corrupted.
  if (!core::RequestResponseLayout::valid(s)) {
    return tl::unexpected(RequestResponseCreateError::InvalidSettings);
  }
  return create_service<RequestResponsePattern, RequestResponseCreateError>(std::move(node), name,
                                                                            settings);
}

tl::expected<std::shared_ptr<ServiceCore>, RequestResponseOpenError> open_request_response(
    const std::shared_ptr<NodeCore>& node, const ServiceName& name,
    const RequestResponseRequest& r) {
  using E = RequestResponseOpenError;
  auto requirements = [&](const core::StaticConfig& sc) -> std::optional<E> {
    const auto& s = sc.request_response;
    if (!same_payload_type(r.request_type, s.request_type_name, s.request_type_size,
                   s.request_type_alignment, s.request_is_slice)) {
      return E::IncompatibleRequestType;
    }
    if (!same_payload_type(r.response_type, s.response_type_name, s.response_type_size,
                   s.response_type_alignment, s.response_is_slice)) {
      return E::IncompatibleResponseType;
    }
    auto below = [](const std::optional<std::uint32_t>& wanted, std::uint32_t has) {
      return wanted && has < *wanted;
    };
    if (below(r.max_clients, s.max_clients)) return E::DoesNotSupportRequestedAmountOfClients;
    if (below(r.max_servers, s.max_servers)) return E::DoesNotSupportRequestedAmountOfServers;
    if (below(r.max_nodes, s.max_nodes)) return E::DoesNotSupportRequestedAmountOfNodes;
    if (below(r.max_active_requests, s.max_active_requests)) {
      return E::DoesNotSupportRequestedAmountOfActiveRequests;
    }
    if (below(r.response_buffer_size, s.response_buffer_size)) {
      return E::DoesNotSupportRequestedResponseBufferSize;
    }
    if (below(r.max_loaned_requests, s.max_loaned_requests) ||
        below(r.max_loaned_responses, s.max_loaned_responses)) {
      return E::DoesNotSupportRequestedAmountOfLoans;
    }
    if (below(r.max_borrowed_responses, s.max_borrowed_responses)) {
      return E::DoesNotSupportRequestedAmountOfBorrowedResponses;
    }
    if (r.fire_and_forget && *r.fire_and_forget != (s.fire_and_forget != 0)) {
      return E::IncompatibleFireAndForget;
    }
    if (r.overflow && *r.overflow != to_overflow_policy(s.overflow)) return E::IncompatibleOverflowPolicy;
    if (r.access && *r.access != to_access(sc.access)) return E::IncompatibleAccess;
    return std::nullopt;
  };
  return open_service<RequestResponsePattern, E>(node, name, requirements);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The service and its builder

tl::expected<UntypedRequestResponseService, RequestResponseCreateError>
UntypedRequestResponseServiceBuilder::create() const {
  return detail::create_request_response(m_node, m_name, m_request).map([](auto core) {
    return UntypedRequestResponseService(std::move(core));
  });
}

tl::expected<UntypedRequestResponseService, RequestResponseOpenError>
UntypedRequestResponseServiceBuilder::open() const {
  return detail::open_request_response(m_node, m_name, m_request).map([](auto core) {
    return UntypedRequestResponseService(std::move(core));
  });
}

tl::expected<UntypedRequestResponseService, RequestResponseOpenOrCreateError>
UntypedRequestResponseServiceBuilder::open_or_create() const {
  return detail::open_or_create([&] { return open(); }, [&] { return create(); });
}

const ServiceName& UntypedRequestResponseService::name() const { return m_core->name(); }

RequestResponseStaticConfig UntypedRequestResponseService::static_config() const {
  return detail::request_response_static_config(m_core->static_config().request_response,
                                                m_core->access());
}

std::size_t UntypedRequestResponseService::number_of_clients() const {
  return m_core->count_ports(detail::RequestResponsePattern::kClientTable);
}

std::size_t UntypedRequestResponseService::number_of_servers() const {
  return m_core->count_ports(detail::RequestResponsePattern::kServerTable);
}

std::size_t UntypedRequestResponseService::number_of_nodes() const {
  return m_core->count_nodes();
}

tl::expected<UntypedClient, ClientCreateError> UntypedClientBuilder::create() const {
  return detail::ClientCore::create(m_service, m_max_len).map([](auto core) {
    return UntypedClient(std::move(core));
  });
}

tl::expected<UntypedServer, ServerCreateError> UntypedServerBuilder::create() const {
  return detail::ServerCore::create(m_service, m_max_len, m_block_timeout).map([](auto core) {
    return UntypedServer(std::move(core));
  });
}

// ---------------------------------------------------------------------------------------------
// Client side

namespace {

/// The loan of send_copy: `bytes` must be one element (a whole number of them, for slices).
template <typename Core>
std::optional<std::uint64_t> elements_of(const Core& core, std::span<const std::byte> bytes) {
  const auto element = core.element_size();
  if (bytes.size() % element != 0 || (!core.is_slice() && bytes.size() != element)) {
    return std::nullopt;
  }
  return bytes.size() / element;
}

template <typename SendError>
SendError send_error_of(LoanError error) {
  switch (error) {
    case LoanError::ExceedsMaxLoans: return SendError::ExceedsMaxLoans;
    case LoanError::OutOfChunks: return SendError::OutOfChunks;
    case LoanError::ExceedsMaxSliceLength: return SendError::ExceedsMaxSliceLength;
  }
  return SendError::OutOfChunks;
}

void copy_in(std::span<std::byte> to, std::span<const std::byte> from) {
  // An empty slice may come as a null span: memcpy must not see it, even for 0 bytes.
  if (!from.empty()) std::memcpy(to.data(), from.data(), from.size());
}

}  // namespace

UntypedRequestMut::UntypedRequestMut(std::shared_ptr<detail::ClientCore> client,
                                     detail::LoanedRequestChunk chunk, std::uint64_t len)
    : m_client(std::move(client)), m_chunk(chunk), m_len(len) {}
UntypedRequestMut::UntypedRequestMut(UntypedRequestMut&& other) noexcept
    : m_client(std::move(other.m_client)), m_chunk(other.m_chunk), m_len(other.m_len) {}
UntypedRequestMut::~UntypedRequestMut() {
  if (m_client) m_client->discard(m_chunk.index);
}

UntypedResponse::UntypedResponse(std::shared_ptr<detail::ClientCore> client,
                                 detail::ReceivedResponse chunk)
    : m_client(std::move(client)), m_chunk(std::move(chunk)) {}
UntypedResponse::UntypedResponse(UntypedResponse&& other) noexcept
    : m_client(std::move(other.m_client)), m_chunk(std::move(other.m_chunk)) {}
UntypedResponse::~UntypedResponse() {
  if (m_client) m_client->release(m_chunk.channel, m_chunk);
}

UntypedPendingResponse::UntypedPendingResponse(std::shared_ptr<detail::ClientCore> client,
                                               std::uint32_t channel, std::uint64_t request_id)
    : m_client(std::move(client)), m_channel(channel), m_request_id(request_id) {}
UntypedPendingResponse::UntypedPendingResponse(UntypedPendingResponse&& other) noexcept
    : m_client(std::move(other.m_client)),
      m_channel(other.m_channel),
      m_request_id(other.m_request_id) {}
UntypedPendingResponse::~UntypedPendingResponse() {
  if (m_client) m_client->cancel(m_channel);
}

tl::expected<std::optional<UntypedResponse>, ResponseReceiveError>
UntypedPendingResponse::receive() {
  auto chunk = m_client->receive(m_channel);
  if (!chunk) return tl::unexpected(chunk.error());
  if (!*chunk) return std::optional<UntypedResponse>{};
  return std::optional<UntypedResponse>(UntypedResponse(m_client, std::move(**chunk)));
}

bool UntypedPendingResponse::is_done() { return m_client->is_done(m_channel); }
std::size_t UntypedPendingResponse::number_of_server_connections() {
  return m_client->connections(m_channel);
}
std::span<const std::byte> UntypedPendingResponse::request() const {
  return m_client->request(m_channel);
}

UntypedClient::UntypedClient(std::shared_ptr<detail::ClientCore> core) : m_core(std::move(core)) {}
UntypedClient::~UntypedClient() = default;

tl::expected<UntypedRequestMut, LoanError> UntypedClient::loan_uninit(std::uint64_t len) {
  auto chunk = m_core->loan(len);
  if (!chunk) return tl::unexpected(chunk.error());
  return UntypedRequestMut(m_core, *chunk, len);
}

tl::expected<UntypedRequestMut, LoanError> UntypedClient::loan(std::uint64_t len) {
  auto request = loan_uninit(len);
  if (request) std::memset(request->payload().data(), 0, request->payload().size());
  return request;
}

tl::expected<UntypedPendingResponse, RequestSendError> UntypedClient::send(
    UntypedRequestMut&& request) {
  auto core = std::move(request.m_client);
  auto sent = core->send(request.m_chunk.index, request.m_len);
  if (!sent) return tl::unexpected(sent.error());
  return UntypedPendingResponse(std::move(core), sent->channel, sent->request_id);
}

tl::expected<UntypedPendingResponse, RequestSendError> UntypedClient::send_copy(
    std::span<const std::byte> bytes) {
  const auto elements = elements_of(*m_core, bytes);
  if (!elements) return tl::unexpected(RequestSendError::PayloadSizeMismatch);
  auto request = loan_uninit(*elements);
  if (!request) return tl::unexpected(send_error_of<RequestSendError>(request.error()));
  copy_in(request->payload(), bytes);
  return send(std::move(*request));
}

void UntypedClient::notify_on_send(Notifier notifier) {
  m_core->set_notifier(std::move(notifier));
}
std::uint64_t UntypedClient::id() const { return m_core->id(); }
std::uint64_t UntypedClient::max_slice_len() const { return m_core->max_elements(); }
std::size_t UntypedClient::number_of_servers() const { return m_core->number_of_servers(); }

// ---------------------------------------------------------------------------------------------
// Server side

UntypedResponseMut::UntypedResponseMut(std::shared_ptr<detail::ServerCore> server,
                                       detail::LoanedRequestChunk chunk, std::uint64_t len)
    : m_server(std::move(server)), m_chunk(chunk), m_len(len) {}
UntypedResponseMut::UntypedResponseMut(UntypedResponseMut&& other) noexcept
    : m_server(std::move(other.m_server)), m_chunk(other.m_chunk), m_len(other.m_len) {}
UntypedResponseMut::~UntypedResponseMut() {
  if (m_server) m_server->discard(m_chunk.index);
}

UntypedActiveRequest::UntypedActiveRequest(std::shared_ptr<detail::ServerCore> server,
                                           detail::ReceivedRequest request)
    : m_server(std::move(server)), m_request(std::move(request)) {}
UntypedActiveRequest::UntypedActiveRequest(UntypedActiveRequest&& other) noexcept
    : m_server(std::move(other.m_server)), m_request(std::move(other.m_request)) {}
UntypedActiveRequest::~UntypedActiveRequest() {
  if (m_server) m_server->end(m_request);
}

bool UntypedActiveRequest::is_connected() const { return m_server->is_connected(m_request); }

tl::expected<UntypedResponseMut, LoanError> UntypedActiveRequest::loan_uninit(std::uint64_t len) {
  auto chunk = m_server->loan(len);
  if (!chunk) return tl::unexpected(chunk.error());
  return UntypedResponseMut(m_server, *chunk, len);
}

tl::expected<UntypedResponseMut, LoanError> UntypedActiveRequest::loan(std::uint64_t len) {
  auto response = loan_uninit(len);
  if (response) std::memset(response->payload().data(), 0, response->payload().size());
  return response;
}

tl::expected<void, ResponseSendError> UntypedActiveRequest::send(UntypedResponseMut&& response) {
  auto server = std::move(response.m_server);
  return server->send(m_request, response.m_chunk.index, response.m_len);
}

tl::expected<void, ResponseSendError> UntypedActiveRequest::send_copy(
    std::span<const std::byte> bytes) {
  const auto elements = elements_of(*m_server, bytes);
  if (!elements) return tl::unexpected(ResponseSendError::PayloadSizeMismatch);
  auto response = loan_uninit(*elements);
  if (!response) return tl::unexpected(send_error_of<ResponseSendError>(response.error()));
  copy_in(response->payload(), bytes);
  return send(std::move(*response));
}

UntypedServer::UntypedServer(std::shared_ptr<detail::ServerCore> core) : m_core(std::move(core)) {}
UntypedServer::~UntypedServer() = default;

tl::expected<std::optional<UntypedActiveRequest>, ServerReceiveError> UntypedServer::receive() {
  auto request = m_core->receive();
  if (!request) return tl::unexpected(request.error());
  if (!*request) return std::optional<UntypedActiveRequest>{};
  return std::optional<UntypedActiveRequest>(UntypedActiveRequest(m_core, std::move(**request)));
}

void UntypedServer::notify_on_send(Notifier notifier) {
  m_core->set_notifier(std::move(notifier));
}
std::uint64_t UntypedServer::id() const { return m_core->id(); }
std::uint64_t UntypedServer::max_slice_len() const { return m_core->max_elements(); }
std::size_t UntypedServer::chunks_in_use() const { return m_core->chunks_in_use(); }
std::size_t UntypedServer::chunk_count() const { return m_core->chunk_count(); }

}  // namespace axon
