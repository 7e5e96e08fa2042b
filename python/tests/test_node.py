"""Nodes, configuration, service names, and Node.wait with signals (in child processes: the
termination flag is sticky for the whole process)."""

import datetime
import math
import os
import time

import pytest

import axon
from conftest import PREFIX, ROOT, SIGINT, SIGTERM, eventually, python_code


def test_node_has_its_name_an_id_and_the_environment_config():
    node = axon.NodeBuilder().name("camera").create()
    assert node.name == "camera"
    assert node.id.value != 0
    assert len(str(node.id)) == 16
    assert axon.NodeId.from_string(str(node.id)) == node.id
    assert node.config.prefix == PREFIX and node.config.root == ROOT
    listed = {info.id: info for info in axon.Node.list()}
    assert listed[node.id].name == "camera"
    assert listed[node.id].pid == os.getpid()
    assert listed[node.id].state == axon.NodeState.Alive


def test_invalid_node_name_is_node_create_error():
    with pytest.raises(axon.NodeCreateError) as raised:
        axon.NodeBuilder().name("x" * 200).create()
    assert raised.value.name == "InvalidName"
    assert str(raised.value) == "InvalidName"
    assert isinstance(raised.value, axon.AxonError)


def test_invalid_config_is_refused_by_validate_and_by_create():
    config = axon.Config()
    config.prefix = "bad/prefix"
    config.root = ROOT
    with pytest.raises(axon.ConfigError) as raised:
        config.validate()
    assert raised.value.name == "InvalidPrefix"
    with pytest.raises(axon.NodeCreateError) as raised:
        axon.NodeBuilder().config(config).create()
    assert raised.value.name == "InvalidConfig"
    with pytest.raises(axon.NodeListError):
        axon.Node.list(config)


@pytest.mark.parametrize("text, error", [
    ("", "Empty"), ("x" * 256, "TooLong"), ("a b", "InvalidCharacter"),
    ("a//b", "EmptySegment"), ("a/../b", "DotSegment")])
def test_invalid_service_names_raise_service_name_error(node, text, error):
    with pytest.raises(axon.ServiceNameError) as raised:
        axon.ServiceName(text)
    assert raised.value.name == error
    with pytest.raises(axon.ServiceNameError):
        node.service_builder(text)


def test_service_name_is_a_value():
    name = axon.ServiceName("robot/camera")
    assert str(name) == "robot/camera" == name.as_string()
    assert name == axon.ServiceName.create("robot/camera")
    assert len({name, axon.ServiceName("robot/camera")}) == 1
    with pytest.raises(TypeError):
        axon.NodeBuilder().create().service_builder(42)


def test_wait_sleeps_its_cycle_and_takes_seconds_or_timedelta(node):
    start = time.monotonic()
    assert node.wait(0.05) is True
    assert node.wait(datetime.timedelta(milliseconds=50)) is True
    assert time.monotonic() - start >= 0.1
    assert node.wait(-1) is True  # a negative cycle is none
    with pytest.raises(ValueError):
        node.wait(math.nan)
    with pytest.raises(TypeError):
        node.wait("1")


def test_error_classes_one_per_cpp_enum_all_axon_errors():
    names = ["ConfigError", "ServiceNameError", "NodeCreateError", "NodeListError",
             "NodeWaitError", "EventOpenError", "EventCreateError", "NotifierCreateError",
             "NotifierNotifyError", "ListenerCreateError", "ListenerWaitError",
             "WaitSetCreateError", "WaitSetAttachmentError", "WaitSetRunError",
             "PubSubOpenError", "PubSubCreateError", "PublisherCreateError",
             "PublisherLoanError", "PublisherSendError", "SubscriberCreateError",
             "SubscriberReceiveError", "ForcedRemovalError"]
    for name in names:
        cls = getattr(axon, name)
        assert issubclass(cls, axon.AxonError) and cls.__name__ == name


