// Single-threaded costs of the core shared-memory structures, each next to the raw atomic
// operation it is built from (the baseline measured in the same run). Run with
// --benchmark_repetitions=N to get medians; the defaults below already report aggregates.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/counting_bitset.hpp"
#include "axon/core/publish_subscribe/layout.hpp"
#include "axon/core/spsc_queue.hpp"

namespace {

using axon::core::ChunkPool;
using axon::core::CountingBitset;
using axon::core::SpscIndexQueue;

class AlignedBlock {
 public:
  explicit AlignedBlock(std::size_t size)
      : m_size{size},
        m_data{static_cast<std::byte*>(::operator new (size, std::align_val_t{4096}))} {}
  std::byte* data() const { return m_data.get(); }
  std::size_t size() const { return m_size; }

 private:
  struct Deleter {
    void operator()(std::byte* p) const { ::operator delete (p, std::align_val_t{4096}); }
  };
  std::size_t m_size;
  std::unique_ptr<std::byte, Deleter> m_data;
};

void baseline_atomic_fetch_add(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) {
    benchmark::DoNotOptimize(counter.fetch_add(1, std::memory_order_acq_rel));
  }
}
BENCHMARK(baseline_atomic_fetch_add)->Repetitions(5)->ReportAggregatesOnly(true);

void spsc_push_then_pop(benchmark::State& state) {
  AlignedBlock block{SpscIndexQueue::required_size(1024)};
  auto queue = std::move(*SpscIndexQueue::initialize(block.data(), block.size(), 1024));
  std::uint64_t value = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(queue.try_push(value++));
    benchmark::DoNotOptimize(queue.try_pop());
  }
}
BENCHMARK(spsc_push_then_pop)->Repetitions(5)->ReportAggregatesOnly(true);

void spsc_push_overwrite_on_full_queue(benchmark::State& state) {
  AlignedBlock block{SpscIndexQueue::required_size(64)};
  auto queue = std::move(*SpscIndexQueue::initialize(block.data(), block.size(), 64,
                                                     SpscIndexQueue::Mode::Overwriting));
  std::uint64_t value = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(queue.push_overwrite(value++));
  }
}
BENCHMARK(spsc_push_overwrite_on_full_queue)->Repetitions(5)->ReportAggregatesOnly(true);

void chunk_pool_allocate_then_release(benchmark::State& state) {
  AlignedBlock block{ChunkPool::required_size(256, 256, 64)};
  auto pool = *ChunkPool::initialize(block.data(), block.size(), 256, 256, 64);
  for (auto _ : state) {
    const auto index = pool.allocate();
    benchmark::DoNotOptimize(pool.release(*index));
  }
}
BENCHMARK(chunk_pool_allocate_then_release)->Repetitions(5)->ReportAggregatesOnly(true);

// What a receive adds for the connection telemetry (docs/design.md §6), in two parts: the
// update of the subscriber's block (a bucket and four single-writer counters, the queue depth
// read from the producer's counter) with a latency that varies like a real one, and the clock
// read that gives the receive time. Next to them, the baseline fetch_add above.
void telemetry_update(benchmark::State& state) {
  auto telemetry = std::make_unique<axon::core::SubscriberTelemetry>();
  std::atomic<std::uint64_t> write_counter{5};
  std::uint64_t latency = 1500;
  for (auto _ : state) {
    latency = latency * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint64_t ns = 800 + (latency >> 52);  // 0.8 .. 4.9 us
    axon::core::telemetry_add(telemetry->received);
    axon::core::telemetry_add(telemetry->latency[axon::core::latency_bucket(ns)]);
    axon::core::telemetry_add(telemetry->latency_sum_ns, ns);
    const auto queued = write_counter.load(std::memory_order_relaxed) - 4;
    if (queued > telemetry->high_water.load(std::memory_order_relaxed)) {
      telemetry->high_water.store(queued, std::memory_order_relaxed);
    }
  }
  benchmark::DoNotOptimize(telemetry->received.load());
}
BENCHMARK(telemetry_update)->Repetitions(5)->ReportAggregatesOnly(true);

void clock_read_monotonic(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(clock_read_monotonic)->Repetitions(5)->ReportAggregatesOnly(true);

// Drain cost against the number of pending ids, with the max id fixed at 2^20: it should grow
// with the pending ids, not with the max.
void counting_bitset_add_then_drain(benchmark::State& state) {
  constexpr std::uint64_t kMaxId = CountingBitset::kMaxSupportedId;
  AlignedBlock block{CountingBitset::required_size(kMaxId)};
  const auto bitset = *CountingBitset::initialize(block.data(), block.size(), kMaxId);
  const auto pending = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < pending; ++i) {
      (void)bitset.add((i * 4099) % kMaxId);
    }
    std::uint64_t total = 0;
    (void)bitset.drain([&total](std::uint64_t, std::uint64_t count) { total += count; });
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pending));
}
BENCHMARK(counting_bitset_add_then_drain)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
