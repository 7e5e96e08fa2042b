// Fuzzes a request-response link (core/request_response/layout.hpp) and the chunk headers its two
// sides exchange, as services/src/request_response/rr_core.cpp uses them: a client (its request
// half, its request chunks) and a server (its response half, its response chunks) over one link,
// with anything in between overwritten by the input.
//
// Input: a mode byte, then the settings (small counts, type sizes and alignments, slices, the
// overflow policy; settings RequestResponseLayout::valid refuses end the run), then
//   made (mode bit 0 set): the link laid out by RequestResponseLayout::initialize_region_element,
//        both halves built as the ports build them when they connect (the client's request
//        queue, the server's completion and response queues in the policy's mode), then input
//        bytes over parts of it, pair ids and queue headers included;
//   raw  (mode bit 0 clear): the link's bytes from the input as they come.
// Each side attaches the other's queues as the ports do (a refused attach is what a port reports
// as Corrupted), then operations until the input ends: the client sends (header, listening
// word, push), the server receives (pop, index_of_offset, one copy of the header, the checks of
// ServerCore::receive, the whole payload read), the server answers (push, push_overwrite), the
// client receives (pop_newest, index_of_offset, one copy, the checks of ClientCore::pop, the
// whole payload read, the chunk given back), the server reclaims (a bounded drain of the
// completion queue), both read the pair ids and channel words, the client drains a channel, and
// a peer scribbles over the link or over either segment's chunks. A payload a check accepted
// must lie inside its segment; any access outside the blocks is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/request_response/layout.hpp"
#include "axon/core/spsc_queue.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace axon::core;
using axon::fuzz::Block;
using axon::fuzz::Input;

constexpr std::uint64_t kMaxLink = std::uint64_t{1} << 18;
constexpr std::uint64_t kMaxPool = std::uint64_t{1} << 20;
constexpr std::uint64_t kClientId = 0x11;
constexpr std::uint64_t kServerId = 0x22;

/// rr_core.cpp's chunk_alignment and payload_fits, as the ports apply them.
std::uint64_t chunk_alignment(std::uint64_t type_alignment) {
  return std::max<std::uint64_t>(type_alignment, alignof(RequestHeader));
}
bool payload_fits(std::uint64_t size, std::uint64_t capacity, std::uint64_t element,
                  bool is_slice) {
  if (element == 0 || size > capacity) return false;
  return is_slice ? size % element == 0 : size == element;
}

/// Settings from the input, within ranges the fuzzer covers quickly.
RequestResponseSettings settings_from(Input& in) {
  RequestResponseSettings s{};
  s.request_type_size = in.take_in(1, 64);
  s.request_type_alignment = std::uint64_t{1} << in.take_in(0, 6);
  s.response_type_size = in.take_in(1, 64);
  s.response_type_alignment = std::uint64_t{1} << in.take_in(0, 6);
  s.request_is_slice = static_cast<std::uint32_t>(in.take_in(0, 1));
  s.response_is_slice = static_cast<std::uint32_t>(in.take_in(0, 1));
  s.max_clients = static_cast<std::uint32_t>(in.take_in(1, 3));
  s.max_servers = static_cast<std::uint32_t>(in.take_in(1, 3));
  s.max_nodes = 2;
  s.max_active_requests = static_cast<std::uint32_t>(in.take_in(1, 6));
  s.response_buffer_size = static_cast<std::uint32_t>(in.take_in(1, 6));
  s.max_loaned_requests = static_cast<std::uint32_t>(in.take_in(1, 3));
  s.max_loaned_responses = static_cast<std::uint32_t>(in.take_in(1, 3));
  s.max_borrowed_responses = static_cast<std::uint32_t>(in.take_in(1, 3));
  s.fire_and_forget = static_cast<std::uint32_t>(in.take_in(0, 1));
  s.overflow = static_cast<OverflowKind>(in.take_in(1, 3));
  return s;
}

/// One port's data segment: a pool of `count` chunks of `max_elements` elements.
struct Segment {
  std::optional<Block> block;
  ChunkPool pool;
  std::uint64_t payload_offset = 0;
  std::uint64_t capacity = 0;  ///< payload bytes a chunk holds
  std::uint64_t element = 0;
  bool slice = false;
  std::uint32_t next = 0;  ///< the chunk the owner writes next (round robin: no free list here)

