"""The Python examples run as a user would, in separate processes: the event_multiplexing
scenario in Python, and across languages with the C++ examples both ways."""

import os
import re

import pytest

import axon
from conftest import SIGINT, SIGTERM, cpp_program, eventually, python_example

PY_WAIT = python_example("event_multiplexing", "wait.py")
PY_NOTIFIER = python_example("event_multiplexing", "notifier.py")


def trigger_line(service, event_id):
    return f'[service: "{service}"] Trigger event with id {event_id} ...'


def received(service, event_id):
    pattern = re.compile(rf'{re.escape(service)} EventId\({event_id}\) x\d+')
    return lambda line: pattern.fullmatch(line) is not None


def run_scenario(spawn, service_name, wait_argv, notifier_argv):
    fuu, bar = service_name(), service_name()
    waiter = spawn(wait_argv + [fuu, bar])
    waiter.wait_for_line(f"Waiting on the following services: {fuu}, {bar}")
    first = spawn(notifier_argv + [fuu, "123"])
    second = spawn(notifier_argv + [bar, "456"])
    first.wait_for_line(trigger_line(fuu, 123))
    second.wait_for_line(trigger_line(bar, 456))
    waiter.wait_for_line(received(fuu, 123))
    waiter.wait_for_line(received(bar, 456))
    for process, signal_number in ((first, SIGINT), (second, SIGTERM), (waiter, SIGINT)):
        process.signal(signal_number)
        status, lines, err = process.finish(timeout=5)
        assert status == 0, err
        assert lines[-1] == "exit"


def test_event_multiplexing_in_python(spawn, service_name):
    run_scenario(spawn, service_name, PY_WAIT, PY_NOTIFIER)


def test_cpp_notifiers_wake_the_python_waiter(spawn, service_name):
    run_scenario(spawn, service_name, PY_WAIT, cpp_program("event_multiplexing_notifier"))


def test_python_notifiers_wake_the_cpp_waiter(spawn, service_name):
    run_scenario(spawn, service_name, cpp_program("event_multiplexing_wait"), PY_NOTIFIER)


@pytest.mark.parametrize("signal_number", [SIGINT, SIGTERM])
def test_a_signal_ends_the_python_waiter_promptly(spawn, service_name, signal_number):
    waiter = spawn(PY_WAIT + [service_name()])
    waiter.wait_for_line(lambda line: line.startswith("Waiting on the following services"))
    waiter.signal(signal_number)
    status, lines, err = waiter.finish(timeout=2)
    assert (status, lines[-1]) == (0, "exit"), err


EMPTY_SEGMENT = "EmptySegment (an empty segment: '//', or a leading or trailing '/')"
BAD_PREFIX = ("invalid AXON_PREFIX \"bad/prefix\": 1..64 bytes of [A-Za-z0-9_.-], "
              "without \"..\", not starting with '.'")


def example(directory, script, *args):
    return python_example(directory, script) + list(args)


