"""Request-response from Python: zero-copy requests and responses, streams ended explicitly
(close, `with`), cancellation, every error class, and the examples across languages."""

import ctypes
import sys

import numpy
import pytest

import axon
from conftest import EXAMPLES, SIGINT, SIGTERM, cpp_program, eventually, python_example

sys.path.insert(0, str(EXAMPLES / "request_response"))
from request_response_data import RequestData, ResponseData  # noqa: E402

MiB = 1 << 20


def service_of(node, name, request=RequestData, response=ResponseData, **settings):
    builder = node.service_builder(name).request_response(
        request, response, settings.pop("request_is_slice", False),
        settings.pop("response_is_slice", False))
    for setting, value in settings.items():
        getattr(builder, setting)(value)
    return builder.open_or_create()


def ports(node, name, **settings):
    service = service_of(node, name, **settings)
    return service, service.client_builder().create(), service.server_builder().create()


def test_builder_settings_become_the_static_config(node, service_name):
    service = service_of(node, service_name(), max_clients=3, max_servers=4, max_nodes=5,
                         max_active_requests_per_client=6, max_response_buffer_size=7,
                         max_loaned_requests=8, max_loaned_responses=9,
                         max_borrowed_responses=10, fire_and_forget=False,
                         overflow_policy=axon.OverflowPolicy.Refuse, access=axon.Access.Owner)
    config = service.static_config
    assert (config.max_clients, config.max_servers, config.max_nodes,
            config.max_active_requests_per_client, config.max_response_buffer_size,
            config.max_loaned_requests, config.max_loaned_responses,
            config.max_borrowed_responses) == (3, 4, 5, 6, 7, 8, 9, 10)
    assert config.fire_and_forget is False
    assert config.overflow == axon.OverflowPolicy.Refuse and config.access == axon.Access.Owner
    assert config.request_type == axon.PayloadType("examples::RequestData", 8, 8)
    assert config.response_type == axon.PayloadType.of(ResponseData)
    assert (service.number_of_clients(), service.number_of_servers(),
            service.number_of_nodes()) == (0, 0, 1)


@pytest.mark.parametrize("change, error", [
    (dict(response=RequestData), "IncompatibleResponseType"),
    (dict(request=ResponseData), "IncompatibleRequestType"),
    (dict(max_servers=3), "DoesNotSupportRequestedAmountOfServers"),
    (dict(fire_and_forget=False), "IncompatibleFireAndForget"),
    (dict(overflow_policy=axon.OverflowPolicy.Block), "IncompatibleOverflowPolicy")])
def test_open_checks_every_requirement(node, service_name, change, error):
    name = service_name()
    _service = service_of(node, name, max_servers=2)
    settings = dict(request=RequestData, response=ResponseData)
    settings.update(change)
    builder = node.service_builder(name).request_response(settings.pop("request"),
                                                           settings.pop("response"))
    for setting, value in settings.items():
        getattr(builder, setting)(value)
    with pytest.raises(axon.RequestResponseOpenError, match=error):
        builder.open()


def test_create_and_open_errors(node, service_name):
    name = service_name()
    with pytest.raises(axon.RequestResponseOpenError, match="DoesNotExist"):
        node.service_builder(name).request_response(RequestData, ResponseData).open()
    _service = service_of(node, name)
    with pytest.raises(axon.RequestResponseCreateError, match="AlreadyExists"):
        node.service_builder(name).request_response(RequestData, ResponseData).create()
    event_name = service_name()
    _event = node.service_builder(event_name).event().create()
    with pytest.raises(axon.RequestResponseOpenError, match="IncompatibleMessagingPattern"):
        node.service_builder(event_name).request_response(RequestData, ResponseData).open()
    with pytest.raises(axon.RequestResponseCreateError, match="InvalidSettings"):
        node.service_builder(service_name()).request_response(RequestData, ResponseData) \
            .max_clients(0).create()
    service = service_of(node, service_name(), max_clients=1, max_servers=1)
    _client, _server = service.client_builder().create(), service.server_builder().create()
    with pytest.raises(axon.ClientCreateError, match="ExceedsMaxClients"):
        service.client_builder().create()
    with pytest.raises(axon.ServerCreateError, match="ExceedsMaxServers"):
        service.server_builder().create()


