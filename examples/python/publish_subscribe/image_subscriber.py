#!/usr/bin/env python3
"""image_subscriber.py SERVICE: receives the images of image_publisher.py as numpy arrays that
are views of the publisher's shared memory (no copy), checks them and prints:

    Received image 0: 2048x2048, in shared memory, pixels as drawn

It sleeps in a WaitSet on its wakeable subscriber. Ctrl-C or SIGTERM: `exit`."""

import ctypes
import sys
from pathlib import Path

import numpy

import axon
from image_publisher import GRADIENT, HEIGHT, WIDTH

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def views(array, owner) -> bool:
    """True when `array` owns no memory and its chain of bases (arrays, memoryviews) ends at
    `owner`: it reads owner's buffer in place and keeps it alive."""
    base = array
    while base is not None and base is not owner:
        if isinstance(base, numpy.ndarray) and base.flags.owndata:
            return False
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return base is owner


def show(sample) -> None:
    image = numpy.frombuffer(sample, dtype=numpy.uint8).reshape(HEIGHT, WIDTH)
    # The array owns nothing: its memory is the sample's chunk, which it keeps borrowed.
    in_place = views(image, sample) and not image.flags.writeable
    counter = int(numpy.frombuffer(sample, dtype=numpy.uint64, count=1)[0])
    expected = (GRADIENT + numpy.uint8(counter % 256)).reshape(-1)[8:]
    drawn = numpy.array_equal(image.reshape(-1)[8:], expected)
    print(f"Received image {counter}: {image.shape[0]}x{image.shape[1]}, "
          f"{'in shared memory' if in_place else 'COPIED'}, "
          f"{'pixels as drawn' if drawn else 'WRONG PIXELS'}")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="image_subscriber.py",
                                     description="Receives numpy images without a copy.")
    parser.add_argument("service", metavar="SERVICE", help="Publish-subscribe service name")
    args = common.parse_arguments(parser)
    name = common.name_or_complain(args.service)
    if name is None:
        return 1

    node = common.node_or_complain("image_subscriber")
    if node is None:
        return 1
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        try:
            service = node.service_builder(name).publish_subscribe(ctypes.c_uint8, True) \
                .open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(args.service)}: {error.name}")
            return 1
        subscriber = service.subscriber_builder().wakeable(True).create()
        waitset = axon.WaitSetBuilder().create()
        _guard = waitset.attach_notification(subscriber)

        def on_event(_attachment):
            # Receiving until None quiets the subscriber until the next send.
            while (sample := subscriber.receive()) is not None:
                show(sample)
        waitset.wait_and_process(on_event)
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
