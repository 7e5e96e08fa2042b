#!/usr/bin/env python3
"""image_publisher.py SERVICE [--interval-ms N]: publishes a 2048x2048 8-bit image (4 MiB) every
N ms (default 100), drawn with numpy straight into the loaned shared memory and sent without a
copy (each send wakes the subscribers that sleep in a WaitSet):

    Send image 0
    Send image 1

Pixel (y, x) of image n is (n + x + y) mod 256, except the first 8 bytes, which hold n
(little-endian uint64), so a subscriber can check what it reads. Ctrl-C or SIGTERM: `exit`."""

import argparse
import ctypes
import sys

import numpy

import axon

HEIGHT = WIDTH = 2048
GRADIENT = numpy.add.outer(numpy.arange(HEIGHT), numpy.arange(WIDTH)).astype(numpy.uint8)


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(prog="image_publisher.py",
                                     description="Publishes a 4 MiB numpy image periodically.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    parser.add_argument("--interval-ms", type=int, default=100,
                        help="Pause between two images (at most an hour)")
    args = parser.parse_args()
    if not 0 <= args.interval_ms <= 3_600_000:
        print(f"--interval-ms {args.interval_ms} is not in 0..3600000", file=sys.stderr)
        return 1
    try:
        name = axon.ServiceName(args.service)
    except axon.ServiceNameError as error:
        print(f"invalid service name {args.service!r}: {error.name}", file=sys.stderr)
        return 1

    node = axon.NodeBuilder().name("image_publisher").create()
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        try:
            # Images are slices of bytes: one sample carries HEIGHT x WIDTH of them.
            service = node.service_builder(name).publish_subscribe(ctypes.c_uint8, True) \
                .open_or_create()
        except axon.AxonError as error:
            print(f'cannot open service "{args.service}": {error}', file=sys.stderr)
            return 1
        publisher = service.publisher_builder().max_slice_len(HEIGHT * WIDTH).create()
        counter = 0
        while True:
            sample = publisher.loan_uninit(HEIGHT * WIDTH)
            image = numpy.frombuffer(sample, dtype=numpy.uint8).reshape(HEIGHT, WIDTH)
            numpy.add(GRADIENT, counter % 256, out=image, casting="unsafe")
            numpy.frombuffer(sample, dtype=numpy.uint64, count=1)[0] = counter
            del image  # no view may outlive the loan: send() refuses while one lives
            sample.send()
            print(f"Send image {counter}")
            counter += 1
            if not node.wait(args.interval_ms / 1000):
                break
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
