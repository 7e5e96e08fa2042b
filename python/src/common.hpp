// What every part of the Python module shares: pybind11, the public API of axon, the error
// classes and the conversions of durations. Only <axon/axon.hpp>: the bindings are a user of the
// library like any other program.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <axon/axon.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

namespace axon::python {

namespace py = pybind11;

/// The name of the Python exception class of each C++ error enum: the enum's own name.
template <typename E>
constexpr const char* error_class_name();
#define AXON_PYTHON_ERRORS(X)                                                                   \
  X(ConfigError)                                                                                \
  X(ServiceNameError)                                                                           \
  X(NodeCreateError)                                                                            \
  X(NodeListError)                                                                              \
  X(NodeWaitError)                                                                              \
  X(EventOpenError)                                                                             \
  X(EventCreateError)                                                                           \
  X(NotifierCreateError)                                                                        \
  X(NotifierNotifyError)                                                                        \
  X(ListenerCreateError)                                                                        \
  X(ListenerWaitError)                                                                          \
  X(WaitSetCreateError)                                                                         \
  X(WaitSetAttachmentError)                                                                     \
  X(WaitSetRunError)                                                                            \
  X(PubSubOpenError)                                                                            \
  X(PubSubCreateError)                                                                          \
  X(PublisherCreateError)                                                                       \
  X(PublisherLoanError)                                                                         \
  X(PublisherSendError)                                                                         \
  X(SubscriberCreateError)                                                                      \
  X(SubscriberReceiveError)                                                                     \
  X(ForcedRemovalError)
#define AXON_PYTHON_ERROR_NAME(E)                   \
  template <>                                       \
  constexpr const char* error_class_name<E>() {     \
    return #E;                                      \
  }
AXON_PYTHON_ERRORS(AXON_PYTHON_ERROR_NAME)
#undef AXON_PYTHON_ERROR_NAME

/// Creates axon.AxonError and one subclass per C++ error enum in `m`.
void register_errors(py::module_& m);

/// Sets the Python exception of class `class_name` (an AxonError) with `error_name` as its
/// name and throws, so pybind11 hands it to the interpreter.
[[noreturn]] void raise_error(const char* class_name, const char* error_name);

template <typename E>
[[noreturn]] void raise(E error) {
  raise_error(error_class_name<E>(), to_string(error));
}

/// open_or_create fails with whichever step failed: that step's class.
template <typename... E>
[[noreturn]] void raise(const std::variant<E...>& error) {
  std::visit([](auto e) { raise(e); }, error);
  throw std::logic_error("unreachable");  // std::visit of [[noreturn]] alternatives
}

/// The value, or the error raised as its Python exception.
template <typename T, typename E>
T take(tl::expected<T, E>&& result) {
  if (!result) raise(result.error());
  return std::move(*result);
}
template <typename E>
void take(tl::expected<void, E>&& result) {
  if (!result) raise(result.error());
}

/// A wait interrupted by a signal: when Python's own handler caught it (Ctrl-C before axon
/// installed its handlers), the handler runs and its exception (KeyboardInterrupt) is raised;
/// otherwise `error`.
template <typename E>
[[noreturn]] void raise_interrupted(E error) {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  raise(error);
}

/// A service name given as a str (checked: ServiceNameError) or an axon.ServiceName.
ServiceName name_arg(const py::handle& name);

/// A timeout given as seconds (int or float) or a datetime.timedelta. Negative is 0; more than
/// the nanosecond clock holds (292 years) is that much; NaN is a ValueError.
std::chrono::nanoseconds timeout_arg(const py::handle& value);
/// A period or deadline, as timeout_arg but kept as given when negative or zero: the library
/// refuses those with its own error.
std::chrono::nanoseconds duration_arg(const py::handle& value);

/// Objects that the GIL does not protect while a call runs without it (a blocking wait): a second
/// thread gets a RuntimeError instead of a data race in a port that is not thread-safe. The
/// thread that holds it may call in again (a WaitSet callback attaching).
class Exclusive {
 public:
  /// `what` names the object in the error ("listener"); a static string.
  explicit Exclusive(const char* what) : m_what(what) {}
  class Hold {
   public:
    explicit Hold(Exclusive& owner);
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold();

   private:
    Exclusive& m_owner;
    bool m_outer;
  };
  /// Raises RuntimeError when another thread holds it.
  void check(const char* what) const;
  /// True when another thread holds it.
  bool held_elsewhere() const;

 private:
  std::atomic<std::thread::id> m_thread{};
  std::size_t m_depth = 0;  ///< touched only by the holding thread
  const char* m_what;
  friend class Hold;
};

/// A listener as Python holds it: the port and the guard of its blocking waits.
struct PyListener {
  explicit PyListener(Listener l) : listener(std::move(l)) {}
  Listener listener;
  Exclusive busy{"listener"};
};

/// A notifier as Python holds it; empty once given to a publisher (notify_on_send).
struct PyNotifier {
  explicit PyNotifier(Notifier n) : notifier(std::move(n)) {}
  /// The notifier, or RuntimeError when it was given away.
  Notifier& get() {
    if (!notifier) throw std::runtime_error("this notifier was given to notify_on_send");
    return *notifier;
  }
  std::optional<Notifier> notifier;
  Exclusive busy{"notifier"};
};

/// Module parts, each in its own file.
void bind_node(py::module_& m);
void bind_event(py::module_& m);
void bind_waitset(py::module_& m);
void bind_publish_subscribe(py::module_& m);

}  // namespace axon::python