# Waits in a loop of 10 s cycles, printing each outcome: a signal must end the wait at once.
WAIT_LOOP = """
import sys, axon
node = axon.NodeBuilder().create()
try:
    node.wait(0)  # installs the handlers: from here on a signal is seen by the waits
    print("ready", flush=True)
    print("returned", node.wait(10.0), flush=True)
    print("again", node.wait(10.0), flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
"""


@pytest.mark.parametrize("signal_number, lines", [
    (SIGINT, ["KeyboardInterrupt"]),
    (SIGTERM, ["returned False", "again False"])])
def test_a_signal_ends_a_wait_promptly(spawn, signal_number, lines):
    child = spawn(python_code(WAIT_LOOP))
    child.wait_for_line("ready")
    start = time.monotonic()
    child.signal(signal_number)
    status, output, err = child.finish(timeout=5)
    assert time.monotonic() - start < 2.0
    assert status == 0, err
    assert output[1:] == lines


def test_ctrl_c_before_the_first_wait_is_python_s_keyboard_interrupt(spawn):
    # Until axon installs its handlers, SIGINT is Python's: KeyboardInterrupt where it lands.
    child = spawn(python_code(
        "import time, axon\nnode = axon.NodeBuilder().create()\n"
        "try:\n    print('ready', flush=True)\n    time.sleep(10)\n"
        "except KeyboardInterrupt:\n    print('KeyboardInterrupt')\n"))
    child.wait_for_line("ready")
    child.signal(SIGINT)
    status, output, _ = child.finish()
    assert status == 0 and output[-1] == "KeyboardInterrupt"


def test_cleanup_removes_a_killed_node(spawn):
    child = spawn(python_code(
        "import axon, time\nnode = axon.NodeBuilder().name('doomed').create()\n"
        "print(node.id, flush=True)\ntime.sleep(30)\n"))
    victim = axon.NodeId.from_string(child.read_line())
    assert victim is not None
    child.kill()
    assert eventually(lambda: any(n.id == victim and n.state == axon.NodeState.Dead
                                  for n in axon.Node.list()))
    report = axon.Node.cleanup_dead_nodes()
    assert victim in report.dead_nodes
    assert all(n.id != victim for n in axon.Node.list())


# Ctrl-C that a program catches and goes on from: the SIGINT is forgotten as it raises, so the
# next wait sleeps its cycle; a SIGTERM stays remembered. Each line waits for the test's signal.
CATCH_AND_GO_ON = """
import signal, sys, time, axon
node = axon.NodeBuilder().create()
event = axon.SystemEvent.open(sys.argv[1])
node.wait(0)  # installs the handlers: from here on a signal is seen by the waits
for what, wait in (("node", lambda: node.wait(10.0)), ("event", lambda: event.wait(10.0))):
    print("ready", what, flush=True)
    try:
        print("returned", wait(), flush=True)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
    start = time.monotonic()
    print("then", node.wait(0.2), time.monotonic() - start >= 0.2, flush=True)
print("ready sigterm", flush=True)
try:
    event.wait(10.0)
except axon.SystemEventWaitError as error:
    print("SystemEventWaitError", error.name, flush=True)
print("after", node.wait(10.0), node.wait(10.0), axon.Node.clear_termination_signal(), flush=True)
print("cleared", axon.Node.clear_termination_signal(signal.SIGTERM), node.wait(0.01), flush=True)
"""


def test_a_caught_ctrl_c_lets_the_next_wait_sleep_and_sigterm_stays(spawn):
    name = "py-catch-" + str(os.getpid())
    child = spawn(python_code(CATCH_AND_GO_ON) + [name])
    try:
        for what in ("node", "event"):
            child.wait_for_line("ready " + what)
            start = time.monotonic()
            child.signal(SIGINT)
            assert child.read_line() == "KeyboardInterrupt"
            assert time.monotonic() - start < 2.0
            assert child.read_line() == "then True True"
        child.wait_for_line("ready sigterm")
        child.signal(SIGTERM)
        status, output, err = child.finish(timeout=5)
        assert status == 0, err
        assert output[-3:] == ["SystemEventWaitError Interrupted", "after False False False",
                               "cleared True True"]
    finally:
        axon.SystemEvent.remove(name)
