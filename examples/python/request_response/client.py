#!/usr/bin/env python3
"""client.py SERVICE [--interval-ms N] [--count N]: sends a RequestData every N ms (default
1000), numbered from 0, and prints every response as it arrives, as the C++
request_response_client does. It sleeps in a WaitSet on the server's notifications
(SERVICE/new_response) and on a timer for the next request. With --count it stops sending after
N requests and exits once each has ended.

    Send request <n>
    Received response <step> to request <n>: <value>
    Request <n>: stream ended after <k> responses   (or: the server is gone ..., no server)

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0."""

import sys
from pathlib import Path

import axon
from request_response_data import RequestData, ResponseData, example_names

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


class PendingRequests:
    """The requests in flight and what is printed of each stream."""

    def __init__(self):
        self.entries = []  # [number, PendingResponse, responses received, server gone]

    def add(self, number, pending):
        if pending.number_of_server_connections() == 0:
            print(f"Request {number}: no server")
            pending.close()
            return
        self.entries.append([number, pending, 0, False])

    def poll(self) -> bool:
        """Prints what arrived and drops the requests whose streams are over. False after a
        receive error other than ServerGone, named on stderr."""
        for entry in list(self.entries):
            number, pending = entry[0], entry[1]
            while True:
                try:
                    response = pending.receive()
                except axon.ResponseReceiveError as error:
                    if error.name != "ServerGone":
                        common.complain(f"receive failed: {error.name}")
                        return False
                    entry[3] = True
                    print(f"Request {number}: the server is gone after {entry[2]} responses")
                    continue  # another server's stream may go on
                if response is None:
                    break
                entry[2] += 1
                data = response.value
                response.release()  # back to the server at once
                print(f"Received response {data.step} to request {number}: {data.value}")
            if not pending.is_done():
                continue
            if not entry[3]:
                print(f"Request {number}: stream ended after {entry[2]} responses")
            pending.close()  # frees its channel
            self.entries.remove(entry)
        return True


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="client.py",
                                     description="Sends requests and prints their responses.")
    parser.add_argument("service", metavar="SERVICE", help="Request-response service name")
    parser.add_argument("--interval-ms", default="1000",
                        help="Pause between two requests (at most an hour; 0 is taken as 1)")
    parser.add_argument("--count", default=None,
                        help="Send N requests, then exit once each has ended")
    args = common.parse_arguments(parser)
    interval_ms = common.number_or_complain("--interval-ms", args.interval_ms,
                                            common.MAX_INTERVAL_MS)
    if interval_ms is None:
        return 1
    count = None
    if args.count is not None:
        count = common.number_or_complain("--count", args.count)
        if count is None:
            return 1
    names = example_names(args.service)
    if names is None:
        return 1
    service_name, requests_name, responses_name = names

    node = common.node_or_complain("client")
    if node is None:
        return 1
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        # Our listener exists before our client does: no response can come before it.
        listener = node.service_builder(responses_name).event().open_or_create() \
            .listener_builder().create()
        waitset = axon.WaitSetBuilder().create()
        woken = waitset.attach_notification(listener)
        # The timer also makes us look at silent requests: a killed server is found by a probe
        # of receive(), not by a notification.
        timer = waitset.attach_interval(max(interval_ms, 1) / 1000)
        try:
            service = node.service_builder(service_name) \
                .request_response(RequestData, ResponseData).open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(args.service)}: {error.name}")
            return 1
        client = service.client_builder().create()
        # Wake servers that sleep in a WaitSet.
        client.notify_on_send(node.service_builder(requests_name).event().open_or_create()
                              .notifier_builder().create())

        pending = PendingRequests()
        sent = 0

        def send_next() -> bool:
            nonlocal sent
            if count is not None and sent >= count:
                return True
            try:
                request = client.send_copy(RequestData(sent))
            except axon.RequestSendError as error:
                if error.name == "ExceedsMaxActiveRequests":
                    # The server is slower than we ask: skip this turn.
                    common.complain(f"request {sent} not sent yet: {error.name}")
                    return True
                common.complain(f"send failed: {error.name}")
                return False
            print(f"Send request {sent}")
            pending.add(sent, request)
            sent += 1
            return True

        def finished() -> bool:
            return count is not None and sent >= count and not pending.entries

        failed = False

        def on_event(attachment):
            nonlocal failed
            if attachment.has_event_from(woken):
                listener.try_wait()
            if attachment.has_event_from(timer) and not send_next():
                failed = True
            if failed or not pending.poll():
                failed = True
                return axon.CallbackProgression.Stop
            return axon.CallbackProgression.Stop if finished() \
                else axon.CallbackProgression.Continue

        if not send_next() or not pending.poll():
            return 1
        if not finished():
            waitset.wait_and_process(on_event)
        if failed:
            return 1
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
