// The machinery of request-response, inside the library: the public ports of untyped.hpp share
// these with what they hand out (loans, pending responses, responses, active requests), and the
// last of them releases the port. The protocol is docs/design.md §6c; the layout of a link is
// core/request_response/layout.hpp.
//
// Client: owns a data segment of request chunks and, per server slot, the request half of the
// link (request queue, listening words), which it rebuilds when a new server appears. A request
// takes one of its channels (max_active_requests) until every server that got it has ended its
// stream (or is gone) and nobody listens: a server's end is also its release of the request
// chunk, so a chunk a server forgets can never strand the client.
// Server: owns a data segment of response chunks and, per client slot, the response half (ended
// words, completion queue, one response queue per channel). Reference counts of its chunks live
// in its own memory, so a client that dies cannot strand one: everything recorded as delivered
// on that link comes back when the link goes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <tl/expected.hpp>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/request_response/layout.hpp"
#include "axon/core/spsc_queue.hpp"
#include "axon/event/notifier.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon/request_response/untyped.hpp"

namespace axon::detail {

using Clock = std::chrono::steady_clock;

/// How often a port with nothing to read asks whether a silent peer's node still lives.
inline constexpr std::chrono::milliseconds kLivenessProbe{100};
/// How soon a peer's segment that could not be mapped for a passing reason is tried again.
inline constexpr std::chrono::milliseconds kRemapRetry{10};

/// The chunk header fields a reader copied and checked.
class ClientCore {
 public:
  static tl::expected<std::shared_ptr<ClientCore>, ClientCreateError> create(
      std::shared_ptr<ServiceCore> service, std::uint64_t max_elements);
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;
  ~ClientCore();

  tl::expected<LoanedRequestChunk, LoanError> loan(std::uint64_t elements);
  void discard(std::uint32_t index);
  struct Sent {
    std::uint32_t channel;
    std::uint64_t request_id;
  };
  tl::expected<Sent, RequestSendError> send(std::uint32_t index, std::uint64_t elements);

  tl::expected<std::optional<ReceivedResponse>, ResponseReceiveError> receive(
      std::uint32_t channel);
  void release(std::uint32_t channel, const ReceivedResponse& response);
  bool is_done(std::uint32_t channel);
  std::size_t connections(std::uint32_t channel) const;
  std::span<const std::byte> request(std::uint32_t channel) const;
  /// The PendingResponse of `channel` is gone: tell the servers, give back what is queued.
  void cancel(std::uint32_t channel);

  std::uint64_t id() const { return m_id; }
  std::uint64_t max_elements() const { return m_max_elements; }
  std::uint64_t element_size() const { return m_settings.request_type_size; }
  bool is_slice() const { return m_settings.request_is_slice != 0; }
  std::size_t number_of_servers();
  void set_notifier(Notifier notifier) { m_notifier.emplace(std::move(notifier)); }

  ClientCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id,
             platform::SharedMemory segment, core::ChunkPool pool, std::uint64_t max_elements);

 private:
  /// What we read of one server: its segment and its response half. Shared by every channel
  /// that sent to it, so that a stream is read to its end even after its server left the slot.
  struct ResponseSide {
    std::uint64_t server_id = 0;
    std::uint32_t slot = 0;
    std::uint64_t owner_node = 0;
    std::shared_ptr<const platform::SharedMemory> segment;
    core::ChunkPool pool;
    std::uint64_t chunk_capacity = 0;
    core::LinkHeader* header = nullptr;
    const core::ChannelWord* ended = nullptr;
    bool attached = false;               ///< the queues below, once the half was seen built
    core::SpscIndexQueue completion;     ///< we produce
    std::vector<core::SpscIndexQueue> responses;  ///< we consume, one per channel
  };
  /// The request half we build towards the server in one slot.
  struct RequestSide {
    std::uint64_t server_id = 0;  ///< 0: no server, or its segment is not mapped yet
    core::LinkHeader* header = nullptr;
    core::ChannelWord* listening = nullptr;
    core::SpscIndexQueue requests;  ///< we produce
    std::shared_ptr<ResponseSide> side;
  };
  enum class Stream : std::uint8_t { None, Waiting, Ended, Gone, GoneReported };
  struct Channel {
    std::uint64_t request_id = 0;  ///< 0: free
    std::uint32_t chunk = 0;
    std::uint64_t payload_size = 0;
    bool listening = false;  ///< a PendingResponse holds it
    std::vector<Stream> streams;  ///< per server slot
    std::vector<std::shared_ptr<ResponseSide>> sides;  ///< per server slot, while not None
    std::vector<std::uint32_t> borrowed;               ///< per server slot
    std::uint32_t next = 0;                            ///< round robin start
    Clock::time_point next_probe{};  ///< {}: not started (no silence yet)
  };
  void update_servers();
  bool attach(ResponseSide& side);
  bool connected(const ResponseSide& side) const;
  /// Pops the next response of stream `s` of `channel`; nullopt when there is none now (the
  /// stream's state may have moved on). Stale responses (another request's) are given back.
  tl::expected<std::optional<ReceivedResponse>, ResponseReceiveError> pop(
      Channel& channel, std::uint32_t k, std::uint32_t s, std::optional<bool>& probe);
  /// Whether this call asks silent servers if they live (at most every kLivenessProbe per
  /// channel); `due` keeps the answer for the rest of the call.
  static bool probe_due(Channel& channel, std::optional<bool>& due);
  void give_back(ResponseSide& side, std::uint64_t offset);
  /// Gives back everything queued on `k` for every stream of `channel`.
  void drain(Channel& channel, std::uint32_t k);
  /// Frees `channel` when nobody listens, no response is borrowed and every stream is over.
  void try_free(std::uint32_t k);
  bool server_alive(const ResponseSide& side) const;

