// Writes the seed inputs of every fuzz target into seeds/<target>/ under the directory given:
//   cmake --build build --target axon_fuzz_make_seeds && build/bin/axon_fuzz_make_seeds
//   tests/fuzz/seeds
// Each seed is spelled in the input format its target documents at its top, through a writer
// that mirrors fuzz_support.hpp's Input, and holds a structure a correct peer could have left
// (made, or the raw bytes of one made here) plus operations, or a corruption worth keeping
// (regressions). Raw seeds copy today's layouts: rerun this after a layout or version change.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/counting_bitset.hpp"
#include "axon/core/node_layout.hpp"
#include "axon/core/request_response/layout.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/core/spsc_queue.hpp"
#include "axon/core/system_event_layout.hpp"
#include "fuzz_support.hpp"
#include "service_config_input.hpp"

namespace {

using namespace axon::core;
using axon::fuzz::Block;

/// The inverse of axon::fuzz::Input: each put writes what the matching take reads back.
class Output {
 public:
  template <typename T>
  Output& put(T value) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);
    m_bytes.insert(m_bytes.end(), bytes, bytes + sizeof(T));
    return *this;
  }
  /// For `take_in(lo, hi)`: the value `v` (lo <= v <= hi) in the width the range needs.
  Output& put_in(std::uint64_t lo, std::uint64_t hi, std::uint64_t v) {
    const std::uint64_t span = hi - lo;
    const std::uint64_t raw = v - lo;
    if (span <= 0xff) return put(static_cast<std::uint8_t>(raw));
    if (span <= 0xffff) return put(static_cast<std::uint16_t>(raw));
    if (span <= 0xffff'ffff) return put(static_cast<std::uint32_t>(raw));
    return put(raw);
  }
  Output& put_bytes(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    m_bytes.insert(m_bytes.end(), bytes, bytes + size);
    return *this;
  }
  Output& put_text(std::string_view text, std::uint64_t max) {
    put_in(0, max, text.size());
    return put_bytes(text.data(), text.size());
  }
  /// For `Block::scribble(in, from, max_patches, to)` writing nothing.
  Output& no_patches(unsigned max_patches = 4) { return put_in(0, max_patches, 0); }
  /// For `Block::scribble`: one patch of `bytes` at `at` in a region [from, to).
  Output& one_patch(std::size_t from, std::size_t to, std::size_t at, const void* bytes,
                    std::size_t size, unsigned max_patches = 4) {
    put_in(0, max_patches, 1);
    put_in(from, to - 1, at);
    put_in(1, 16, size);
    return put_bytes(bytes, size);
  }
  const std::vector<std::uint8_t>& bytes() const { return m_bytes; }

 private:
  std::vector<std::uint8_t> m_bytes;
};

std::filesystem::path g_root;
int g_written = 0;

void write_seed(const std::string& target, const std::string& name, const Output& out) {
  const auto dir = g_root / target;
  std::filesystem::create_directories(dir);
  std::ofstream file{dir / name, std::ios::binary | std::ios::trunc};
  file.write(reinterpret_cast<const char*>(out.bytes().data()),
             static_cast<std::streamsize>(out.bytes().size()));
  ++g_written;
}

/// Operation bytes that visit every case of a target's `% cases` switch, each with `arg` after it.
void every_op(Output& out, unsigned cases, unsigned skip, std::uint32_t arg) {
  for (unsigned op = 0; op < cases; ++op) {
    if (op == skip) continue;
    out.put(static_cast<std::uint8_t>(op)).put(arg);
  }
}

