// The WaitSet: listeners, any object with fileno(), deadlines and intervals in one wait, with
// Python callbacks called back under the GIL while the wait itself runs without it.
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common.hpp"

namespace axon::python {
namespace {

/// What a WaitSet and its guards share: the guard of its waits, and the detaches that another
/// thread asked for while a wait ran (done by the waiting thread: the WaitSet is not
/// thread-safe). Touched only under the GIL.
struct WaitSetShared {
  Exclusive busy{"waitset"};
  /// Each with what it watched, released only after the detach (the fd must outlive it).
  std::vector<std::pair<WaitSetGuard, py::object>> pending_detach;

  void drain() {
    while (!pending_detach.empty()) {
      auto last = std::move(pending_detach.back());
      pending_detach.pop_back();
      last.first.detach();
    }
  }
};

struct PyWaitSet {
  explicit PyWaitSet(WaitSet w) : waitset(std::move(w)) {}
  WaitSet waitset;
  std::shared_ptr<WaitSetShared> shared = std::make_shared<WaitSetShared>();
};

struct PyGuard {
  PyGuard(WaitSetGuard g, std::shared_ptr<WaitSetShared> s, py::object src)
      : guard(std::move(g)), shared(std::move(s)), source(std::move(src)) {}
  PyGuard(const PyGuard&) = delete;
  PyGuard& operator=(const PyGuard&) = delete;
  ~PyGuard() {
    // Garbage collection may drop a guard on another thread while its WaitSet waits: the
    // waiting thread detaches it then.
    if (shared->busy.held_elsewhere()) {
      shared->pending_detach.emplace_back(std::move(guard), std::move(source));
    }
  }
  void detach() {
    shared->busy.check("the guard's waitset");
    guard.detach();
    source = py::none();
  }

