#!/usr/bin/env python3
"""subscriber.py SERVICE [--poll]: prints every TransmissionData published on SERVICE, as the
C++ publish_subscribe_subscriber does; sleeps in a WaitSet on its wakeable subscriber (any
publisher wakes it after each send), or with --poll busy-polls:

    Received sample 0
    Received sample 1

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0."""

import argparse
import os
import sys

import axon
from transmission_data import TransmissionData


def print_available(subscriber) -> None:
    while (sample := subscriber.receive()) is not None:
        print(f"Received sample {sample.value.counter}")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(prog="subscriber.py",
                                     description="Prints every TransmissionData received.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    parser.add_argument("--poll", action="store_true",
                        help="Busy-poll instead of sleeping in a WaitSet")
    args = parser.parse_args()
    try:
        name = axon.ServiceName(args.service)
    except axon.ServiceNameError as error:
        print(f"invalid service name {args.service!r}: {error.name}", file=sys.stderr)
        return 1

    node = axon.NodeBuilder().name("subscriber").create()
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        try:
            service = node.service_builder(name).publish_subscribe(TransmissionData) \
                .open_or_create()
        except axon.AxonError as error:
            print(f'cannot open service "{args.service}": {error}', file=sys.stderr)
            return 1
        subscriber = service.subscriber_builder().wakeable(not args.poll).create()
        if args.poll:
            while node.wait(0):
                print_available(subscriber)
                os.sched_yield()
        else:
            waitset = axon.WaitSetBuilder().create()
            _guard = waitset.attach_notification(subscriber)
            # Fires while a sample may wait; receiving until None quiets it.
            waitset.wait_and_process(lambda _attachment: print_available(subscriber))
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
