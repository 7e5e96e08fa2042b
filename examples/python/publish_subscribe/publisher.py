#!/usr/bin/env python3
"""publisher.py SERVICE [--interval-ms N]: publishes a TransmissionData every N ms (1000),
zero-copy, as the C++ publish_subscribe_publisher does (each send wakes the subscribers that
sleep in a WaitSet):

    Send sample 0
    Send sample 1

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0."""

import sys
from pathlib import Path

import axon
from transmission_data import TransmissionData

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="publisher.py",
                                     description="Publishes a TransmissionData periodically.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    parser.add_argument("--interval-ms", default="1000",
                        help="Pause between two samples (at most an hour)")
    args = common.parse_arguments(parser)
    interval_ms = common.number_or_complain("--interval-ms", args.interval_ms,
                                            common.MAX_INTERVAL_MS)
    if interval_ms is None:
        return 1
    name = common.name_or_complain(args.service)
    if name is None:
        return 1

    node = common.node_or_complain("publisher")
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
            if not node.wait(interval_ms / 1000):
                break
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