  WaitSetGuard guard;
  std::shared_ptr<WaitSetShared> shared;
  py::object source;  ///< what is watched, kept alive while attached
};

int fd_of(const py::handle& source) {
  if (py::isinstance<py::int_>(source)) return source.cast<int>();
  if (!py::hasattr(source, "fileno")) {
    throw py::type_error("expected an fd (int) or an object with fileno()");
  }
  return source.attr("fileno")().cast<int>();
}

std::unique_ptr<PyGuard> guard_of(PyWaitSet& self,
                                  tl::expected<WaitSetGuard, WaitSetAttachmentError>&& attached,
                                  py::object source) {
  return std::make_unique<PyGuard>(take(std::move(attached)), self.shared, std::move(source));
}

/// Runs one of the WaitSet's dispatching waits without the GIL; the Python callback runs with
/// it. An exception in the callback stops the wait and is raised from it.
template <typename Run>
WaitSetRunResult dispatch(PyWaitSet& self, const py::function& callback, Run&& run) {
  Exclusive::Hold hold(self.shared->busy);
  self.shared->drain();
  std::exception_ptr failure;
  tl::expected<WaitSetRunResult, WaitSetRunError> result;
  auto trampoline = [&](AttachmentId id) {
    py::gil_scoped_acquire acquire;
    self.shared->drain();
    try {
      const py::object progression = callback(id);
      if (progression.is_none()) return CallbackProgression::Continue;
      if (!py::isinstance<CallbackProgression>(progression)) {
        throw py::type_error("a WaitSet callback returns a CallbackProgression or None");
      }
      return progression.cast<CallbackProgression>();
    } catch (...) {
      failure = std::current_exception();
      return CallbackProgression::Stop;
    }
  };
  {
    py::gil_scoped_release release;
    result = run(self.waitset, WaitSet::Callback(trampoline));
  }
  self.shared->drain();
  if (failure) std::rethrow_exception(failure);
  return take(std::move(result));
}

}  // namespace

void bind_waitset(py::module_& m) {
  py::enum_<CallbackProgression>(m, "CallbackProgression",
                                 "What a WaitSet callback asks next (None means Continue).")
      .value("Continue", CallbackProgression::Continue, "Go on with the batch and the loop.")
      .value("Stop", CallbackProgression::Stop, "End the wait now: it returns StopRequest.");
  py::enum_<WaitSetRunResult>(m, "WaitSetRunResult", "How a wait ended.")
      .value("StopRequest", WaitSetRunResult::StopRequest, "A callback returned Stop.")
      .value("Interrupt", WaitSetRunResult::Interrupt, "SIGINT arrived.")
      .value("TerminationRequest", WaitSetRunResult::TerminationRequest, "SIGTERM arrived.")
      .value("AllEventsHandled", WaitSetRunResult::AllEventsHandled,
             "The batch was dispatched, or the timeout passed with nothing ready.");
  py::enum_<FdInterest>(m, "FdInterest", "Which readiness of an fd is watched.")
      .value("Read", FdInterest::Read, "Readable (EPOLLIN), end-of-file and a peer's shutdown included.")
      .value("Write", FdInterest::Write, "Writable (EPOLLOUT).")
      .value("ReadWrite", FdInterest::ReadWrite, "Either.");
  py::enum_<TriggerMode>(m, "TriggerMode", "How an fd's readiness is reported.")
      .value("Level", TriggerMode::Level, "At every wait while ready (the default).")
      .value("Edge", TriggerMode::Edge, "Once per change of readiness (EPOLLET).");

  py::class_<PyGuard>(m, "WaitSetGuard",
                      "Keeps an attachment (and what it watches) alive; detach() or dropping "
                      "it detaches. A context manager: leaving the block detaches.")
      .def("detach", &PyGuard::detach, "Detaches now; harmless when done already.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyGuard& self, const py::args&) { self.detach(); });

  py::class_<AttachmentId>(m, "AttachmentId",
                           "An attachment that fired, with what happened to it. Hashable: "
                           "equality looks at the attachment only, not at the flags.")
      .def_static(
          "from_guard", [](const PyGuard& g) { return AttachmentId::from_guard(g.guard); },
          py::arg("guard"), "The id of a guard's attachment, with no flags set.")
      .def(
          "has_event_from",
          [](const AttachmentId& id, const PyGuard& g) { return id.has_event_from(g.guard); },
          py::arg("guard"), "True when this is `guard`'s attachment and it had an event.")
      .def(
          "has_missed_deadline",
          [](const AttachmentId& id, const PyGuard& g) { return id.has_missed_deadline(g.guard); },
          py::arg("guard"), "True when this is `guard`'s deadline and nothing came in time.")
      .def("has_event", &AttachmentId::has_event, "Anything but a missed deadline happened.")
      .def("readable", &AttachmentId::readable, "The fd or listener is readable.")
      .def("writable", &AttachmentId::writable, "The fd is writable.")
      .def("hangup", &AttachmentId::hangup, "The peer hung up or the fd is in error.")
      .def("missed_deadline", &AttachmentId::missed_deadline, "A deadline passed.")
      .def("__eq__", [](const AttachmentId& a, const AttachmentId& b) { return a == b; })
      .def("__lt__", [](const AttachmentId& a, const AttachmentId& b) { return a < b; })
      .def("__hash__", [](const AttachmentId& id) { return std::hash<AttachmentId>{}(id); });

  py::class_<PyWaitSet>(m, "WaitSet",
                        "Waits on listeners, fds (any object with fileno()), deadlines and "
                        "intervals at once (epoll, level-triggered). Its waits release the GIL; "
                        "SIGINT/SIGTERM end them with Interrupt/TerminationRequest, and the signal is "
                        "remembered: every later wait returns it at once until "
                        "Node.clear_termination_signal(). One thread at a time (another one "
                        "gets RuntimeError).")
      .def(
          "attach_notification",
          [](PyWaitSet& self, PyListener& listener) {
            self.shared->busy.check("waitset");
            return guard_of(self, self.waitset.attach_notification(listener.listener),
                            py::cast(listener, py::return_value_policy::reference));
          },
          py::arg("listener"),
          "Fires while `listener` has a notification pending: drain it (try_wait) in the "
          "callback, or it fires again at once.")
      .def(
          "attach_notification",
          [](PyWaitSet& self, PySubscriber& subscriber) {
            self.shared->busy.check("waitset");
            return guard_of(self, self.waitset.attach_notification(subscriber.subscriber),
                            py::cast(subscriber, py::return_value_policy::reference));
          },
          py::arg("subscriber"),
          "Fires while a sample may be waiting for a wakeable subscriber "
          "(subscriber_builder().wakeable(True); others raise WaitSetAttachmentError "
          "NotWakeable): receive until None in the callback, or it fires again at once.")
      .def(
          "attach_fd",
          [](PyWaitSet& self, const py::object& source, FdInterest interest, TriggerMode mode) {
            self.shared->busy.check("waitset");
            return guard_of(self, self.waitset.attach_fd(fd_of(source), interest, mode), source);
          },
          py::arg("fd"), py::arg("interest") = FdInterest::Read,
          py::arg("mode") = TriggerMode::Level,
          "Fires while `fd` (an int or an object with fileno()) is ready. It must stay open "
          "until the guard is dropped.")
      .def(
          "attach_deadline",
          [](PyWaitSet& self, const py::object& source, const py::handle& deadline) {
            self.shared->busy.check("waitset");
            const auto d = duration_arg(deadline);
            if (py::isinstance<PyListener>(source)) {
              return guard_of(self,
                              self.waitset.attach_deadline(source.cast<PyListener&>().listener, d),
                              source);
            }
            if (py::isinstance<PySubscriber>(source) &&
                source.cast<PySubscriber&>().subscriber.fd() < 0) {
              take(tl::expected<void, WaitSetAttachmentError>(
                  tl::unexpect, WaitSetAttachmentError::NotWakeable));
            }
            return guard_of(self, self.waitset.attach_deadline_fd(fd_of(source), d), source);
          },
          py::arg("source"), py::arg("deadline"),
          "Fires like attach_notification (a Listener or a wakeable Subscriber) or attach_fd "
          "(read), and reports a missed deadline whenever `deadline` (seconds or timedelta) "
          "passes without an event.")
      .def(
          "attach_interval",
          [](PyWaitSet& self, const py::handle& period) {
            self.shared->busy.check("waitset");
            return guard_of(self, self.waitset.attach_interval(duration_arg(period)), py::none());
          },
          py::arg("period"), "Fires every `period` (seconds or timedelta).")
      .def(
          "modify",
          [](PyWaitSet& self, const PyGuard& guard, FdInterest interest) {
            self.shared->busy.check("waitset");
            take(self.waitset.modify(guard.guard, interest));
          },
          py::arg("guard"), py::arg("interest"), "Changes what an attach_fd attachment watches.")
      .def(
          "wait_and_process",
          [](PyWaitSet& self, const py::function& callback) {
            return dispatch(self, callback, [](WaitSet& w, WaitSet::Callback cb) {
              return w.wait_and_process(cb);
            });
          },
          py::arg("callback"),
          "Calls `callback(AttachmentId)` for every attachment that fires, batch after batch, "
          "until it returns CallbackProgression.Stop (StopRequest) or SIGINT/SIGTERM arrives "
          "(Interrupt/TerminationRequest). An exception in the callback ends the wait and is "
          "raised. Raises WaitSetRunError.")
      .def(
          "wait_and_process_once",
          [](PyWaitSet& self, const py::function& callback, const py::object& timeout) {
            if (timeout.is_none()) {
              return dispatch(self, callback, [](WaitSet& w, WaitSet::Callback cb) {
                return w.wait_and_process_once(cb);
              });
            }
            const auto t = timeout_arg(timeout);
            return dispatch(self, callback, [t](WaitSet& w, WaitSet::Callback cb) {
              return w.wait_and_process_once_with_timeout(cb, t);
            });
          },
          py::arg("callback"), py::arg("timeout") = py::none(),
          "One batch: waits until something fires (or `timeout` passes), calls `callback` for "
          "each attachment that fired.")
      .def(
          "wait",
          [](PyWaitSet& self, const py::object& timeout) {
            Exclusive::Hold hold(self.shared->busy);
            self.shared->drain();
            std::optional<std::chrono::nanoseconds> t;
            if (!timeout.is_none()) t = timeout_arg(timeout);
            tl::expected<WaitBatch, WaitSetRunError> batch;
            std::vector<AttachmentId> triggered;
            {
              py::gil_scoped_release release;
              batch = self.waitset.wait(t);
              if (batch) triggered.assign(batch->triggered.begin(), batch->triggered.end());
            }
            self.shared->drain();
            const auto result = take(std::move(batch)).result;
            return py::make_tuple(result, triggered);
          },
          py::arg("timeout") = py::none(),
          "The loop form: waits for one batch (or `timeout`), returns (WaitSetRunResult, "
          "[AttachmentId, ...]).")
      .def(
          "fileno", [](const PyWaitSet& self) { return self.waitset.fd(); },
          "The epoll fd, readable while an attachment is ready: the WaitSet nests in other "
          "loops.")
      .def("__len__", [](const PyWaitSet& self) { return self.waitset.len(); })
      .def(
          "len", [](const PyWaitSet& self) { return self.waitset.len(); }, "Attachments held.")
      .def(
          "is_empty", [](const PyWaitSet& self) { return self.waitset.is_empty(); },
          "True when nothing is attached (a wait would raise WaitSetRunError NoAttachments).")
      .def_property_readonly(
          "capacity", [](const PyWaitSet& self) { return self.waitset.capacity(); },
          "The most attachments it holds.")
      .def_property_readonly(
          "busy_poll",
          [](const PyWaitSet& self) {
            return std::chrono::duration<double>(self.waitset.busy_poll()).count();
          },
          "The busy-poll budget in seconds (0.0: off).");

  py::class_<WaitSetBuilder>(m, "WaitSetBuilder", "WaitSetBuilder().capacity(64).create()")
      .def(py::init<>())
      .def("capacity", &WaitSetBuilder::capacity, py::arg("n"),
           py::return_value_policy::reference_internal,
           "The most attachments (default 4096).")
      .def("signal_handling", &WaitSetBuilder::signal_handling, py::arg("on"),
           py::return_value_policy::reference_internal,
           "True (default): SIGINT/SIGTERM end waits. False: they do not (and Ctrl-C is not "
           "seen until something fires).")
      .def(
          "busy_poll",
          [](WaitSetBuilder& b, const py::handle& budget) -> WaitSetBuilder& {
            return b.busy_poll(duration_arg(budget));
          },
          py::arg("budget"), py::return_value_policy::reference_internal,
          "Before each sleep, poll listeners and wakeable subscribers in shared memory for up to "
          "`budget` (seconds or timedelta; 0, the default, is off; at most 1 s): a peer that "
          "answers within it wakes the wait without a system call. Costs up to the budget of "
          "one CPU before every sleep.")
      .def(
          "create",
          [](WaitSetBuilder& b) { return std::make_unique<PyWaitSet>(take(b.create())); },
          "Raises WaitSetCreateError.");
  m.attr("WaitSet").attr("DEFAULT_CAPACITY") = WaitSet::kDefaultCapacity;
  m.attr("WaitSet").attr("MAX_CAPACITY") = WaitSet::kMaxCapacity;
}

}  // namespace axon::python
