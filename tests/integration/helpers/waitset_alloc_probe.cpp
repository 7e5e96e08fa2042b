// Counts heap allocations made by the WaitSet's hot path (waits and dispatch, with fds, a
// deadline that misses and an interval), after every attach is done. Prints "allocations N".
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "axon/platform/event_fd.hpp"
#include "axon/waitset.hpp"

namespace {
// ORDERING: relaxed; one thread counts, and reads the count after the measured loop.
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};

void* allocate(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

int main() {
  using namespace axon;
  using namespace std::chrono_literals;
  auto waitset = WaitSetBuilder().capacity(256).create();
  if (!waitset) return 3;
  std::vector<platform::EventFd> events;
  std::vector<WaitSetGuard> guards;
  events.reserve(100);
  guards.reserve(103);
  for (int i = 0; i < 100; ++i) {
    auto event = platform::EventFd::create();
    if (!event) return 3;
    events.push_back(std::move(*event));
    auto guard = waitset->attach_fd(events.back().fd(), FdInterest::Read);
    if (!guard) return 3;
    guards.push_back(std::move(*guard));
  }
  auto silent = platform::EventFd::create();
  if (!silent) return 3;
  auto deadline = waitset->attach_deadline_fd(silent->fd(), 1ms);
  auto interval = waitset->attach_interval(1ms);
  if (!deadline || !interval) return 3;

  std::size_t callbacks = 0;
  auto on_event = [&](AttachmentId id) {
    ++callbacks;
    for (std::size_t i = 0; i < guards.size(); ++i) {
      if (id.has_event_from(guards[i])) (void)events[i].try_read();
    }
    return CallbackProgression::Continue;
  };
  g_counting.store(true, std::memory_order_relaxed);
  for (std::size_t round = 0; round < 2000; ++round) {
    (void)events[round % events.size()].notify(1);
    if (!waitset->wait_and_process_once(on_event)) return 4;
    (void)events[(round * 7) % events.size()].notify(1);
    if (!waitset->wait_and_process_once_with_timeout(on_event, 1ms)) return 4;
    auto batch = waitset->wait(0ns);
    if (!batch) return 4;
    for (const auto& id : batch->triggered) (void)on_event(id);
  }
  g_counting.store(false, std::memory_order_relaxed);
  std::printf("callbacks %zu\n", callbacks);
  std::printf("allocations %zu\n", g_allocations.load(std::memory_order_relaxed));
  return 0;
}