def test_a_stream_goes_through_shared_memory_without_a_copy(node, service_name):
    _, client, server = ports(node, service_name())
    assert client.number_of_servers() == 1
    request = client.loan()
    data = request.value  # a RequestData over the client's shared memory
    data.number = 42
    with pytest.raises(BufferError):
        request.send()  # `data` still views the loan
    del data
    pending = request.send()
    with pytest.raises(ValueError):
        request.send()
    assert pending.request == bytes(RequestData(42))
    assert pending.request_id == 1 and pending.number_of_server_connections() == 1
    assert not pending.is_done() and pending.receive() is None

    active = server.receive()
    assert active.value.number == 42 and len(active) == 1
    assert active.client_id == client.id and active.request_id == 1
    assert active.is_connected()
    view = numpy.frombuffer(active, dtype=numpy.uint64)  # the client's chunk, read-only
    assert not view.flags.writeable and list(view) == [42]
    for step in range(2):
        response = active.loan_uninit()
        value = response.value
        value.request, value.step, value.value = 42, step, 42 * (step + 1)
        del value
        response.send()
    active.send_copy(ResponseData(42, 2, 126))
    with pytest.raises(BufferError):
        active.close()  # `view` still reads the request
    del view
    active.close()
    active.close()  # harmless
    assert active.closed
    with pytest.raises(ValueError):
        active.is_connected()

    received = []
    while (response := pending.receive()) is not None:
        assert response.server_id == server.id
        received.append((response.sequence, response.value.step, response.value.value))
    assert received == [(0, 0, 42), (1, 1, 84), (2, 2, 126)]
    assert pending.is_done() and pending.number_of_server_connections() == 0


def test_closing_the_pending_response_cancels_the_request(node, service_name):
    _, client, server = ports(node, service_name())
    with client.send_copy(RequestData(1)) as pending:
        active = server.receive()
        assert active.is_connected()
    assert pending.closed
    with pytest.raises(ValueError):
        pending.receive()
    assert not active.is_connected()
    with pytest.raises(axon.ResponseSendError, match="NotConnected"):
        active.send_copy(ResponseData(1, 0, 1))
    with active:
        pass
    assert active.closed


def test_without_fire_and_forget_a_cancelled_request_is_skipped(node, service_name):
    _, client, server = ports(node, service_name(), fire_and_forget=False)
    client.send_copy(RequestData(1)).close()
    kept = client.send_copy(RequestData(2))
    with server.receive() as active:
        assert active.value.number == 2
    assert server.receive() is None
    assert kept.receive() is None and kept.is_done()


def test_a_response_view_keeps_it_borrowed_until_it_goes(node, service_name):
    _, client, server = ports(node, service_name(), max_borrowed_responses=1)
    pending = client.send_copy(RequestData(5))
    with server.receive() as active:
        for step in range(2):
            active.send_copy(ResponseData(5, step, step))
    view = numpy.frombuffer(pending.receive(), dtype=numpy.uint64)  # the response itself is gone
    with pytest.raises(axon.ResponseReceiveError, match="ExceedsMaxBorrowedResponses"):
        pending.receive()
    assert list(view) == [5, 0, 0]
    del view
    response = pending.receive()
    memory = memoryview(response)
    with pytest.raises(BufferError):
        response.release()
    memory.release()
    response.release()
    with pytest.raises(BufferError):
        memoryview(response)
    assert pending.receive() is None and pending.is_done()


def test_send_and_loan_errors(node, service_name):
    _, client, server = ports(node, service_name(), max_active_requests_per_client=1,
                              max_loaned_requests=1, max_loaned_responses=1)
    with pytest.raises(axon.RequestSendError, match="PayloadSizeMismatch"):
        client.send_copy(b"short")
    loan = client.loan()
    with pytest.raises(axon.LoanError, match="ExceedsMaxLoans"):
        client.loan()
    pending = loan.send()
    with pytest.raises(axon.RequestSendError, match="ExceedsMaxActiveRequests"):
        client.send_copy(RequestData(2))
    active = server.receive()
    with pytest.raises(axon.ResponseSendError, match="PayloadSizeMismatch"):
        active.send_copy(b"x")
    response = active.loan()
    with pytest.raises(axon.LoanError, match="ExceedsMaxLoans"):
        active.loan()
    active.close()
    with pytest.raises(ValueError):
        response.send()  # its stream was ended
    del response, pending


def test_slices_of_4_mib_both_ways(node, service_name):
    service = service_of(node, service_name(), request=ctypes.c_uint8, response=ctypes.c_uint8,
                         request_is_slice=True, response_is_slice=True)
    client = service.client_builder().max_slice_len(4 * MiB).create()
    server = service.server_builder().max_slice_len(4 * MiB).block_timeout(0.5).create()
    assert client.max_slice_len == 4 * MiB and server.max_slice_len == 4 * MiB
    request = client.loan_uninit(4 * MiB)
    numpy.frombuffer(request, dtype=numpy.uint8)[:] = 7
    pending = request.send()
    with server.receive() as active:
        assert len(active) == 4 * MiB
        response = active.loan_uninit(MiB)
        out = numpy.frombuffer(response, dtype=numpy.uint8)
        out[:] = numpy.frombuffer(active, dtype=numpy.uint8)[:MiB] + 1
        del out
        response.send()
    received = pending.receive()
    image = numpy.frombuffer(received, dtype=numpy.uint8)
    again = numpy.frombuffer(received.payload, dtype=numpy.uint8)
    assert image.__array_interface__["data"][0] == again.__array_interface__["data"][0]
    assert len(received) == MiB and (image == 8).all()


