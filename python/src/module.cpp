// The Python module `axon`: the public API of axon, zero-copy where payloads are concerned.
#include "common.hpp"

namespace {

/// pybind11 gives every enum class `name` and `value` properties without a docstring: the same
/// getters, documented.
void document_enum_properties(pybind11::module_& m) {
  namespace py = pybind11;
  const auto property = py::module_::import("builtins").attr("property");
  for (const auto item : m.attr("__dict__").cast<py::dict>()) {
    const py::handle cls = item.second;
    if (!PyType_Check(cls.ptr()) || !py::hasattr(cls, "__entries")) continue;
    py::setattr(cls, "name",
                property(cls.attr("name").attr("fget"), py::none(), py::none(),
                         "The value's name, as the C++ enumerator is spelled."));
    py::setattr(cls, "value",
                property(cls.attr("value").attr("fget"), py::none(), py::none(),
                         "The value as an int (the C++ enumerator's value)."));
  }
}

}  // namespace

PYBIND11_MODULE(axon, m) {
  namespace ap = axon::python;
  m.doc() =
      "axon: zero-copy shared-memory IPC between processes. Nodes, event services (notifier, "
      "listener), WaitSet, publish-subscribe, request-response, SystemEvent, discovery. Every error is an axon.AxonError subclass named "
      "after the C++ error enum; blocking calls release the GIL.";
  m.attr("__version__") = AXON_VERSION;
  ap::register_errors(m);
  ap::bind_node(m);
  ap::bind_event(m);
  ap::bind_waitset(m);
  ap::bind_publish_subscribe(m);
  ap::bind_request_response(m);
  ap::bind_system(m);
  document_enum_properties(m);
}
