#!/usr/bin/env python3
"""server.py SERVICE [--responses N] [--pause-ms N]: answers every request with a stream of N
responses (default 3), --pause-ms apart (default 100), then ends the stream, as the C++
request_response_server does. It sleeps in a WaitSet until a client notifies
SERVICE/new_request, and notifies SERVICE/new_response after each response and each ended
stream:

    Received request <n>
    Send response <step> to request <n>
    Ended the stream of request <n>

Ctrl-C (SIGINT) or SIGTERM ends it with `exit` and status 0, a stream in progress ended first."""

import sys
from pathlib import Path

import axon
from request_response_data import RequestData, ResponseData, example_names

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


def answer(node, request, number, responses, pause) -> bool:
    """Sends the stream of `request`; False when SIGTERM stopped it (SIGINT raises)."""
    for step in range(responses):
        # A pause between two responses, not before the first.
        if step > 0 and not node.wait(pause):
            return False
        try:
            request.send_copy(ResponseData(number, step, number * (step + 1)))
        except axon.ResponseSendError as error:
            if error.name != "NotConnected":
                raise
            print(f"Request {number}: the client stopped listening")
            return True
        print(f"Send response {step} to request {number}")
    return True


def answer_available(node, server, responses, pause) -> bool:
    """Answers every request that is there, one after the other; False when a signal stopped."""
    while (request := server.receive()) is not None:
        number = request.value.number
        print(f"Received request {number}")
        try:
            with request:  # its end ends the stream, whatever happens inside
                go_on = answer(node, request, number, responses, pause)
        finally:
            print(f"Ended the stream of request {number}")
        if not go_on:
            return False
    return True


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = common.ArgumentParser(prog="server.py",
                                     description="Answers every request with N responses.")
    parser.add_argument("service", metavar="SERVICE", help="Request-response service name")
    parser.add_argument("--responses", default="3",
                        help="Responses to each request (at most 1000)")
    parser.add_argument("--pause-ms", default="100",
                        help="Pause between two responses (at most an hour)")
    args = common.parse_arguments(parser)
    responses = common.number_or_complain("--responses", args.responses, 1000)
    if responses is None:
        return 1
    pause_ms = common.number_or_complain("--pause-ms", args.pause_ms, common.MAX_INTERVAL_MS)
    if pause_ms is None:
        return 1
    names = example_names(args.service)
    if names is None:
        return 1
    service_name, requests_name, responses_name = names

    node = common.node_or_complain("server")
    if node is None:
        return 1
    try:
        node.wait(0)  # installs the SIGINT/SIGTERM handlers before anything else
        # The listener exists before the server does: a client that sends to us also wakes us.
        listener = node.service_builder(requests_name).event().open_or_create() \
            .listener_builder().create()
        waitset = axon.WaitSetBuilder().create()
        _guard = waitset.attach_notification(listener)
        try:
            service = node.service_builder(service_name) \
                .request_response(RequestData, ResponseData).open_or_create()
        except axon.AxonError as error:
            common.complain(f"cannot open service {common.quoted(args.service)}: {error.name}")
            return 1
        server = service.server_builder().create()
        # Wake clients that sleep in a WaitSet.
        server.notify_on_send(node.service_builder(responses_name).event().open_or_create()
                              .notifier_builder().create())

        # A request that came before the first wait has woken the listener already (it is
        # level-triggered): the first wait returns at once.
        def on_event(_attachment):
            listener.try_wait()  # draining consumes the wake-up
            if not answer_available(node, server, responses, pause_ms / 1000):
                return axon.CallbackProgression.Stop
            return axon.CallbackProgression.Continue
        waitset.wait_and_process(on_event)
    except KeyboardInterrupt:
        pass
    print("exit")
    return 0


if __name__ == "__main__":
    sys.exit(common.run(main))