void spsc_queue_seeds() {
  for (const bool overwriting : {false, true}) {
    Output out;
    const std::uint64_t capacity = 4;
    out.put<std::uint8_t>(overwriting ? 0x03 : 0x01).put_in(1, 300, capacity).put_in(0, 127, 0);
    out.put_in(0, 2 * capacity, 6).no_patches();
    for (std::uint32_t v = 1; v <= 6; ++v) out.put<std::uint8_t>(2).put(v);   // overwrite
    for (int i = 0; i < 3; ++i) out.put<std::uint8_t>(4);                     // pop
    for (std::uint32_t v = 7; v <= 12; ++v) out.put<std::uint8_t>(0).put(v);  // push
    for (std::uint32_t v = 13; v <= 15; ++v) out.put<std::uint8_t>(3).put(v);  // overwrite
    out.put<std::uint8_t>(6).put<std::uint8_t>(2);                            // pop_newest(2)
    out.put<std::uint8_t>(9).put<std::uint8_t>(7).put<std::uint8_t>(9);       // size, drain
    write_seed("spsc_queue", overwriting ? "made_overwriting" : "made_bounded", out);
  }
  {
    // A made queue whose write counter a peer moved before we attached.
    Output out;
    out.put<std::uint8_t>(0x01).put_in(1, 300, 3).put_in(0, 127, 0).put_in(0, 6, 2);
    const std::uint64_t write = 1000;
    out.one_patch(0, SpscIndexQueue::required_size(3), 64, &write, sizeof(write));
    out.put<std::uint8_t>(4).put<std::uint8_t>(0).put<std::uint32_t>(1);
    write_seed("spsc_queue", "made_counter_patched", out);
  }
  {
    // The raw bytes of a queue holding two values, then operations and a scribble.
    const std::uint64_t capacity = 5;
    Block block{SpscIndexQueue::required_size(capacity)};
    auto queue = SpscIndexQueue::initialize(block.data(), block.size(), capacity,
                                            SpscIndexQueue::Mode::Overwriting);
    (void)queue->push_overwrite(11);
    (void)queue->push_overwrite(22);
    Output out;
    out.put<std::uint8_t>(0x00).put_in(0, 4096, block.size()).put_bytes(block.data(), block.size());
    every_op(out, 10, 10, 33);  // every operation but the scribble
    write_seed("spsc_queue", "raw_overwriting", out);
  }
}

void counting_bitset_seeds() {
  {
    Output out;
    out.put<std::uint8_t>(0x01).put_in(0, 255, 200).put_in(0, 127, 0).no_patches();
    for (const std::uint64_t id : {0, 63, 64, 199, 200, 201, 5}) {
      out.put<std::uint8_t>(0).put_in(0, 202, id).put<std::uint8_t>(3);  // add(id, 3)
    }
    out.put<std::uint8_t>(5).put<std::uint8_t>(3);  // has_pending, drain
    out.put<std::uint8_t>(0).put_in(0, 202, 70).put<std::uint8_t>(1);
    out.put<std::uint8_t>(4).put_in(0, 202, 150).put<std::uint8_t>(2);  // drain that adds
    write_seed("counting_bitset", "made_small", out);
  }
  {
    // Three level-0 words: ids 0..9000.
    Output out;
    out.put<std::uint8_t>(0x03).put_in(0, 9000, 9000).put_in(0, 127, 64).no_patches();
    for (const std::uint64_t id : {0, 4095, 4096, 8191, 8192, 9000}) {
      out.put<std::uint8_t>(1).put_in(0, 9002, id).put<std::uint8_t>(9);
    }
    out.put<std::uint8_t>(3).put<std::uint8_t>(5);
    write_seed("counting_bitset", "made_three_level0_words", out);
  }
  {
    Block block{CountingBitset::required_size(130)};
    auto bitset = CountingBitset::initialize(block.data(), block.size(), 130);
    (void)bitset->add(7, 2);
    (void)bitset->add(129, 1);
    Output out;
    out.put<std::uint8_t>(0x00).put_in(0, 4096, block.size()).put_bytes(block.data(), block.size());
    out.put<std::uint8_t>(3).put<std::uint8_t>(7).put<std::uint64_t>(129).put<std::uint8_t>(3);
    write_seed("counting_bitset", "raw_with_counts", out);
  }
}