def test_notify_on_send_wakes_the_other_side(node, service_name):
    name = service_name()
    _, client, server = ports(node, name)
    requests = node.service_builder(name + "/req").event().open_or_create()
    responses = node.service_builder(name + "/res").event().open_or_create()
    server_listener = requests.listener_builder().create()
    client_listener = responses.listener_builder().create()
    notifier = requests.notifier_builder().create()
    client.notify_on_send(notifier)
    with pytest.raises(RuntimeError):
        notifier.notify()  # given away
    server.notify_on_send(responses.notifier_builder().create())
    pending = client.send_copy(RequestData(3))
    assert server_listener.timed_wait(5) != []
    with server.receive() as active:
        active.send_copy(ResponseData(3, 0, 3))
    assert client_listener.timed_wait(5) != []
    assert pending.receive().value.value == 3


def test_a_killed_cpp_server_ends_the_python_stream_with_server_gone(node, spawn, service_name):
    name = service_name()
    server_process = spawn(cpp_program("request_response_server") +
                           [name, "--responses", "3", "--pause-ms", "60000"])
    service = node.service_builder(name).request_response(RequestData, ResponseData) \
        .open_or_create()
    client = service.client_builder().create()
    assert eventually(lambda: client.number_of_servers() == 1)
    # The server sleeps until notified: tell it through SERVICE/new_request.
    client.notify_on_send(node.service_builder(name + "/new_request").event().open_or_create()
                          .notifier_builder().create())
    pending = client.send_copy(RequestData(9))
    server_process.wait_for_line("Send response 0 to request 9")
    assert eventually(lambda: pending.receive() is not None)
    server_process.proc.kill()
    server_process.proc.wait()

    def gone():
        try:
            pending.receive()
        except axon.ResponseReceiveError as error:
            return error.name
        return None
    assert eventually(gone) == "ServerGone"
    assert pending.is_done()


CLIENT = {"python": python_example("request_response", "client.py"),
          "cpp": "request_response_client"}
SERVER = {"python": python_example("request_response", "server.py"),
          "cpp": "request_response_server"}


def argv_of(program):
    return cpp_program(program) if isinstance(program, str) else program


@pytest.mark.parametrize("client, server", [
    ("python", "python"), ("python", "cpp"), ("cpp", "python")])
@pytest.mark.parametrize("stop", [SIGINT, SIGTERM])
def test_client_and_server_across_languages(node, spawn, service_name, client, server, stop):
    name = service_name()
    server_process = spawn(argv_of(SERVER[server]) + [name, "--pause-ms", "5"])
    # A request goes to the servers connected when it is sent: wait for the server's port.
    service = node.service_builder(name).request_response(RequestData, ResponseData) \
        .open_or_create()
    assert eventually(lambda: service.number_of_servers() == 1)
    client_process = spawn(argv_of(CLIENT[client]) + [name, "--interval-ms", "20",
                                                       "--count", "3"])
    status, lines, err = client_process.finish(timeout=20)
    assert (status, lines[-1]) == (0, "exit"), err
    for n in range(3):
        assert f"Send request {n}" in lines
        for step in range(3):
            assert f"Received response {step} to request {n}: {n * (step + 1)}" in lines
        assert f"Request {n}: stream ended after 3 responses" in lines
    server_process.wait_for_line("Ended the stream of request 2")
    server_process.signal(stop)
    status, lines, err = server_process.finish(timeout=5)
    assert (status, lines[-1]) == (0, "exit"), err
    assert lines[:5] == ["Received request 0"] + [f"Send response {s} to request 0"
                                                    for s in range(3)] + \
        ["Ended the stream of request 0"]


def test_a_blocking_response_send_lets_other_threads_run_and_refuses_its_server_meanwhile(
        node, service_name):
    import threading
    import time
    service = service_of(node, service_name(), max_response_buffer_size=1,
                         overflow_policy=axon.OverflowPolicy.Block)
    client = service.client_builder().create()
    server = service.server_builder().block_timeout(10.0).create()
    pending = client.send_copy(RequestData(1))
    active = server.receive()
    active.send_copy(ResponseData(1))  # the client's buffer for this request is full now
    spare = active.loan()  # dropped by this thread while the other one sends
    blocked = active.loan()
    outcome = []
    started = threading.Event()

    def send():
        started.set()
        blocked.send()
        outcome.append("sent")
    sender = threading.Thread(target=send)
    start = time.monotonic()
    sender.start()
    assert started.wait(5)
    time.sleep(0.05)  # let it block: nothing to poll for inside the send
    assert sender.is_alive()  # still waiting for room, and this thread runs
    with pytest.raises(RuntimeError, match="in use by another thread"):
        active.loan()
    with pytest.raises(RuntimeError, match="in use by another thread"):
        active.close()
    with pytest.raises(RuntimeError, match="in use by another thread"):
        server.receive()
    del spare  # kept until the send returns, then given back by the sender
    assert pending.receive() is not None  # makes room: the send goes through
    sender.join(5)
    assert outcome == ["sent"] and time.monotonic() - start < 5
    assert pending.receive() is not None
    active.close()
    assert eventually(pending.is_done)
