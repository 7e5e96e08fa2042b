#include "axon/platform/signals.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <mutex>

#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler stores into an atomic");

// ORDERING: seq_cst on the signal word and relaxed on the descriptor number. The handler stores
// the signal before it writes the eventfd; a reader that drains the eventfd and then loads the
// signal must see that store, and seq_cst makes that hold without reasoning about the syscall.
std::atomic<int> g_last_signal{0};
std::atomic<int> g_wake_fd{-1};
std::atomic<bool> g_installed{false};

std::mutex g_install_mutex;
struct sigaction g_previous_sigint {};
struct sigaction g_previous_sigterm {};
bool g_fork_hook_registered = false;

extern "C" void on_termination_signal(int signal_number) {
  const int saved_errno = errno;
  g_last_signal.store(signal_number, std::memory_order_seq_cst);
  const int fd = g_wake_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const std::uint64_t one = 1;
    // A full counter (2^64 - 2 signals) already makes the fd readable: nothing to handle.
    (void)posix_call("write(eventfd)", [&] { return ::write(fd, &one, sizeof one); });
  }
  errno = saved_errno;
}

// Runs in the child right after fork(), with one thread. The inherited eventfd is the parent's
// counter; dup3 puts a fresh one under the same number so fd() stays valid and private.
extern "C" void renew_wake_fd_in_child() {
  const int inherited = g_wake_fd.load(std::memory_order_relaxed);
  if (inherited < 0) return;
  auto fresh = posix_call("eventfd", [] { return ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); });
  if (!fresh) return;  // the child keeps sharing its parent's counter: spurious wake-ups only
  const FileDescriptor spare(*fresh);
  (void)posix_call("dup3", [&] { return ::dup3(spare.native(), inherited, O_CLOEXEC); });
}

tl::expected<void, Error> ensure_wake_fd() {
  if (g_wake_fd.load(std::memory_order_relaxed) >= 0) return {};
  auto fd = posix_call("eventfd", [] { return ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); });
  if (!fd) return tl::unexpected(fd.error());
  g_wake_fd.store(*fd, std::memory_order_relaxed);
  if (!g_fork_hook_registered) {
    // pthread_atfork reports failure by its return value, not errno.
    const int err = ::pthread_atfork(nullptr, nullptr, renew_wake_fd_in_child);
    if (err != 0) return tl::unexpected(make_error("pthread_atfork", err));
    g_fork_hook_registered = true;
  }
  return {};
}

}  // namespace

tl::expected<void, Error> TerminationSignals::install() {
  std::lock_guard lock(g_install_mutex);
  if (g_installed.load(std::memory_order_relaxed)) return {};
  auto wake = ensure_wake_fd();
  if (!wake) return wake;

  struct sigaction action {};
  action.sa_handler = on_termination_signal;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGINT);
  sigaddset(&action.sa_mask, SIGTERM);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR so loops notice at once

  auto on_int = posix_call("sigaction(SIGINT)",
                           [&] { return ::sigaction(SIGINT, &action, &g_previous_sigint); });
  if (!on_int) return tl::unexpected(on_int.error());
  auto on_term = posix_call("sigaction(SIGTERM)",
                            [&] { return ::sigaction(SIGTERM, &action, &g_previous_sigterm); });
  if (!on_term) {
    (void)posix_call("sigaction(SIGINT)",
                     [&] { return ::sigaction(SIGINT, &g_previous_sigint, nullptr); });
    return tl::unexpected(on_term.error());
  }
  g_installed.store(true, std::memory_order_relaxed);
  return {};
}

void TerminationSignals::uninstall() {
  std::lock_guard lock(g_install_mutex);
  if (!g_installed.load(std::memory_order_relaxed)) return;
  // Restoring a handler that sigaction once returned cannot fail.
  (void)posix_call("sigaction(SIGINT)",
                   [&] { return ::sigaction(SIGINT, &g_previous_sigint, nullptr); });
  (void)posix_call("sigaction(SIGTERM)",
                   [&] { return ::sigaction(SIGTERM, &g_previous_sigterm, nullptr); });
  g_installed.store(false, std::memory_order_relaxed);
}

bool TerminationSignals::installed() { return g_installed.load(std::memory_order_relaxed); }

int TerminationSignals::last_signal() { return g_last_signal.load(std::memory_order_seq_cst); }

bool TerminationSignals::termination_requested() { return last_signal() != 0; }

void TerminationSignals::reset() {
  // Flag first: a signal between the two steps leaves the flag set, so it is not lost for a
  // caller that checks the flag before it waits.
  g_last_signal.store(0, std::memory_order_seq_cst);
  drain_fd();
}

int TerminationSignals::take_signal() {
  drain_fd();
  return g_last_signal.exchange(0, std::memory_order_seq_cst);
}

bool TerminationSignals::forget(int signal_number) {
  // Drain first, as take_signal does: a signal that lands after the drain leaves fd() readable,
  // and one that landed before it and is not the one forgotten stays in the flag.
  drain_fd();
  int expected = signal_number;
  return g_last_signal.compare_exchange_strong(expected, 0, std::memory_order_seq_cst);
}

int TerminationSignals::fd() { return g_wake_fd.load(std::memory_order_relaxed); }

void TerminationSignals::drain_fd() {
  const int fd = g_wake_fd.load(std::memory_order_relaxed);
  if (fd < 0) return;
  std::uint64_t count = 0;
  // One read empties an eventfd in counter mode; EAGAIN means it was empty already.
  (void)posix_call("read(eventfd)", [&] { return ::read(fd, &count, sizeof count); });
}

}  // namespace axon::platform
