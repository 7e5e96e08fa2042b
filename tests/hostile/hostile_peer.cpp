// axon_test_hostile PATTERN SERVICE [--duration-ms N] [--seed S]: an honest peer that turns
// hostile between its operations (RELIABILITY.md, test 11; docs/security.md).
//
// It creates (or opens) SERVICE as a real peer would, prints "ready", then loops: one honest
// operation (a send, a notify, a set/clear), then one burst of rewrites over every field that a
// peer of that kind can write in every shared object it reaches, then it puts the fields back.
// During a burst each field alternates between its honest value and an adversarial one (0, 1,
// max, max-1, just below / at / just above the field's bound, 2^31, 2^40, 2^63, a flipped bit,
// random), so a reader that reads a field twice sees two different values. Rounds rotate over
// the kinds of structure, the chunk headers every other round (the path a subscriber takes on
// each sample), so that most rounds leave the connection intact and a reader gets deep.
//
// PATTERN:
//   bytes     publish-subscribe of Slice<uint8_t> (max 4096): dynamic_data_subscriber, axon echo
//   typed     publish-subscribe of TransmissionData, notifying SERVICE/new_sample after each send:
//             publish_subscribe_subscriber (--poll and WaitSet)
//   event     event service, a notifier: event_listener, event_multiplexing_wait, axon listen
//   sysevent  SystemEvent SERVICE, cleared and now and then set: evt_wait
//   rr-server request-response of Slice<uint8_t> both ways (max 256), a server answering every
//             request with a stream: its response half of every link (pair ids, ended words,
//             completion queue, response queues) and its response chunks (ResponseHeader)
//   rr-client the same service, a client sending requests and reading their streams: its
//             request half (pair ids, listening words, request queue) and its request chunks
//             (RequestHeader)
//   (the honest peers of rr-server and rr-client run in hostile_peer_test.cpp itself)
//
// --only N attacks only entry N-1 of the rotation (to replay one kind of attack). --policy N
// (request-response only, when it creates the service): 0 OverwriteOldest, 1 Refuse, 2 Block. It prints
// what its honest side managed on stderr. It ends on SIGTERM/SIGINT or after --duration-ms
// (default 60000) with exit 0; its own failed operations are expected (it corrupts what it
// uses) and ignored.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../examples/publish_subscribe/transmission_data.hpp"
#include "axon/detail/system_event_paths.hpp"
#include "axon/axon.hpp"
#include "axon/core/counting_bitset.hpp"
#include "axon/core/node_layout.hpp"
#include "axon/core/request_response/layout.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/core/system_event_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/publish_subscribe/pubsub_core.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon/platform/signals.hpp"

namespace {

using namespace axon;
using Clock = std::chrono::steady_clock;

/// One field a peer can write: where, how wide, its value before the burst, and the bound that
/// makes it meaningful (a capacity, a count, a size), around which the adversarial values lie.
struct Field {
  std::byte* at;
  unsigned width;  ///< 4 or 8
  std::uint64_t honest;
  std::uint64_t bound;
};

std::uint64_t load(const std::byte* at, unsigned width) {
  // SAFETY: `at` lies inside a live mapping and is aligned to `width` (fields of shm structs).
  if (width == 8)
    return __atomic_load_n(reinterpret_cast<const std::uint64_t*>(at), __ATOMIC_RELAXED);
  return __atomic_load_n(reinterpret_cast<const std::uint32_t*>(at), __ATOMIC_RELAXED);
}

void store(std::byte* at, unsigned width, std::uint64_t value) {
  // SAFETY: as in load().
  if (width == 8) {
    __atomic_store_n(reinterpret_cast<std::uint64_t*>(at), value, __ATOMIC_RELAXED);
  } else {
    __atomic_store_n(reinterpret_cast<std::uint32_t*>(at), static_cast<std::uint32_t>(value),
                     __ATOMIC_RELAXED);
  }
}

/// The adversarial value number `k` for `f` (`k` any number; the set rotates).
std::uint64_t adversarial(const Field& f, std::uint64_t k, std::mt19937_64& rng) {
  const std::uint64_t max = f.width == 8 ? std::numeric_limits<std::uint64_t>::max()
                                         : std::numeric_limits<std::uint32_t>::max();
  const std::uint64_t values[] = {0,
                                  1,
                                  max,
                                  max - 1,
                                  f.bound == 0 ? 0 : f.bound - 1,
                                  f.bound,
                                  f.bound + 1,
                                  std::uint64_t{1} << 31,
                                  std::uint64_t{1} << 40,
                                  std::uint64_t{1} << 63,
                                  f.honest + 1,
                                  f.honest - 1,
                                  f.honest ^ (std::uint64_t{1} << (k % (f.width * 8))),
                                  16,
                                  rng()};
  constexpr std::uint64_t kValues = sizeof(values) / sizeof(values[0]);
  return values[k % kValues] & max;
}

/// A shared-memory object mapped read-write (we own it, as a peer of its kind does).
struct Mapping {
  std::optional<platform::SharedMemory> shm;
  std::byte* base() { return static_cast<std::byte*>(shm->data()); }
  std::size_t size() const { return shm->size(); }
  bool ok() const { return shm.has_value(); }
};

Mapping map(const std::string& name) {
  Mapping m;
  auto shm = platform::SharedMemory::open(name, platform::AccessMode::ReadWrite);
  if (shm) m.shm.emplace(std::move(*shm));
  return m;
}

enum class Target {
  ChunkHeaders,   ///< chunk headers and payload bytes of our data segment
  ChunkPool,      ///< the pool's header, free list, links and states
  Queues,         ///< connection headers, queue headers, indices and slots
  Ports,          ///< port tables, pending flags, generations, next port id
  Nodes,          ///< node slots of the service and our node's details
  DynamicHeader,  ///< the dynamic config's header (validated once at open)
  StaticConfig,   ///< the static config (copied once at open)
  Bitsets,        ///< event: each listener's counting bitset
  SystemEvent,    ///< sysevent: the whole object
  RrHalf,         ///< request-response: our half of every link of our port
  RrChunkHeaders,  ///< request-response: our request or response chunk headers and payloads
};

class Hostile {
 public:
  Hostile(std::uint64_t seed) : m_rng(seed) {}

