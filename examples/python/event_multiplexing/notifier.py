#!/usr/bin/env python3
"""notifier.py SERVICE EVENT_ID: notifies EVENT_ID on the event service SERVICE (created when
absent) once a second, for a waiter that multiplexes several services (wait.py), as the C++
event_multiplexing_notifier does:

    [service: "fuu"] Trigger event with id 123 ...

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0: Node.wait returns False on SIGTERM
and raises KeyboardInterrupt on SIGINT."""

import sys
from pathlib import Path

import axon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # readers of a pipe see each line at once
    parser = common.ArgumentParser(
        prog="notifier.py",
        description="Notifies EVENT_ID on the event service SERVICE (created when absent) "
        "once a second.")
    parser.add_argument("service", metavar="SERVICE", help="Event service name")
    parser.add_argument("event_id", metavar="EVENT_ID", help="Event id to notify")
    args = common.parse_arguments(parser)

    name = common.name_or_complain(args.service)
    if name is None:
        return 1
    event_id = common.number_or_complain("event id", args.event_id)
    if event_id is None:
        return 1

    node = common.node_or_complain("notifier")
    if node is None:
        return 1
    try:
        # The first wait installs the SIGINT/SIGTERM handlers now, so that a signal during
        # setup ends the program through its loop.
        node.wait(0)
        try:
            service = node.service_builder(name).event().open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(args.service)}: {error.name}")
            return 1
        try:
            notifier = service.notifier_builder().default_event_id(event_id).create()
        except (axon.AxonError, TypeError) as error:
            why = error.name if isinstance(error, axon.AxonError) else common.escaped(str(error))
            common.complain(f"cannot create notifier for id {event_id}: {why} (the service's "
                            f"max event id is {service.static_config.event_id_max_value})")
            return 1
        while True:
            try:
                notifier.notify()
            except axon.NotifierNotifyError as error:
                common.complain(f"notify failed: {error.name}")
                return 1
            print(f'[service: "{args.service}"] Trigger event with id {event_id} ...')
            if not node.wait(1.0):  # False: SIGTERM
                break
    except KeyboardInterrupt:  # SIGINT
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
