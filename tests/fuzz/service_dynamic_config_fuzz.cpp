// Fuzzes a service's dynamic config (core/service_layout.hpp): validate_dynamic against a static
// config, then everything the services layer does with a dynamic config it accepted.
//
// Input: a mode byte, then
//   the static config: raw bytes (mode bit 1) or one written as a creator writes it (mode bit 2:
//        any 32-bit count, not just small ones), which must pass the opener's checks;
//   the dynamic config: raw (mode bit 0 clear): the block's size and bytes;
//        made (mode bit 0 set): laid out as ServiceCore::create lays it out (header, node slots,
//        port slots, a bitset per listener or two queues per connection), then input bytes over
//        parts of it, header included.
// If validate_dynamic accepts the block, the walk an opener, a cleaner, discovery and the ports do:
// every node slot and port slot (loads, the purge's and registration's stores), every region
// element attached as the services attach it (bitsets: attach + max id; connections: both
// queues, attached inside the bounds the layout gives them), then operations until the input
// ends: notify/drain a listener's bitset, claim/release a port slot, push/pop a connection's
// queues, a peer scribbling over node and port slots. Any access outside the block is a bug of
// validate_dynamic or compute_dynamic_layout: the walk trusts exactly what they promise.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/core/spsc_queue.hpp"
#include "fuzz_support.hpp"
#include "service_config_input.hpp"

namespace {

using namespace axon::core;
using axon::fuzz::Block;
using axon::fuzz::Input;

constexpr std::size_t kMaxRawBlock = 4096;
constexpr std::uint64_t kMaxMadeBlock = std::uint64_t{1} << 16;

template <typename T>
T* at_offset(void* base, std::uint64_t offset) {
  // SAFETY: only for offsets of a layout validate_dynamic accepted for this block; that promise
  // is what this target tests.
  return reinterpret_cast<T*>(static_cast<std::byte*>(base) + offset);
}

bool rebuild(EventLayout, void*, const DynamicLayout&, const StaticConfig&) { return true; }

bool rebuild(PubSubLayout, void* base, const DynamicLayout& l, const StaticConfig& sc) {
  if (sc.pubsub.overflow != OverflowKind::OverwriteOldest) return true;
  const auto c = PubSubLayout::connection(sc.pubsub);
  for (std::uint64_t i = 0; i < l.region_count; ++i) {
    auto* element = at_offset<std::byte>(base, l.region_offset + i * l.region_stride);
    if (!SpscIndexQueue::initialize(element + c.submission_offset,
                                    c.completion_offset - c.submission_offset,
                                    c.submission_capacity, SpscIndexQueue::Mode::Overwriting)) {
      return false;
    }
  }
  return true;
}

bool rebuild(RequestResponseLayout, void* base, const DynamicLayout& l, const StaticConfig& sc) {
  const auto& r = sc.request_response;
  if (r.overflow != OverflowKind::OverwriteOldest) return true;
  const auto k = RequestResponseLayout::link(r);
  for (std::uint64_t i = 0; i < l.region_count; ++i) {
    auto* element = at_offset<std::byte>(base, l.region_offset + i * l.region_stride);
    for (std::uint64_t c = 0; c < r.max_active_requests; ++c) {
      if (!SpscIndexQueue::initialize(element + k.response_queues_offset + c * k.response_queue_stride,
                                      k.response_queue_stride, k.response_capacity,
                                      SpscIndexQueue::Mode::Overwriting)) {
        return false;
      }
    }
  }
  return true;
}

/// What a creator lays out (core::initialize_dynamic, as ServiceCore::create calls it), with the
/// submission queues rebuilt in the mode a publisher's connect gives them (Overwriting for
/// OverwriteOldest) so that both modes are walked.
bool initialize_dynamic(void* base, const DynamicLayout& l, const StaticConfig& sc) {
  if (!axon::core::initialize_dynamic(base, l, sc, 1)) return false;
  return with_layout(sc.pattern, [&](auto layout) { return rebuild(layout, base, l, sc); })
      .value_or(false);
}

struct Connection {
  ConnectionHeader* header = nullptr;
  SpscIndexQueue submission;  ///< detached when attach refused its block
  SpscIndexQueue completion;
};

class Walker {
 public:
  Walker(Block& block, const StaticConfig& sc, Input& in)
      : m_block{block},
        m_base{block.data()},
        m_h{*at_offset<DynamicHeader>(block.data(), 0)},
        m_sc{sc},
        m_in{in} {}

