"""The Python examples run as a user would, in separate processes: the event_multiplexing
scenario in Python, and across languages with the C++ examples both ways."""

import re

import pytest

from conftest import SIGINT, SIGTERM, cpp_program, python_example

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


@pytest.mark.parametrize("argv, status, message", [
    (PY_WAIT, 2, "usage"),
    (PY_NOTIFIER + ["only-a-service"], 2, "usage"),
    (PY_WAIT + ["a//b"], 1, "invalid service name 'a//b': EmptySegment"),
    (PY_NOTIFIER + ["fuu", "-1"], 1, "event id '-1' is not a whole number"),
    (PY_NOTIFIER + ["py/examples/too-big", "4096"], 1, "EventIdOutOfBounds")])
def test_the_examples_refuse_bad_arguments(spawn, argv, status, message):
    process = spawn(argv)
    got, lines, err = process.finish(timeout=10)
    assert got == status and lines == []
    assert message in err
