#!/usr/bin/env python3
"""wait.py SERVICE [SERVICE...]: one WaitSet waits on a listener of each event service (created
when absent) and prints every notification that arrives on any of them, as the C++
event_multiplexing_wait does:

    Waiting on the following services: fuu, bar
    fuu EventId(123) x1

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0: the WaitSet installs the handlers
and returns Interrupt or TerminationRequest from wait_and_process."""

import sys
from pathlib import Path

import axon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # readers of a pipe see each line at once
    parser = common.ArgumentParser(
        prog="wait.py",
        description="Waits in one WaitSet on a listener of each event service SERVICE "
        "(created when absent) and prints every notification.")
    parser.add_argument("services", metavar="SERVICE", nargs="+", help="Event service names")
    args = common.parse_arguments(parser)

    names = []
    for text in args.services:
        name = common.name_or_complain(text)
        if name is None:
            return 1
        names.append(name)

    node = common.node_or_complain("wait")
    if node is None:
        return 1
    # The WaitSet installs the SIGINT/SIGTERM handlers: a signal ends wait_and_process.
    try:
        waitset = axon.WaitSetBuilder().create()
    except axon.AxonError as error:
        common.complain(f"cannot create waitset: {error.name}")
        return 1

    # (text, listener, guard) per service; the services stay open while their listeners live.
    entries = []
    for text, name in zip(args.services, names):
        try:
            service = node.service_builder(name).event().open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(text)}: {error.name}")
            return 1
        try:
            listener = service.listener_builder().create()
        except axon.AxonError as error:
            common.complain(f"cannot create listener on {common.quoted(text)}: {error.name}")
            return 1
        try:
            guard = waitset.attach_notification(listener)
        except axon.AxonError as error:
            common.complain(f"cannot attach {common.quoted(text)}: {error.name}")
            return 1
        entries.append((text, listener, guard))
    print("Waiting on the following services: " + ", ".join(args.services))

    def on_event(attachment: axon.AttachmentId) -> axon.CallbackProgression:
        for text, listener, guard in entries:
            if attachment.has_event_from(guard):
                # Draining consumes the wake-up; a listener left undrained would fire again.
                for event_id, count in listener.try_wait():
                    # As `axon listen` prints an event, after the service's name.
                    print(f"{text} {event_id!r} x{count}")
        return axon.CallbackProgression.Continue

    try:
        waitset.wait_and_process(on_event)
    except axon.ListenerWaitError as error:
        common.complain(f"wait failed: {error.name}")
        return 1
    except axon.WaitSetRunError as error:
        common.complain(f"waitset failed: {error.name}")
        return 1
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
