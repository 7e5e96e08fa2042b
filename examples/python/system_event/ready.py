#!/usr/bin/env python3
"""ready.py NAME set|clear|wait [--timeout SECONDS]: one process says "ready" to all others
through the latched SystemEvent NAME, as the evt_set, evt_clear and evt_wait tools do (either
side may be a tool):

    $ python3 ready.py robot/ready wait --timeout 10     # terminal 1: blocks...
    $ python3 ready.py robot/ready set                   # terminal 2
    robot/ready is set                                   # terminal 1 wakes

`wait` prints `NAME is set` (status 0) or `NAME: timed out` (status 1); Ctrl-C ends it with
`exit` (status 0). The event stays set until `clear`, so a later `wait` returns at once."""

import sys
from pathlib import Path

import axon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="ready.py", description="Sets, clears or waits for "
                                   "the latched SystemEvent NAME.")
    parser.add_argument("name", metavar="NAME", help="The event's name (a service name)")
    parser.add_argument("action", choices=["set", "clear", "wait"])
    parser.add_argument("--timeout", type=float, default=None,
                        help="wait: seconds to wait at most (default: for ever)")
    args = common.parse_arguments(parser)
    # The name first: an invalid one is named as such (as evt_set and the others do), not as
    # an event that cannot be opened.
    if common.name_or_complain(args.name, "name") is None:
        return 1
    try:
        try:
            event = axon.SystemEvent.open(args.name)
        except axon.SystemEventError as error:
            common.complain(f"cannot open event {common.quoted(args.name)}: {error.name}")
            return 1
        if args.action == "set":
            event.set()
            print(f"set {args.name}")
        elif args.action == "clear":
            event.clear()
            print(f"cleared {args.name}")
        elif event.wait(args.timeout):  # releases the GIL; Ctrl-C raises KeyboardInterrupt
            print(f"{args.name} is set")
        else:
            print(f"{args.name}: timed out")
            return 1
    except KeyboardInterrupt:
        print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
