// The exception classes (one per C++ error enum, all under axon.AxonError), durations, and the
// guard of objects used without the GIL.
#include <pybind11/eval.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "common.hpp"

namespace axon::python {
namespace {

// The classes live as long as the module's interpreter; plain pointers, never released, so no
// destructor runs after the interpreter is gone.
std::map<std::string, PyObject*>& error_classes() {
  static auto* classes = new std::map<std::string, PyObject*>();
  return *classes;
}

constexpr const char* kBaseSource = R"(
class AxonError(Exception):
    """An error reported by axon. Each C++ error enum has its subclass (NodeCreateError,
    ListenerWaitError, ...); `name` is the C++ error's name, as to_string gives it
    ("InvalidName", "DoesNotExist", ...), and so is str(error)."""

    @property
    def name(self) -> str:
        """The C++ error's name, e.g. "DoesNotExist"."""
        return self.args[0]
)";

std::chrono::nanoseconds seconds_arg(const py::handle& value, bool clamp_negative) {
  double seconds = 0;
  if (py::isinstance(value, py::module_::import("datetime").attr("timedelta"))) {
    seconds = value.attr("total_seconds")().cast<double>();
  } else if (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value)) {
    seconds = value.cast<double>();
  } else {
    throw py::type_error("a duration is seconds (int or float) or a datetime.timedelta");
  }
  if (std::isnan(seconds)) throw py::value_error("a duration cannot be NaN");
  if (clamp_negative && seconds < 0) seconds = 0;
  // Beyond the clock's range: the longest (or shortest) duration it holds, never a wrapped one.
  constexpr double kMaxSeconds = 9.2e9;  // below INT64_MAX ns (9.22e9 s)
  if (seconds >= kMaxSeconds) return std::chrono::nanoseconds::max();
  if (seconds <= -kMaxSeconds) return std::chrono::nanoseconds::min();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

}  // namespace

void register_errors(py::module_& m) {
  py::exec(kBaseSource, m.attr("__dict__"));
  py::object base = m.attr("AxonError");
  base.attr("__module__") = "axon";
#define AXON_PYTHON_REGISTER(E)                                                              \
  {                                                                                          \
    const std::string qualified = std::string("axon.") + #E;                                 \
    PyObject* cls = PyErr_NewExceptionWithDoc(                                               \
        qualified.c_str(), "The C++ error enum axon::" #E "; `name` says which one.",        \
        base.ptr(), nullptr);                                                                \
    if (cls == nullptr) throw py::error_already_set();                                       \
    m.add_object(#E, py::reinterpret_borrow<py::object>(cls));                               \
    error_classes()[#E] = cls;                                                               \
  }
  AXON_PYTHON_ERRORS(AXON_PYTHON_REGISTER)
#undef AXON_PYTHON_REGISTER
}

void raise_error(const char* class_name, const char* error_name) {
  const auto found = error_classes().find(class_name);
  PyObject* cls = found == error_classes().end() ? PyExc_RuntimeError : found->second;
  PyErr_SetObject(cls, py::str(error_name).ptr());
  throw py::error_already_set();
}

std::chrono::nanoseconds timeout_arg(const py::handle& value) { return seconds_arg(value, true); }
std::chrono::nanoseconds duration_arg(const py::handle& value) {
  return seconds_arg(value, false);
}

Exclusive::Hold::Hold(Exclusive& owner) : m_owner(owner), m_outer(false) {
  const auto self = std::this_thread::get_id();
  const auto holder = owner.m_thread.load();
  if (holder != std::thread::id{} && holder != self) {
    throw std::runtime_error(std::string(owner.m_what) + " is in use by another thread");
  }
  m_outer = owner.m_depth == 0;
  ++owner.m_depth;
  owner.m_thread.store(self);
}

Exclusive::Hold::~Hold() {
  if (--m_owner.m_depth == 0) m_owner.m_thread.store(std::thread::id{});
}

bool Exclusive::held_elsewhere() const {
  const auto holder = m_thread.load();
  return holder != std::thread::id{} && holder != std::this_thread::get_id();
}

void Exclusive::check(const char* what) const {
  if (held_elsewhere()) {
    throw std::runtime_error(std::string(what) + " is in use by another thread");
  }
}

}  // namespace axon::python
