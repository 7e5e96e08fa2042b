// Configuration, service names, nodes (with their signal-aware wait) and node listing/cleanup.
#include <csignal>
#include <optional>
#include <string>

#include "common.hpp"

namespace axon::python {
namespace {

ServiceName service_name_of(const std::string& text) { return take(ServiceName::create(text)); }

Config config_or_environment(const std::optional<Config>& config) {
  return config ? *config : Config::from_environment();
}

/// Node.wait: True after the whole cycle; False on SIGTERM; KeyboardInterrupt on SIGINT.
bool node_wait(const Node& node, const py::handle& cycle) {
  const auto duration = timeout_arg(cycle);
  tl::expected<void, NodeWaitError> waited;
  {
    py::gil_scoped_release release;
    waited = node.wait(duration);
  }
  if (waited) return true;
  switch (waited.error()) {
    case NodeWaitError::InterruptSignal:
      // Forgotten first, so a caught KeyboardInterrupt lets the program go on. A SIGTERM that
      // came since stays (the clear then fails): this wait reports it instead.
      if (!Node::clear_termination_signal(NodeWaitError::InterruptSignal)) return false;
      // Python's own handler may have seen a signal too: its exception first.
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      raise_keyboard_interrupt();
    case NodeWaitError::TerminationRequest:
      return false;
    case NodeWaitError::InternalFailure:
      break;
  }
  raise(waited.error());
}

}  // namespace

ServiceName name_arg(const py::handle& name) {
  if (py::isinstance<ServiceName>(name)) return name.cast<ServiceName>();
  if (py::isinstance<py::str>(name)) return service_name_of(name.cast<std::string>());
  throw py::type_error("a service name is a str or an axon.ServiceName");
}

void bind_node(py::module_& m) {
  py::enum_<Access>(m, "Access", "Who may use a service besides its creator's user.")
      .value("Owner", Access::Owner, "Only processes of the creator's effective user.")
      .value("Group", Access::Group, "Also members of the root directory's group.");
  py::enum_<MessagingPattern>(m, "MessagingPattern", "The messaging pattern of a service.")
      .value("Event", MessagingPattern::Event, "Notifiers wake listeners.")
      .value("PublishSubscribe", MessagingPattern::PublishSubscribe, "Publishers send samples to subscribers.")
      .value("RequestResponse", MessagingPattern::RequestResponse, "Clients send requests, servers answer with streams of responses.");

  py::class_<Config>(m, "Config",
                     "Where axon keeps its objects: a shared-memory name prefix and a root "
                     "directory. Config.from_environment() reads AXON_PREFIX and AXON_ROOT.")
      .def(py::init<>(), "An empty configuration; set prefix and root, then validate().")
      .def_readwrite("prefix", &Config::prefix, "Prefix of every shared-memory object.")
      .def_readwrite("root", &Config::root, "Directory of FIFOs, sockets and lock files.")
      .def_readwrite("root_chosen", &Config::root_chosen,
                     "True when the root was chosen rather than the default.")
      .def_static("from_environment", &Config::from_environment,
                  "The configuration of this process: AXON_PREFIX/AXON_ROOT, else defaults.")
      .def(
          "validate", [](const Config& c) { take(c.validate()); },
          "Raises ConfigError when the prefix or the root path is malformed.")
      .def("__repr__", [](const Config& c) {
        return "Config(prefix=" + py::repr(py::str(c.prefix)).cast<std::string>() +
               ", root=" + py::repr(py::str(c.root)).cast<std::string>() + ")";
      });

  py::class_<ServiceName>(m, "ServiceName",
                          "A validated service name: 1..255 bytes of printable ASCII, "
                          "'/'-separated segments, none empty, '.' or '..'.")
      .def(py::init(&service_name_of), py::arg("name"),
           "Raises ServiceNameError when `name` is not a valid service name.")
      .def_static("create", &service_name_of, py::arg("name"),
                  "As the constructor: raises ServiceNameError for an invalid name.")
      .def("as_string", [](const ServiceName& n) { return std::string(n.as_string()); },
           "The name as text.")
      .def("__str__", [](const ServiceName& n) { return std::string(n.as_string()); })
      .def("__repr__",
           [](const ServiceName& n) {
             return "ServiceName(" +
                    py::repr(py::str(std::string(n.as_string()))).cast<std::string>() + ")";
           })
      .def("__eq__", [](const ServiceName& a, const ServiceName& b) { return a == b; })
      .def("__hash__", [](const ServiceName& n) { return std::hash<ServiceName>{}(n); });
  m.attr("MAX_SERVICE_NAME_LENGTH") = ServiceName::kMaxLength;

  py::class_<NodeId>(m, "NodeId", "Identifies a node for its whole life; random, never 0.")
      .def_readonly("value", &NodeId::value, "The 64-bit id.")
      .def("to_string", &NodeId::to_string, "16 lowercase hex digits.")
      .def_static("from_string", &NodeId::from_string, py::arg("hex"),
                  "The id of 16 lowercase hex digits, or None.")
      .def("__str__", &NodeId::to_string)
      .def("__repr__", [](const NodeId& id) { return "NodeId(" + id.to_string() + ")"; })
      .def("__eq__", [](const NodeId& a, const NodeId& b) { return a == b; })
      .def("__lt__", [](const NodeId& a, const NodeId& b) { return a < b; })
      .def("__hash__", [](const NodeId& id) { return std::hash<std::uint64_t>{}(id.value); });

  py::enum_<NodeState>(m, "NodeState", "Whether a node's process still holds its lock.")
      .value("Alive", NodeState::Alive, "Its process holds its lock.")
      .value("Dead", NodeState::Dead, "Its process is gone: cleanup_dead_nodes removes what it left.");

  py::class_<NodeInfo>(m, "NodeInfo", "A node as Node.list() finds it.")
      .def_readonly("id", &NodeInfo::id,
                    "The node's id.")
      .def_readonly("pid", &NodeInfo::pid, "0 when its details are gone.")
      .def_readonly("name", &NodeInfo::name,
                    "The node's name (may be empty).")
      .def_readonly("state", &NodeInfo::state,
                    "Alive or Dead (NodeState).")
      .def("__repr__", [](const NodeInfo& n) {
        return "NodeInfo(id=" + n.id.to_string() + ", pid=" + std::to_string(n.pid) +
               ", name=" + py::repr(py::str(n.name)).cast<std::string>() + ", state=" +
               to_string(n.state) + ")";
      });

  py::class_<CleanupReport>(m, "CleanupReport", "What one cleanup pass removed.")
      .def_readonly("dead_nodes", &CleanupReport::dead_nodes, "Nodes found dead and removed.")
      .def_readonly("removed_services", &CleanupReport::removed_services,
                    "Services removed because no live node used them.")
      .def_readonly("removed_ports", &CleanupReport::removed_ports,
                    "Listener and notifier ports of dead nodes.")
      .def_readonly("removed_files", &CleanupReport::removed_files,
                    "Lock files whose holders died (full paths).");

  py::class_<ServiceBuilder>(m, "ServiceBuilder",
                             "Node.service_builder(name): chooses the messaging pattern.");

  py::class_<Node>(m, "Node",
                   "This process's membership in axon (NodeBuilder().create()). Not usable "
                   "across fork().")
      .def_property_readonly("id", &Node::id, "The node's id.")
      .def_property_readonly("name", &Node::name, "The node's name (may be empty).")
      .def_property_readonly("config", &Node::config, "The configuration it was created with.")
      .def(
          "service_builder",
          [](const Node& node, const py::handle& name) {
            return node.service_builder(name_arg(name));
          },
          py::arg("name"),
           "Starts building the service `name` (a ServiceName or a str).")
      .def("wait", &node_wait, py::arg("cycle"),
           "Sleeps for `cycle` (seconds or a timedelta), less when a signal arrives; the loop "
           "of a process that works in cycles: `while node.wait(0.1): ...`. Returns True after "
           "the whole cycle, False on SIGTERM; SIGINT (Ctrl-C) raises KeyboardInterrupt. The "
           "first call installs axon's SIGINT/SIGTERM handlers for the rest of the process "
           "(then Ctrl-C is seen by the next wait, not in between). A SIGINT is forgotten as "
           "it raises, so a program that catches KeyboardInterrupt goes on and its next wait "
           "sleeps; a SIGTERM is remembered: every later wait (and WaitSet wait) returns False "
           "(Interrupt/TerminationRequest) at once, so nested loops all end. Releases the GIL.")
      .def_static(
          "clear_termination_signal",
          [](int signum) {
            if (signum == SIGINT)
              return Node::clear_termination_signal(NodeWaitError::InterruptSignal);
            if (signum == SIGTERM)
              return Node::clear_termination_signal(NodeWaitError::TerminationRequest);
            throw py::value_error("signum is signal.SIGINT or signal.SIGTERM");
          },
          py::arg("signum") = SIGINT,
          "Forgets the remembered signal `signum` (signal.SIGINT or signal.SIGTERM) if it is the "
          "one remembered, so the next wait sleeps again; True when it did. For a program that "
          "handled a WaitSet's Interrupt (or a SIGTERM) and goes on; Node.wait and the other "
          "waits that raise KeyboardInterrupt forget a SIGINT themselves.")
      .def_static(
          "list",
          [](const std::optional<Config>& config) {
            return take(Node::list(config_or_environment(config)));
          },
          py::arg("config") = py::none(),
          "Every node under the configuration (default: the environment's), alive or dead.")
      .def_static(
          "cleanup_dead_nodes",
          [](const std::optional<Config>& config) {
            const auto c = config_or_environment(config);
            py::gil_scoped_release release;
            return Node::cleanup_dead_nodes(c);
          },
          py::arg("config") = py::none(),
          "Removes what dead nodes left: their ports, services no live node uses, their files.");

  py::class_<NodeBuilder>(m, "NodeBuilder", "NodeBuilder().name('robot').create()")
      .def(py::init<>())
      .def("name", &NodeBuilder::name, py::arg("name"), py::return_value_policy::reference_internal,
           "A human-readable name shown by `axon node list`; need not be unique.")
      .def("config", &NodeBuilder::config, py::arg("config"),
           py::return_value_policy::reference_internal,
           "Use another prefix and root than the environment's.")
      .def(
          "create", [](NodeBuilder& b) { return take(b.create()); },
          "Registers the node; raises NodeCreateError.");

  m.def(
      "remove_service_forcibly",
      [](const py::handle& name, const std::optional<Config>& config) {
        const auto c = config_or_environment(config);
        auto removal = take(remove_service_forcibly(name_arg(name), c));
        return py::make_tuple(removal.removed, removal.failed, removal.live_holders);
      },
      py::arg("name"), py::arg("config") = py::none(),
      "Removes every object of the service `name`, whatever its state (for operators). Returns "
      "(removed, failed, live_holders).");
}

}  // namespace axon::python
