#!/usr/bin/env python3
"""notifier.py SERVICE EVENT_ID: notifies EVENT_ID on the event service SERVICE (created when
absent) once a second, for a waiter that multiplexes several services (wait.py), as the C++
event_multiplexing_notifier does:

    [service: "fuu"] Trigger event with id 123 ...

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0: Node.wait returns False on SIGTERM
and raises KeyboardInterrupt on SIGINT."""

import argparse
import sys

import axon


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # readers of a pipe see each line at once
    parser = argparse.ArgumentParser(
        prog="notifier.py",
        description="Notifies EVENT_ID on the event service SERVICE (created when absent) "
        "once a second.")
    parser.add_argument("service", metavar="SERVICE", help="Event service name")
    parser.add_argument("event_id", metavar="EVENT_ID", help="Event id to notify")
    args = parser.parse_args()

    try:
        name = axon.ServiceName(args.service)
    except axon.ServiceNameError as error:
        print(f"invalid service name {args.service!r}: {error.name}", file=sys.stderr)
        return 1
    if not args.event_id.isdigit():
        print(f"event id {args.event_id!r} is not a whole number", file=sys.stderr)
        return 1
    event_id = int(args.event_id)

    try:
        node = axon.NodeBuilder().create()
    except axon.AxonError as error:
        print(f"cannot create node: {error}", file=sys.stderr)
        return 1
    try:
        # The first wait installs the SIGINT/SIGTERM handlers now, so that a signal during
        # setup ends the program through its loop.
        node.wait(0)
        try:
            service = node.service_builder(name).event().open_or_create()
        except axon.AxonError as error:
            print(f'cannot open service "{args.service}": {error}', file=sys.stderr)
            return 1
        try:
            notifier = service.notifier_builder().default_event_id(event_id).create()
        except (axon.AxonError, TypeError) as error:
            print(f"cannot create notifier for id {event_id}: {error} (the service's max event "
                  f"id is {service.static_config.event_id_max_value})", file=sys.stderr)
            return 1
        while True:
            try:
                notifier.notify()
            except axon.NotifierNotifyError as error:
                print(f"notify failed: {error}", file=sys.stderr)
                return 1
            print(f'[service: "{args.service}"] Trigger event with id {event_id} ...')
            if not node.wait(1.0):  # False: SIGTERM
                break
    except KeyboardInterrupt:  # SIGINT
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
