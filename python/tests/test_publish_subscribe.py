"""Publish-subscribe from Python: zero-copy loans and receives, views that keep samples alive,
ctypes payloads matched against C++ structs, and the examples across languages."""

import ctypes
import io
import selectors
import time

import numpy
import pytest

import axon
from conftest import EXAMPLES, SIGINT, SIGTERM, cpp_program, python_example

import sys
sys.path.insert(0, str(EXAMPLES / "publish_subscribe"))
from transmission_data import TransmissionData  # noqa: E402

MiB = 1 << 20


def ports(node, name, payload, **settings):
    builder = node.service_builder(name).publish_subscribe(payload, settings.pop("is_slice", False))
    for setting, value in settings.items():
        getattr(builder, setting)(value)
    service = builder.open_or_create()
    return service, service.publisher_builder(), service.subscriber_builder().create()


def test_payload_type_of_a_ctypes_structure_is_the_cpp_one():
    assert axon.PayloadType.of(TransmissionData) == \
        axon.PayloadType("examples::TransmissionData", 24, 8)

    class Point(ctypes.Structure):
        _fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float)]
    assert axon.PayloadType.of(Point, True) == axon.PayloadType("Point", 8, 4, is_slice=True)


def test_a_typed_sample_goes_through_shared_memory(node, service_name):
    service, publisher_builder, subscriber = ports(node, service_name(), TransmissionData)
    assert service.static_config.type_name == "examples::TransmissionData"
    publisher = publisher_builder.create()
    sample = publisher.loan()
    data = sample.value
    data.counter, data.x, data.y, data.funky = 7, -1, 21, 2.5
    with pytest.raises(BufferError):
        sample.send()  # `data` still views the loan
    del data
    assert sample.send() == 1
    with pytest.raises(ValueError):
        sample.send()
    received = subscriber.receive()
    value = received.value
    assert (value.counter, value.x, value.y, value.funky) == (7, -1, 21, 2.5)
    assert received.sequence == 0 and received.publisher_id == publisher.id
    assert subscriber.receive() is None


def test_another_payload_type_is_incompatible(node, service_name):
    name = service_name()
    _service = node.service_builder(name).publish_subscribe(TransmissionData).create()

    class TransmissionDataV2(ctypes.Structure):
        AXON_TYPE_NAME = "examples::TransmissionData"
        _fields_ = [("counter", ctypes.c_uint64)]
    with pytest.raises(axon.PubSubOpenError, match="IncompatibleTypes"):
        node.service_builder(name).publish_subscribe(TransmissionDataV2).open()


def test_a_4_mib_numpy_image_is_received_without_a_copy(node, service_name):
    _, publisher_builder, subscriber = ports(node, service_name(), ctypes.c_uint8, is_slice=True)
    publisher = publisher_builder.max_slice_len(4 * MiB).create()
    sample = publisher.loan_uninit(4 * MiB)
    image = numpy.frombuffer(sample, dtype=numpy.uint8).reshape(1024, 4096)
    image[:] = numpy.arange(4096, dtype=numpy.uint8)
    del image
    sample.send()
    received = subscriber.receive()
    first = numpy.frombuffer(received, dtype=numpy.uint8)
    second = numpy.frombuffer(received.payload, dtype=numpy.uint8)
    # Both views are the one chunk in shared memory: same address, read-only, nothing copied.
    assert first.__array_interface__["data"][0] == second.__array_interface__["data"][0]
    assert not first.flags.writeable
    assert len(received) == 4 * MiB
    assert (first.reshape(1024, 4096)[5] == numpy.arange(4096, dtype=numpy.uint8)).all()


def test_a_view_keeps_its_sample_borrowed_until_it_goes(node, service_name):
    _, publisher_builder, subscriber = ports(
        node, service_name(), ctypes.c_uint32, is_slice=True, subscriber_max_borrowed_samples=1,
        subscriber_max_buffer_size=4)
    publisher = publisher_builder.max_slice_len(4).create()
    for n in range(2):
        publisher.send_copy(numpy.full(4, n, dtype=numpy.uint32))
    view = numpy.frombuffer(subscriber.receive(), dtype=numpy.uint32)  # the sample itself is gone
    with pytest.raises(axon.SubscriberReceiveError, match="ExceedsMaxBorrowedSamples"):
        subscriber.receive()
    assert list(view) == [0, 0, 0, 0]  # still readable: the view holds the sample
    del view
    sample = subscriber.receive()
    memory = memoryview(sample)
    with pytest.raises(BufferError):
        sample.release()
    assert memory.tolist() == list(numpy.full(4, 1, dtype=numpy.uint32).tobytes())
    memory.release()
    sample.release()
    with pytest.raises(ValueError):
        sample.sequence
    with pytest.raises(BufferError):
        memoryview(sample)


