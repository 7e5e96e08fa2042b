#!/usr/bin/env python3
"""publisher.py SERVICE [--interval-ms N]: publishes a TransmissionData every N ms (1000),
zero-copy, as the C++ publish_subscribe_publisher does (each send wakes the subscribers that
sleep in a WaitSet):

    Send sample 0
    Send sample 1

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0."""

import argparse
import sys

import axon
from transmission_data import TransmissionData


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(prog="publisher.py",
                                     description="Publishes a TransmissionData periodically.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    parser.add_argument("--interval-ms", type=int, default=1000,
                        help="Pause between two samples (at most an hour)")
    args = parser.parse_args()
    if not 0 <= args.interval_ms <= 3_600_000:
        print(f"--interval-ms {args.interval_ms} is not in 0..3600000", file=sys.stderr)
        return 1
    try:
        name = axon.ServiceName(args.service)
    except axon.ServiceNameError as error:
        print(f"invalid service name {args.service!r}: {error.name}", file=sys.stderr)
        return 1

    node = axon.NodeBuilder().name("publisher").create()
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        try:
            service = node.service_builder(name).publish_subscribe(TransmissionData) \
                .open_or_create()
        except axon.AxonError as error:
            print(f'cannot open service "{args.service}": {error}', file=sys.stderr)
            return 1
        publisher = service.publisher_builder().create()
        counter = 0
        while True:
            sample = publisher.loan_uninit()
            data = sample.value  # a TransmissionData over the shared memory
            data.counter, data.x, data.y = counter, counter, counter * 3
            data.funky = counter * 812.12
            del data  # no view may outlive the loan: send() refuses while one lives
            sample.send()
            print(f"Send sample {counter}")
            counter += 1
            if not node.wait(args.interval_ms / 1000):
                break
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
