"""The WaitSet: listeners, fds and objects with fileno(), deadlines, intervals, the callback
forms and the loop form, guards, errors, and signals (in child processes)."""

import os
import socket
import tempfile
import threading
import time
from datetime import timedelta

import pytest

import axon
from conftest import SIGINT, SIGTERM, python_code


@pytest.fixture
def event(node, service_name):
    service = node.service_builder(service_name()).event().open_or_create()
    return service, service.listener_builder().create(), service.notifier_builder().create()


def test_wait_and_process_calls_back_for_the_listener_that_fired(event):
    service, listener, notifier = event
    waitset = axon.WaitSetBuilder().capacity(8).create()
    assert waitset.capacity == 8 and waitset.is_empty()
    guard = waitset.attach_notification(listener)
    other = service.listener_builder().create()
    other_guard = waitset.attach_notification(other)
    assert len(waitset) == 2
    notifier.notify(4)
    other.try_wait()  # the other one's wake-up consumed before the wait
    seen = []

    def on_event(attachment):
        seen.append((attachment.has_event_from(guard), attachment.has_event_from(other_guard)))
        seen.append(listener.try_wait())
        return axon.CallbackProgression.Stop
    assert waitset.wait_and_process(on_event) == axon.WaitSetRunResult.StopRequest
    assert seen == [(True, False), [(axon.EventId(4), 1)]]


def test_callback_returning_none_continues_and_an_exception_ends_the_wait(event):
    _, listener, notifier = event
    waitset = axon.WaitSetBuilder().create()
    guard = waitset.attach_notification(listener)
    calls = []

    def on_event(attachment):
        calls.append(listener.try_wait())
        if len(calls) == 2:
            raise ValueError("enough")
        notifier.notify()  # keeps it going: None means Continue
    notifier.notify()
    with pytest.raises(ValueError, match="enough"):
        waitset.wait_and_process(on_event)
    assert len(calls) == 2
    assert axon.AttachmentId.from_guard(guard) == axon.AttachmentId.from_guard(guard)


def test_a_callback_returning_something_else_is_a_type_error(event):
    _, listener, notifier = event
    waitset = axon.WaitSetBuilder().create()
    _guard = waitset.attach_notification(listener)
    notifier.notify()
    with pytest.raises(TypeError, match="CallbackProgression"):
        waitset.wait_and_process_once(lambda attachment: "stop")


def test_fds_and_objects_with_fileno(event):
    waitset = axon.WaitSetBuilder().create()
    left, right = socket.socketpair()
    read_end, write_end = os.pipe()
    try:
        sock_guard = waitset.attach_fd(left)
        pipe_guard = waitset.attach_fd(read_end, axon.FdInterest.Read, axon.TriggerMode.Level)
        result, fired = waitset.wait(0)
        assert result == axon.WaitSetRunResult.AllEventsHandled and fired == []
        right.send(b"x")
        result, fired = waitset.wait(5)
        assert [a.has_event_from(sock_guard) and a.readable() for a in fired] == [True]
        os.write(write_end, b"y")
        left.recv(1)
        _, fired = waitset.wait(5)
        assert len(fired) == 1 and fired[0].has_event_from(pipe_guard)
        waitset.modify(sock_guard, axon.FdInterest.Write)
        os.read(read_end, 1)
        _, fired = waitset.wait(5)
        assert len(fired) == 1 and fired[0].writable()
        with pytest.raises(axon.WaitSetAttachmentError, match="AlreadyAttached"):
            waitset.attach_fd(read_end)
        sock_guard.detach()
        pipe_guard.detach()
        pipe_guard.detach()  # twice is harmless
        assert waitset.is_empty()
    finally:
        for s in (left, right):
            s.close()
        os.close(read_end)
        os.close(write_end)


def test_attachment_errors(event):
    waitset = axon.WaitSetBuilder().capacity(1).create()
    with tempfile.TemporaryFile() as regular:
        with pytest.raises(axon.WaitSetAttachmentError, match="InvalidArgument"):
            waitset.attach_fd(regular)
    with pytest.raises(axon.WaitSetAttachmentError, match="InvalidArgument"):
        waitset.attach_fd(-1)
    with pytest.raises(axon.WaitSetAttachmentError, match="InvalidArgument"):
        waitset.attach_interval(0)
    with pytest.raises(TypeError):
        waitset.attach_fd("not an fd")
    with pytest.raises(axon.WaitSetRunError, match="NoAttachments"):
        waitset.wait(0)
    _guard = waitset.attach_interval(10)
    with pytest.raises(axon.WaitSetAttachmentError, match="CapacityExceeded"):
        waitset.attach_interval(10)
    with pytest.raises(axon.WaitSetCreateError, match="InvalidCapacity"):
        axon.WaitSetBuilder().capacity(0).create()
    with pytest.raises(axon.WaitSetCreateError, match="InvalidBusyPoll"):
        axon.WaitSetBuilder().busy_poll(-0.001).create()
    with pytest.raises(axon.WaitSetCreateError, match="InvalidBusyPoll"):
        axon.WaitSetBuilder().busy_poll(2).create()