  bool make(std::uint64_t count, std::uint64_t element_size, std::uint64_t type_alignment,
            bool is_slice, std::uint64_t max_elements) {
    const auto alignment = chunk_alignment(type_alignment);
    payload_offset = rr_payload_offset(alignment);
    element = element_size;
    slice = is_slice;
    capacity = element_size * (is_slice ? max_elements : 1);
    const auto bytes = ChunkPool::required_size(count, payload_offset + capacity, alignment);
    if (bytes == 0 || bytes > kMaxPool) return false;
    block.emplace(bytes, std::max<std::uint64_t>(alignment, 64));
    auto made = ChunkPool::initialize(block->data(), block->size(), count,
                                      payload_offset + capacity, alignment);
    if (!made) return false;
    // What a peer's map_port_segment does: attach its own handle to the mapping.
    auto attached = ChunkPool::attach(block->data(), block->size());
    if (!attached) return false;
    pool = *attached;
    return true;
  }
  /// The payload of a chunk a peer named, after the reader's checks; nullptr when refused.
  const std::byte* payload(std::uint64_t offset, std::uint64_t size) const {
    const auto index = pool.index_of_offset(offset);
    if (!index) return nullptr;
    if (!payload_fits(size, pool.chunk_size() - payload_offset, element, slice)) return nullptr;
    const auto* p = static_cast<const std::byte*>(pool.chunk(*index)) + payload_offset;
    AXON_FUZZ_CHECK(p >= block->data() && p + size <= block->data() + block->size());
    return p;
  }
};

template <typename T>
T* at(std::byte* link, std::uint64_t offset) {
  // SAFETY: offsets of RequestResponseLayout::link() within a block of its stride.
  return reinterpret_cast<T*>(link + offset);
}

class Link {
 public:
  Link(const RequestResponseSettings& s, Block& link, Segment& requests, Segment& responses,
       Input& in)
      : m_s{s},
        m_l{RequestResponseLayout::link(s)},
        m_link{link},
        m_requests{requests},
        m_responses{responses},
        m_in{in},
        m_client_responses(s.max_active_requests),
        m_server_responses(s.max_active_requests) {}

  /// Both halves built as ClientCore::update_servers and ServerCore::connect build them.
  bool build() {
    auto* base = m_link.data();
    const auto mode = m_s.overflow == OverflowKind::OverwriteOldest
                          ? SpscIndexQueue::Mode::Overwriting
                          : SpscIndexQueue::Mode::Bounded;
    auto requests = SpscIndexQueue::initialize(base + m_l.request_queue_offset,
                                               m_l.listening_offset - m_l.request_queue_offset,
                                               m_l.request_capacity);
    auto completion = SpscIndexQueue::initialize(
        base + m_l.completion_offset, m_l.response_queues_offset - m_l.completion_offset,
        m_l.completion_capacity);
    if (!requests || !completion) return false;
    m_client_requests = std::move(*requests);
    m_server_completion = std::move(*completion);
    for (std::uint32_t k = 0; k < m_s.max_active_requests; ++k) {
      auto queue = SpscIndexQueue::initialize(
          base + m_l.response_queues_offset + k * m_l.response_queue_stride,
          m_l.response_queue_stride, m_l.response_capacity, mode);
      if (!queue) return false;
      m_server_responses[k] = std::move(*queue);
    }
    at<LinkHeader>(base, 0)->reader_id.store(kServerId);
    at<LinkHeader>(base, 0)->writer_id.store(kClientId);
    at<LinkHeader>(base, m_l.response_header_offset)->reader_id.store(kClientId);
    at<LinkHeader>(base, m_l.response_header_offset)->writer_id.store(kServerId);
    return true;
  }

  /// The producer handles of a raw link: attached, as nothing built them here.
  void adopt_raw() {
    auto* base = m_link.data();
    if (auto q = SpscIndexQueue::attach(base + m_l.request_queue_offset,
                                        m_l.listening_offset - m_l.request_queue_offset)) {
      m_client_requests = std::move(*q);
    }
    if (auto q = SpscIndexQueue::attach(base + m_l.completion_offset,
                                        m_l.response_queues_offset - m_l.completion_offset)) {
      m_server_completion = std::move(*q);
    }
    for (std::uint32_t k = 0; k < m_s.max_active_requests; ++k) {
      if (auto q = SpscIndexQueue::attach(
              base + m_l.response_queues_offset + k * m_l.response_queue_stride,
              m_l.response_queue_stride)) {
        m_server_responses[k] = std::move(*q);
      }
    }
  }

