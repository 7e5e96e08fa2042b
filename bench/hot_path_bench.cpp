// The hot paths of the public API in one process, each next to the raw mechanism it is built
// from, measured in the same run:
//   - publish-subscribe: loan + send + receive + release of an 8 B and a 4 MiB slice. Only the
//     first 8 bytes are written and read, so the cost must not grow with the size. Baselines: an
//     SPSC index queue push + pop, and the data-structure work one sample needs (chunk pool
//     allocate + submission push/pop + completion push/pop + release).
//   - request-response: one request and one response (loan, send, receive, drop both ways), at
//     8 B and 4 MiB, next to the publish-subscribe one-way path above.
//   - events: notify + try_wait with one listener, for both backends. Baselines: an eventfd
//     write + read and a pipe write + read.
// One process means no cache line moves between cores: this is the instruction cost; the
// two-process round trip (bench/latency_pingpong.cpp) adds the coherence traffic.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "axon/axon.hpp"
#include "axon/core/chunk_pool.hpp"
#include "axon/core/spsc_queue.hpp"

namespace {

using axon::core::ChunkPool;
using axon::core::SpscIndexQueue;
using Payload = axon::Slice<std::uint8_t>;

// Keeps the measuring thread on the CPU it starts on, so migrations do not show up as noise.
void pin_to_current_cpu() {
  const int cpu = ::sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

/// Unique per process and call, so concurrent runs and repetitions never share a service.
std::string unique_name(const char* what) {
  static int counter = 0;
  return "axon-bench/hot-path/" + std::to_string(::getpid()) + "/" + what + "/" +
         std::to_string(counter++);
}

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

void pubsub_loan_send_receive_release(benchmark::State& state) {
  pin_to_current_cpu();
  const auto size = static_cast<std::uint64_t>(state.range(0));
  auto node = axon::NodeBuilder().name("hot-path-bench").create();
  auto name = axon::ServiceName::create(unique_name("pubsub"));
  if (!node || !name) {
    state.SkipWithError("node or name failed");
    return;
  }
  auto service = node->service_builder(*name)
                     .publish_subscribe<Payload>()
                     .max_publishers(1)
                     .max_subscribers(1)
                     .subscriber_max_buffer_size(1)
                     .create();
  if (!service) {
    state.SkipWithError("service failed");
    return;
  }
  auto publisher = service->publisher_builder().max_slice_len(size).create();
  auto subscriber = service->subscriber_builder().create();
  if (!publisher || !subscriber) {
    state.SkipWithError("ports failed");
    return;
  }
  std::uint64_t counter = 0;
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    auto sample = publisher->loan_uninit(size);
    if (!sample) {
      state.SkipWithError("loan failed");
      break;
    }
    ++counter;
    std::memcpy(sample->payload().data(), &counter, sizeof counter);
    if (auto sent = publisher->send(std::move(*sample)); !sent || *sent != 1) {
      state.SkipWithError("send failed");
      break;
    }
    auto received = subscriber->receive();
    if (!received || !*received) {
      state.SkipWithError("receive failed");
      break;
    }
    std::uint64_t value = 0;
    std::memcpy(&value, (*received)->payload().data(), sizeof value);
    checksum += value;
  }  // the sample is released here, at the end of each iteration
  benchmark::DoNotOptimize(checksum);
  state.counters["bytes"] = static_cast<double>(size);
}
BENCHMARK(pubsub_loan_send_receive_release)->Arg(8)->Arg(4 << 20);

// One request and one response, as latency_pingpong's axon-rr-spin does across two processes:
// the client loans and sends a request; the server receives it, loans and sends a response and
// drops the ActiveRequest (the end of the stream); the client receives the response, drops it,
// then drops the PendingResponse. Settings as there: 1 client, 1 server, a response buffer of
// one. Compare with pubsub_loan_send_receive_release, which is one way only.
void rr_request_response_one_round(benchmark::State& state) {
  pin_to_current_cpu();
  const auto size = static_cast<std::uint64_t>(state.range(0));
  auto node = axon::NodeBuilder().name("hot-path-bench").create();
  auto name = axon::ServiceName::create(unique_name("rr"));
  if (!node || !name) {
    state.SkipWithError("node or name failed");
    return;
  }
  auto service = node->service_builder(*name)
                     .request_response<Payload, Payload>()
                     .max_clients(1)
                     .max_servers(1)
                     .max_response_buffer_size(1)
                     .create();
  if (!service) {
    state.SkipWithError("service failed");
    return;
  }
  auto client = service->client_builder().max_slice_len(size).create();
  auto server = service->server_builder().max_slice_len(size).create();
  if (!client || !server) {
    state.SkipWithError("ports failed");
    return;
  }
  std::uint64_t counter = 0;
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    auto request = client->loan_uninit(size);
    if (!request) {
      state.SkipWithError("request loan failed");
      break;
    }
    ++counter;
    std::memcpy(request->payload().data(), &counter, sizeof counter);
    auto pending = client->send(std::move(*request));
    if (!pending) {
      state.SkipWithError("request send failed");
      break;
    }
    {
      auto active = server->receive();
      if (!active || !*active) {
        state.SkipWithError("server receive failed");
        break;
      }
      auto response = (*active)->loan_uninit(size);
      if (!response) {
        state.SkipWithError("response loan failed");
        break;
      }
      std::memcpy(response->payload().data(), (**active).payload().data(), sizeof counter);
      if (!(*active)->send(std::move(*response))) {
        state.SkipWithError("response send failed");
        break;
      }
    }  // the ActiveRequest is dropped here: the stream ends
    auto received = pending->receive();
    if (!received || !*received) {
      state.SkipWithError("client receive failed");
      break;
    }
    std::uint64_t value = 0;
    std::memcpy(&value, (*received)->payload().data(), sizeof value);
    checksum += value;
  }  // the response, then the PendingResponse, are dropped here
  benchmark::DoNotOptimize(checksum);
  if (checksum != counter * (counter + 1) / 2) state.SkipWithError("wrong responses");
  state.counters["bytes"] = static_cast<double>(size);
}
BENCHMARK(rr_request_response_one_round)->Arg(8)->Arg(4 << 20);

