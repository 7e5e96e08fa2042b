"""SystemEvent (across threads and processes, with the evt_* tools) and discovery."""

import select
import sys
import threading
import time

import pytest

import axon
from conftest import EXAMPLES, SIGINT, cpp_program, eventually, python_example, shm_objects

sys.path.insert(0, str(EXAMPLES / "request_response"))
from request_response_data import RequestData, ResponseData  # noqa: E402

READY = python_example("system_event", "ready.py")


def event_objects():
    return [name for name in shm_objects() if "evt_" in name]


def test_a_system_event_is_latched(service_name):
    name = service_name()
    event = axon.SystemEvent.open(name)
    assert event.name == name and not event.is_set()
    started = time.monotonic()
    assert event.wait(0.05) is False
    assert time.monotonic() - started >= 0.05
    other = axon.SystemEvent.open(name)
    other.set()
    assert event.is_set() and event.wait() is True and event.wait(0) is True
    readable, _, _ = select.select([event.fileno()], [], [], 0)
    assert readable == [event.fileno()]
    event.clear()
    readable, _, _ = select.select([event.fileno()], [], [], 0)
    assert readable == [] and not other.is_set()
    axon.SystemEvent.remove(name)
    with pytest.raises(axon.SystemEventError, match="DoesNotExist"):
        axon.SystemEvent.remove(name)
    with pytest.raises(axon.SystemEventError, match="InvalidName"):
        axon.SystemEvent.open("a//b")


def test_a_blocking_wait_releases_the_gil_for_the_setter(service_name):
    event = axon.SystemEvent.open(service_name())
    setter = threading.Timer(0.05, event.set)
    setter.start()
    assert event.wait(10) is True  # the Timer thread ran while we waited
    setter.join()


def test_the_example_and_the_tools_talk_both_ways(spawn, service_name):
    name = service_name()
    # Whether the set comes before the wait or during it, the latched event releases it.
    waiter = spawn(READY + [name, "wait", "--timeout", "10"])
    setter = spawn(cpp_program("evt_set") + [name])
    assert setter.finish()[0] == 0
    status, lines, err = waiter.finish(timeout=5)
    assert (status, lines) == (0, [f"{name} is set"]), err

    cleared = spawn(READY + [name, "clear"])
    assert cleared.finish(timeout=10)[:2] == (0, [f"cleared {name}"])
    tool = spawn(cpp_program("evt_wait") + [name, "10"])
    assert spawn(READY + [name, "set"]).finish(timeout=10)[:2] == (0, [f"set {name}"])
    assert tool.finish(timeout=5)[0] == 0

    spawn(READY + [name, "clear"]).finish(timeout=10)
    timed_out = spawn(READY + [name, "wait", "--timeout", "0.05"])
    assert timed_out.finish(timeout=10)[:2] == (1, [f"{name}: timed out"])


def test_ctrl_c_ends_a_waiting_example(spawn, service_name):
    name = service_name()
    before = len(event_objects())
    waiter = spawn(READY + [name, "wait"])
    # Its event's object exists: Python's SIGINT handler is in place, it waits or is about to.
    assert eventually(lambda: len(event_objects()) > before)
    waiter.signal(SIGINT)
    status, lines, err = waiter.finish(timeout=5)
    assert (status, lines) == (0, ["exit"]), err


def test_discovery_describes_every_pattern(node, service_name):
    event_name, pubsub_name, rr_name = service_name(), service_name(), service_name()
    event = node.service_builder(event_name).event().max_listeners(3).create()
    _listener = event.listener_builder().create()
    pubsub = node.service_builder(pubsub_name).publish_subscribe(RequestData).create()
    _subscriber = pubsub.subscriber_builder().create()
    rr = node.service_builder(rr_name).request_response(RequestData, ResponseData) \
        .max_clients(5).create()
    client, _server = rr.client_builder().create(), rr.server_builder().create()
    _pending = client.send_copy(RequestData(1))

    info = axon.describe_service(event_name)
    assert (info.name, info.pattern, info.listeners, info.nodes) == \
        (event_name, axon.MessagingPattern.Event, 1, 1)
    assert info.event.max_listeners == 3 and info.creator == node.id
    assert info.node_ids == [node.id]
    info = axon.describe_service(axon.ServiceName(pubsub_name))
    assert (info.pattern, info.subscribers, info.pubsub.type_name) == \
        (axon.MessagingPattern.PublishSubscribe, 1, "examples::RequestData")
    info = axon.describe_service(rr_name)
    assert (info.pattern, info.clients, info.servers, info.pending_requests) == \
        (axon.MessagingPattern.RequestResponse, 1, 1, 1)
    assert info.request_response.max_clients == 5

    listed = [s.name for s in axon.list_services()]
    assert {event_name, pubsub_name, rr_name} <= set(listed) and listed == sorted(listed)
    scan = axon.scan_services()
    assert [s.name for s in scan.services] == listed and scan.unreadable == []
    with pytest.raises(axon.DiscoveryError, match="DoesNotExist"):
        axon.describe_service(service_name())
