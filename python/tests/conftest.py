"""Shared support of the Python tests, as tests/support does for the C++ ones: every pytest run
gets its own AXON_PREFIX and AXON_ROOT (named like the C++ tests' objects, so their stale-object
sweep removes what a killed run left) and removes whatever is left under them at exit, even
after a failure. Child processes inherit the environment."""

import itertools
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_TAG = f"{os.getpid()}_{random.randrange(100000)}"
PREFIX = f"axon_t{_TAG}_"
ROOT = f"/tmp/axon-test-{_TAG}"
os.environ["AXON_PREFIX"] = PREFIX
os.environ["AXON_ROOT"] = ROOT

import axon  # noqa: E402  (after the environment is set: nothing of axon reads it earlier)

SOURCE_DIR = Path(os.environ.get("AXON_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN_DIR = Path(os.environ.get("AXON_BIN_DIR", SOURCE_DIR / "build" / "bin"))
EXAMPLES = SOURCE_DIR / "examples" / "python"
_counter = itertools.count()


def shm_objects():
    return sorted(name for name in os.listdir("/dev/shm") if name.startswith(PREFIX))


def remove_everything():
    for name in shm_objects():
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except FileNotFoundError:
            pass
    shutil.rmtree(ROOT, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    remove_everything()


@pytest.fixture
def service_name(request):
    """A service name unique to this test run: py/<test>/<n>."""
    def make():
        return f"py/{request.node.name.replace('[', '_').replace(']', '')}/{next(_counter)}"
    return make


@pytest.fixture
def node():
    return axon.NodeBuilder().name("pytest").create()


def eventually(predicate, timeout=5.0, interval=0.005):
    """Polls `predicate` until it is true or `timeout` passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Process:
    """A real child process whose stdout is read line by line with a timeout."""

    def __init__(self, argv, **kwargs):
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1, **kwargs)
        self.lines = []
        # Read from the fd itself: readline() on the text stream would buffer lines that came
        # together, and the selector would not see them again.
        self._pending = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)

    def read_line(self, timeout=5.0):
        """The next line of stdout (without its newline), or None after `timeout` or at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            if not self._selector.select(max(0.0, deadline - time.monotonic())):
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        self.lines.append(line.decode())
        return self.lines[-1]

    def wait_for_line(self, wanted, timeout=10.0):
        """Reads until a line satisfies `wanted` (a str: equal; else a predicate)."""
        deadline = time.monotonic() + timeout
        matches = (lambda l: l == wanted) if isinstance(wanted, str) else wanted
        while time.monotonic() < deadline:
            line = self.read_line(deadline - time.monotonic())
            if line is not None and matches(line):
                return line
            if line is None and self.proc.poll() is not None:
                break
        raise AssertionError(f"{self.argv}: no line {wanted!r} within {timeout}s; "
                             f"got {self.lines}; stderr: {self.stderr_if_done()}")

    def stderr_if_done(self):
        return self.proc.stderr.read() if self.proc.poll() is not None else "(running)"

    def signal(self, number):
        self.proc.send_signal(number)

    def finish(self, timeout=5.0):
        """Waits for the exit; returns (status, rest of stdout lines, stderr)."""
        out, err = self.proc.communicate(timeout=timeout)
        self.lines.extend((self._pending.decode() + out).splitlines())
        self._pending = b""
        return self.proc.returncode, self.lines, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def spawn():
    """spawn(argv) starts a Process; every one still running at the end is killed."""
    started = []

    def start(argv, **kwargs):
        process = Process(argv, **kwargs)
        started.append(process)
        return process
    yield start
    for process in started:
        process.kill()


def python_example(*parts):
    """argv of a Python example run as a user would: the interpreter and the script."""
    return [sys.executable, str(EXAMPLES.joinpath(*parts))]


def python_code(code):
    """argv of `python -c code`, with this run's environment (axon importable)."""
    return [sys.executable, "-c", code]


def cpp_program(name):
    path = BIN_DIR / name
    if not path.exists():
        pytest.skip(f"{path} is not built")
    return [str(path)]


SIGINT = signal.SIGINT
SIGTERM = signal.SIGTERM