  std::shared_ptr<ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  platform::SharedMemory m_segment;
  core::ChunkPool m_pool;
  core::RequestResponseSettings m_settings;
  core::LinkShape m_shape;
  std::uint64_t m_max_elements;
  std::uint64_t m_payload_offset;
  std::uint64_t m_response_payload_offset;
  std::vector<std::uint32_t> m_free;  ///< free request chunks (process-local, like a publisher's)
  std::uint32_t m_loans = 0;
  std::uint64_t m_next_request_id = 1;
  std::vector<Channel> m_channels;
  std::vector<RequestSide> m_servers;  ///< one per server slot
  std::uint64_t m_seen_generation = ~0ULL;
  std::optional<Clock::time_point> m_remap_at;
  std::optional<Notifier> m_notifier;
};

class ServerCore {
 public:
  static tl::expected<std::shared_ptr<ServerCore>, ServerCreateError> create(
      std::shared_ptr<ServiceCore> service, std::uint64_t max_elements,
      std::chrono::nanoseconds block_timeout);
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;
  ~ServerCore();

  tl::expected<std::optional<ReceivedRequest>, ServerReceiveError> receive();
  bool is_connected(const ReceivedRequest& request);
  /// Ends the stream of `request` (its ActiveRequest was dropped).
  void end(const ReceivedRequest& request);

  tl::expected<LoanedRequestChunk, LoanError> loan(std::uint64_t elements);
  void discard(std::uint32_t index);
  tl::expected<void, ResponseSendError> send(const ReceivedRequest& request, std::uint32_t index,
                                             std::uint64_t elements);

  std::uint64_t id() const { return m_id; }
  std::uint64_t max_elements() const { return m_max_elements; }
  std::uint64_t element_size() const { return m_settings.response_type_size; }
  bool is_slice() const { return m_settings.response_is_slice != 0; }
  std::size_t chunks_in_use();
  std::size_t chunk_count() const { return m_refs.size(); }
  void set_notifier(Notifier notifier) { m_notifier.emplace(std::move(notifier)); }

  ServerCore(std::shared_ptr<ServiceCore> service, std::uint32_t slot, std::uint64_t id,
             platform::SharedMemory segment, core::ChunkPool pool, std::uint64_t max_elements,
             std::chrono::nanoseconds block_timeout);

 private:
  struct Link {
    std::uint64_t client_id = 0;  ///< 0: no client; our response half is built for it
    std::uint64_t owner_node = 0;
    // The client's request half and segment (attached once seen built for us).
    std::shared_ptr<const platform::SharedMemory> segment;
    core::ChunkPool pool;
    std::uint64_t chunk_capacity = 0;
    core::LinkHeader* request_header = nullptr;
    core::SpscIndexQueue requests;  ///< we consume
    // Our response half.
    core::LinkHeader* response_header = nullptr;
    core::ChannelWord* ended = nullptr;
    core::SpscIndexQueue completion;              ///< we consume
    std::vector<core::SpscIndexQueue> responses;  ///< we produce, one per channel
    std::vector<std::uint32_t> in_flight;  ///< per chunk: delivered and not yet given back
    std::uint64_t outstanding = 0;
    /// OverwriteOldest: per channel, the chunk pushed at each queue position.
    std::vector<std::vector<std::uint32_t>> pushed;
    std::vector<std::size_t> pushed_at;
    std::vector<std::uint64_t> active;    ///< per channel: the request id we serve, 0: none
    std::vector<std::uint64_t> sequence;  ///< per channel: the next response's sequence
    bool mapped = false;                  ///< segment mapped (requests attached separately)
    Clock::time_point next_probe{};
    bool alive = true;
  };
  void update_clients();
  void connect(std::uint32_t client_slot, std::uint64_t client_id);
  void disconnect(Link& link);
  bool map_client(Link& link);
  bool attach_requests(Link& link);
  bool reclaim(Link& link);
  void reclaim_all();
  void returned(Link& link, std::uint32_t index);
  void add_ref(std::uint32_t index) { ++m_refs[index]; }
  void drop_ref(std::uint32_t index);
  bool listens(const Link& link, const ReceivedRequest& request) const;
  enum class Delivery { Delivered, Full, Corrupted };
  Delivery deliver(Link& link, const ReceivedRequest& request, std::uint32_t index);
  std::optional<std::uint32_t> returned_index(const Link& link, std::uint64_t offset) const;

  std::shared_ptr<ServiceCore> m_service;
  std::uint32_t m_slot;
  std::uint64_t m_id;
  platform::SharedMemory m_segment;
  core::ChunkPool m_pool;
  core::RequestResponseSettings m_settings;
  core::LinkShape m_shape;
  std::uint64_t m_max_elements;
  std::uint64_t m_payload_offset;          ///< of our response chunks
  std::uint64_t m_request_payload_offset;  ///< of a client's request chunks
  std::uint64_t m_share;
  std::chrono::nanoseconds m_block_timeout;
  std::vector<std::uint32_t> m_refs;
  std::vector<std::uint32_t> m_free;
  std::uint32_t m_loans = 0;
  std::vector<Link> m_links;  ///< one per client slot
  std::uint64_t m_seen_generation = ~0ULL;
  std::optional<Clock::time_point> m_remap_at;
  std::uint32_t m_next = 0;
  std::optional<Notifier> m_notifier;
};

}  // namespace axon::detail