void raw_spsc_push_pop(benchmark::State& state) {
  pin_to_current_cpu();
  AlignedBlock block{SpscIndexQueue::required_size(2)};
  auto queue = std::move(*SpscIndexQueue::initialize(block.data(), block.size(), 2));
  std::uint64_t value = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(queue.try_push(value++));
    benchmark::DoNotOptimize(queue.try_pop());
  }
}
BENCHMARK(raw_spsc_push_pop);

// What one sample needs from the core structures, without the API around them: take a chunk,
// pass its offset through a submission queue and back through a completion queue, free it.
void raw_chunk_round_trip_through_queues(benchmark::State& state) {
  pin_to_current_cpu();
  constexpr std::uint64_t kChunks = 8;
  AlignedBlock pool_block{ChunkPool::required_size(kChunks, 64, 64)};
  AlignedBlock submission_block{SpscIndexQueue::required_size(1)};
  AlignedBlock completion_block{SpscIndexQueue::required_size(kChunks)};
  auto pool = *ChunkPool::initialize(pool_block.data(), pool_block.size(), kChunks, 64, 64);
  auto submission = std::move(*SpscIndexQueue::initialize(
      submission_block.data(), submission_block.size(), 1, SpscIndexQueue::Mode::Overwriting));
  auto completion = std::move(
      *SpscIndexQueue::initialize(completion_block.data(), completion_block.size(), kChunks));
  for (auto _ : state) {
    const auto index = pool.allocate();
    auto* chunk = static_cast<std::uint64_t*>(pool.chunk(*index));
    *chunk = *index;
    benchmark::DoNotOptimize(submission.push_overwrite(pool.offset_of(*index)));
    const auto offset = submission.try_pop();
    const auto received = pool.index_of_offset(*offset);
    benchmark::DoNotOptimize(*static_cast<const std::uint64_t*>(pool.chunk(*received)));
    (void)completion.try_push(*offset);
    const auto back = completion.try_pop();
    (void)pool.release(*pool.index_of_offset(*back));
  }
}
BENCHMARK(raw_chunk_round_trip_through_queues);

void event_notify_try_wait(benchmark::State& state) {
  pin_to_current_cpu();
  const auto backend = state.range(0) == 0 ? axon::EventBackend::EventFd : axon::EventBackend::Fifo;
  auto node = axon::NodeBuilder().name("hot-path-bench").create();
  auto name = axon::ServiceName::create(unique_name("event"));
  if (!node || !name) {
    state.SkipWithError("node or name failed");
    return;
  }
  auto service = node->service_builder(*name).event().backend(backend).create();
  if (!service) {
    state.SkipWithError("service failed");
    return;
  }
  auto listener = service->listener_builder().create();
  auto notifier = service->notifier_builder().create();
  if (!listener || !notifier) {
    state.SkipWithError("ports failed");
    return;
  }
  std::uint64_t seen = 0;
  for (auto _ : state) {
    (void)notifier->notify(axon::EventId{7});
    (void)listener->try_wait([&](axon::EventId, std::uint64_t count) { seen += count; });
  }
  if (seen != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("lost events");
  state.SetLabel(backend == axon::EventBackend::EventFd ? "eventfd" : "fifo");
}
BENCHMARK(event_notify_try_wait)->Arg(0)->Arg(1);

void raw_eventfd_write_read(benchmark::State& state) {
  pin_to_current_cpu();
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    state.SkipWithError("eventfd failed");
    return;
  }
  std::uint64_t value = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(::write(fd, &value, sizeof value));
    benchmark::DoNotOptimize(::read(fd, &value, sizeof value));
  }
  ::close(fd);
}
BENCHMARK(raw_eventfd_write_read);

void raw_pipe_write_read(benchmark::State& state) {
  pin_to_current_cpu();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  std::array<unsigned char, 64> buffer{1};
  for (auto _ : state) {
    benchmark::DoNotOptimize(::write(fds[1], buffer.data(), 1));
    benchmark::DoNotOptimize(::read(fds[0], buffer.data(), buffer.size()));
  }
  ::close(fds[0]);
  ::close(fds[1]);
}
BENCHMARK(raw_pipe_write_read);

}  // namespace

BENCHMARK_MAIN();