  /// Each side attaches the queues the other side built (ClientCore::attach,
  /// ServerCore::attach_requests).
  void attach_peers() {
    auto* base = m_link.data();
    if (auto q = SpscIndexQueue::attach(base + m_l.request_queue_offset,
                                        m_l.listening_offset - m_l.request_queue_offset)) {
      m_server_requests = std::move(*q);
    }
    if (auto q = SpscIndexQueue::attach(base + m_l.completion_offset,
                                        m_l.response_queues_offset - m_l.completion_offset)) {
      m_client_completion = std::move(*q);
    }
    for (std::uint32_t k = 0; k < m_s.max_active_requests; ++k) {
      if (auto q = SpscIndexQueue::attach(
              base + m_l.response_queues_offset + k * m_l.response_queue_stride,
              m_l.response_queue_stride)) {
        m_client_responses[k] = std::move(*q);
      }
    }
  }

  void run() {
    while (!m_in.empty()) {
      switch (m_in.take<std::uint8_t>() % 9) {
        case 0: client_send(); break;
        case 1: server_receive(); break;
        case 2: server_send(); break;
        case 3: client_receive(); break;
        case 4: server_reclaim(); break;
        case 5: read_words(); break;
        case 6: client_drain(); break;
        case 7: (void)m_link.scribble(m_in); break;
        case 8: scribble_chunks(); break;
      }
    }
  }

 private:
  std::uint32_t channel() {
    return static_cast<std::uint32_t>(m_in.take_in(0, m_s.max_active_requests - 1));
  }

  ChannelWord& word(std::uint64_t offset, std::uint32_t k) {
    return *at<ChannelWord>(m_link.data(), offset + k * sizeof(ChannelWord));
  }

  bool pair_is(std::uint64_t header, std::uint64_t writer, std::uint64_t reader) {
    const auto* h = at<LinkHeader>(m_link.data(), header);
    return h->writer_id.load() == writer && h->reader_id.load() == reader;
  }

  void client_send() {
    const auto k = channel();
    const std::uint32_t index = m_requests.next++ % m_requests.pool.chunk_count();
    auto* chunk = static_cast<std::byte*>(m_requests.pool.chunk(index));
    const auto elements = m_requests.slice ? m_in.take_in(0, m_requests.capacity /
                                                                 m_requests.element)
                                           : 1;
    RequestHeader h{kClientId, ++m_request_id, elements * m_requests.element, k, 0};
    std::memcpy(chunk, &h, sizeof(h));
    m_sent[k] = m_request_id;
    word(m_l.listening_offset, k).store(m_request_id);
    (void)m_client_requests.try_push(m_requests.pool.offset_of(index));
  }

  void server_receive() {
    if (!pair_is(0, kClientId, kServerId) || !m_server_requests.attached()) return;
    auto popped = m_server_requests.pop();
    if (!popped || !*popped) return;
    const auto index = m_requests.pool.index_of_offset(**popped);
    if (!index) return;
    RequestHeader h;
    std::memcpy(&h, m_requests.pool.chunk(*index), sizeof(h));  // once; only the copy is used
    if (h.client_id != kClientId || h.request_id == 0 || h.channel >= m_s.max_active_requests) {
      return;
    }
    const auto* payload = m_requests.payload(**popped, h.payload_size);
    if (payload == nullptr) return;
    (void)axon::fuzz::touch(payload, h.payload_size);
    if (m_s.fire_and_forget == 0 && word(m_l.listening_offset, h.channel).load() != h.request_id) {
      word(m_l.ended_offset, h.channel).store(h.request_id);
      return;
    }
    m_active[h.channel] = h.request_id;
  }

  void server_send() {
    const auto k = channel();
    const std::uint32_t index = m_responses.next++ % m_responses.pool.chunk_count();
    auto* chunk = static_cast<std::byte*>(m_responses.pool.chunk(index));
    const auto elements = m_responses.slice ? m_in.take_in(0, m_responses.capacity /
                                                                  m_responses.element)
                                            : 1;
    ResponseHeader h{kServerId, m_active[k], elements * m_responses.element, m_sequence++};
    std::memcpy(chunk, &h, sizeof(h));
    auto& queue = m_server_responses[k];
    if (queue.mode() == SpscIndexQueue::Mode::Overwriting) {
      (void)queue.push_overwrite(m_responses.pool.offset_of(index));
    } else {
      (void)queue.try_push(m_responses.pool.offset_of(index));
    }
    if (m_in.take_bool()) {
      word(m_l.ended_offset, k).store(m_active[k]);  // the stream ends
      m_active[k] = 0;
    }
  }

