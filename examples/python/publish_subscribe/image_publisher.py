#!/usr/bin/env python3
"""image_publisher.py SERVICE [--interval-ms N]: publishes a 2048x2048 8-bit image (4 MiB) every
N ms (default 100), drawn with numpy straight into the loaned shared memory and sent without a
copy (each send wakes the subscribers that sleep in a WaitSet):

    Send image 0
    Send image 1

Pixel (y, x) of image n is (n + x + y) mod 256, except the first 8 bytes, which hold n
(little-endian uint64), so a subscriber can check what it reads. Ctrl-C or SIGTERM: `exit`."""

import ctypes
import sys
from pathlib import Path

import numpy

import axon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402

HEIGHT = WIDTH = 2048
GRADIENT = numpy.add.outer(numpy.arange(HEIGHT), numpy.arange(WIDTH)).astype(numpy.uint8)


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="image_publisher.py",
                                     description="Publishes a 4 MiB numpy image periodically.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    parser.add_argument("--interval-ms", default="100",
                        help="Pause between two images (at most an hour)")
    args = common.parse_arguments(parser)
    interval_ms = common.number_or_complain("--interval-ms", args.interval_ms,
                                            common.MAX_INTERVAL_MS)
    if interval_ms is None:
        return 1
    name = common.name_or_complain(args.service)
    if name is None:
        return 1

    node = common.node_or_complain("image_publisher")
    if node is None:
        return 1
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        try:
            # Images are slices of bytes: one sample carries HEIGHT x WIDTH of them.
            service = node.service_builder(name).publish_subscribe(ctypes.c_uint8, True) \
                .open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(args.service)}: {error.name}")
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
            if not node.wait(interval_ms / 1000):
                break
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