  void run() {
    const std::uint64_t self = m_in.take<std::uint64_t>() | 1U;
    purge_dead();
    (void)no_nodes_left();
    (void)register_node(self);
    if (!attach_region()) return;  // the opener reports Corrupted
    read_ports();
    while (!m_in.empty()) {
      switch (m_in.take<std::uint8_t>() % 7) {
        case 0:
          notify(m_in.take<std::uint16_t>());
          break;
        case 1:
          drain(pick(m_bitsets.size()));
          break;
        case 2:
          claim_and_release(m_in.take_in(0, kPortTables - 1), self);
          break;
        case 3:
          send(pick(m_connections.size()), m_in.take<std::uint32_t>());
          break;
        case 4:
          receive(pick(m_connections.size()));
          break;
        case 5:
          read_ports();
          break;
        case 6:
          // A peer scribbling over the node and port slots (not the header, not the region).
          (void)m_block.scribble(m_in, static_cast<std::size_t>(m_h.nodes_offset), 2,
                                 static_cast<std::size_t>(m_h.region_offset));
          break;
      }
    }
  }

 private:
  /// An index below `n` (0 when there is none); always one byte of input.
  std::size_t pick(std::size_t n) {
    return static_cast<std::size_t>(m_in.take<std::uint8_t>() % (n == 0 ? 1 : n));
  }

  PortSlot& port(std::size_t t, std::uint32_t i) {
    return *at_offset<PortSlot>(m_base,
                                m_h.ports[t].offset + std::uint64_t{i} * m_h.ports[t].stride);
  }
  NodeSlot& node(std::uint32_t i) { return at_offset<NodeSlot>(m_base, m_h.nodes_offset)[i]; }
  std::byte* region(std::uint64_t i) {
    return at_offset<std::byte>(m_base, m_h.region_offset + i * m_h.region_stride);
  }

  /// As purge_dead_locked, with "dead" decided by the id's bit 1.
  void purge_dead() {
    const auto dead = [](std::uint64_t id) { return id != 0 && (id & 2U) != 0; };
    for (std::size_t t = 0; t < kPortTables; ++t) {
      for (std::uint32_t i = 0; i < m_h.ports[t].count; ++i) {
        auto& slot = port(t, i);
        if (!dead(slot.owner_node.load(std::memory_order_acquire))) continue;
        (void)slot.port_id.exchange(0, std::memory_order_acq_rel);
        m_h.generation[t].fetch_add(1, std::memory_order_release);
        slot.owner_node.store(0, std::memory_order_release);
      }
    }
    for (std::uint32_t i = 0; i < m_h.max_nodes; ++i) {
      if (!dead(node(i).node_id.load(std::memory_order_acquire))) continue;
      node(i).handles.store(0, std::memory_order_relaxed);
      node(i).node_id.store(0, std::memory_order_release);
    }
  }

  bool no_nodes_left() {
    for (std::uint32_t i = 0; i < m_h.max_nodes; ++i) {
      if (node(i).node_id.load(std::memory_order_acquire) != 0) return false;
    }
    return true;
  }

