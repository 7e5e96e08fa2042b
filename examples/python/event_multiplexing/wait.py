#!/usr/bin/env python3
"""wait.py SERVICE [SERVICE...]: one WaitSet waits on a listener of each event service (created
when absent) and prints every notification that arrives on any of them, as the C++
event_multiplexing_wait does:

    Waiting on the following services: fuu, bar
    fuu EventId(123) x1

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0: the WaitSet installs the handlers
and returns Interrupt or TerminationRequest from wait_and_process."""

import argparse
import sys

import axon


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # readers of a pipe see each line at once
    parser = argparse.ArgumentParser(
        prog="wait.py",
        description="Waits in one WaitSet on a listener of each event service SERVICE "
        "(created when absent) and prints every notification.")
    parser.add_argument("services", metavar="SERVICE", nargs="+", help="Event service names")
    args = parser.parse_args()

    names = []
    for text in args.services:
        try:
            names.append(axon.ServiceName(text))
        except axon.ServiceNameError as error:
            print(f"invalid service name {text!r}: {error.name}", file=sys.stderr)
            return 1

    try:
        node = axon.NodeBuilder().create()
    except axon.AxonError as error:
        print(f"cannot create node: {error}", file=sys.stderr)
        return 1
    # The WaitSet installs the SIGINT/SIGTERM handlers: a signal ends wait_and_process.
    try:
        waitset = axon.WaitSetBuilder().create()
    except axon.AxonError as error:
        print(f"cannot create waitset: {error}", file=sys.stderr)
        return 1

    # (text, listener, guard) per service; the services stay open while their listeners live.
    entries = []
    for text, name in zip(args.services, names):
        try:
            service = node.service_builder(name).event().open_or_create()
        except axon.AxonError as error:
            print(f'cannot open service "{text}": {error}', file=sys.stderr)
            return 1
        try:
            listener = service.listener_builder().create()
        except axon.AxonError as error:
            print(f'cannot create listener on "{text}": {error}', file=sys.stderr)
            return 1
        try:
            guard = waitset.attach_notification(listener)
        except axon.AxonError as error:
            print(f'cannot attach "{text}": {error}', file=sys.stderr)
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
        print(f"wait failed: {error}", file=sys.stderr)
        return 1
    except axon.WaitSetRunError as error:
        print(f"waitset failed: {error}", file=sys.stderr)
        return 1
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