  void client_receive() {
    const auto k = channel();
    if (!pair_is(m_l.response_header_offset, kServerId, kClientId)) return;
    auto& queue = m_client_responses[k];
    if (!queue.attached()) return;
    // Bounded as ClientCore::pop: stale responses are given back and the next one tried.
    for (std::uint64_t attempt = 0; attempt <= m_l.response_capacity + 1; ++attempt) {
      auto popped = queue.pop_newest(m_s.response_buffer_size);
      if (!popped || !*popped) return;
      const auto index = m_responses.pool.index_of_offset(**popped);
      if (!index) return;
      ResponseHeader h;
      std::memcpy(&h, m_responses.pool.chunk(*index), sizeof(h));  // once
      (void)m_client_completion.try_push(**popped);
      if (h.request_id != m_sent[k]) continue;
      const auto* payload = m_responses.payload(**popped, h.payload_size);
      if (payload != nullptr) (void)axon::fuzz::touch(payload, h.payload_size);
      return;
    }
  }

  void server_reclaim() {
    if (!m_server_completion.attached()) return;
    for (std::uint64_t n = m_server_completion.capacity(); n > 0; --n) {
      auto popped = m_server_completion.pop();
      if (!popped || !*popped) return;
      if (const auto index = m_responses.pool.index_of_offset(**popped)) {
        AXON_FUZZ_CHECK(*index < m_responses.pool.chunk_count());
      }
    }
  }

  void read_words() {
    const auto k = channel();
    (void)pair_is(0, kClientId, kServerId);
    (void)pair_is(m_l.response_header_offset, kServerId, kClientId);
    (void)word(m_l.listening_offset, k).load();
    (void)word(m_l.ended_offset, k).load();
    (void)m_client_requests.size();
    (void)m_server_completion.size();
    (void)m_client_responses[k].empty();
  }

  void client_drain() {
    auto& queue = m_client_responses[channel()];
    if (!queue.attached()) return;
    for (std::uint64_t n = queue.capacity(); n > 0; --n) {
      auto popped = queue.pop();
      if (!popped || !*popped) return;
      (void)m_client_completion.try_push(**popped);
    }
  }

  void scribble_chunks() {
    Segment& segment = m_in.take_bool() ? m_requests : m_responses;
    const auto index = static_cast<std::uint32_t>(
        m_in.take_in(0, segment.pool.chunk_count() - 1));
    auto* chunk = static_cast<std::byte*>(segment.pool.chunk(index));
    const std::uint64_t value = m_in.take<std::uint64_t>();
    const auto field = m_in.take_in(0, 3);  // one of the four header words
    std::memcpy(chunk + 8 * field, &value, sizeof(value));
  }

  const RequestResponseSettings& m_s;
  const LinkShape m_l;
  Block& m_link;
  Segment& m_requests;
  Segment& m_responses;
  Input& m_in;
  SpscIndexQueue m_client_requests, m_server_requests;
  SpscIndexQueue m_client_completion, m_server_completion;
  std::vector<SpscIndexQueue> m_client_responses, m_server_responses;
  std::uint64_t m_request_id = 0;
  std::uint64_t m_sequence = 0;
  std::uint64_t m_sent[kMaxActiveRequests]{};
  std::uint64_t m_active[kMaxActiveRequests]{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  const auto s = settings_from(in);
  if (!RequestResponseLayout::valid(s)) return 0;
  const auto l = RequestResponseLayout::link(s);
  if (l.stride > kMaxLink) return 0;
  Segment requests, responses;
  if (!requests.make(client_chunk_count(s), s.request_type_size, s.request_type_alignment,
                     s.request_is_slice != 0, in.take_in(1, 4)) ||
      !responses.make(server_chunk_count(s), s.response_type_size, s.response_type_alignment,
                      s.response_is_slice != 0, in.take_in(1, 4))) {
    return 0;
  }
  Block block{static_cast<std::size_t>(l.stride)};
  Link link{s, block, requests, responses, in};
  if ((mode & 1U) != 0) {
    AXON_FUZZ_CHECK(RequestResponseLayout::initialize_region_element(s, l.stride, block.data()));
    AXON_FUZZ_CHECK(link.build());
    (void)block.scribble(in);
  } else {
    block.fill(in);
    link.adopt_raw();
  }
  link.attach_peers();
  link.run();
  return 0;
}