  /// Fields of `target` as they are now; empty when the target does not apply.
  std::vector<Field> collect(Target target) {
    m_fields.clear();
    m_scribble = false;
    switch (target) {
      case Target::ChunkHeaders:
        collect_chunk_headers();
        break;
      case Target::ChunkPool:
        collect_pool();
        break;
      case Target::Queues:
        collect_queues();
        break;
      case Target::Ports:
        collect_ports();
        break;
      case Target::Nodes:
        collect_nodes();
        break;
      case Target::DynamicHeader:
        collect_dynamic_header();
        break;
      case Target::StaticConfig:
        collect_static();
        break;
      case Target::Bitsets:
        collect_bitsets();
        break;
      case Target::SystemEvent:
        collect_system_event();
        break;
      case Target::RrHalf:
        collect_rr_half();
        break;
      case Target::RrChunkHeaders:
        collect_rr_chunk_headers();
        break;
    }
    return m_fields;
  }

  /// Rewrites `fields` for `duration`, every other pass with honest values, then restores them.
  void burst(const std::vector<Field>& fields, std::chrono::microseconds duration,
             std::uint64_t round) {
    const auto end = Clock::now() + duration;
    for (std::uint64_t pass = 0; Clock::now() < end; ++pass) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& f = fields[i];
        store(f.at, f.width,
              pass % 2 == 0 ? adversarial(f, round + pass / 2 + i, m_rng) : f.honest);
      }
      if (m_scribble && pass % 2 == 0) scribble_payloads();
    }
    for (const auto& f : fields) store(f.at, f.width, f.honest);
  }

  /// Publish-subscribe, in a thread of its own until `stop`: the length and sequence of the
  /// chunks sent last (the ones a reader is about to take or holds) flip without pause between
  /// their honest value and 2^40, max, the chunk's capacity + 1, 0 and 16, so that any second
  /// read of them after a check sees another value (the `axon echo` SIGSEGV of issue 14).
  /// Request-response chunks have their length at the same place and a request id where the
  /// sequence is (static_asserts below): the latest are those of the newest requests.
  void flip_latest_headers(const std::atomic<bool>& stop) {
    const auto l = pool_layout();
    if (!l) return;
    const std::uint64_t capacity = l->chunk_size - sizeof(detail::ChunkHeader);
    const std::uint64_t lengths[] = {std::uint64_t{1} << 40, ~std::uint64_t{0}, capacity + 1, 0,
                                     16};
    std::vector<detail::ChunkHeader*> latest;
    while (!stop.load(std::memory_order_relaxed)) {
      // The four chunks with the highest sequence numbers: the ones sent last.
      latest.clear();
      for (std::uint64_t i = 0; i < l->count; ++i) {
        latest.push_back(
            reinterpret_cast<detail::ChunkHeader*>(segment.base() + l->data + i * l->stride));
      }
      const auto by_sequence = [](const detail::ChunkHeader* a, const detail::ChunkHeader* b) {
        return __atomic_load_n(&a->sequence, __ATOMIC_RELAXED) >
               __atomic_load_n(&b->sequence, __ATOMIC_RELAXED);
      };
      const auto n = std::min<std::size_t>(4, latest.size());
      std::partial_sort(latest.begin(), latest.begin() + static_cast<std::ptrdiff_t>(n),
                        latest.end(), by_sequence);
      std::uint64_t honest[4];
      for (std::size_t k = 0; k < n; ++k) {
        honest[k] = __atomic_load_n(&latest[k]->payload_size, __ATOMIC_RELAXED);
      }
      const auto end = Clock::now() + std::chrono::microseconds(200);
      for (std::uint64_t pass = 0; Clock::now() < end; ++pass) {
        for (int burst = 0; burst < 64; ++burst) {
          for (std::size_t k = 0; k < n; ++k) {
            const auto value =
                burst % 2 == 0 ? lengths[(pass + k) % std::size(lengths)] : honest[k];
            __atomic_store_n(&latest[k]->payload_size, value, __ATOMIC_RELAXED);
          }
        }
      }
      for (std::size_t k = 0; k < n; ++k) {
        __atomic_store_n(&latest[k]->payload_size, honest[k], __ATOMIC_RELAXED);
      }
    }
  }

  std::string service_hash;
  /// Request-response: our port, a server or a client, and its slot in its table.
  struct RrPort {
    bool server = false;
    std::uint32_t slot = 0;
  };
  std::optional<RrPort> rr;
  Mapping static_config;
  Mapping dynamic_config;
  Mapping segment;  ///< publish-subscribe: our data segment
  Mapping node_details;
  Mapping system_event;
  core::StaticConfig honest_static{};  ///< our copy from creation
  core::DynamicLayout layout{};

 private:
  void add(void* at, unsigned width, std::uint64_t bound) {
    auto* p = static_cast<std::byte*>(at);
    m_fields.push_back(Field{p, width, load(p, width), bound});
  }
  template <typename T>
  void add_member(T& member, std::uint64_t bound) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8);
    add(&member, sizeof(T), bound);
  }

  // The chunk pool's layout (ChunkPool version 2), from its header as we created it.
  struct PoolLayout {
    std::uint64_t count = 0, chunk_size = 0, alignment = 0;
    std::uint64_t links = 0, states = 0, data = 0, stride = 0;
  };
  std::optional<PoolLayout> pool_layout() {
    if (m_pool) return *m_pool;  // the first read is ours, before any rewrite
    if (!segment.ok() || segment.size() < 192) return std::nullopt;
    PoolLayout l;
    std::memcpy(&l.count, segment.base() + 16, 8);
    std::memcpy(&l.chunk_size, segment.base() + 24, 8);
    std::memcpy(&l.alignment, segment.base() + 32, 8);
    const auto a = std::max<std::uint64_t>(l.alignment, 64);
    auto up = [](std::uint64_t n, std::uint64_t to) { return (n + to - 1) / to * to; };
    l.links = 192;
    l.states = up(l.links + 4 * l.count, 64);
    l.data = up(l.states + 4 * l.count, a);
    l.stride = up(l.chunk_size, a);
    if (l.count == 0 || l.data + l.count * l.stride > segment.size()) return std::nullopt;
    m_pool = l;
    return l;
  }

  void collect_chunk_headers() {
    const auto l = pool_layout();
    if (!l) return;
    const auto capacity = l->chunk_size - sizeof(detail::ChunkHeader);
    for (std::uint64_t i = 0; i < l->count; ++i) {
      auto* h = reinterpret_cast<detail::ChunkHeader*>(segment.base() + l->data + i * l->stride);
      add_member(h->publisher_id, 0);
      add_member(h->sequence, 0);
      add_member(h->payload_size, capacity);
      add_member(h->send_time_ns, 0);
    }
    m_scribble = true;
  }

  void scribble_payloads() {
    const auto l = pool_layout();
    if (!l) return;
    const auto i = m_rng() % l->count;
    auto* payload = segment.base() + l->data + i * l->stride + sizeof(detail::ChunkHeader);
    std::memset(payload, static_cast<int>(m_rng() & 0xff), l->stride - sizeof(detail::ChunkHeader));
  }

  void collect_pool() {
    const auto l = pool_layout();
    if (!l) return;
    auto* b = segment.base();
    add(b + 0, 8, 0);               // magic
    add(b + 8, 4, 0);               // version
    add(b + 16, 8, l->count);       // chunk_count
    add(b + 24, 8, l->chunk_size);  // chunk_size
    add(b + 32, 8, l->alignment);   // alignment
    add(b + 64, 8, l->count);       // head
    add(b + 128, 4, l->count);      // free_count
    for (std::uint64_t i = 0; i < l->count; ++i) {
      add(b + l->links + 4 * i, 4, l->count);
      add(b + l->states + 4 * i, 4, 0);
    }
  }

  core::DynamicHeader* header() {
    // SAFETY: the mapping is at least layout.total_size, checked at startup.
    return reinterpret_cast<core::DynamicHeader*>(dynamic_config.base());
  }

  void collect_queue(std::byte* q, std::uint64_t capacity, std::uint64_t segment_size) {
    // SpscIndexQueue version 3: magic, version, mode, capacity on line 0; write on line 1; read
    // on line 2; then `capacity` slots of {sequence, value}.
    add(q + 0, 8, 0);
    add(q + 8, 4, 0);
    add(q + 12, 4, 2);
    add(q + 16, 8, capacity);
    add(q + 64, 8, capacity);
    add(q + 128, 8, capacity);
    for (std::uint64_t s = 0; s < capacity; ++s) {
      add(q + 192 + 16 * s, 8, capacity);
      add(q + 192 + 16 * s + 8, 8, segment_size);
    }
  }

  /// Whether the attacked service is an event service: an exhaustive switch, as every choice on
  /// a pattern is, so a new pattern makes this a compile error instead of a silent pub-sub path.
  bool attacks_event() const {
    switch (honest_static.pattern) {
      case core::MessagingPattern::Event: return true;
      case core::MessagingPattern::PublishSubscribe:
      case core::MessagingPattern::RequestResponse: return false;
    }
    return false;
  }

  void collect_queues() {
    if (attacks_event() || rr) return;
    const auto segment_size = segment.ok() ? segment.size() : 0;
    const auto shape = core::PubSubLayout::connection(honest_static.pubsub);
    for (std::uint64_t c = 0; c < layout.region_count; ++c) {
      auto* base = dynamic_config.base() + layout.region_offset + c * layout.region_stride;
      auto* h = reinterpret_cast<core::ConnectionHeader*>(base);
      add_member(h->publisher_id, 0);
      add_member(h->subscriber_id, 0);
      add_member(h->submission_offset, layout.region_stride);
      add_member(h->completion_offset, layout.region_stride);
      collect_queue(base + shape.submission_offset, shape.submission_capacity, segment_size);
      collect_queue(base + shape.completion_offset, shape.completion_capacity, segment_size);
    }
  }

  template <typename Slot>
  Slot& slot(std::size_t table, std::uint32_t i) {
    return *reinterpret_cast<Slot*>(dynamic_config.base() + layout.ports[table].offset +
                                    std::uint64_t{layout.ports[table].stride} * i);
  }

  void collect_port(core::PortSlot& p) {
    add_member(p.owner_node, 0);
    add_member(p.port_id, 0);
    add_member(p.reserved_id, 0);
  }

  void collect_ports() {
    auto* h = header();
    add_member(h->generation[0], 0);
    add_member(h->generation[1], 0);
    add_member(h->next_port_id, 0);
    for (std::uint32_t i = 0; i < layout.ports[0].count; ++i) {
      if (rr) {
        collect_port(slot<core::ClientSlot>(0, i).port);
      } else if (attacks_event()) {
        auto& s = slot<core::ListenerSlot>(0, i);
        collect_port(s.port);
        add_member(s.pending, 1);
      } else {
        auto& s = slot<core::PublisherSlot>(0, i);
        collect_port(s.port);
        add_member(s.segment_size, segment.ok() ? segment.size() : 0);
        const auto pool = pool_layout();
        add_member(s.chunk_count, pool ? pool->count : 0);
        add_member(s.chunk_size, pool ? pool->chunk_size : 0);
        add_member(s.max_elements, 4096);
      }
    }
    for (std::uint32_t i = 0; i < layout.ports[1].count; ++i) {
      // NotifierSlot and ServerSlot are a bare PortSlot; SubscriberSlot begins with one (its
      // flags follow; pubsub_wake_hostile_test.cpp rewrites those).
      collect_port(slot<core::PortSlot>(1, i));
    }
  }

  void collect_nodes() {
    for (std::uint32_t i = 0; i < layout.max_nodes; ++i) {
      auto* n = reinterpret_cast<core::NodeSlot*>(dynamic_config.base() + layout.nodes_offset +
                                                  i * sizeof(core::NodeSlot));
      add_member(n->node_id, 0);
      add_member(n->handles, 0);
    }
    if (!node_details.ok() || node_details.size() < sizeof(core::NodeDetails)) return;
    auto* d = reinterpret_cast<core::NodeDetails*>(node_details.base());
    add_member(d->magic, 0);
    add_member(d->version, 0);
    add_member(d->pid, 0);
    add_member(d->node_id, 0);
    add_member(d->created_ns, 0);
    // The name's length (a FixedString keeps it after its bytes) and its last bytes, so that the
    // name may lack its terminator.
    auto* name = reinterpret_cast<std::byte*>(&d->name);
    add(name + sizeof(d->name) - 4, 4, core::kMaxNodeNameLength);
    for (std::size_t b = 0; b + 4 <= core::kMaxNodeNameLength + 1; b += 4 * 8) add(name + b, 4, 0);
  }

  void collect_dynamic_header() {
    auto* h = header();
    add_member(h->magic, 0);
    add_member(h->version, 0);
    add(&h->pattern, 4, 3);
    add_member(h->total_size, dynamic_config.size());
    add_member(h->max_nodes, layout.max_nodes);
    add_member(h->nodes_offset, dynamic_config.size());
    for (auto& t : h->ports) {
      add_member(t.offset, dynamic_config.size());
      add_member(t.count, t.count);
      add_member(t.stride, t.stride);
    }
    add_member(h->region_offset, dynamic_config.size());
    add_member(h->region_stride, layout.region_stride);
    add_member(h->region_count, layout.region_count);
  }

  void collect_static() {
    if (!static_config.ok() || static_config.size() < sizeof(core::StaticConfig)) return;
    auto* s = reinterpret_cast<core::StaticConfig*>(static_config.base());
    add_member(s->magic, 0);
    add_member(s->version, 0);
    add_member(s->size_of_self, sizeof(core::StaticConfig));
    add(&s->state, 4, 2);
    add(&s->pattern, 4, 3);
    add_member(s->creator_node_id, 0);
    add_member(s->dynamic_config_size, dynamic_config.size());
    add(&s->access, 4, 3);
    auto* name = reinterpret_cast<std::byte*>(&s->name);
    add(name + sizeof(s->name) - 4, 4, core::kMaxServiceNameLength);  // its length
    add_member(s->event.max_listeners, 0);
    add_member(s->event.max_notifiers, 0);
    add_member(s->event.max_nodes, 0);
    add(&s->event.backend, 4, 3);
    add_member(s->event.event_id_max, core::CountingBitset::kMaxSupportedId);
    auto& p = s->pubsub;
    auto* type = reinterpret_cast<std::byte*>(&p.type_name);
    add(type + sizeof(p.type_name) - 4, 4, core::kMaxTypeNameLength);
    add_member(p.type_size, 0);
    add_member(p.type_alignment, 4096);
    add_member(p.is_slice, 2);
    add_member(p.max_publishers, 0);
    add_member(p.max_subscribers, 0);
    add_member(p.max_nodes, 0);
    add_member(p.history_size, 0);
    add_member(p.subscriber_buffer_size, 0);
    add_member(p.max_loans, 0);
    add_member(p.max_borrowed_samples, 0);
    add(&p.overflow, 4, 4);
  }

  void collect_bitsets() {
    if (!attacks_event()) return;
    const auto max_id = honest_static.event.event_id_max;
    const auto ids = max_id + 1;
    const auto l1 = (ids + 63) / 64;
    const auto l0 = (l1 + 63) / 64;
    auto up = [](std::uint64_t n) { return (n + 63) / 64 * 64; };
    const auto level0 = std::uint64_t{64};
    const auto level1 = up(level0 + 8 * l0);
    const auto counters = up(level1 + 8 * l1);
    for (std::uint64_t b = 0; b < layout.region_count; ++b) {
      auto* base = dynamic_config.base() + layout.region_offset + b * layout.region_stride;
      add(base + 0, 8, 0);
      add(base + 8, 4, 0);
      add(base + 16, 8, max_id);
      for (std::uint64_t w = 0; w < l0; ++w) add(base + level0 + 8 * w, 8, l1);
      for (std::uint64_t w = 0; w < l1; ++w) add(base + level1 + 8 * w, 8, ids);
      // The counters of a few ids at each end and around the middle.
      for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{1}, ids / 2, max_id}) {
        add(base + counters + 8 * id, 8, 0);
      }
    }
  }

  void collect_system_event() {
    if (!system_event.ok() || system_event.size() < sizeof(core::SystemEventLayout)) return;
    auto* e = reinterpret_cast<core::SystemEventLayout*>(system_event.base());
    add(&e->magic, 8, 0);
    add_member(e->version, 0);
    add_member(e->size_of_self, sizeof(core::SystemEventLayout));
    auto* name = reinterpret_cast<std::byte*>(&e->name);
    add(name + sizeof(e->name) - 4, 4, core::kMaxSystemEventNameLength);
    add(&e->fifo_enabled, 4, 2);
    add(&e->state, 4, 2);
  }

  static_assert(offsetof(core::ResponseHeader, payload_size) ==
                    offsetof(detail::ChunkHeader, payload_size) &&
                offsetof(core::RequestHeader, payload_size) ==
                    offsetof(detail::ChunkHeader, payload_size) &&
                offsetof(core::RequestHeader, request_id) ==
                    offsetof(detail::ChunkHeader, sequence) &&
                sizeof(core::RequestHeader) == sizeof(detail::ChunkHeader));

  /// Request-response: every word of our half of each link our port has (one per peer slot).
  void collect_rr_half() {
    if (!rr) return;
    const auto& s = honest_static.request_response;
    const auto l = core::RequestResponseLayout::link(s);
    const auto segment_size = segment.ok() ? segment.size() : 0;
    const auto peers = rr->server ? s.max_clients : s.max_servers;
    for (std::uint32_t p = 0; p < peers; ++p) {
      const std::uint64_t c = rr->server ? p : rr->slot;
      const std::uint64_t server = rr->server ? rr->slot : p;
      auto* link = dynamic_config.base() + layout.region_offset +
                   (c * s.max_servers + server) * layout.region_stride;
      auto* header = link + (rr->server ? l.response_header_offset : 0);
      add(header, 8, 0);      // writer_id
      add(header + 8, 8, 0);  // reader_id
      auto* words = link + (rr->server ? l.ended_offset : l.listening_offset);
      for (std::uint32_t k = 0; k < s.max_active_requests; ++k) add(words + 8 * k, 8, 0);
      if (rr->server) {
        collect_queue(link + l.completion_offset, l.completion_capacity, segment_size);
        for (std::uint32_t k = 0; k < s.max_active_requests; ++k) {
          collect_queue(link + l.response_queues_offset + k * l.response_queue_stride,
                        l.response_capacity, segment_size);
        }
      } else {
        collect_queue(link + l.request_queue_offset, l.request_capacity, segment_size);
      }
    }
  }

  /// Request-response: the header of every chunk of our segment, and payload bytes.
  void collect_rr_chunk_headers() {
    const auto l = pool_layout();
    if (!rr || !l) return;
    const auto capacity = l->chunk_size - core::rr_payload_offset(8);
    const auto channels = honest_static.request_response.max_active_requests;
    for (std::uint64_t i = 0; i < l->count; ++i) {
      auto* chunk = segment.base() + l->data + i * l->stride;
      if (rr->server) {
        auto* h = reinterpret_cast<core::ResponseHeader*>(chunk);
        add_member(h->server_id, 0);
        add_member(h->request_id, 0);
        add_member(h->payload_size, capacity);
        add_member(h->sequence, 0);
      } else {
        auto* h = reinterpret_cast<core::RequestHeader*>(chunk);
        add_member(h->client_id, 0);
        add_member(h->request_id, 0);
        add_member(h->payload_size, capacity);
        add_member(h->channel, channels);
        add_member(h->cancelled, 0);
      }
    }
    m_scribble = true;
  }

  std::mt19937_64 m_rng;
  std::vector<Field> m_fields;
  std::optional<PoolLayout> m_pool;
  bool m_scribble = false;
};

