// The Python module `axon`: the public API of axon, zero-copy where payloads are concerned.
#include "common.hpp"

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
}