def test_a_busy_polling_waitset_reports_a_notify_from_another_thread(event):
    _, listener, notifier = event
    waitset = axon.WaitSetBuilder().busy_poll(timedelta(microseconds=500)).create()
    assert waitset.busy_poll == pytest.approx(0.0005)
    assert axon.WaitSetBuilder().create().busy_poll == 0.0
    guard = waitset.attach_notification(listener)
    for delay in (0.0, 0.0002, 0.02):  # within the budget, and after it (asleep)
        sender = threading.Timer(delay, notifier.notify)
        sender.start()
        result, fired = waitset.wait(5)
        sender.join()
        assert result == axon.WaitSetRunResult.AllEventsHandled
        assert [f.has_event_from(guard) for f in fired] == [True]
        assert sum(count for _, count in listener.try_wait()) == 1


def test_a_guard_as_context_manager_detaches(event):
    _, listener, _ = event
    waitset = axon.WaitSetBuilder().create()
    with waitset.attach_notification(listener):
        assert len(waitset) == 1
    assert len(waitset) == 0


def test_intervals_and_missed_deadlines(event):
    _, listener, notifier = event
    waitset = axon.WaitSetBuilder().create()
    interval = waitset.attach_interval(0.01)
    deadline = waitset.attach_deadline(listener, 0.02)
    fired = {"interval": 0, "missed": 0, "event": 0}

    def on_event(attachment):
        if attachment.has_event_from(interval):
            fired["interval"] += 1
        if attachment.has_missed_deadline(deadline):
            fired["missed"] += 1
            notifier.notify()
        elif attachment.has_event_from(deadline):
            fired["event"] += 1
            listener.try_wait()
        if fired["event"] >= 1 and fired["interval"] >= 2:
            return axon.CallbackProgression.Stop
        return axon.CallbackProgression.Continue
    assert waitset.wait_and_process(on_event) == axon.WaitSetRunResult.StopRequest
    assert fired["missed"] >= 1 and fired["event"] >= 1 and fired["interval"] >= 2


def test_a_deadline_on_an_fd(event):
    waitset = axon.WaitSetBuilder().create()
    read_end, write_end = os.pipe()
    try:
        guard = waitset.attach_deadline(read_end, 0.01)
        _, fired = waitset.wait(5)
        assert [a.has_missed_deadline(guard) for a in fired] == [True]
        guard.detach()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_wait_and_process_once_with_a_timeout_returns_without_a_callback(event):
    _, listener, _ = event
    waitset = axon.WaitSetBuilder().create()
    _guard = waitset.attach_notification(listener)
    start = time.monotonic()
    calls = []
    assert waitset.wait_and_process_once(calls.append, 0.03) == \
        axon.WaitSetRunResult.AllEventsHandled
    assert calls == [] and time.monotonic() - start >= 0.03


def test_a_waitset_nests_in_select(event):
    _, listener, notifier = event
    waitset = axon.WaitSetBuilder().create()
    _guard = waitset.attach_notification(listener)
    import select
    notifier.notify()
    assert select.select([waitset], [], [], 5)[0] == [waitset]


# A WaitSet waiting in a child: a signal must end wait_and_process at once.
WAITSET_LOOP = """
import axon
node = axon.NodeBuilder().create()
waitset = axon.WaitSetBuilder().create()
guard = waitset.attach_interval(60)
print("ready", flush=True)
print(waitset.wait_and_process(lambda a: None), flush=True)
"""


@pytest.mark.parametrize("signal_number, result", [
    (SIGINT, "WaitSetRunResult.Interrupt"), (SIGTERM, "WaitSetRunResult.TerminationRequest")])
def test_a_signal_ends_a_waitset_wait_promptly(spawn, signal_number, result):
    child = spawn(python_code(WAITSET_LOOP))
    child.wait_for_line("ready")  # the WaitSet installed its handlers when it was created
    start = time.monotonic()
    child.signal(signal_number)
    status, output, err = child.finish()
    assert time.monotonic() - start < 2.0
    assert status == 0, err
    assert output[-1] == result