/// Which structures round `r` attacks: the chunk headers every other round (the per-sample path
/// that keeps the connection intact), the others in turn.
Target target_of(std::uint64_t round, const std::string& pattern) {
  if (pattern == "sysevent") return Target::SystemEvent;
  if (pattern == "rr-server" || pattern == "rr-client") {
    // The chunk headers every other round, as for publish-subscribe. Not the port tables: a
    // burst that puts back the values it found can leave the honest port with the peer's slot
    // seen empty at an unchanged generation, so that it ignores the peer for good (which is all
    // such a peer achieves; the publish-subscribe rotation covers the tables), and the static
    // config, copied once at open.
    static constexpr Target kRr[] = {Target::RrChunkHeaders, Target::RrHalf,
                                     Target::RrChunkHeaders, Target::ChunkPool,
                                     Target::RrChunkHeaders, Target::RrHalf,
                                     Target::RrChunkHeaders, Target::Nodes,
                                     Target::RrChunkHeaders, Target::DynamicHeader};
    return kRr[round % std::size(kRr)];
  }
  if (pattern == "event") {
    static constexpr Target kEvent[] = {Target::Bitsets,     Target::Ports,         Target::Bitsets,
                                        Target::Nodes,       Target::DynamicHeader, Target::Bitsets,
                                        Target::StaticConfig};
    return kEvent[round % std::size(kEvent)];
  }
  static constexpr Target kPubSub[] = {
      Target::ChunkHeaders, Target::Queues,        Target::ChunkHeaders, Target::Ports,
      Target::ChunkHeaders, Target::Nodes,         Target::ChunkHeaders, Target::ChunkPool,
      Target::ChunkHeaders, Target::DynamicHeader, Target::ChunkHeaders, Target::StaticConfig};
  return kPubSub[round % std::size(kPubSub)];
}