def test_send_copy_and_loan_errors(node, service_name):
    _, publisher_builder, _ = ports(node, service_name(), TransmissionData, publisher_max_loans=1)
    publisher = publisher_builder.create()
    with pytest.raises(axon.PublisherSendError, match="PayloadSizeMismatch"):
        publisher.send_copy(b"short")
    assert publisher.send_copy(TransmissionData(1, 2, 3, 4.0)) == 1
    _loan = publisher.loan()
    with pytest.raises(axon.PublisherLoanError, match="ExceedsMaxLoans"):
        publisher.loan()


def wait_received(process, count=2):
    for _ in range(count):
        process.wait_for_line(lambda line: line.startswith("Received sample "))


@pytest.mark.parametrize("publisher, subscriber", [
    ("python", "python"), ("cpp", "python"), ("python", "cpp")])
@pytest.mark.parametrize("poll", [False, True])
def test_publisher_and_subscriber_across_languages(spawn, service_name, publisher, subscriber,
                                                    poll):
    name = service_name()
    pub_argv = python_example("publish_subscribe", "publisher.py") if publisher == "python" \
        else cpp_program("publish_subscribe_publisher")
    sub_argv = python_example("publish_subscribe", "subscriber.py") if subscriber == "python" \
        else cpp_program("publish_subscribe_subscriber")
    sub = spawn(sub_argv + [name] + (["--poll"] if poll else []))
    pub = spawn(pub_argv + [name, "--interval-ms", "20"])
    pub.wait_for_line("Send sample 0")
    wait_received(sub)
    for process, signal_number in ((pub, SIGINT), (sub, SIGTERM)):
        process.signal(signal_number)
        status, lines, err = process.finish(timeout=5)
        assert (status, lines[-1]) == (0, "exit"), err


def test_the_numpy_image_examples_move_4_mib_without_a_copy(spawn, service_name):
    name = service_name()
    subscriber = spawn(python_example("publish_subscribe", "image_subscriber.py") + [name])
    publisher = spawn(python_example("publish_subscribe", "image_publisher.py") +
                      [name, "--interval-ms", "20"])
    publisher.wait_for_line("Send image 0")
    for _ in range(3):
        line = subscriber.wait_for_line(lambda l: l.startswith("Received image "))
        assert line.endswith(": 2048x2048, in shared memory, pixels as drawn"), line
    for process, signal_number in ((publisher, SIGTERM), (subscriber, SIGINT)):
        process.signal(signal_number)
        status, lines, err = process.finish(timeout=5)
        assert (status, lines[-1]) == (0, "exit"), err


def test_a_blocking_send_lets_other_threads_run_and_refuses_its_publisher_meanwhile(
        node, service_name):
    import threading
    import time
    _, publisher_builder, subscriber = ports(
        node, service_name(), ctypes.c_uint64, subscriber_max_buffer_size=1,
        overflow_policy=axon.OverflowPolicy.Block)
    publisher = publisher_builder.block_timeout(10.0).create()
    assert publisher.send_copy(ctypes.c_uint64(1)) == 1  # the subscriber's buffer is full now
    spare = publisher.loan()  # dropped by this thread while the other one sends
    blocked = publisher.loan()
    outcome = []
    started = threading.Event()

    def send():
        started.set()
        outcome.append(blocked.send())
    sender = threading.Thread(target=send)
    start = time.monotonic()
    sender.start()
    assert started.wait(5)
    time.sleep(0.05)  # let it block: nothing to poll for inside the send
    assert sender.is_alive()  # still waiting for room, and this thread runs
    with pytest.raises(RuntimeError, match="in use by another thread"):
        publisher.loan()
    del spare  # kept until the send returns, then given back by the sender
    assert subscriber.receive().value.value == 1  # makes room: the send goes through
    sender.join(5)
    assert outcome == [1] and time.monotonic() - start < 5
    assert subscriber.receive() is not None
    assert publisher.loan() is not None  # the publisher is free again


def test_a_wakeable_subscriber_sleeps_in_a_waitset_until_a_cpp_publisher_sends(spawn, node,
                                                                                service_name):
    name = service_name()
    service = node.service_builder(name).publish_subscribe(TransmissionData).open_or_create()
    subscriber = service.subscriber_builder().wakeable(True).create()
    waitset = axon.WaitSetBuilder().create()
    guard = waitset.attach_notification(subscriber)
    # Nothing sent yet: the wait times out with nothing.
    assert waitset.wait(0.05)[1] == []
    publisher = spawn(cpp_program("publish_subscribe_publisher") + [name, "--interval-ms", "20"])
    counters = []
    while len(counters) < 5:
        _, triggered = waitset.wait(10)
        assert triggered, "no wake-up within 10 s"
        assert triggered[0].has_event_from(guard)
        while (sample := subscriber.receive()) is not None:
            counters.append(sample.value.counter)
    assert counters == list(range(len(counters)))
    publisher.signal(SIGINT)
    assert publisher.finish(timeout=5)[0] == 0


