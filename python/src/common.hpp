// What every part of the Python module shares: pybind11, the public API of axon, the error
// classes and the conversions of durations. Only <axon/axon.hpp>: the bindings are a user of the
// library like any other program.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <axon/axon.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

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
  X(RequestResponseOpenError)                                                                   \
  X(RequestResponseCreateError)                                                                 \
  X(ClientCreateError)                                                                          \
  X(ServerCreateError)                                                                          \
  X(LoanError)                                                                                  \
  X(RequestSendError)                                                                           \
  X(ResponseReceiveError)                                                                       \
  X(ServerReceiveError)                                                                         \
  X(ResponseSendError)                                                                          \
  X(SystemEventError)                                                                           \
  X(SystemEventWaitError)                                                                       \
  X(DiscoveryError)                                                                             \
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

/// Raises KeyboardInterrupt for a SIGINT that axon's handler took, after forgetting it
/// (Node::clear_termination_signal): a program that catches it goes on, its next wait sleeps.
[[noreturn]] inline void raise_keyboard_interrupt() {
  PyErr_SetNone(PyExc_KeyboardInterrupt);
  throw py::error_already_set();
}

/// A wait interrupted by a signal: when Python's own handler caught it (Ctrl-C before axon
/// installed its handlers, or a signal.signal handler), the handler runs and its exception is
/// raised; a SIGINT that axon's handler took is KeyboardInterrupt (forgotten first, as
/// Node.wait does); otherwise `error` (a SIGTERM stays remembered for Node.wait and WaitSets).
template <typename E>
[[noreturn]] void raise_interrupted(E error) {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  if (Node::clear_termination_signal(NodeWaitError::InterruptSignal)) raise_keyboard_interrupt();
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

/// The guard of a port whose send may block without the GIL (Block policy: up to block_timeout),
/// shared by the port's Python object and what is made from it (loans, active requests). Ports
/// are not thread-safe, and everything made from one belongs to it: while one thread sends,
/// another gets RuntimeError from calls on them, and what it drops meanwhile (a loan collected,
/// an active request) is kept until the send returns, then dropped by the sender. All of it is
/// touched with the GIL held.
class PortGuard {
 public:
  explicit PortGuard(const char* what) : m_busy(what), m_what(what) {}
  /// RuntimeError while another thread sends.
  void check() const { m_busy.check(m_what); }
  /// Empties `slot` now, or after the send of another thread.
  template <typename T>
  void drop(std::optional<T>& slot) {
    if (!slot) return;
    if (m_busy.held_elsewhere()) m_deferred.push_back(std::make_shared<T>(std::move(*slot)));
    slot.reset();
  }
  /// Held around a send that releases the GIL; drops what was deferred meanwhile at the end.
  class Hold {
   public:
    explicit Hold(PortGuard& guard) : m_hold(guard.m_busy), m_guard(guard) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { m_guard.m_deferred.clear(); }

   private:
    Exclusive::Hold m_hold;
    PortGuard& m_guard;
  };

 private:
  Exclusive m_busy;
  const char* m_what;
  std::vector<std::shared_ptr<void>> m_deferred;
};

/// A listener as Python holds it: the port and the guard of its blocking waits.
struct PyListener {
  explicit PyListener(Listener l) : listener(std::move(l)) {}
  Listener listener;
  Exclusive busy{"listener"};
};

/// A subscriber as Python holds it: the port and what its samples are made of.
struct PySubscriber {
  UntypedSubscriber subscriber;
  py::object type;
  std::uint64_t element_size;
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

/// The PayloadType of a ctypes type: AXON_TYPE_NAME (or __name__), sizeof, alignment.
PayloadType payload_type_of_ctypes(const py::handle& cls, bool is_slice);

/// A payload argument: a ctypes type (its PayloadType; samples then have `.value`) or a
/// PayloadType (bytes only: the type is None).
std::pair<PayloadType, py::object> payload_arg(const py::object& payload, bool is_slice);

/// `.value` of a writable chunk: the ctypes object (an array of `len` for slices, or when the
/// type is an array itself) over the buffer of `owner`, no copy. TypeError when `type` is None.
py::object ctypes_over(const py::object& type, const py::object& owner, std::uint64_t len);
/// `.value` of a read-only chunk: a copy as the ctypes type (ctypes cannot map read-only
/// memory), `bytes.size() / element_size` elements.
py::object ctypes_copy(const py::object& type, std::span<const std::byte> bytes,
                       std::uint64_t element_size);

/// The buffer protocol of a class whose objects hold a chunk in shared memory. `T::bytes()` is
/// its span, or nullopt once the chunk is gone (sent, released, closed: BufferError with
/// `T::kGone`); `T::exports` counts the views alive, so the owner can refuse to give the chunk
/// up under a view. A view holds the object (Py_buffer.obj), so the chunk stays while it lives.
template <typename T, bool ReadOnly>
int chunk_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
  try {
    auto* self = py::handle(obj).cast<T*>();
    const std::optional<std::span<const std::byte>> bytes = self->bytes();
    if (!bytes) {
      PyErr_SetString(PyExc_BufferError, T::kGone);
      view->obj = nullptr;
      return -1;
    }
    if (PyBuffer_FillInfo(view, obj, const_cast<std::byte*>(bytes->data()),
                          static_cast<Py_ssize_t>(bytes->size()), ReadOnly ? 1 : 0,
                          flags) != 0) {
      return -1;
    }
    ++self->exports;
    return 0;
  } catch (...) {
    PyErr_SetString(PyExc_BufferError, "not a chunk of axon");
    view->obj = nullptr;
    return -1;
  }
}
template <typename T>
void chunk_releasebuffer(PyObject* obj, Py_buffer*) {
  try {
    --py::handle(obj).cast<T*>()->exports;
  } catch (...) {
  }
}
/// Points the buffer slots of `cls` (a py::class_ made with py::buffer_protocol()) at
/// chunk_getbuffer/chunk_releasebuffer: pybind11's own would not count the views.
template <typename T, bool ReadOnly>
void set_chunk_buffer(const py::handle& cls) {
  auto* heap = reinterpret_cast<PyHeapTypeObject*>(cls.ptr());
  heap->as_buffer.bf_getbuffer = chunk_getbuffer<T, ReadOnly>;
  heap->as_buffer.bf_releasebuffer = chunk_releasebuffer<T>;
}
/// BufferError unless no view of the chunk lives; `what` says what would go wrong.
inline void check_no_views(Py_ssize_t exports, const char* what) {
  if (exports != 0) throw py::buffer_error(what);
}

/// Module parts, each in its own file.
void bind_node(py::module_& m);
void bind_event(py::module_& m);
void bind_waitset(py::module_& m);
void bind_publish_subscribe(py::module_& m);
void bind_request_response(py::module_& m);
void bind_system(py::module_& m);

}  // namespace axon::python
