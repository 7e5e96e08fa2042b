"""Event services: every builder setting, notifier and listener, their errors, fileno(), and
blocking waits that release the GIL."""

import select
import threading
import time

import pytest

import axon


def test_builder_settings_become_the_static_config(node, service_name):
    name = service_name()
    service = (node.service_builder(name).event().max_listeners(3).max_notifiers(5).max_nodes(7)
               .event_id_max_value(99).backend(axon.EventBackend.Fifo)
               .access(axon.Access.Owner).create())
    config = service.static_config
    assert (config.max_listeners, config.max_notifiers, config.max_nodes,
            config.event_id_max_value) == (3, 5, 7, 99)
    assert config.backend == axon.EventBackend.Fifo and config.access == axon.Access.Owner
    assert str(service.name) == name
    opened = node.service_builder(name).event().open()
    assert opened.static_config.max_listeners == 3
    assert service.number_of_nodes() == 1


@pytest.mark.parametrize("requirement, error", [
    (lambda b: b.max_listeners(4), "DoesNotSupportRequestedAmountOfListeners"),
    (lambda b: b.max_notifiers(6), "DoesNotSupportRequestedAmountOfNotifiers"),
    (lambda b: b.max_nodes(8), "DoesNotSupportRequestedAmountOfNodes"),
    (lambda b: b.event_id_max_value(100), "DoesNotSupportRequestedMaxEventId"),
    (lambda b: b.backend(axon.EventBackend.EventFd), "IncompatibleBackend"),
    (lambda b: b.access(axon.Access.Group), "IncompatibleAccess")])
def test_open_checks_every_requirement(node, service_name, requirement, error):
    name = service_name()
    _service = (node.service_builder(name).event().max_listeners(3).max_notifiers(5).max_nodes(7)
                .event_id_max_value(99).backend(axon.EventBackend.Fifo).create())
    with pytest.raises(axon.EventOpenError) as raised:
        requirement(node.service_builder(name).event()).open()
    assert raised.value.name == error
    with pytest.raises(axon.EventOpenError):
        requirement(node.service_builder(name).event()).open_or_create()


def test_create_and_open_errors(node, service_name):
    name = service_name()
    with pytest.raises(axon.EventOpenError, match="DoesNotExist"):
        node.service_builder(name).event().open()
    with pytest.raises(axon.EventCreateError, match="InvalidSettings"):
        node.service_builder(name).event().max_listeners(0).create()
    _service = node.service_builder(name).event().create()
    with pytest.raises(axon.EventCreateError, match="AlreadyExists"):
        node.service_builder(name).event().create()


def test_notifications_arrive_counted_by_id(node, service_name):
    service = node.service_builder(service_name()).event().open_or_create()
    listener = service.listener_builder().create()
    notifier = service.notifier_builder().default_event_id(axon.EventId(7)).create()
    assert notifier.default_event_id == axon.EventId(7)
    assert listener.try_wait() == []
    assert notifier.notify() == 1
    assert notifier.notify() == 1
    assert notifier.notify(3) == 1
    assert listener.try_wait() == [(axon.EventId(3), 1), (axon.EventId(7), 2)]
    assert listener.try_wait() == []
    assert repr(axon.EventId(123)) == "EventId(123)" and int(axon.EventId(5)) == 5


def test_port_errors(node, service_name):
    service = (node.service_builder(service_name()).event().max_listeners(1).max_notifiers(1)
               .event_id_max_value(10).open_or_create())
    _listener = service.listener_builder().create()
    with pytest.raises(axon.ListenerCreateError, match="ExceedsMaxListeners"):
        service.listener_builder().create()
    with pytest.raises(axon.NotifierCreateError, match="EventIdOutOfBounds"):
        service.notifier_builder().default_event_id(11).create()
    notifier = service.notifier_builder().create()
    with pytest.raises(axon.NotifierCreateError, match="ExceedsMaxNotifiers"):
        service.notifier_builder().create()
    with pytest.raises(axon.NotifierNotifyError, match="EventIdOutOfBounds"):
        notifier.notify(11)
    with pytest.raises(TypeError):
        notifier.notify(-1)


def test_timed_wait_returns_nothing_after_its_timeout(node, service_name):
    listener = node.service_builder(service_name()).event().open_or_create() \
        .listener_builder().create()
    start = time.monotonic()
    assert listener.timed_wait(0.05) == []
    assert time.monotonic() - start >= 0.05


@pytest.mark.parametrize("backend", [axon.EventBackend.EventFd, axon.EventBackend.Fifo])
def test_blocking_wait_releases_the_gil_for_a_notifying_thread(node, service_name, backend):
    service = node.service_builder(service_name()).event().backend(backend).open_or_create()
    listener = service.listener_builder().create()
    notifier = service.notifier_builder().create()
    waiting = threading.Event()
    got = []

    def wait():
        waiting.set()
        got.extend(listener.blocking_wait())
    thread = threading.Thread(target=wait)
    thread.start()
    waiting.wait()
    # This thread runs Python while the other blocks: the GIL is free. The other may not have
    # entered the wait yet; a notification before it is kept, so either order works.
    notifier.notify(5)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert got == [(axon.EventId(5), 1)]


def test_fileno_is_readable_while_a_notification_is_pending(node, service_name):
    service = node.service_builder(service_name()).event().open_or_create()
    listener = service.listener_builder().create()
    assert select.select([listener], [], [], 0)[0] == []
    service.notifier_builder().create().notify()
    assert select.select([listener], [], [], 5)[0] == [listener]
    listener.try_wait()
    assert select.select([listener.fileno()], [], [], 0)[0] == []


def test_a_listener_in_use_by_one_thread_refuses_another(node, service_name):
    service = node.service_builder(service_name()).event().open_or_create()
    listener = service.listener_builder().create()
    notifier = service.notifier_builder().create()
    thread = threading.Thread(target=lambda: listener.timed_wait(5))
    thread.start()
    # The other thread holds the listener for its wait: try_wait here must refuse, not race.
    refused = False
    deadline = time.monotonic() + 5
    while not refused and time.monotonic() < deadline:
        try:
            listener.try_wait()
        except RuntimeError as error:
            refused = "in use by another thread" in str(error)
    notifier.notify()
    thread.join(timeout=5)
    assert refused
