// Dispatch cost of one WaitSet batch with 1, 100 and 1000 attachments of which one is active,
// against a raw epoll_wait over a set of the same size in the same run. Each iteration makes one
// eventfd readable, waits, and reads it back in the handler, in both variants, so the difference
// is what the WaitSet adds: the attachment lookup, the batch bookkeeping and the callback.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "axon/platform/event_fd.hpp"
#include "axon/waitset.hpp"

namespace {

using namespace axon;

// Keeps the measuring thread on the CPU it starts on, so migrations do not show up as noise.
void pin_to_current_cpu() {
  const int cpu = ::sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

std::vector<platform::EventFd> make_eventfds(std::size_t n) {
  std::vector<platform::EventFd> fds;
  fds.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto fd = platform::EventFd::create();
    if (fd) fds.push_back(std::move(*fd));
  }
  return fds;
}

void BM_WaitSetDispatchOneActive(benchmark::State& state) {
  pin_to_current_cpu();
  const auto n = static_cast<std::size_t>(state.range(0));
  auto waitset = WaitSetBuilder().capacity(n).create();
  auto fds = make_eventfds(n);
  if (!waitset || fds.size() != n) {
    state.SkipWithError("setup failed");
    return;
  }
  std::vector<WaitSetGuard> guards;
  guards.reserve(n);
  for (auto& fd : fds) {
    auto guard = waitset->attach_fd(fd.fd(), FdInterest::Read);
    if (!guard) {
      state.SkipWithError("attach failed");
      return;
    }
    guards.push_back(std::move(*guard));
  }
  const std::size_t active = n / 2;
  std::size_t handled = 0;
  auto on_event = [&](AttachmentId id) {
    if (id.has_event_from(guards[active])) {
      (void)fds[active].try_read();
      ++handled;
    }
    return CallbackProgression::Continue;
  };
  for (auto _ : state) {
    (void)fds[active].notify(1);
    auto result = waitset->wait_and_process_once(on_event);
    benchmark::DoNotOptimize(result);
  }
  if (handled != static_cast<std::size_t>(state.iterations())) state.SkipWithError("lost event");
  state.counters["attachments"] = static_cast<double>(n);
}

// The raw baseline, through the call the WaitSet makes (epoll_pwait2 when the kernel has it) or
// through plain epoll_wait.
template <bool kPwait2>
void raw_epoll_one_active(benchmark::State& state) {
  pin_to_current_cpu();
  const auto n = static_cast<std::size_t>(state.range(0));
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  auto fds = make_eventfds(n);
  if (epoll_fd < 0 || fds.size() != n) {
    state.SkipWithError("setup failed");
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    (void)::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fds[i].fd(), &event);
  }
  std::vector<epoll_event> ready(n);
  const std::size_t active = n / 2;
  std::size_t handled = 0;
  for (auto _ : state) {
    (void)fds[active].notify(1);
    const int count =
        kPwait2 ? ::epoll_pwait2(epoll_fd, ready.data(), static_cast<int>(n), nullptr, nullptr)
                : ::epoll_wait(epoll_fd, ready.data(), static_cast<int>(n), -1);
    for (int i = 0; i < count; ++i) {
      const auto index = ready[static_cast<std::size_t>(i)].data.u64;
      (void)fds[index].try_read();
      ++handled;
    }
  }
  ::close(epoll_fd);
  if (handled != static_cast<std::size_t>(state.iterations())) state.SkipWithError("lost event");
  state.counters["attachments"] = static_cast<double>(n);
}

BENCHMARK(BM_WaitSetDispatchOneActive)->Arg(1)->Arg(100)->Arg(1000);
void BM_RawEpollWaitOneActive(benchmark::State& state) { raw_epoll_one_active<false>(state); }
void BM_RawEpollPwait2OneActive(benchmark::State& state) { raw_epoll_one_active<true>(state); }

BENCHMARK(BM_RawEpollWaitOneActive)->Arg(1)->Arg(100)->Arg(1000);
BENCHMARK(BM_RawEpollPwait2OneActive)->Arg(1)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
