// The event pattern: service builder, service, notifier, listener.
#include <optional>
#include <utility>
#include <vector>

#include "common.hpp"

namespace axon::python {
namespace {

using Events = std::vector<std::pair<EventId, std::uint64_t>>;

/// One listener wait without the GIL: (id, count) pairs collected, then handed to Python.
template <typename Wait>
Events listener_wait(PyListener& self, Wait&& wait) {
  Exclusive::Hold hold(self.busy);
  Events events;
  tl::expected<std::size_t, ListenerWaitError> result;
  {
    py::gil_scoped_release release;
    result = wait(self.listener, [&](EventId id, std::uint64_t count) {
      events.emplace_back(id, count);
    });
  }
  if (!result) {
    if (result.error() == ListenerWaitError::InterruptSignal) raise_interrupted(result.error());
    raise(result.error());
  }
  return events;
}

}  // namespace

void bind_event(py::module_& m) {
  py::class_<EventId>(m, "EventId",
                      "The id carried by a notification: 0..event_id_max_value of the service.")
      .def(py::init<std::uint64_t>(), py::arg("value") = 0)
      .def_readonly("value", &EventId::value, "The id as an int.")
      .def("__int__", [](const EventId& id) { return id.value; })
      .def("__index__", [](const EventId& id) { return id.value; })
      .def("__repr__", [](const EventId& id) { return "EventId(" + std::to_string(id.value) + ")"; })
      .def("__eq__", [](const EventId& a, const EventId& b) { return a == b; })
      .def("__lt__", [](const EventId& a, const EventId& b) { return a < b; })
      .def("__hash__", [](const EventId& id) { return std::hash<std::uint64_t>{}(id.value); });
  py::implicitly_convertible<py::int_, EventId>();

  py::enum_<EventBackend>(m, "EventBackend", "How a listener is woken.")
      .value("EventFd", EventBackend::EventFd, "An eventfd handed over the node's unix socket.")
      .value("Fifo", EventBackend::Fifo, "A named pipe in the root directory.");

  py::class_<EventStaticConfig>(m, "EventStaticConfig",
                                "The settings an event service was created with.")
      .def_readonly("max_listeners", &EventStaticConfig::max_listeners,
                    "Listeners the service allows.")
      .def_readonly("max_notifiers", &EventStaticConfig::max_notifiers,
                    "Notifiers the service allows.")
      .def_readonly("max_nodes", &EventStaticConfig::max_nodes,
                    "Nodes that may have it open at once.")
      .def_readonly("event_id_max_value", &EventStaticConfig::event_id_max_value,
                    "The largest EventId a notifier may send.")
      .def_readonly("backend", &EventStaticConfig::backend,
                    "How its listeners are woken (EventBackend).")
      .def_readonly("access", &EventStaticConfig::access,
                    "Who may use it besides the creator's user (Access).");

  py::class_<PyNotifier>(m, "Notifier",
                         "Wakes every listener of its service with an event id. One thread at "
                         "a time.")
      .def(
          "notify",
          [](PyNotifier& self, std::optional<EventId> id) {
            Exclusive::Hold hold(self.busy);
            Notifier& notifier = self.get();
            tl::expected<std::size_t, NotifierNotifyError> notified;
            {
              // Connecting to new listeners may take up to Notifier.CONNECT_BUDGET.
              py::gil_scoped_release release;
              notified = id ? notifier.notify(*id) : notifier.notify();
            }
            return take(std::move(notified));
          },
          py::arg("id") = py::none(),
          "Notifies `id` (default: the notifier's default id); returns how many listeners it "
          "reached. Raises NotifierNotifyError. Releases the GIL.")
      .def_property_readonly(
          "default_event_id", [](PyNotifier& self) { return self.get().default_event_id(); },
          "The id notify() sends without an argument.")
      .def_property_readonly(
          "id", [](PyNotifier& self) { return self.get().id(); },
          "Unique within the service for its life.");
  m.attr("Notifier").attr("CONNECT_BUDGET") =
      std::chrono::duration<double>(Notifier::kConnectBudget).count();

  py::class_<PyListener>(m, "Listener",
                         "Receives notifications of an event service. Its fileno() is readable "
                         "while a notification is pending (for a WaitSet, select or selectors). "
                         "One thread at a time. Each wait returns a list of (EventId, count), "
                         "ids ascending.")
      .def(
          "try_wait",
          [](PyListener& self) {
            return listener_wait(self, [](Listener& l, auto&& f) { return l.try_wait(f); });
          },
          "Every pending (EventId, count); [] when none. Never blocks.")
      .def(
          "timed_wait",
          [](PyListener& self, const py::handle& timeout) {
            const auto t = timeout_arg(timeout);
            return listener_wait(self,
                                 [t](Listener& l, auto&& f) { return l.timed_wait(f, t); });
          },
          py::arg("timeout"),
          "As try_wait, but waits up to `timeout` (seconds or timedelta) for a notification; "
          "[] only when it passed with nothing. Releases the GIL.")
      .def(
          "blocking_wait",
          [](PyListener& self) {
            return listener_wait(self, [](Listener& l, auto&& f) { return l.blocking_wait(f); });
          },
          "As try_wait, but waits until a notification arrives. A signal ends it: Python's "
          "handler runs first (its exception is raised), SIGINT (Ctrl-C) raises "
          "KeyboardInterrupt (forgotten, as Node.wait does), any other signal "
          "ListenerWaitError InterruptSignal. Releases the GIL.")
      .def(
          "fileno", [](const PyListener& self) { return self.listener.fd(); },
          "The fd that is readable while a notification is pending.")
      .def_property_readonly(
          "id", [](const PyListener& self) { return self.listener.id(); },
          "Unique within the service for its life.");

  py::class_<NotifierBuilder>(m, "NotifierBuilder", "EventService.notifier_builder()")
      .def("default_event_id", &NotifierBuilder::default_event_id, py::arg("id"),
           py::return_value_policy::reference_internal,
           "The id notify() sends without an argument (default 0).")
      .def(
          "create",
          [](NotifierBuilder& b) { return std::make_unique<PyNotifier>(take(b.create())); },
          "Raises NotifierCreateError.");

  py::class_<ListenerBuilder>(m, "ListenerBuilder", "EventService.listener_builder()")
      .def(
          "create",
          [](ListenerBuilder& b) { return std::make_unique<PyListener>(take(b.create())); },
          "Raises ListenerCreateError.");

  py::class_<EventService>(m, "EventService",
                           "An open event service; its ports keep it alive.")
      .def_property_readonly("name", &EventService::name, "The service name.")
      .def_property_readonly("static_config", &EventService::static_config,
                             "The settings it was created with (EventStaticConfig).")
      .def("number_of_listeners", &EventService::number_of_listeners,
           "Listeners alive now, in every process.")
      .def("number_of_notifiers", &EventService::number_of_notifiers,
           "Notifiers alive now, in every process.")
      .def("number_of_nodes", &EventService::number_of_nodes,
           "Nodes that have the service open now.")
      .def("notifier_builder", &EventService::notifier_builder,
           "Starts building a Notifier of this service.")
      .def("listener_builder", &EventService::listener_builder,
           "Starts building a Listener of this service.");

  using B = EventServiceBuilder;
  constexpr auto self_ref = py::return_value_policy::reference_internal;
  py::class_<B>(m, "EventServiceBuilder",
                "node.service_builder(name).event(): settings given to create() are the "
                "service's; given to open() they are requirements the service must meet.")
      .def("max_listeners", &B::max_listeners, py::arg("n"), self_ref, "Listeners the service allows.")
      .def("max_notifiers", &B::max_notifiers, py::arg("n"), self_ref, "Notifiers the service allows.")
      .def("max_nodes", &B::max_nodes, py::arg("n"), self_ref,
           "Nodes that may have it open at once.")
      .def("event_id_max_value", &B::event_id_max_value, py::arg("n"), self_ref,
           "The largest EventId a notifier may send.")
      .def("backend", &B::backend, py::arg("backend"), self_ref,
           "How listeners are woken (EventBackend; create only, open takes the service's).")
      .def("access", &B::access, py::arg("access"), self_ref,
           "Who may use the service besides our user (default Access.Owner).")
      .def(
          "create", [](B& b) { return take(b.create()); },
          "Creates the service; raises EventCreateError.")
      .def(
          "open", [](B& b) { return take(b.open()); },
          "Opens the existing service; raises EventOpenError.")
      .def(
          "open_or_create", [](B& b) { return take(b.open_or_create()); },
          "Opens, or creates when absent; raises EventOpenError or EventCreateError.");

  m.attr("ServiceBuilder").cast<py::class_<ServiceBuilder>>().def(
      "event", &ServiceBuilder::event, "An event service: notifiers wake listeners.");
}

}  // namespace axon::python