def test_a_wakeable_subscribers_fileno_is_readable_exactly_while_a_sample_may_wait(
        node, service_name):
    service = node.service_builder(service_name()).publish_subscribe(TransmissionData) \
        .open_or_create()
    subscriber = service.subscriber_builder().wakeable().create()
    publisher = service.publisher_builder().create()
    with selectors.DefaultSelector() as selector:
        selector.register(subscriber, selectors.EVENT_READ)  # through fileno()
        assert selector.select(0) == []
        publisher.send_copy(TransmissionData(7, 0, 0, 0.0))
        assert len(selector.select(1)) == 1
        assert subscriber.receive().value.counter == 7
        assert len(selector.select(0)) == 1  # still: no receive has found nothing yet
        assert subscriber.receive() is None
        assert selector.select(0) == []


def test_a_subscriber_that_is_not_wakeable_cannot_be_waited_on(node, service_name):
    service = node.service_builder(service_name()).publish_subscribe(TransmissionData) \
        .open_or_create()
    subscriber = service.subscriber_builder().create()
    waitset = axon.WaitSetBuilder().create()
    with pytest.raises(axon.WaitSetAttachmentError, match="NotWakeable"):
        waitset.attach_notification(subscriber)
    with pytest.raises(axon.WaitSetAttachmentError, match="NotWakeable"):
        waitset.attach_deadline(subscriber, 0.1)
    with pytest.raises(io.UnsupportedOperation, match="wakeable"):
        subscriber.fileno()


def test_a_deadline_on_a_wakeable_subscriber_reports_a_silent_publisher(node, service_name):
    service = node.service_builder(service_name()).publish_subscribe(TransmissionData) \
        .open_or_create()
    subscriber = service.subscriber_builder().wakeable().create()
    publisher = service.publisher_builder().create()
    waitset = axon.WaitSetBuilder().create()
    guard = waitset.attach_deadline(subscriber, 0.05)
    publisher.send_copy(TransmissionData(1, 0, 0, 0.0))
    _, first = waitset.wait(1)
    assert len(first) == 1 and first[0].has_event_from(guard)
    assert subscriber.receive() is not None and subscriber.receive() is None
    _, second = waitset.wait(1)
    assert len(second) == 1 and second[0].has_missed_deadline(guard)


class Stamp(ctypes.Structure):
    AXON_TYPE_NAME = "test::python::Stamp"
    _fields_ = [("frame", ctypes.c_uint64), ("source", ctypes.c_uint32),
                ("flags", ctypes.c_uint32)]


def test_a_user_header_and_the_send_time_travel_with_each_sample(node, service_name):
    name = service_name()
    service = node.service_builder(name).publish_subscribe(TransmissionData) \
        .user_header(Stamp).create()
    assert service.static_config.user_header_name == "test::python::Stamp"
    assert service.user_header_type == axon.PayloadType.of(Stamp)
    publisher = service.publisher_builder().create()
    subscriber = service.subscriber_builder().create()
    sample = publisher.loan()
    assert sample.user_header == bytes(ctypes.sizeof(Stamp))  # zeroed at the loan
    sample.user_header = bytes(Stamp(frame=41, source=2, flags=3))
    with pytest.raises(ValueError):
        sample.user_header = b"\x00"  # not its size
    before = time.monotonic_ns()
    assert sample.send() == 1
    received = subscriber.receive()
    after = time.monotonic_ns()
    stamp = Stamp.from_buffer_copy(received.user_header)
    assert (stamp.frame, stamp.source, stamp.flags) == (41, 2, 3)
    assert before <= received.send_time_ns <= after

    # The header is part of the type: without it (or with another) the service does not open.
    with pytest.raises(axon.PubSubOpenError, match="IncompatibleTypes"):
        node.service_builder(name).publish_subscribe(TransmissionData).open()


def test_connection_stats_count_what_the_ports_did(node, service_name):
    service, publisher_builder, subscriber = ports(
        node, service_name(), TransmissionData, subscriber_max_buffer_size=4,
        overflow_policy=axon.OverflowPolicy.Refuse)
    publisher = publisher_builder.create()
    for _ in range(6):
        publisher.send_copy(TransmissionData())
    (stats,) = service.connection_stats()
    assert (stats.publisher_id, stats.subscriber_id) == (publisher.id, subscriber.id)
    assert (stats.delivered, stats.refused, stats.queued) == (4, 2, 4)
    while subscriber.receive() is not None:
        pass
    (stats,) = service.connection_stats()
    assert (stats.received, stats.high_water, stats.queued) == (4, 4, 0)
    assert sum(stats.latency_histogram) == 4
    assert 0 < stats.latency_quantile_ns(0.5) <= stats.latency_quantile_ns(1.0)
    assert axon.ConnectionStats.bucket_floor_ns(8) == 8
