// SystemEvent (a latched event shared by every process of the user) and discovery (which
// services exist, from any process, without joining them).
#include <optional>
#include <string>
#include <utility>

#include "common.hpp"

namespace axon::python {
namespace {

Config config_or_environment(const std::optional<Config>& config) {
  return config ? *config : Config::from_environment();
}

bool system_event_wait(const SystemEvent& event, const std::optional<py::handle>& timeout) {
  tl::expected<bool, SystemEventWaitError> waited;
  const auto duration =
      timeout ? std::optional<std::chrono::nanoseconds>(timeout_arg(*timeout)) : std::nullopt;
  {
    py::gil_scoped_release release;
    waited = duration ? event.wait_for(*duration) : event.wait();
  }
  if (waited) return *waited;
  if (waited.error() == SystemEventWaitError::Interrupted) raise_interrupted(waited.error());
  raise(waited.error());
}

}  // namespace

void bind_system(py::module_& m) {
  py::class_<SystemEvent>(
      m, "SystemEvent",
      "A latched, named event shared by every process of this user (threading.Event across "
      "processes): set() releases every waiter and it stays set until clear(). Not tied to a "
      "node; thread-safe.")
      .def_static(
          "open",
          [](const std::string& name, const std::optional<Config>& config) {
            return take(SystemEvent::open(name, config_or_environment(config)));
          },
          py::arg("name"), py::arg("config") = py::none(),
          "Opens the event `name`, creating it (clear) if missing. Raises SystemEventError.")
      .def_static(
          "remove",
          [](const std::string& name, const std::optional<Config>& config) {
            take(SystemEvent::remove(name, config_or_environment(config)));
          },
          py::arg("name"), py::arg("config") = py::none(),
          "Deletes the event (open handles keep the removed one). Raises SystemEventError "
          "(DoesNotExist).")
      .def_property_readonly("name", &SystemEvent::name, "The name given to open().")
      .def("set", &SystemEvent::set, "Sets it and wakes every waiter in every process.")
      .def("clear", &SystemEvent::clear, "Clears it; waiters from now on block until set().")
      .def("is_set", &SystemEvent::is_set, "Whether it is set now.")
      .def("wait", &system_event_wait, py::arg("timeout") = py::none(),
           "Blocks until it is set (at most `timeout`: seconds or a timedelta); True when it "
           "was set at entry or during the wait, False on timeout. Releases the GIL. SIGINT "
           "(Ctrl-C) raises KeyboardInterrupt, whether Python's handler or axon's took it (axon's "
           "forgets it, as Node.wait does); an exception of a Python signal handler is raised; "
           "any other signal (SIGTERM once axon's handlers are in: it stays remembered for "
           "Node.wait) raises SystemEventWaitError (Interrupted).")
      .def(
          "fileno", [](SystemEvent& e) { return take(e.fd()); },
          "A descriptor readable while the event is set, for selectors or a WaitSet (attach_fd). "
          "Do not read or close it. Raises SystemEventError.");

  py::class_<ServiceInfo>(m, "ServiceInfo",
                          "A service as discovery sees it: settings and live ports.")
      .def_readonly("name", &ServiceInfo::name,
                    "The service name.")
      .def_readonly("pattern", &ServiceInfo::pattern,
                    "Its MessagingPattern.")
      .def_readonly("access", &ServiceInfo::access,
                    "Who may use it besides the creator's user (Access).")
      .def_readonly("creator", &ServiceInfo::creator, "The NodeId that created it.")
      .def_readonly("event", &ServiceInfo::event, "Its settings, for event services.")
      .def_readonly("pubsub", &ServiceInfo::pubsub,
                    "Its settings, for publish-subscribe services.")
      .def_readonly("request_response", &ServiceInfo::request_response,
                    "Its settings, for request-response services.")
      .def_readonly("listeners", &ServiceInfo::listeners,
                    "Listeners alive now (event services).")
      .def_readonly("notifiers", &ServiceInfo::notifiers,
                    "Notifiers alive now (event services).")
      .def_readonly("publishers", &ServiceInfo::publishers,
                    "Publishers alive now (publish-subscribe services).")
      .def_readonly("subscribers", &ServiceInfo::subscribers,
                    "Subscribers alive now (publish-subscribe services).")
      .def_readonly("clients", &ServiceInfo::clients,
                    "Clients alive now (request-response services).")
      .def_readonly("servers", &ServiceInfo::servers,
                    "Servers alive now (request-response services).")
      .def_readonly("pending_requests", &ServiceInfo::pending_requests,
                    "Requests whose PendingResponse is alive.")
      .def_readonly("nodes", &ServiceInfo::nodes,
                    "Nodes that have the service open now.")
      .def_readonly("node_ids", &ServiceInfo::node_ids, "The nodes holding the service.")
      .def("__repr__", [](const ServiceInfo& s) {
        return "ServiceInfo(" + py::repr(py::str(s.name)).cast<std::string>() + ", " +
               to_string(s.pattern) + ")";
      });

  py::class_<UnreadableService>(m, "UnreadableService",
                                "A service whose objects exist but cannot be read whole.")
      .def_readonly("name", &UnreadableService::name, "Its name, or its hash when unknown.")
      .def_readonly("hash", &UnreadableService::hash, "16 hex digits, as in its objects' names.")
      .def_readonly("error", &UnreadableService::error, "Corrupted or VersionMismatch.");

  py::class_<ServiceScan>(m, "ServiceScan", "What scan_services() sees.")
      .def_readonly("services", &ServiceScan::services, "Complete services, sorted by name.")
      .def_readonly("unreadable", &ServiceScan::unreadable, "The others, sorted by name.");

  py::enum_<DiscoveryError>(m, "DiscoveryErrorKind",
                            "Why a service could not be read (UnreadableService.error).")
      .value("DoesNotExist", DiscoveryError::DoesNotExist, "No service of that name.")
      .value("Corrupted", DiscoveryError::Corrupted, "Its shared memory fails validation (or is truncated).")
      .value("VersionMismatch", DiscoveryError::VersionMismatch, "Made by an incompatible axon version.")
      .value("PermissionDenied", DiscoveryError::PermissionDenied, "/dev/shm or the object cannot be read, or belongs to another user.")
      .value("InvalidConfig", DiscoveryError::InvalidConfig, "The prefix or root path is malformed.")
      .value("InternalFailure", DiscoveryError::InternalFailure, "A system call failed unexpectedly.");

  m.def(
      "list_services",
      [](const std::optional<Config>& config) {
        return take(list_services(config_or_environment(config)));
      },
      py::arg("config") = py::none(),
      "Every complete service under the configuration (default: the environment's), sorted "
      "by name. Raises DiscoveryError.");
  m.def(
      "scan_services",
      [](const std::optional<Config>& config) {
        return take(scan_services(config_or_environment(config)));
      },
      py::arg("config") = py::none(),
      "Every service, the unreadable ones included (what `axon service list` prints).");
  m.def(
      "describe_service",
      [](const py::handle& name, const std::optional<Config>& config) {
        return take(describe_service(name_arg(name), config_or_environment(config)));
      },
      py::arg("name"), py::arg("config") = py::none(),
      "One service by name. Raises DiscoveryError (DoesNotExist).");
}

}  // namespace axon::python
