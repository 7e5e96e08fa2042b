#include "axon/request_response/rr_core.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <thread>

#include "axon/detail/payload_rules.hpp"
#include "axon/detail/port_segment.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/request_response/pattern.hpp"

namespace axon::detail {
namespace {

using core::ChannelWord;
using core::LinkHeader;
using core::RequestHeader;
using core::ResponseHeader;
using P = RequestResponsePattern;

/// The link of client slot `c` and server slot `s` (validated with the region at open).
std::byte* link_at(const ServiceCore& service, std::uint32_t c, std::uint32_t s) {
  const auto& settings = service.static_config().request_response;
  return service.region_element(std::uint64_t{c} * settings.max_servers + s);
}

// SAFETY (the casts below): every offset comes from core::RequestResponseLayout::link() of our
// private copy of the settings, within the stride validated against the mapping at open; the
// objects were constructed there at creation.
LinkHeader* request_header(std::byte* link) { return reinterpret_cast<LinkHeader*>(link); }
LinkHeader* response_header(std::byte* link, const core::LinkShape& l) {
  return reinterpret_cast<LinkHeader*>(link + l.response_header_offset);
}
ChannelWord* listening_words(std::byte* link, const core::LinkShape& l) {
  return reinterpret_cast<ChannelWord*>(link + l.listening_offset);
}
ChannelWord* ended_words(std::byte* link, const core::LinkShape& l) {
  return reinterpret_cast<ChannelWord*>(link + l.ended_offset);
}
struct QueueBlock {
  std::byte* memory;
  std::size_t bytes;
};
QueueBlock request_queue(std::byte* link, const core::LinkShape& l) {
  return {link + l.request_queue_offset, l.listening_offset - l.request_queue_offset};
}
QueueBlock completion_queue(std::byte* link, const core::LinkShape& l) {
  return {link + l.completion_offset, l.response_queues_offset - l.completion_offset};
}
QueueBlock response_queue(std::byte* link, const core::LinkShape& l, std::uint32_t k) {
  return {link + l.response_queues_offset + k * l.response_queue_stride, l.response_queue_stride};
}

std::uint64_t chunk_alignment(std::uint64_t type_alignment) {
  return std::max<std::uint64_t>(type_alignment, alignof(RequestHeader));
}

/// The loan rules both ports share: the length, the loan limit.
std::optional<LoanError> check_loan(std::uint64_t elements, std::uint64_t max_elements,
                                    bool is_slice, std::uint32_t loans, std::uint32_t max_loans) {
  if (elements > max_elements || (!is_slice && elements != 1)) {
    return LoanError::ExceedsMaxSliceLength;
  }
  if (loans >= max_loans) return LoanError::ExceedsMaxLoans;
  return std::nullopt;
}

/// Chunk size and max length for a port of `max_elements` elements of `size` bytes; nullopt when
/// the length is out of range.
std::optional<std::uint64_t> chunk_size_for(std::uint64_t& max_elements, std::uint64_t size,
                                            std::uint64_t alignment, bool is_slice) {
  if (!is_slice) max_elements = 1;
  if (max_elements == 0 || size == 0 || max_elements > core::ChunkPool::kMaxChunkSize / size) {
    return std::nullopt;
  }
  return core::rr_payload_offset(alignment) + size * max_elements;
}

/// When to look again at a peer whose segment could not be mapped: soon when the reason passes
/// (out of fds or memory), and, less often, also when it does not (the segment failed
/// validation: a hostile or damaged peer may be caught rewriting its pool header at that moment,
/// and an honest port should not give up on it for good). Costs a map attempt per period only
/// while such a peer is there.
void retry_map(std::optional<Clock::time_point>& at, MapFailure failure) {
  const auto next = Clock::now() + (failure == MapFailure::Passing
                                        ? std::chrono::nanoseconds(kRemapRetry)
                                        : std::chrono::nanoseconds(kLivenessProbe));
  if (!at || next < *at) at = next;
}

/// A port's payload type, as its settings record it.
struct PayloadOf {
  std::uint64_t size;
  std::uint64_t alignment;
  bool is_slice;
};

template <typename Error>
struct PortErrors {
  Error exceeds_max_ports;
  Error invalid_slice_length;
  Error insufficient_resources;
};

/// What making a client and a server share: the chunk size for `max_elements` of the payload
/// (fixed to 1 unless slices), a claimed slot of `table`, the data segment named after it, and
/// the core `make(slot, id, segment)` returns. The caller connects it and publishes the slot; a
/// failure here releases the slot (and with it the segment).
template <typename Core, typename Error, typename Make>
tl::expected<std::shared_ptr<Core>, Error> create_port(ServiceCore& service, std::size_t table,
                                                       std::uint64_t chunk_count,
                                                       std::uint64_t& max_elements,
                                                       PayloadOf payload,
                                                       const PortErrors<Error>& errors,
                                                       Make&& make) {
  const auto alignment = chunk_alignment(payload.alignment);
  const auto chunk_size = chunk_size_for(max_elements, payload.size, alignment, payload.is_slice);
  if (!chunk_size) return tl::unexpected(errors.invalid_slice_length);
  const auto claimed = service.claim_port(table);
  if (!claimed) return tl::unexpected(errors.exceeds_max_ports);
  auto fail = [&](Error e) {
    service.release_port(table, claimed->slot);
    return tl::unexpected(e);
  };
  auto segment = create_port_segment(service, claimed->id, chunk_count, *chunk_size, alignment);
  if (!segment) {
    return fail(segment.error() == SegmentFailure::TooLarge ? errors.invalid_slice_length
                                                            : errors.insufficient_resources);
  }
  try {
    return make(claimed->slot, claimed->id, std::move(*segment));
  } catch (const std::bad_alloc&) {
    return fail(errors.insufficient_resources);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Client

tl::expected<std::shared_ptr<ClientCore>, ClientCreateError> ClientCore::create(
    std::shared_ptr<ServiceCore> service, std::uint64_t max_elements) {
  const auto& s = service->static_config().request_response;
  auto core = create_port<ClientCore>(
      *service, P::kClientTable, core::client_chunk_count(s), max_elements,
      PayloadOf{s.request_type_size, s.request_type_alignment, s.request_is_slice != 0},
      PortErrors<ClientCreateError>{ClientCreateError::ExceedsMaxClients,
                                    ClientCreateError::InvalidSliceLength,
                                    ClientCreateError::InsufficientResources},
      [&](std::uint32_t slot, std::uint64_t id, OwnSegment segment) {
        return std::make_shared<ClientCore>(service, slot, id, std::move(segment.shm),
                                            segment.pool, max_elements);
      });
  if (!core) return core;
  // Our request halves towards the servers there are, built before anyone can see us.
  (*core)->update_servers();
  service->publish_port(P::kClientTable, (*core)->m_slot, (*core)->m_id);
  return core;
}

ClientCore::ClientCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id,
                       platform::SharedMemory segment, core::ChunkPool pool,
                       std::uint64_t max_elements)
    : m_service(std::move(service)),
      m_slot(slot),
      m_id(id),
      m_segment(std::move(segment)),
      m_pool(pool),
      m_settings(m_service->static_config().request_response),
      m_shape(core::RequestResponseLayout::link(m_settings)),
      m_max_elements(max_elements),
      m_payload_offset(core::rr_payload_offset(chunk_alignment(m_settings.request_type_alignment))),
      m_response_payload_offset(
          core::rr_payload_offset(chunk_alignment(m_settings.response_type_alignment))),
      m_channels(m_settings.max_active_requests),
      m_servers(m_settings.max_servers) {
  for (auto& channel : m_channels) {
    channel.streams.assign(m_settings.max_servers, Stream::None);
    channel.sides.resize(m_settings.max_servers);
    channel.borrowed.assign(m_settings.max_servers, 0);
  }
  m_free.reserve(m_pool.chunk_count());
  for (auto i = m_pool.chunk_count(); i > 0; --i) m_free.push_back(i - 1);
}

ClientCore::~ClientCore() { m_service->release_port(P::kClientTable, m_slot); }

void ClientCore::update_servers() {
  // ORDERING: acquire pairs with the release bump by servers that came or went.
  const auto generation =
      m_service->dynamic().generation[P::kServerTable].load(std::memory_order_acquire);
  if (generation == m_seen_generation) {
    if (!m_remap_at || Clock::now() < *m_remap_at) return;
  }
  m_seen_generation = generation;
  m_remap_at.reset();
  const auto alignment = chunk_alignment(m_settings.response_type_alignment);
  for (std::uint32_t s = 0; s < m_servers.size(); ++s) {
    const auto& slot = m_service->port_slot<core::ServerSlot>(P::kServerTable, s);
    // ORDERING: acquire: the server's segment exists before its id is published.
    const auto server_id = slot.port.port_id.load(std::memory_order_acquire);
    auto& side = m_servers[s];
    if (server_id == side.server_id) continue;
    std::byte* link = link_at(*m_service, m_slot, s);
    // Channels that sent to the old server keep its response side until their streams end.
    side = RequestSide{};
    request_header(link)->writer_id.store(0, std::memory_order_release);
    if (server_id == 0) continue;
    auto segment = map_port_segment(*m_service, server_id,
                                    core::rr_payload_offset(alignment) +
                                        m_settings.response_type_size,
                                    alignment);
    if (!segment) {
      retry_map(m_remap_at, segment.error());
      continue;  // a server we cannot read from gets no request
    }
    std::shared_ptr<ResponseSide> response;
    try {
      response = std::make_shared<ResponseSide>();
      response->responses.resize(m_settings.max_active_requests);
    } catch (const std::bad_alloc&) {
      m_remap_at = Clock::now() + kRemapRetry;
      continue;
    }
    response->server_id = server_id;
    response->slot = s;
    response->owner_node = slot.port.owner_node.load(std::memory_order_relaxed);
    response->segment = std::move(segment->shm);
    response->pool = segment->pool;
    response->chunk_capacity = response->pool.chunk_size() - core::rr_payload_offset(alignment);
    response->header = response_header(link, m_shape);
    response->ended = ended_words(link, m_shape);
    // Our request half: void while rebuilt, then published for this server.
    auto* header = request_header(link);
    header->reader_id.store(0, std::memory_order_relaxed);
    const auto block = request_queue(link, m_shape);
    auto requests = core::SpscIndexQueue::initialize(block.memory, block.bytes,
                                                     m_shape.request_capacity);
    if (!requests) continue;  // cannot happen: the layout was validated
    auto* listening = listening_words(link, m_shape);
    for (std::uint32_t k = 0; k < m_settings.max_active_requests; ++k) {
      listening[k].store(0, std::memory_order_relaxed);
    }
    header->reader_id.store(server_id, std::memory_order_relaxed);
    // ORDERING: release publishes the rebuilt queue and words before the server matches the pair.
    header->writer_id.store(m_id, std::memory_order_release);
    side.server_id = server_id;
    side.header = header;
    side.listening = listening;
    side.requests = std::move(*requests);
    side.side = std::move(response);
  }
}

std::size_t ClientCore::number_of_servers() {
  update_servers();
  return static_cast<std::size_t>(std::count_if(
      m_servers.begin(), m_servers.end(), [](const RequestSide& s) { return s.server_id != 0; }));
}

bool ClientCore::connected(const ResponseSide& side) const {
  // ORDERING: acquire pairs with the server's release of the pair after rebuilding its half.
  return side.header->writer_id.load(std::memory_order_acquire) == side.server_id &&
         side.header->reader_id.load(std::memory_order_relaxed) == m_id;
}

bool ClientCore::attach(ResponseSide& side) {
  if (side.attached) return true;
  std::byte* link = link_at(*m_service, m_slot, side.slot);
  const auto completion = completion_queue(link, m_shape);
  auto queue = core::SpscIndexQueue::attach(completion.memory, completion.bytes);
  if (!queue) return false;
  side.completion = std::move(*queue);
  for (std::uint32_t k = 0; k < m_settings.max_active_requests; ++k) {
    const auto block = response_queue(link, m_shape, k);
    auto response = core::SpscIndexQueue::attach(block.memory, block.bytes);
    if (!response) return false;
    side.responses[k] = std::move(*response);
  }
  side.attached = true;
  return true;
}

bool ClientCore::server_alive(const ResponseSide& side) const {
  const auto& slot = m_service->port_slot<core::ServerSlot>(P::kServerTable, side.slot);
  if (slot.port.port_id.load(std::memory_order_acquire) != side.server_id) return false;
  return node_is_alive(m_service->config(), side.owner_node);
}

tl::expected<LoanedRequestChunk, LoanError> ClientCore::loan(std::uint64_t elements) {
  if (auto refused = check_loan(elements, m_max_elements, is_slice(), m_loans,
                                m_settings.max_loaned_requests)) {
    return tl::unexpected(*refused);
  }
  // A chunk per channel and per loan: with the loan limit checked, one is free.
  if (m_free.empty()) return tl::unexpected(LoanError::OutOfChunks);
  const auto index = m_free.back();
  m_free.pop_back();
  ++m_loans;
  return LoanedRequestChunk{index, static_cast<std::byte*>(m_pool.chunk(index)) + m_payload_offset,
                            elements * element_size()};
}

void ClientCore::discard(std::uint32_t index) {
  --m_loans;
  m_free.push_back(index);
}

tl::expected<ClientCore::Sent, RequestSendError> ClientCore::send(std::uint32_t index,
                                                                  std::uint64_t elements) {
  update_servers();
  auto free_channel = [&]() -> std::optional<std::uint32_t> {
    for (std::uint32_t k = 0; k < m_channels.size(); ++k) {
      if (m_channels[k].request_id == 0) return k;
    }
    return std::nullopt;
  };
  auto k = free_channel();
  if (!k) {
    // Channels nobody listens to any more are free once their servers ended their streams.
    for (std::uint32_t j = 0; j < m_channels.size(); ++j) try_free(j);
    k = free_channel();
  }
  if (!k) {
    discard(index);
    return tl::unexpected(RequestSendError::ExceedsMaxActiveRequests);
  }
  auto& channel = m_channels[*k];
  const auto request_id = m_next_request_id++;
  // SAFETY: index came from our own loan; the chunk starts with room for a RequestHeader.
  auto* header = static_cast<RequestHeader*>(m_pool.chunk(index));
  header->client_id = m_id;
  header->request_id = request_id;
  header->payload_size = elements * element_size();
  header->channel = *k;
  header->cancelled = 0;
  channel.request_id = request_id;
  channel.chunk = index;
  channel.payload_size = header->payload_size;
  channel.listening = true;
  channel.next = 0;
  channel.next_probe = Clock::time_point{};  // started by the first silence
  const auto offset = m_pool.offset_of(index);
  for (std::uint32_t s = 0; s < m_servers.size(); ++s) {
    channel.streams[s] = Stream::None;
    channel.sides[s].reset();
    channel.borrowed[s] = 0;
    auto& server = m_servers[s];
    if (server.server_id == 0) continue;
    // The listening word (what discovery counts) is set before the request is pushed.
    server.listening[*k].store(request_id, std::memory_order_relaxed);
    if (!server.requests.push(offset)) {
      // Full: the server has stopped taking requests (killed, its slot not yet cleaned).
      server.listening[*k].store(0, std::memory_order_relaxed);
      continue;
    }
    channel.streams[s] = Stream::Waiting;
    channel.sides[s] = server.side;
  }
  --m_loans;
  if (m_notifier) (void)m_notifier->notify();
  return Sent{*k, request_id};
}

void ClientCore::give_back(ResponseSide& side, std::uint64_t offset) {
  if (side.attached && connected(side)) (void)side.completion.try_push(offset);
}

bool ClientCore::probe_due(Channel& channel, std::optional<bool>& due) {
  if (due) return *due;
  // The clock is read only here: when a stream has nothing to give. The first silence starts
  // the period.
  const auto now = Clock::now();
  if (channel.next_probe == Clock::time_point{}) {
    channel.next_probe = now + kLivenessProbe;
  } else if (now >= channel.next_probe) {
    channel.next_probe = now + kLivenessProbe;
    due = true;
    return true;
  }
  due = false;
  return false;
}

tl::expected<std::optional<ReceivedResponse>, ResponseReceiveError> ClientCore::pop(
    Channel& channel, std::uint32_t k, std::uint32_t s, std::optional<bool>& probe) {
  auto& side = *channel.sides[s];
  const auto gone = [&]() -> tl::expected<std::optional<ReceivedResponse>, ResponseReceiveError> {
    channel.streams[s] = Stream::Gone;
    return tl::unexpected(ResponseReceiveError::ServerGone);
  };
  if (!side.attached) {
    if (!connected(side)) {
      // The server has not built its half for us yet: wait for it while it lives.
      if (probe_due(channel, probe) && !server_alive(side)) return gone();
      return std::optional<ReceivedResponse>{};
    }
    if (!attach(side)) {
      channel.streams[s] = Stream::Gone;  // never read again
      return tl::unexpected(ResponseReceiveError::Corrupted);
    }
  }
  if (channel.borrowed[s] >= m_settings.max_borrowed_responses) {
    if (!side.responses[k].empty()) {
      return tl::unexpected(ResponseReceiveError::ExceedsMaxBorrowedResponses);
    }
    return std::optional<ReceivedResponse>{};
  }
  bool ended_seen = false;
  // Bounded: stale responses (another request's, only from a hostile server) are given back.
  for (std::uint64_t attempt = 0; attempt <= m_shape.response_capacity + 1; ++attempt) {
    auto popped = side.responses[k].pop_newest(m_settings.response_buffer_size);
    if (!popped) {
      // A server that took the slot is rebuilding the half: what was queued for us is gone.
      if (!connected(side)) return gone();
      return tl::unexpected(ResponseReceiveError::Corrupted);
    }
    if (*popped) {
      // Taken from a half that another server rebuilt meanwhile: not ours to read.
      if (!connected(side)) return gone();
      const auto offset = **popped;
      const auto index = side.pool.index_of_offset(offset);
      if (!index) return tl::unexpected(ResponseReceiveError::Corrupted);
      const auto* chunk = static_cast<const std::byte*>(side.pool.chunk(*index));
      // Read the header once; only the copy is used.
      ResponseHeader header;
      std::memcpy(&header, chunk, sizeof(header));
      if (header.request_id != channel.request_id) {
        give_back(side, offset);
        continue;
      }
      if (!payload_size_fits(header.payload_size, side.chunk_capacity, m_settings.response_type_size,
                        m_settings.response_is_slice != 0)) {
        give_back(side, offset);
        return tl::unexpected(ResponseReceiveError::Corrupted);
      }
      ++channel.borrowed[s];
      return std::optional<ReceivedResponse>(
          ReceivedResponse{side.segment, k, s, side.server_id, offset, header.sequence,
                           header.payload_size, chunk + m_response_payload_offset});
    }
    if (ended_seen) {
      channel.streams[s] = Stream::Ended;
      return std::optional<ReceivedResponse>{};
    }
    // ORDERING: acquire pairs with the server's release of the end after its last push: once
    // the end is seen, one more pop finds every response sent before it.
    if (side.ended[k].load(std::memory_order_acquire) == channel.request_id) {
      ended_seen = true;
      continue;
    }
    // Silent: gone when its half was rebuilt by another server, or (at most every
    // kLivenessProbe) when its port or its node is no more.
    if (!connected(side) || (probe_due(channel, probe) && !server_alive(side))) return gone();
    return std::optional<ReceivedResponse>{};
  }
  return std::optional<ReceivedResponse>{};
}

tl::expected<std::optional<ReceivedResponse>, ResponseReceiveError> ClientCore::receive(
    std::uint32_t k) {
  auto& channel = m_channels[k];
  const auto n = static_cast<std::uint32_t>(channel.streams.size());
  // A silent server is asked whether it still lives at most every kLivenessProbe: decided once
  // per call, for every server.
  std::optional<bool> probe;
  bool at_borrow_limit = false;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto s = (channel.next + i) % n;
    if (channel.streams[s] != Stream::Waiting) continue;
    auto popped = pop(channel, k, s, probe);
    if (!popped && popped.error() == ResponseReceiveError::ExceedsMaxBorrowedResponses) {
      at_borrow_limit = true;  // the other servers' responses may still be taken
      continue;
    }
    if (!popped || *popped) {
      channel.next = (s + 1) % n;
      return popped;
    }
  }
  if (at_borrow_limit) return tl::unexpected(ResponseReceiveError::ExceedsMaxBorrowedResponses);
  return std::optional<ReceivedResponse>{};
}

void ClientCore::release(std::uint32_t k, const ReceivedResponse& response) {
  auto& channel = m_channels[k];
  const auto s = response.server_slot;
  if (channel.borrowed[s] > 0) --channel.borrowed[s];
  if (auto& side = channel.sides[s]; side && side->server_id == response.server_id) {
    give_back(*side, response.offset);
  }
  if (!channel.listening) try_free(k);
}

bool ClientCore::is_done(std::uint32_t k) {
  auto& channel = m_channels[k];
  bool done = true;
  for (std::uint32_t s = 0; s < channel.streams.size(); ++s) {
    if (channel.streams[s] != Stream::Waiting) continue;
    auto& side = *channel.sides[s];
    // Ended, with nothing left to receive: what receive() would find, without taking anything.
    // (A server gone is left to receive(), which reports it; so is a queue that still counts
    // responses a pop would skip.)
    // ORDERING: acquire pairs with the server's release of the end after its last push.
    if (connected(side) && attach(side) &&
        side.ended[k].load(std::memory_order_acquire) == channel.request_id &&
        side.responses[k].empty()) {
      channel.streams[s] = Stream::Ended;
    } else {
      done = false;
    }
  }
  return done;
}

std::size_t ClientCore::connections(std::uint32_t k) const {
  const auto& streams = m_channels[k].streams;
  return static_cast<std::size_t>(
      std::count(streams.begin(), streams.end(), Stream::Waiting));
}

std::span<const std::byte> ClientCore::request(std::uint32_t k) const {
  const auto& channel = m_channels[k];
  return {static_cast<const std::byte*>(m_pool.chunk(channel.chunk)) + m_payload_offset,
          channel.payload_size};
}

void ClientCore::drain(Channel& channel, std::uint32_t k) {
  for (std::uint32_t s = 0; s < channel.streams.size(); ++s) {
    if (channel.streams[s] == Stream::None || !channel.sides[s]) continue;
    auto& side = *channel.sides[s];
    if (!connected(side) || !attach(side)) continue;
    for (std::uint64_t n = side.responses[k].capacity(); n > 0; --n) {
      auto popped = side.responses[k].pop();
      if (!popped || !*popped) break;
      give_back(side, **popped);
    }
  }
}

void ClientCore::cancel(std::uint32_t k) {
  auto& channel = m_channels[k];
  channel.listening = false;
  // SAFETY: the channel's chunk is ours and holds its request until the channel is freed.
  auto* header = static_cast<RequestHeader*>(m_pool.chunk(channel.chunk));
  // ORDERING: release, so a server that sees it sees everything we did before.
  std::atomic_ref<std::uint32_t>(header->cancelled).store(1, std::memory_order_release);
  for (std::uint32_t s = 0; s < channel.streams.size(); ++s) {
    // Every server that got it, its stream over or not: discovery counts a non-zero word as a
    // pending request.
    if (channel.streams[s] == Stream::None) continue;
    auto& server = m_servers[s];
    if (server.server_id != 0 && server.server_id == channel.sides[s]->server_id) {
      // ORDERING: release, so a server that sees 0 sees everything we did before.
      server.listening[k].store(0, std::memory_order_release);
    }
  }
  // What is queued goes back now. The channel itself is freed later, by a send that finds no
  // free one (or the release of its last borrowed response): reading the servers' ended words
  // here would put another cache line on every request's path. A response a server pushes
  // after this drain (it saw us listening just before) waits in the queue until then: at most
  // a buffer per channel, inside the client's share.
  drain(channel, k);
}

void ClientCore::try_free(std::uint32_t k) {
  auto& channel = m_channels[k];
  if (channel.request_id == 0 || channel.listening) return;
  const auto n = channel.streams.size();
  for (std::uint32_t s = 0; s < n; ++s) {
    if (channel.borrowed[s] > 0) return;
  }
  std::optional<bool> probe;
  for (std::uint32_t s = 0; s < n; ++s) {
    if (channel.streams[s] != Stream::Waiting) continue;
    auto& side = *channel.sides[s];
    // A server that ended the stream has let go of the request chunk too.
    if (connected(side) &&
        side.ended[k].load(std::memory_order_acquire) == channel.request_id) {
      channel.streams[s] = Stream::Ended;
    } else if ((!connected(side) && side.attached) ||  // its half was rebuilt: it left
               (probe_due(channel, probe) && !server_alive(side))) {
      channel.streams[s] = Stream::Gone;
    } else {
      return;  // it may still read the request
    }
  }
  drain(channel, k);
  m_free.push_back(channel.chunk);
  channel.request_id = 0;
  for (auto& side : channel.sides) side.reset();
  std::fill(channel.streams.begin(), channel.streams.end(), Stream::None);
}

// ---------------------------------------------------------------------------------------------
// Server

tl::expected<std::shared_ptr<ServerCore>, ServerCreateError> ServerCore::create(
    std::shared_ptr<ServiceCore> service, std::uint64_t max_elements,
    std::chrono::nanoseconds block_timeout) {
  const auto& s = service->static_config().request_response;
  auto core = create_port<ServerCore>(
      *service, P::kServerTable, core::server_chunk_count(s), max_elements,
      PayloadOf{s.response_type_size, s.response_type_alignment, s.response_is_slice != 0},
      PortErrors<ServerCreateError>{ServerCreateError::ExceedsMaxServers,
                                    ServerCreateError::InvalidSliceLength,
                                    ServerCreateError::InsufficientResources},
      [&](std::uint32_t slot, std::uint64_t id, OwnSegment segment) {
        return std::make_shared<ServerCore>(service, slot, id, std::move(segment.shm),
                                            segment.pool, max_elements, block_timeout);
      });
  if (!core) return core;
  // Our response halves towards the clients there are, built before anyone can see us.
  (*core)->update_clients();
  service->publish_port(P::kServerTable, (*core)->m_slot, (*core)->m_id);
  return core;
}

ServerCore::ServerCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id,
                       platform::SharedMemory segment, core::ChunkPool pool,
                       std::uint64_t max_elements, std::chrono::nanoseconds block_timeout)
    : m_service(std::move(service)),
      m_slot(slot),
      m_id(id),
      m_segment(std::move(segment)),
      m_pool(pool),
      m_settings(m_service->static_config().request_response),
      m_shape(core::RequestResponseLayout::link(m_settings)),
      m_max_elements(max_elements),
      m_payload_offset(
          core::rr_payload_offset(chunk_alignment(m_settings.response_type_alignment))),
      m_request_payload_offset(
          core::rr_payload_offset(chunk_alignment(m_settings.request_type_alignment))),
      m_share(core::client_share(m_settings)),
      m_block_timeout(block_timeout),
      m_refs(m_pool.chunk_count(), 0),
      m_links(m_settings.max_clients) {
  const auto channels = m_settings.max_active_requests;
  const bool overwrite = m_settings.overflow == core::OverflowKind::OverwriteOldest;
  for (std::uint32_t c = 0; c < m_links.size(); ++c) {
    auto& link = m_links[c];
    std::byte* memory = link_at(*m_service, c, m_slot);
    link.request_header = request_header(memory);
    link.response_header = response_header(memory, m_shape);
    link.ended = ended_words(memory, m_shape);
    link.responses.resize(channels);
    link.in_flight.assign(m_refs.size(), 0);
    link.pushed.assign(overwrite ? channels : 0,
                       std::vector<std::uint32_t>(m_shape.response_capacity, 0));
    link.pushed_at.assign(channels, 0);
    link.active.assign(channels, 0);
    link.sequence.assign(channels, 0);
  }
  m_free.reserve(m_refs.size());
  for (auto i = static_cast<std::uint32_t>(m_refs.size()); i > 0; --i) m_free.push_back(i - 1);
}

ServerCore::~ServerCore() { m_service->release_port(P::kServerTable, m_slot); }

void ServerCore::update_clients() {
  // ORDERING: acquire pairs with the release bump by clients that came or went.
  const auto generation =
      m_service->dynamic().generation[P::kClientTable].load(std::memory_order_acquire);
  if (generation == m_seen_generation) {
    if (!m_remap_at || Clock::now() < *m_remap_at) return;
  }
  m_seen_generation = generation;
  m_remap_at.reset();
  for (std::uint32_t c = 0; c < m_links.size(); ++c) {
    auto& link = m_links[c];
    const auto& slot = m_service->port_slot<core::ClientSlot>(P::kClientTable, c);
    const auto client_id = slot.port.port_id.load(std::memory_order_acquire);
    if (client_id != link.client_id) {
      if (link.client_id != 0) disconnect(link);
      if (client_id != 0) connect(c, client_id);
    }
    if (link.client_id != 0 && !link.mapped) (void)map_client(link);
  }
}

bool ServerCore::map_client(Link& link) {
  const auto alignment = chunk_alignment(m_settings.request_type_alignment);
  auto segment = map_port_segment(*m_service, link.client_id,
                                  core::rr_payload_offset(alignment) + m_settings.request_type_size,
                                  alignment);
  if (!segment) {
    retry_map(m_remap_at, segment.error());
    return false;  // a client we cannot read from gets nothing read
  }
  link.segment = std::move(segment->shm);
  link.pool = segment->pool;
  link.chunk_capacity = link.pool.chunk_size() - core::rr_payload_offset(alignment);
  link.mapped = true;
  return true;
}

void ServerCore::connect(std::uint32_t c, std::uint64_t client_id) {
  auto& link = m_links[c];
  std::byte* memory = link_at(*m_service, c, m_slot);
  // ORDERING: the pair is void (0) while our half is rebuilt; published with release below.
  link.response_header->writer_id.store(0, std::memory_order_release);
  link.response_header->reader_id.store(0, std::memory_order_relaxed);
  for (std::uint32_t k = 0; k < m_settings.max_active_requests; ++k) {
    link.ended[k].store(0, std::memory_order_relaxed);
  }
  const auto mode = m_settings.overflow == core::OverflowKind::OverwriteOldest
                        ? core::SpscIndexQueue::Mode::Overwriting
                        : core::SpscIndexQueue::Mode::Bounded;
  const auto completion = completion_queue(memory, m_shape);
  auto queue = core::SpscIndexQueue::initialize(completion.memory, completion.bytes,
                                                m_shape.completion_capacity);
  if (!queue) return;  // cannot happen: the layout was validated
  link.completion = std::move(*queue);
  for (std::uint32_t k = 0; k < m_settings.max_active_requests; ++k) {
    const auto block = response_queue(memory, m_shape, k);
    auto response = core::SpscIndexQueue::initialize(block.memory, block.bytes,
                                                     m_shape.response_capacity, mode);
    if (!response) return;
    link.responses[k] = std::move(*response);
  }
  std::fill(link.pushed_at.begin(), link.pushed_at.end(), 0);
  std::fill(link.active.begin(), link.active.end(), 0);
  link.outstanding = 0;
  link.client_id = client_id;
  link.owner_node = m_service->port_slot<core::ClientSlot>(P::kClientTable, c)
                        .port.owner_node.load(std::memory_order_relaxed);
  link.alive = true;
  link.next_probe = Clock::now() + kLivenessProbe;
  link.response_header->reader_id.store(client_id, std::memory_order_relaxed);
  // ORDERING: release publishes the rebuilt half before the client can match the pair.
  link.response_header->writer_id.store(m_id, std::memory_order_release);
}

void ServerCore::disconnect(Link& link) {
  // ORDERING: release: the pair is void before we take back its chunks.
  link.response_header->writer_id.store(0, std::memory_order_release);
  (void)reclaim(link);
  // Everything still recorded as delivered is held by a client that is gone: take it back.
  for (std::uint32_t i = 0; i < link.in_flight.size(); ++i) {
    while (link.in_flight[i] > 0) returned(link, i);
  }
  link.outstanding = 0;
  link.client_id = 0;
  link.segment.reset();
  link.pool = core::ChunkPool{};
  link.mapped = false;
  link.requests = core::SpscIndexQueue{};
  link.completion = core::SpscIndexQueue{};
  for (auto& queue : link.responses) queue = core::SpscIndexQueue{};
  std::fill(link.active.begin(), link.active.end(), 0);
}

bool ServerCore::attach_requests(Link& link) {
  const auto block = request_queue(link_at(*m_service, static_cast<std::uint32_t>(
                                                           &link - m_links.data()),
                                           m_slot),
                                   m_shape);
  auto queue = core::SpscIndexQueue::attach(block.memory, block.bytes);
  if (!queue) return false;
  link.requests = std::move(*queue);
  return true;
}

tl::expected<std::optional<ReceivedRequest>, ServerReceiveError> ServerCore::receive() {
  update_clients();
  const auto n = static_cast<std::uint32_t>(m_links.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto c = (m_next + i) % n;
    auto& link = m_links[c];
    if (link.client_id == 0 || !link.mapped) continue;
    const auto requests_built = [&] {
      // ORDERING: acquire pairs with the client's release of the pair after rebuilding.
      return link.request_header->writer_id.load(std::memory_order_acquire) == link.client_id &&
             link.request_header->reader_id.load(std::memory_order_relaxed) == m_id;
    };
    if (!requests_built()) continue;
    // A link found broken is reported, and the next call starts after it: a client that keeps
    // its own half broken must not make us report it on every call and never serve the others.
    if (!link.requests.attached() && !attach_requests(link)) {
      m_next = (c + 1) % n;
      return tl::unexpected(ServerReceiveError::Corrupted);
    }
    auto popped = link.requests.pop();
    if (!requests_built()) continue;  // rebuilt under us: not corruption
    if (!popped) {
      m_next = (c + 1) % n;
      return tl::unexpected(ServerReceiveError::Corrupted);
    }
    if (!*popped) continue;
    m_next = (c + 1) % n;
    const auto index = link.pool.index_of_offset(**popped);
    if (!index) return tl::unexpected(ServerReceiveError::Corrupted);
    const auto* chunk = static_cast<const std::byte*>(link.pool.chunk(*index));
    // The client can rewrite its chunk at any moment: read the header once, check the copy.
    RequestHeader header;
    std::memcpy(&header, chunk, sizeof(header));
    if (header.client_id != link.client_id || header.request_id == 0 ||
        header.channel >= m_settings.max_active_requests || link.active[header.channel] != 0 ||
        !payload_size_fits(header.payload_size, link.chunk_capacity, m_settings.request_type_size,
                      m_settings.request_is_slice != 0)) {
      return tl::unexpected(ServerReceiveError::Corrupted);
    }
    const auto k = header.channel;
    if (m_settings.fire_and_forget == 0 && header.cancelled != 0) {
      // Nobody waits for it any more: end it unread.
      link.ended[k].store(header.request_id, std::memory_order_release);
      continue;
    }
    link.active[k] = header.request_id;
    link.sequence[k] = 0;
    return std::optional<ReceivedRequest>(
        ReceivedRequest{link.segment, chunk, c, link.client_id, k, header.request_id,
                        header.payload_size, chunk + m_request_payload_offset});
  }
  return std::optional<ReceivedRequest>{};
}

bool ServerCore::listens(const Link& link, const ReceivedRequest& request) const {
  if (link.client_id != request.client_id) return false;
  // SAFETY: the header lies in the client's segment, mapped read-only for as long as `request`
  // lives; a 4-byte aligned word, read atomically (a plain load), never written here.
  const auto* header = static_cast<const RequestHeader*>(request.header);
  auto& cancelled = const_cast<std::uint32_t&>(header->cancelled);
  // ORDERING: acquire pairs with the client's release when it drops the PendingResponse.
  return std::atomic_ref<std::uint32_t>(cancelled).load(std::memory_order_acquire) == 0;
}

bool ServerCore::is_connected(const ReceivedRequest& request) {
  update_clients();
  auto& link = m_links[request.client_slot];
  if (!listens(link, request)) return false;
  if (const auto now = Clock::now(); now >= link.next_probe) {
    link.next_probe = now + kLivenessProbe;
    link.alive = node_is_alive(m_service->config(), link.owner_node);
  }
  return link.alive;
}

void ServerCore::end(const ReceivedRequest& request) {
  auto& link = m_links[request.client_slot];
  if (link.client_id != request.client_id || link.active[request.channel] != request.request_id) {
    return;  // that client is gone: its link went with it
  }
  link.active[request.channel] = 0;
  // ORDERING: release: every response pushed before is visible to a client that sees the end.
  link.ended[request.channel].store(request.request_id, std::memory_order_release);
  if (m_notifier) (void)m_notifier->notify();
}

tl::expected<LoanedRequestChunk, LoanError> ServerCore::loan(std::uint64_t elements) {
  if (auto refused = check_loan(elements, m_max_elements, is_slice(), m_loans,
                                m_settings.max_loaned_responses)) {
    return tl::unexpected(*refused);
  }
  if (m_free.empty()) {
    update_clients();
    reclaim_all();
    if (m_free.empty()) return tl::unexpected(LoanError::OutOfChunks);
  }
  const auto index = m_free.back();
  m_free.pop_back();
  m_refs[index] = 1;
  ++m_loans;
  return LoanedRequestChunk{index, static_cast<std::byte*>(m_pool.chunk(index)) + m_payload_offset,
                            elements * element_size()};
}

void ServerCore::discard(std::uint32_t index) {
  --m_loans;
  drop_ref(index);
}

void ServerCore::drop_ref(std::uint32_t index) {
  if (m_refs[index] == 0) return;  // a bookkeeping bug must not list a chunk twice
  if (--m_refs[index] == 0) m_free.push_back(index);
}

std::optional<std::uint32_t> ServerCore::returned_index(const Link& link,
                                                        std::uint64_t offset) const {
  const auto index = m_pool.index_of_offset(offset);
  if (!index || link.in_flight[*index] == 0) return std::nullopt;
  return *index;
}

void ServerCore::returned(Link& link, std::uint32_t index) {
  --link.in_flight[index];
  --link.outstanding;
  drop_ref(index);
}

bool ServerCore::reclaim(Link& link) {
  if (!link.completion.attached()) return true;
  // Bounded: a hostile client cannot keep us here by refilling the queue.
  for (std::uint64_t n = link.completion.capacity(); n > 0; --n) {
    auto popped = link.completion.pop();
    if (!popped) return false;
    if (!*popped) return true;
    if (const auto index = returned_index(link, **popped)) returned(link, *index);
  }
  return true;
}

void ServerCore::reclaim_all() {
  for (auto& link : m_links) {
    if (link.client_id != 0) (void)reclaim(link);
  }
}

std::size_t ServerCore::chunks_in_use() {
  update_clients();
  reclaim_all();
  return static_cast<std::size_t>(
      std::count_if(m_refs.begin(), m_refs.end(), [](std::uint32_t r) { return r > 0; }));
}

ServerCore::Delivery ServerCore::deliver(Link& link, const ReceivedRequest& request,
                                         std::uint32_t index) {
  // As a publisher does: released chunks come back lazily, once the link holds a client's whole
  // share; more than the share after that is a client keeping what it was never allowed.
  if (link.outstanding >= m_share) {
    if (!reclaim(link)) return Delivery::Corrupted;
    if (link.outstanding > m_share) return Delivery::Corrupted;
  }
  const auto k = request.channel;
  auto& queue = link.responses[k];
  const auto offset = m_pool.offset_of(index);
  switch (m_settings.overflow) {
    case core::OverflowKind::OverwriteOldest: {
      auto evicted = queue.push_overwrite(offset);
      if (!evicted) return Delivery::Corrupted;
      auto& ring = link.pushed[k];
      auto& pushed = ring[link.pushed_at[k]];
      if (*evicted && link.in_flight[pushed] > 0) returned(link, pushed);
      pushed = index;
      link.pushed_at[k] = link.pushed_at[k] + 1 == ring.size() ? 0 : link.pushed_at[k] + 1;
      break;
    }
    case core::OverflowKind::Refuse:
      if (auto pushed = queue.push(offset); !pushed) {
        return pushed.error() == core::CoreError::Full ? Delivery::Full : Delivery::Corrupted;
      }
      break;
    case core::OverflowKind::Block: {
      const auto deadline = Clock::now() + m_block_timeout;
      auto pause = std::chrono::microseconds(1);
      while (true) {
        auto pushed = queue.push(offset);
        if (pushed) break;
        if (pushed.error() != core::CoreError::Full || !reclaim(link)) return Delivery::Corrupted;
        if (!listens(link, request) || Clock::now() >= deadline) return Delivery::Full;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(500));
      }
      break;
    }
  }
  ++link.in_flight[index];
  ++link.outstanding;
  add_ref(index);
  return Delivery::Delivered;
}

tl::expected<void, ResponseSendError> ServerCore::send(const ReceivedRequest& request,
                                                       std::uint32_t index,
                                                       std::uint64_t elements) {
  update_clients();
  auto& link = m_links[request.client_slot];
  tl::expected<void, ResponseSendError> result{};
  if (link.active[request.channel] != request.request_id || !listens(link, request)) {
    result = tl::unexpected(ResponseSendError::NotConnected);
  } else {
    // SAFETY: index came from our own loan; the chunk starts with room for a ResponseHeader.
    auto* header = static_cast<ResponseHeader*>(m_pool.chunk(index));
    header->server_id = m_id;
    header->request_id = request.request_id;
    header->payload_size = elements * element_size();
    header->sequence = link.sequence[request.channel]++;
    switch (deliver(link, request, index)) {
      case Delivery::Delivered: break;
      case Delivery::Full: result = tl::unexpected(ResponseSendError::BufferFull); break;
      case Delivery::Corrupted: result = tl::unexpected(ResponseSendError::Corrupted); break;
    }
  }
  --m_loans;
  drop_ref(index);
  if (result && m_notifier) (void)m_notifier->notify();
  return result;
}

}  // namespace axon::detail