  bool register_node(std::uint64_t self) {
    for (std::uint32_t i = 0; i < m_h.max_nodes; ++i) {
      if (node(i).node_id.load(std::memory_order_acquire) == self) {
        node(i).handles.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    }
    for (std::uint32_t i = 0; i < m_h.max_nodes; ++i) {
      if (node(i).node_id.load(std::memory_order_acquire) == 0) {
        node(i).handles.store(1, std::memory_order_relaxed);
        node(i).node_id.store(self, std::memory_order_release);
        return true;
      }
    }
    return false;
  }

  /// As ServiceCore::attach_region for events; for publish-subscribe, each connection's queues
  /// attached inside the room the layout gives them.
  bool attach_region() {
    return with_layout(m_sc.pattern, [&](auto layout) { return attach(layout); }).value_or(false);
  }

  bool attach(EventLayout) {
    for (std::uint64_t i = 0; i < m_h.region_count; ++i) {
      auto bitset = CountingBitset::attach(region(i), m_h.region_stride);
      if (!bitset || bitset->max_id() != m_sc.event.event_id_max) return false;
      m_bitsets.push_back(*bitset);
    }
    return true;
  }

  bool attach(PubSubLayout) {
    const auto shape = PubSubLayout::connection(m_sc.pubsub);
    for (std::uint64_t i = 0; i < m_h.region_count; ++i) {
      std::byte* element = region(i);
      auto* header = at_offset<ConnectionHeader>(element, 0);
      (void)header->publisher_id.load(std::memory_order_acquire);
      (void)header->subscriber_id.load(std::memory_order_relaxed);
      auto submission = SpscIndexQueue::attach(element + shape.submission_offset,
                                               shape.completion_offset - shape.submission_offset);
      auto completion = SpscIndexQueue::attach(element + shape.completion_offset,
                                               m_h.region_stride - shape.completion_offset);
      Connection& c = m_connections.emplace_back();
      c.header = header;
      if (submission) c.submission = std::move(*submission);
      if (completion) c.completion = std::move(*completion);
    }
    return true;
  }

  /// Request-response: each link's request queue with its completion queue (as a connection: a
  /// client's requests one way, chunks given back the other), and each response queue alone;
  /// the pair ids and channel words read as clients, servers and discovery read them.
  bool attach(RequestResponseLayout) {
    const auto& r = m_sc.request_response;
    const auto k = RequestResponseLayout::link(r);
    for (std::uint64_t i = 0; i < m_h.region_count; ++i) {
      std::byte* element = region(i);
      for (const auto offset : {std::uint64_t{0}, k.response_header_offset}) {
        auto* header = at_offset<LinkHeader>(element, offset);
        (void)header->writer_id.load(std::memory_order_acquire);
        (void)header->reader_id.load(std::memory_order_relaxed);
      }
      for (std::uint64_t c = 0; c < r.max_active_requests; ++c) {
        (void)at_offset<ChannelWord>(element, k.listening_offset)[c].load(std::memory_order_acquire);
        (void)at_offset<ChannelWord>(element, k.ended_offset)[c].load(std::memory_order_acquire);
      }
      auto requests = SpscIndexQueue::attach(element + k.request_queue_offset,
                                             k.listening_offset - k.request_queue_offset);
      auto completion = SpscIndexQueue::attach(element + k.completion_offset,
                                               k.response_queues_offset - k.completion_offset);
      Connection& link = m_connections.emplace_back();
      if (requests) link.submission = std::move(*requests);
      if (completion) link.completion = std::move(*completion);
      for (std::uint64_t c = 0; c < r.max_active_requests; ++c) {
        auto response = SpscIndexQueue::attach(
            element + k.response_queues_offset + c * k.response_queue_stride,
            k.response_queue_stride);
        Connection& queue = m_connections.emplace_back();
        if (response) queue.submission = std::move(*response);
      }
    }
    return true;
  }

  /// What discovery, notifiers (listener slots) and subscribers (publisher slots) read.
  void read_ports() {
    std::size_t live = 0;
    for (std::uint32_t i = 0; i < m_h.max_nodes; ++i) {
      live += node(i).node_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
    }
    for (std::size_t t = 0; t < kPortTables; ++t) {
      (void)m_h.generation[t].load(std::memory_order_acquire);
      for (std::uint32_t i = 0; i < m_h.ports[t].count; ++i) {
        live += port(t, i).port_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
        (void)with_layout(m_sc.pattern, [&](auto layout) { return read_slot(layout, t, i); });
      }
    }
    (void)live;
    (void)m_h.next_port_id.load(std::memory_order_relaxed);
  }

  /// What a notifier reads of a listener slot; what a subscriber reads of a publisher slot.
  bool read_slot(EventLayout, std::size_t t, std::uint32_t i) {
    if (t != EventLayout::kListenerTable) return true;
    auto& listener = reinterpret_cast<ListenerSlot&>(port(t, i));
    (void)listener.pending.load(std::memory_order_acquire);
    return true;
  }
  bool read_slot(RequestResponseLayout, std::size_t t, std::uint32_t i) {
    (void)axon::fuzz::touch(&port(t, i), sizeof(PortSlot));
    return true;
  }
  bool read_slot(PubSubLayout, std::size_t t, std::uint32_t i) {
    if (t != PubSubLayout::kPublisherTable) return true;
    const auto& publisher = reinterpret_cast<const PublisherSlot&>(port(t, i));
    (void)axon::fuzz::touch(&publisher, sizeof(publisher));
    return true;
  }

  /// A notifier: count the id in every listener's bitset, then its pending flag (m_bitsets is
  /// empty unless the pattern is Event).
  void notify(std::uint64_t id) {
    constexpr auto kListenerTable = EventLayout::kListenerTable;
    for (std::uint32_t i = 0; i < m_bitsets.size() && i < m_h.ports[kListenerTable].count; ++i) {
      if (!m_bitsets[i].add(id, 1)) continue;
      auto& listener = reinterpret_cast<ListenerSlot&>(port(kListenerTable, i));
      (void)listener.pending.exchange(1, std::memory_order_seq_cst);
    }
  }

  void drain(std::size_t i) {
    if (i >= m_bitsets.size()) return;
    const std::uint64_t max_id = m_bitsets[i].max_id();
    const auto drained = m_bitsets[i].drain([max_id](std::uint64_t id, std::uint64_t count) {
      AXON_FUZZ_CHECK(id <= max_id && count != 0);
    });
    AXON_FUZZ_CHECK(drained.has_value());
  }

  void claim_and_release(std::size_t t, std::uint64_t self) {
    for (std::uint32_t i = 0; i < m_h.ports[t].count; ++i) {
      std::uint64_t expected = 0;
      if (port(t, i).owner_node.compare_exchange_strong(expected, self,
                                                        std::memory_order_acq_rel)) {
        const std::uint64_t id = m_h.next_port_id.fetch_add(1, std::memory_order_relaxed);
        port(t, i).port_id.store(id, std::memory_order_release);
        m_h.generation[t].fetch_add(1, std::memory_order_release);
        if (m_in.take_bool()) {
          (void)port(t, i).port_id.exchange(0, std::memory_order_acq_rel);
          port(t, i).owner_node.store(0, std::memory_order_release);
        }
        return;
      }
    }
  }

  /// A publisher: deliver, then take back what the subscriber released (at most a queue's worth).
  void send(std::size_t i, std::uint64_t offset) {
    if (i >= m_connections.size()) return;
    Connection& c = m_connections[i];
    if (c.submission.mode() == SpscIndexQueue::Mode::Overwriting) {
      (void)c.submission.push_overwrite(offset);
    } else {
      (void)c.submission.push(offset);
    }
    for (std::uint64_t n = c.completion.capacity(); n > 0; --n) {
      const auto popped = c.completion.pop();
      if (!popped || !*popped) break;
    }
  }

  /// A subscriber: take one, give it back.
  void receive(std::size_t i) {
    if (i >= m_connections.size()) return;
    Connection& c = m_connections[i];
    if (c.header != nullptr) (void)c.header->publisher_id.load(std::memory_order_acquire);
    const auto popped = c.submission.pop();
    if (popped && *popped) (void)c.completion.try_push(**popped);
  }

  Block& m_block;
  void* m_base;
  DynamicHeader& m_h;
  const StaticConfig& m_sc;
  Input& m_in;
  std::vector<CountingBitset> m_bitsets;
  std::vector<Connection> m_connections;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();

  Block static_block{sizeof(StaticConfig)};
  if ((mode & 2U) != 0) {
    static_block.fill(in);
  } else {
    (void)axon::fuzz::make_static_config(static_block.data(), in, (mode & 4U) != 0);
  }
  StaticConfig sc{};
  if (!axon::fuzz::static_config_usable(static_block.data(), static_block.size(), sc)) return 0;
  const DynamicLayout layout = compute_dynamic_layout(sc);

  std::size_t bytes = 0;
  if ((mode & 1U) != 0) {
    if (layout.total_size > kMaxMadeBlock || layout.total_size < sizeof(DynamicHeader)) return 0;
    bytes = static_cast<std::size_t>(layout.total_size);
  } else {
    bytes = static_cast<std::size_t>(in.take_in(0, kMaxRawBlock));
  }
  Block block{bytes};
  if ((mode & 1U) != 0) {
    (void)initialize_dynamic(block.data(), layout, sc);
    (void)block.scribble(in);
  } else {
    block.fill(in);
  }

  // As open_dynamic: a header's worth of bytes, then validate_dynamic.
  if (block.size() < sizeof(DynamicHeader)) return 0;
  if (!validate_dynamic(*at_offset<const DynamicHeader>(block.data(), 0), block.size(), sc)) {
    return 0;
  }
  Walker{block, sc, in}.run();
  return 0;
}