void chunk_pool_seeds() {
  for (const std::uint64_t alignment_log2 : {3, 6, 12}) {
    Output out;
    const std::uint64_t count = 6;
    out.put<std::uint8_t>(0x01).put_in(1, 64, count).put_in(1, 300, 100);
    out.put_in(0, 12, alignment_log2).put_in(0, 127, 0).put_in(0, count, 2).no_patches();
    for (int i = 0; i < 5; ++i) out.put<std::uint8_t>(0).put<std::uint8_t>(1);  // allocate
    out.put<std::uint8_t>(2).put_in(0, count, 0);                               // release 0
    out.put<std::uint8_t>(2).put_in(0, count, 0);                               // again
    out.put<std::uint8_t>(4).put_in(0, count, 3).put<std::uint8_t>(0).put<std::uint8_t>(1);
    out.put<std::uint8_t>(4).put_in(0, count, 3).put<std::uint8_t>(8).put<std::uint8_t>(1);
    out.put<std::uint8_t>(7).put<std::uint8_t>(6).put<std::uint8_t>(0).put<std::uint32_t>(9);
    write_seed("chunk_pool", "made_align" + std::to_string(std::uint64_t{1} << alignment_log2),
               out);
  }
  {
    Block block{ChunkPool::required_size(4, 40, 8), ChunkPool::kMaxAlignment};
    auto pool = ChunkPool::initialize(block.data(), block.size(), 4, 40, 8);
    (void)pool->allocate();
    Output out;
    out.put<std::uint8_t>(0x00).put_in(0, 4096, block.size()).put_bytes(block.data(), block.size());
    out.put<std::uint8_t>(0).put<std::uint8_t>(0).put<std::uint8_t>(5).put(pool->offset_of(0));
    out.put<std::uint8_t>(1);
    write_seed("chunk_pool", "raw_one_allocated", out);
  }
}

/// The input make_static_config reads, for a small event service.
void event_settings(Output& out, std::string_view name, bool wide) {
  out.put<std::uint64_t>(0x1234).put<std::uint8_t>(0).put_text(name, 32).put<std::uint8_t>(0);
  if (wide) {
    out.put<std::uint32_t>(4).put<std::uint32_t>(4).put<std::uint32_t>(4).put<std::uint8_t>(0);
    out.put<std::uint64_t>(CountingBitset::kMaxSupportedId + 1);
  } else {
    out.put_in(0, 8, 2).put_in(0, 8, 2).put_in(0, 8, 3).put<std::uint8_t>(1).put_in(0, 600, 130);
  }
}

struct PubSubCounts {
  std::uint32_t publishers, subscribers, nodes, history, buffer, loans, borrowed;
};

void pubsub_settings(Output& out, std::string_view name, bool wide, const PubSubCounts& c,
                     OverflowKind overflow = OverflowKind::Refuse) {
  out.put<std::uint64_t>(0x5678).put<std::uint8_t>(1).put_text(name, 32).put<std::uint8_t>(1);
  out.put_text("Sample", 16);
  if (wide) {
    out.put<std::uint64_t>(24);
  } else {
    out.put_in(0, 256, 24);
  }
  out.put_in(0, 12, 3).put<std::uint8_t>(0);
  // In make_static_config's order, each with its small maximum.
  const std::pair<std::uint32_t, std::uint32_t> counts[] = {
      {c.publishers, 4}, {c.subscribers, 4}, {c.nodes, 8},   {c.history, 4},
      {c.buffer, 8},     {c.loans, 4},       {c.borrowed, 4}};
  for (const auto& [value, small_max] : counts) {
    if (wide) {
      out.put(value);
    } else {
      out.put_in(0, small_max, value);
    }
  }
  out.put_in(1, 3, static_cast<std::uint64_t>(overflow));
}

// Publishers x subscribers whose connection region wraps 2^64 to nothing: with no node slots, a
// buffer and borrows of 0 (connections of 64 bytes), compute_dynamic_layout used to give a
// total_size of 192 bytes (the header alone), so validate_dynamic accepted a 192-byte dynamic
// config whose port tables alone span 87 GB. Found by solving (4p+1)(s+1) = 2^60 + 1.
constexpr PubSubCounts kWrappingCounts{1140571140, 252707056, 0, 0, 0, 0, 0};

