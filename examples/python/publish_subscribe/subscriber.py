#!/usr/bin/env python3
"""subscriber.py SERVICE [--poll]: prints every TransmissionData published on SERVICE, as the
C++ publish_subscribe_subscriber does; sleeps in a WaitSet on its wakeable subscriber (any
publisher wakes it after each send), or with --poll busy-polls:

    Received sample 0
    Received sample 1

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0."""

import os
import sys
from pathlib import Path

import axon
from transmission_data import TransmissionData

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def print_available(subscriber) -> None:
    while (sample := subscriber.receive()) is not None:
        print(f"Received sample {sample.value.counter}")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="subscriber.py",
                                     description="Prints every TransmissionData received.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    parser.add_argument("--poll", action="store_true",
                        help="Busy-poll instead of sleeping in a WaitSet")
    args = common.parse_arguments(parser)
    name = common.name_or_complain(args.service)
    if name is None:
        return 1

    node = common.node_or_complain("subscriber")
    if node is None:
        return 1
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        try:
            service = node.service_builder(name).publish_subscribe(TransmissionData) \
                .open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(args.service)}: {error.name}")
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
    sys.exit(common.run(main))