bool map_service(Hostile& h, const Config& config, const std::string& name) {
  h.service_hash = detail::Paths::service_hash(name);
  h.static_config = map(detail::Paths::service_static(config, h.service_hash));
  h.dynamic_config = map(detail::Paths::service_dynamic(config, h.service_hash));
  if (!h.static_config.ok() || !h.dynamic_config.ok() ||
      h.static_config.size() < sizeof(core::StaticConfig)) {
    return false;
  }
  core::copy_static_config(h.honest_static,
                           *reinterpret_cast<const core::StaticConfig*>(h.static_config.base()));
  h.layout = core::compute_dynamic_layout(h.honest_static);
  return h.layout.total_size <= h.dynamic_config.size();
}

/// Our data segment: the one publisher of the service is ours.
Mapping map_segment(const Config& config, const std::string& hash) {
  const auto stem = detail::Paths::port_segment_stem(config, hash);
  DIR* dir = ::opendir("/dev/shm");
  if (dir == nullptr) return {};
  std::string found;
  while (const dirent* e = ::readdir(dir)) {
    const std::string n = e->d_name;
    if (n.starts_with(stem)) found = n;
  }
  ::closedir(dir);
  return found.empty() ? Mapping{} : map(found);
}

/// What the honest side managed, printed at the end: a peer that could not send tests little.
struct Stats {
  std::uint64_t sent = 0, sends_failed = 0, loans_failed = 0;
} g_stats;