void service_static_config_seeds() {
  {
    Output out;
    out.put<std::uint8_t>(0x01);
    event_settings(out, "sensors/imu", false);
    out.no_patches();
    write_seed("service_static_config", "made_event", out);
  }
  {
    Output out;
    out.put<std::uint8_t>(0x01);
    pubsub_settings(out, "camera/front", false, {2, 3, 4, 1, 2, 2, 2});
    out.no_patches();
    write_seed("service_static_config", "made_pubsub", out);
  }
  {
    Output out;
    out.put<std::uint8_t>(0x03);
    event_settings(out, "wide/event", true);
    out.no_patches();
    write_seed("service_static_config", "made_event_wide", out);
  }
  {
    Output out;
    out.put<std::uint8_t>(0x03);
    pubsub_settings(out, "regression/layout_wrap", true, kWrappingCounts);
    out.no_patches();
    write_seed("service_static_config", "regression_region_wraps", out);
  }
  {
    // buffer + borrows used to be added in 32 bits: 0xffffffff + 2 counted as 1.
    Output out;
    out.put<std::uint8_t>(0x03);
    pubsub_settings(out, "regression/chunk_count", true, {1, 3, 1, 0, 0xffff'ffff, 1, 2});
    out.no_patches();
    write_seed("service_static_config", "regression_chunk_count_wraps", out);
  }
  {
    // The raw bytes of a made config.
    Block block{sizeof(StaticConfig)};
    Output settings;
    pubsub_settings(settings, "raw/pubsub", false, {1, 1, 2, 0, 4, 1, 1});
    axon::fuzz::Input in{settings.bytes().data(), settings.bytes().size()};
    (void)axon::fuzz::make_static_config(block.data(), in, false);
    Output out;
    out.put<std::uint8_t>(0x00).put_in(0, 2 * sizeof(StaticConfig), block.size());
    out.put_bytes(block.data(), block.size());
    write_seed("service_static_config", "raw_pubsub", out);
  }
}

/// Walker operations of the dynamic target that touch every kind of element.
void dynamic_walk(Output& out) {
  out.put<std::uint64_t>(0x1001);                     // our node id
  out.put<std::uint8_t>(0).put<std::uint16_t>(5);     // notify id 5
  out.put<std::uint8_t>(0).put<std::uint16_t>(7000);  // notify an id out of range
  out.put<std::uint8_t>(1).put<std::uint8_t>(0);      // drain bitset 0
  out.put<std::uint8_t>(2).put_in(0, 1, 0).put<std::uint8_t>(1);
  out.put<std::uint8_t>(2).put_in(0, 1, 1).put<std::uint8_t>(0);
  out.put<std::uint8_t>(3).put<std::uint8_t>(0).put<std::uint32_t>(4096);  // send
  out.put<std::uint8_t>(4).put<std::uint8_t>(0);                           // receive
  out.put<std::uint8_t>(5);
}

void service_dynamic_config_seeds() {
  {
    Output out;
    out.put<std::uint8_t>(0x01);
    event_settings(out, "sensors/imu", false);
    out.no_patches();
    dynamic_walk(out);
    write_seed("service_dynamic_config", "made_event", out);
  }
  for (const OverflowKind overflow : {OverflowKind::Refuse, OverflowKind::OverwriteOldest}) {
    Output out;
    out.put<std::uint8_t>(0x01);
    pubsub_settings(out, "camera/front", false, {2, 2, 3, 1, 2, 1, 1}, overflow);
    out.no_patches();
    dynamic_walk(out);
    write_seed("service_dynamic_config",
               overflow == OverflowKind::Refuse ? "made_pubsub_refuse" : "made_pubsub_overwrite",
               out);
  }
  {
    // The wrapping layout above: a raw static config and a raw 192-byte dynamic config holding
    // the header a creator would write for it.
    Block static_block{sizeof(StaticConfig)};
    Output settings;
    pubsub_settings(settings, "regression/layout_wrap", true, kWrappingCounts);
    axon::fuzz::Input in{settings.bytes().data(), settings.bytes().size()};
    const StaticConfig* sc = axon::fuzz::make_static_config(static_block.data(), in, true);
    const DynamicLayout l = compute_dynamic_layout(*sc);
    DynamicHeader h{};
    h.magic = kDynamicConfigMagic;
    h.version = kLayoutVersion;
    h.pattern = sc->pattern;
    h.total_size = l.total_size;
    h.max_nodes = l.max_nodes;
    h.nodes_offset = l.nodes_offset;
    for (std::size_t t = 0; t < kPortTables; ++t) h.ports[t] = l.ports[t];
    h.region_offset = l.region_offset;
    h.region_stride = l.region_stride;
    h.region_count = l.region_count;
    Output out;
    out.put<std::uint8_t>(0x02).put_bytes(static_block.data(), static_block.size());
    out.put_in(0, 4096, sizeof(DynamicHeader)).put_bytes(&h, sizeof(h));
    out.put<std::uint64_t>(0x1001);
    write_seed("service_dynamic_config", "regression_region_wraps", out);
  }
}

/// The settings request_response_link_fuzz.cpp's settings_from reads: slices both ways (8-byte
/// requests, 4-byte responses), 2 clients and servers, 3 channels, a buffer of 2.
void rr_settings(Output& out, OverflowKind overflow) {
  out.put_in(1, 64, 8).put_in(0, 6, 3).put_in(1, 64, 4).put_in(0, 6, 2);
  out.put_in(0, 1, 1).put_in(0, 1, 1);            // request, response slices
  out.put_in(1, 3, 2).put_in(1, 3, 2);            // clients, servers
  out.put_in(1, 6, 3).put_in(1, 6, 2);            // channels, buffer
  out.put_in(1, 3, 2).put_in(1, 3, 2).put_in(1, 3, 1);  // loans, loans, borrows
  out.put_in(0, 1, 0).put_in(1, 3, static_cast<std::uint64_t>(overflow));  // fire-and-forget
  out.put_in(1, 4, 4).put_in(1, 4, 4);            // max elements of a request, a response
}

void request_response_link_seeds() {
  const std::pair<OverflowKind, const char*> policies[] = {
      {OverflowKind::OverwriteOldest, "made_overwrite"},
      {OverflowKind::Refuse, "made_refuse"},
      {OverflowKind::Block, "made_block"}};
  for (const auto& [overflow, name] : policies) {
    Output out;
    out.put<std::uint8_t>(0x01);
    rr_settings(out, overflow);
    out.no_patches();
    // Three requests on channels 0..2, received; four responses on channel 0 (the last ends the
    // stream), received; a reclaim; the words; a drain; then the same with headers rewritten.
    for (std::uint64_t k = 0; k < 3; ++k) out.put<std::uint8_t>(0).put_in(0, 2, k).put_in(0, 4, 3);
    for (int i = 0; i < 3; ++i) out.put<std::uint8_t>(1);
    for (int i = 0; i < 4; ++i) {
      out.put<std::uint8_t>(2).put_in(0, 2, 0).put_in(0, 4, 4).put<std::uint8_t>(i == 3 ? 1 : 0);
    }
    for (int i = 0; i < 3; ++i) out.put<std::uint8_t>(3).put_in(0, 2, 0);
    out.put<std::uint8_t>(4).put<std::uint8_t>(5).put_in(0, 2, 1).put<std::uint8_t>(6).put_in(0, 2, 2);
    // A request whose length a hostile client sets to 2^40, and a response likewise.
    out.put<std::uint8_t>(0).put_in(0, 2, 1).put_in(0, 4, 2);
    out.put<std::uint8_t>(8).put<std::uint8_t>(1).put_in(0, 4, 3);  // the 4th request's chunk...
    out.put<std::uint64_t>(std::uint64_t{1} << 40).put_in(0, 3, 2);  // ...its payload_size
    out.put<std::uint8_t>(1);
    out.put<std::uint8_t>(2).put_in(0, 2, 1).put_in(0, 4, 1).put<std::uint8_t>(0);
    out.put<std::uint8_t>(8).put<std::uint8_t>(0).put<std::uint8_t>(4);  // the 5th response's
    out.put<std::uint64_t>(std::uint64_t{1} << 40).put_in(0, 3, 2);
    out.put<std::uint8_t>(3).put_in(0, 2, 1);
    write_seed("request_response_link", name, out);
  }
}

void node_layout_seeds() {
  const std::uint64_t id = 0x0123'4567'89ab'cdef;
  {
    Output out;
    out.put<std::uint8_t>(0x03).put(id).put<std::int32_t>(4242).put<std::int64_t>(1'700'000'000);
    out.put_text("worker 7", 128).no_patches();
    write_seed("node_layout", "made_valid", out);
  }
  {
    NodeDetails d{};
    d.magic = kNodeDetailsMagic;
    d.version = kNodeDetailsVersion;
    d.pid = 1;
    d.node_id = id;
    d.name = *FixedString<kMaxNodeNameLength>::from("raw");
    d.name.m_len = 5000;  // clamped by view()
    Output out;
    out.put<std::uint8_t>(0x00).put(id).put_in(0, 2 * sizeof(NodeDetails), sizeof(d));
    out.put_bytes(&d, sizeof(d));
    write_seed("node_layout", "raw_long_length", out);
  }
}

void system_event_layout_seeds() {
  {
    Output out;
    out.put<std::uint8_t>(0x01).put_text("alarms/door", kMaxSystemEventNameLength + 8);
    out.put_in(0, sizeof(SystemEventLayout) + 64, sizeof(SystemEventLayout)).no_patches();
    for (const std::uint8_t op : {0, 2, 1, 2, 0, 3}) out.put(op);
    write_seed("system_event_layout", "made_valid", out);
  }
  {
    Block block{sizeof(SystemEventLayout)};
    (void)construct_system_event(block.data(), block.size(), "raw/event");
    Output out;
    out.put<std::uint8_t>(0x00).put_text("raw/event", kMaxSystemEventNameLength + 8);
    out.put_in(0, 2 * sizeof(SystemEventLayout), block.size())
        .put_bytes(block.data(), block.size());
    out.put<std::uint8_t>(0).put<std::uint8_t>(1);
    write_seed("system_event_layout", "raw_valid", out);
  }
}

void name_seeds() {
  const std::pair<const char*, std::string_view> service_names[] = {
      {"simple", "a"},        {"nested", "camera/front/raw"},  {"dot_segment", "a/./b"},
      {"dotdot", "a/.."},     {"leading_slash", "/a"},         {"trailing_slash", "a/"},
      {"space", "has space"}, {"dots_inside", "a/.b/c..d/..."}};
  for (const auto& [name, text] : service_names) {
    Output out;
    out.put_bytes(text.data(), text.size());
    write_seed("service_name", name, out);
  }
  Output longest;
  longest.put_bytes(std::string(255, 'x').data(), 255);
  write_seed("service_name", "longest", longest);

  const std::pair<const char*, std::string_view> node_names[] = {
      {"simple", "worker 7"}, {"empty", ""}, {"tab", "a\tb"}, {"del", "a\x7f"}};
  for (const auto& [name, text] : node_names) {
    Output out;
    out.put_bytes(text.data(), text.size());
    write_seed("node_name", name, out);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SEEDS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  spsc_queue_seeds();
  counting_bitset_seeds();
  chunk_pool_seeds();
  service_static_config_seeds();
  service_dynamic_config_seeds();
  request_response_link_seeds();
  node_layout_seeds();
  system_event_layout_seeds();
  name_seeds();
  std::printf("%d seeds written under %s\n", g_written, g_root.c_str());
  return 0;
}
