// SIGINT and SIGTERM turned into state an event loop can see. The handler only records the
// signal number in a lock-free atomic and bumps an eventfd (both async-signal-safe), so an epoll
// wait that includes fd() wakes up even when the signal went to another thread. Handlers are
// installed without SA_RESTART: a blocking call in the receiving thread returns EINTR, which the
// waits of this layer report as Interrupted. Every other signal is left alone.
#pragma once

#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::platform {

/// Process-wide, so static-only. Thread-safety: every function may be called from any thread;
/// install() and uninstall() serialise with each other.
class TerminationSignals {
 public:
  TerminationSignals() = delete;

  /// Installs the handlers for SIGINT and SIGTERM, remembering the previous ones; does nothing
  /// when already installed. Errors: LimitReached (no descriptor for the eventfd),
  /// InvalidArgument (sigaction refused).
  static tl::expected<void, Error> install();
  /// Restores the handlers that install() replaced. The eventfd stays open for the life of the
  /// process, so a handler still running in another thread never writes to a reused number.
  static void uninstall();
  static bool installed();

  /// SIGINT or SIGTERM, whichever came last since reset(); 0 if none.
  static int last_signal();
  static bool termination_requested();
  /// Forgets the last signal, then drains fd().
  static void reset();
  /// Drains fd(), then takes and clears last_signal() (0 if none). The race-free order for an
  /// event loop: a signal that lands after the drain leaves fd() readable for the next wait.
  static int take_signal();
  /// Drains fd(), then forgets the last signal if it is `signal_number` (one compare-exchange:
  /// a different signal that came since stays remembered). True when it was forgotten.
  static bool forget(int signal_number);

  /// Readable after a signal until drained; -1 before the first install(). A child forked
  /// without exec gets a fresh eventfd under the same number, so it does not wake its parent.
  static int fd();
  static void drain_fd();
};

}  // namespace axon::platform