struct Options {
  std::string pattern;
  std::string service;
  std::chrono::milliseconds duration{60000};
  std::uint64_t seed = 0x5eed;
  std::uint64_t only = 0;  ///< --only N: attack only kPubSub/kEvent/kRr entry N-1 (debugging)
  std::uint64_t policy = 0;  ///< --policy N: request-response overflow policy (see the top)
};

std::optional<Options> parse(int argc, char** argv) {
  if (argc < 3) return std::nullopt;
  Options o{argv[1], argv[2]};
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const auto value = std::strtoull(argv[i + 1], nullptr, 0);
    if (flag == "--duration-ms") {
      o.duration = std::chrono::milliseconds(value);
    } else if (flag == "--seed") {
      o.seed = value;
    } else if (flag == "--only") {
      o.only = value;
    } else if (flag == "--policy") {
      o.policy = value;
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 == 0) return std::nullopt;
  return o;
}

/// The loop shared by every pattern: `honest` once per round, then one burst. `peer_joined`
/// (request-response: the honest port of the test) is waited for, up to 10 s, before the first
/// burst: a burst restores the values it found, and would erase a port created meanwhile.
template <typename Honest, typename Joined = bool (*)()>
int run(const Options& o, Hostile& h, Honest&& honest, Joined peer_joined = [] { return true; }) {
  std::atomic<bool> stop{false};
  std::thread flipper;
  if (h.segment.ok()) {
    h.collect(Target::ChunkHeaders);  // lays out the pool from its honest header, once
    flipper = std::thread([&] { h.flip_latest_headers(stop); });
  }
  std::printf("ready\n");
  std::fflush(stdout);
  const auto joined_by = Clock::now() + std::chrono::seconds(10);
  while (!peer_joined() && Clock::now() < joined_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto end = Clock::now() + o.duration;
  for (std::uint64_t round = 0;
       !platform::TerminationSignals::termination_requested() && Clock::now() < end; ++round) {
    honest(round);
    const auto fields = h.collect(target_of(o.only != 0 ? o.only - 1 : round, o.pattern));
    h.burst(fields, std::chrono::microseconds(1500), round);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  stop.store(true, std::memory_order_relaxed);
  if (flipper.joinable()) flipper.join();
  std::fprintf(stderr, "hostile: sent %llu, sends failed %llu, loans failed %llu\n",
               static_cast<unsigned long long>(g_stats.sent),
               static_cast<unsigned long long>(g_stats.sends_failed),
               static_cast<unsigned long long>(g_stats.loans_failed));
  return 0;
}

int run_pubsub_bytes(const Options& o, Node& node, const ServiceName& name, Hostile& h) {
  auto service =
      node.service_builder(name).publish_subscribe<Slice<std::uint8_t>>().open_or_create();
  if (!service) return 3;
  auto publisher = service->publisher_builder().max_slice_len(4096).create();
  if (!publisher) return 3;
  const auto config = Config::from_environment();
  if (!map_service(h, config, o.service)) return 3;
  h.segment = map_segment(config, h.service_hash);
  return run(o, h, [&](std::uint64_t round) {
    const std::uint64_t len = round % 2 == 0 ? 16 : (round * 97) % 4096 + 1;
    auto sample = publisher->loan_uninit(len);
    if (!sample) {
      ++g_stats.loans_failed;
      return;
    }
    auto bytes = sample->payload();
    for (std::uint64_t i = 0; i < len; ++i) bytes[i] = static_cast<std::uint8_t>(round + i);
    const auto sent = publisher->send(std::move(*sample));
    ++(sent ? g_stats.sent : g_stats.sends_failed);
  });
}

int run_pubsub_typed(const Options& o, Node& node, const ServiceName& name, Hostile& h) {
  auto service = node.service_builder(name).publish_subscribe<TransmissionData>().open_or_create();
  if (!service) return 3;
  auto publisher = service->publisher_builder().create();
  if (!publisher) return 3;
  // The example subscriber is wakeable: this publisher wakes it after each send by itself.
  const auto config = Config::from_environment();
  if (!map_service(h, config, o.service)) return 3;
  h.segment = map_segment(config, h.service_hash);
  return run(o, h, [&](std::uint64_t round) {
    auto sample = publisher->loan_uninit();
    if (!sample) {
      ++g_stats.loans_failed;
      return;
    }
    sample->payload() = TransmissionData{round, 1, 2, 3.0};
    const auto sent = publisher->send(std::move(*sample));
    ++(sent ? g_stats.sent : g_stats.sends_failed);
  });
}

int run_event(const Options& o, Node& node, const ServiceName& name, Hostile& h) {
  auto service = node.service_builder(name).event().open_or_create();
  if (!service) return 3;
  auto notifier = service->notifier_builder().create();
  if (!notifier) return 3;
  const auto config = Config::from_environment();
  if (!map_service(h, config, o.service)) return 3;
  const auto max_id = h.honest_static.event.event_id_max;
  return run(o, h, [&](std::uint64_t round) {
    (void)notifier->notify(EventId{round % 3 == 0 ? max_id : round % (max_id + 1)});
  });
}

int run_system_event(const Options& o, Hostile& h) {
  auto event = SystemEvent::open(o.service);
  if (!event) return 3;
  const auto config = Config::from_environment();
  h.system_event = map(
      detail::SystemEventPaths::shared_memory(config, detail::SystemEventPaths::hash(o.service)));
  return run(o, h, [&](std::uint64_t round) {
    // Mostly clear, so that waiters sleep on the futex word while it flips under them.
    if (round % 8 == 7) {
      event->set();
    } else {
      event->clear();
    }
  });
}

/// Request-response of byte slices both ways, small so that a burst rewrites all of it often.
using RrBytes = Slice<std::uint8_t>;
constexpr std::uint64_t kRrMaxLen = 256;

auto open_rr(const Options& o, Node& node, const ServiceName& name) {
  const OverflowPolicy policies[] = {OverflowPolicy::OverwriteOldest, OverflowPolicy::Refuse,
                                     OverflowPolicy::Block};
  return node.service_builder(name)
      .request_response<RrBytes, RrBytes>()
      .max_clients(2)
      .max_servers(2)
      .max_active_requests_per_client(4)
      .max_response_buffer_size(4)
      .fire_and_forget(false)
      .overflow_policy(policies[o.policy % 3])
      .open_or_create();
}

/// Maps what a request-response port of ours reaches: the service, its segment, its slot.
bool map_rr(const Options& o, Hostile& h, bool server, std::uint64_t id) {
  const auto config = Config::from_environment();
  if (!map_service(h, config, o.service)) return false;
  h.segment = map(detail::Paths::port_segment(config, h.service_hash, id));
  const auto table = server ? core::RequestResponseLayout::kServerTable
                            : core::RequestResponseLayout::kClientTable;
  const auto& t = h.layout.ports[table];
  for (std::uint32_t i = 0; i < t.count; ++i) {
    const auto* p = reinterpret_cast<const core::PortSlot*>(
        h.dynamic_config.base() + t.offset + std::uint64_t{t.stride} * i);
    if (p->port_id.load(std::memory_order_relaxed) == id) {
      h.rr = Hostile::RrPort{server, i};
      return h.segment.ok();
    }
  }
  return false;
}

/// Fills a slice with bytes a reader could check (it must not rely on them: we rewrite them).
void fill_bytes(std::span<std::uint8_t> bytes, std::uint64_t seed) {
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(seed + i);
}

int run_rr_server(const Options& o, Node& node, const ServiceName& name, Hostile& h) {
  auto service = open_rr(o, node, name);
  if (!service) return 3;
  auto server =
      service->server_builder().max_slice_len(kRrMaxLen).block_timeout(std::chrono::milliseconds(
          1)).create();
  if (!server) return 3;
  if (!map_rr(o, h, true, server->id())) return 3;
  // A few streams open at once, so that responses of several channels are queued while we
  // rewrite; the oldest ends every third round.
  std::deque<ActiveRequest<RrBytes, RrBytes>> active;
  return run(o, h, [&](std::uint64_t round) {
    for (int i = 0; i < 2 && active.size() < 3; ++i) {
      auto request = server->receive();
      if (!request || !*request) break;
      active.push_back(std::move(**request));
    }
    for (auto& request : active) {
      const std::uint64_t len = (round * 37) % kRrMaxLen + 1;
      auto response = request.loan_uninit(len);
      if (!response) {
        ++g_stats.loans_failed;
        continue;
      }
      fill_bytes(response->payload(), round);
      const auto sent = request.send(std::move(*response));
      ++(sent ? g_stats.sent : g_stats.sends_failed);
    }
    if (!active.empty() && (round % 3 == 0 || !active.front().is_connected())) active.pop_front();
  }, [&] { return service->number_of_clients() > 0; });
}

int run_rr_client(const Options& o, Node& node, const ServiceName& name, Hostile& h) {
  auto service = open_rr(o, node, name);
  if (!service) return 3;
  auto client = service->client_builder().max_slice_len(kRrMaxLen).create();
  if (!client) return 3;
  if (!map_rr(o, h, false, client->id())) return 3;
  std::deque<PendingResponse<RrBytes, RrBytes>> pending;
  return run(o, h, [&](std::uint64_t round) {
    if (pending.size() < 3) {
      const std::uint64_t len = round % 2 == 0 ? 16 : (round * 97) % kRrMaxLen + 1;
      auto request = client->loan_uninit(len);
      if (!request) {
        ++g_stats.loans_failed;
      } else {
        fill_bytes(request->payload(), round);
        auto sent = client->send(std::move(*request));
        if (sent) {
          ++g_stats.sent;
          pending.push_back(std::move(*sent));
        } else {
          ++g_stats.sends_failed;
        }
      }
    }
    for (auto& p : pending) {
      for (int i = 0; i < 4; ++i) {
        auto response = p.receive();
        if (!response || !*response) break;
      }
    }
    // Dropping a pending response is the cancellation the server must notice.
    if (!pending.empty() && (round % 4 == 0 || pending.front().is_done())) pending.pop_front();
  }, [&] { return service->number_of_servers() > 0; });
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: axon_test_hostile bytes|typed|event|sysevent|rr-server|rr-client SERVICE "
                 "[--duration-ms N] [--seed S] [--only N] [--policy N]\n");
    return 2;
  }
  if (!platform::TerminationSignals::install()) return 3;
  Hostile hostile(options->seed);
  if (options->pattern == "sysevent") return run_system_event(*options, hostile);
  auto name = ServiceName::create(options->service);
  if (!name) return 2;
  auto node = NodeBuilder().name("hostile").create();
  if (!node) return 3;
  hostile.node_details = map(detail::Paths::node_details(Config::from_environment(), node->id()));
  if (options->pattern == "bytes") return run_pubsub_bytes(*options, *node, *name, hostile);
  if (options->pattern == "typed") return run_pubsub_typed(*options, *node, *name, hostile);
  if (options->pattern == "event") return run_event(*options, *node, *name, hostile);
  if (options->pattern == "rr-server") return run_rr_server(*options, *node, *name, hostile);
  if (options->pattern == "rr-client") return run_rr_client(*options, *node, *name, hostile);
  return 2;
}
