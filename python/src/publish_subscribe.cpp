#include "common.hpp"
namespace axon::python {
void bind_publish_subscribe(py::module_&) {}
}