# Every error of every Python example is one line on stderr, `<script>: error: <what>: <why>`,
# the format of every program of axon (docs/cli.md), with the exit status of the C++ examples:
# 2 for a usage error or an invalid AXON_PREFIX/AXON_ROOT, 1 for the rest.
@pytest.mark.parametrize("argv, env, status, line", [
    (PY_WAIT, {}, 2, "wait.py: error: the following arguments are required: SERVICE "
     "(usage: wait.py [-h] SERVICE [SERVICE ...])"),
    (PY_NOTIFIER + ["only-a-service"], {}, 2, "notifier.py: error: the following arguments "
     "are required: EVENT_ID (usage: notifier.py [-h] SERVICE EVENT_ID)"),
    (example("publish_subscribe", "publisher.py", "x", "\x1b[2J"), {}, 2,
     "publisher.py: error: unrecognized arguments: \\x1b[2J "
     "(usage: publisher.py [-h] [--interval-ms INTERVAL_MS] SERVICE)"),
    (PY_WAIT + ["fuu", "a//b"], {}, 1, f'wait.py: error: invalid service name "a//b": '
     f"{EMPTY_SEGMENT}"),
    (example("publish_subscribe", "subscriber.py", "a\nb"), {}, 1,
     'subscriber.py: error: invalid service name "a\\nb": InvalidCharacter '
     "(only printable ASCII without space is allowed)"),
    (example("request_response", "client.py", "a//b"), {}, 1,
     f'client.py: error: invalid service name "a//b": {EMPTY_SEGMENT}'),
    (example("system_event", "ready.py", "a//b", "set"), {}, 1,
     f'ready.py: error: invalid name "a//b": {EMPTY_SEGMENT}'),
    (PY_NOTIFIER + ["fuu", "-1"], {}, 1, 'notifier.py: error: event id "-1" is negative'),
    (PY_NOTIFIER + ["fuu", "12x"], {}, 1,
     'notifier.py: error: event id "12x" is not a whole non-negative decimal number'),
    (example("request_response", "server.py", "x", "--responses", "1001"), {}, 1,
     'server.py: error: --responses "1001" is too large (at most 1000)'),
    (example("publish_subscribe", "image_publisher.py", "x", "--interval-ms", "3600001"), {},
     1, 'image_publisher.py: error: --interval-ms "3600001" is too large (at most 3600000)'),
    (PY_WAIT + ["fuu"], {"AXON_PREFIX": "bad/prefix"}, 2, f"wait.py: error: {BAD_PREFIX}"),
    (example("request_response", "server.py", "fuu"), {"AXON_PREFIX": "bad/prefix"}, 2,
     f"server.py: error: {BAD_PREFIX}"),
    (example("system_event", "ready.py", "fuu", "set"), {"AXON_ROOT": "relative"}, 2,
     'ready.py: error: invalid AXON_ROOT "relative": an absolute path without empty, '
     '"." or ".." components, not "/"'),
    # An exception an example does not name itself: one line too, not a traceback.
    (example("system_event", "ready.py", "py/examples/nan", "wait", "--timeout", "nan"), {}, 1,
     "ready.py: error: ValueError: a duration cannot be NaN")])
def test_every_error_is_one_line_of_the_common_format(spawn, argv, env, status, line):
    process = spawn(argv, env={**os.environ, **env})
    got, lines, err = process.finish(timeout=10)
    assert (got, lines, err) == (status, [], line + "\n")


def test_a_refused_notifier_names_the_max_event_id(spawn, service_name):
    process = spawn(PY_NOTIFIER + [service_name(), "4096"])
    got, lines, err = process.finish(timeout=10)
    assert (got, lines, err) == (1, [], "notifier.py: error: cannot create notifier for id 4096: "
                                 "EventIdOutOfBounds (the service's max event id is 4095)\n")


def test_a_node_that_cannot_be_created_is_one_error_line(spawn, service_name, tmp_path):
    # A root directory that is a symlink is refused by every node creation (PermissionDenied).
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    env = {**os.environ, "AXON_ROOT": str(tmp_path / "link")}
    process = spawn(example("publish_subscribe", "publisher.py", service_name()), env=env)
    got, lines, err = process.finish(timeout=10)
    assert (got, lines, err) == (1, [], "publisher.py: error: cannot create node: "
                                 "PermissionDenied\n")


def test_every_python_example_names_its_node(spawn, service_name):
    """`axon node list` tells the examples apart, as it does the C++ ones."""
    names = {"wait": PY_WAIT + [service_name()],
             "notifier": PY_NOTIFIER + [service_name(), "1"],
             "publisher": example("publish_subscribe", "publisher.py", service_name()),
             "subscriber": example("publish_subscribe", "subscriber.py", service_name()),
             "client": example("request_response", "client.py", service_name()),
             "server": example("request_response", "server.py", service_name())}
    processes = {name: spawn(argv) for name, argv in names.items()}
    pids = {process.proc.pid: name for name, process in processes.items()}
    got = eventually(lambda: {info.pid: info.name for info in axon.Node.list()
                              if info.pid in pids} == pids)
    assert got, [(info.pid, info.name) for info in axon.Node.list()]
