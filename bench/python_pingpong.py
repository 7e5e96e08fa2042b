#!/usr/bin/env python3
"""python_pingpong.py: round-trip latency of axon publish-subscribe from Python, next to the C++
latency_pingpong figure of the same mode and size measured in the same run.

    PYTHONPATH=build/python python3 bench/python_pingpong.py [--bin build/bin] [--runs 3]
        [--rounds N] [--warmup N] [--sizes 8,4194304] [--modes spin,waitset]

The method is latency_pingpong's (bench/README.md), in Python: this process (the initiator,
pinned to the first allowed CPU) starts itself again as the responder (pinned to the second);
each has its own Node and ports. Two Slice[c_uint8] services (ping, pong), max slice = size,
subscriber buffer 1, no history. Send: loan_uninit(size), write the counter into the first 8
bytes (struct.pack_into on the sample's buffer, no copy of the payload), send. Receive: spin:
busy-poll receive(); waitset: the publisher notifies through notify_on_send, the receiver sleeps
in a WaitSet on its listener, drains it (try_wait), then receive()s; read 8 bytes, drop the
sample. Each reply is checked against the message it answers; warm-up rounds are not timed.

Each of --runs passes measures, size by size, the Python mode and then `latency_pingpong --mode
axon-pubsub-<mode>` with the same size, rounds and warm-up, back to back. Printed: one JSON line
per measurement, then a table of the medians of the passes' medians, with the Python overhead
(Python minus C++) and the 4 MiB / 8 B ratio."""

import argparse
import ctypes
import json
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import axon

COUNTER = struct.Struct("<Q")


def pin(cpu_index):
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[cpu_index]})


def open_ports(node, tag, size, mode, role):
    """(publisher, subscriber, listener or None) of `role` ("ping": the initiator sends on ping,
    "pong": the responder)."""
    def service(direction):
        return node.service_builder(f"axon-bench/python/{tag}/{direction}") \
            .publish_subscribe(ctypes.c_uint8, True).subscriber_max_buffer_size(1) \
            .history_size(0).open_or_create()

    def events(direction):
        return node.service_builder(f"axon-bench/python/{tag}/{direction}-evt").event() \
            .open_or_create()
    out_dir, in_dir = ("ping", "pong") if role == "ping" else ("pong", "ping")
    subscriber = service(in_dir).subscriber_builder().create()
    listener = events(in_dir).listener_builder().create() if mode == "waitset" else None
    out = service(out_dir)
    publisher = out.publisher_builder().max_slice_len(size).create()
    if mode == "waitset":
        publisher.notify_on_send(events(out_dir).notifier_builder().create())
    return out, publisher, subscriber, listener


def make_receive(subscriber, listener):
    """receive() -> the counter of the next sample, busy-polling or sleeping in a WaitSet."""
    if listener is None:
        def receive():
            while (sample := subscriber.receive()) is None:
                pass
            return COUNTER.unpack_from(sample)[0]
        return receive
    waitset = axon.WaitSetBuilder().signal_handling(False).create()
    guard = waitset.attach_notification(listener)

    def receive():
        while True:
            sample = subscriber.receive()
            if sample is not None:
                return COUNTER.unpack_from(sample)[0]
            waitset.wait_and_process_once(lambda _id: None)
            listener.try_wait()
    receive.keep = (waitset, guard)
    return receive


def send(publisher, size, counter):
    sample = publisher.loan_uninit(size)
    COUNTER.pack_into(sample, 0, counter)
    sample.send()


def responder(args):
    pin(1)
    node = axon.NodeBuilder().name("bench-responder").create()
    _, publisher, subscriber, listener = open_ports(node, args.tag, args.size, args.mode, "pong")
    receive = make_receive(subscriber, listener)
    for _ in range(args.warmup + args.rounds):
        send(publisher, args.size, receive())
    return 0


def initiator(args):
    """One measurement of the Python mode: a dict like latency_pingpong's JSON. The pinning of
    this process is undone afterwards: what it starts next (the responder of the next pass, the
    C++ latency_pingpong) would inherit one CPU, and two spinning processes on one CPU measure the
    scheduler's slice (8 ms), not the transport."""
    cpus = os.sched_getaffinity(0)
    try:
        return measure(args)
    finally:
        os.sched_setaffinity(0, cpus)


def measure(args):
    tag = f"{os.getpid()}-{args.mode}-{args.size}-{time.monotonic_ns()}"
    child = subprocess.Popen([sys.executable, __file__, "--responder", "--tag", tag,
                              "--mode", args.mode, "--size", str(args.size),
                              "--rounds", str(args.rounds), "--warmup", str(args.warmup)])
    pin(0)
    node = axon.NodeBuilder().name("bench-initiator").create()
    out, publisher, subscriber, listener = open_ports(node, tag, args.size, args.mode, "ping")
    receive = make_receive(subscriber, listener)
    # The barrier: the responder's subscriber and publisher exist (and its listener, which it
    # makes before its publisher), so no message of ours is lost.
    deadline = time.monotonic() + 30
    while out.number_of_subscribers() < 1 or publisher_count(node, tag) < 1:
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise RuntimeError("the responder did not start")
        time.sleep(0.001)
    times = []
    clock = time.perf_counter_ns
    for counter in range(args.warmup + args.rounds):
        started = clock()
        send(publisher, args.size, counter)
        reply = receive()
        elapsed = clock() - started
        if reply != counter:
            child.kill()
            raise RuntimeError(f"round {counter}: reply {reply}")
        if counter >= args.warmup:
            times.append(elapsed)
    if child.wait(timeout=30) != 0:
        raise RuntimeError("the responder failed")
    times.sort()
    return {"mode": f"python-pubsub-{args.mode}", "size": args.size, "rounds": args.rounds,
            "median_ns": times[len(times) // 2], "p90_ns": times[len(times) * 9 // 10],
            "p99_ns": times[len(times) * 99 // 100], "max_ns": times[-1],
            "mean_ns": sum(times) // len(times)}


def publisher_count(node, tag):
    return node.service_builder(f"axon-bench/python/{tag}/pong") \
        .publish_subscribe(ctypes.c_uint8, True).subscriber_max_buffer_size(1) \
        .history_size(0).open().number_of_publishers()


def cpp(args, binary):
    result = subprocess.run([str(binary), "--mode", f"axon-pubsub-{args.mode}", "--size",
                             str(args.size), "--rounds", str(args.rounds), "--warmup",
                             str(args.warmup)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(prog="python_pingpong.py", description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=str(Path(__file__).resolve().parents[1] / "build/bin"),
                        help="where latency_pingpong is")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--sizes", default=f"8,{4 << 20}")
    parser.add_argument("--modes", default="spin,waitset")
    parser.add_argument("--responder", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.responder:
        return responder(args)

    binary = Path(args.bin) / "latency_pingpong"
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    medians = {}
    for _ in range(args.runs):
        for mode in modes:
            for size in sizes:
                args.mode, args.size = mode, size
                for result in (initiator(args), cpp(args, binary)):
                    print(json.dumps(result), flush=True)
                    medians.setdefault((result["mode"], size), []).append(result["median_ns"])

    def us(mode, size):
        return statistics.median(medians[(mode, size)]) / 1000
    print(f"\nmedian of {args.runs} runs' medians, µs (Python and C++ back to back per size)")
    print("| mode | size | Python | C++ | Python - C++ | Python 4 MiB / 8 B |")
    print("|---|---|---|---|---|---|")
    for mode in modes:
        for size in sizes:
            py, cc = us(f"python-pubsub-{mode}", size), us(f"axon-pubsub-{mode}", size)
            flat = f"{py / us(f'python-pubsub-{mode}', sizes[0]):.2f}x" if size != sizes[0] else ""
            print(f"| pubsub-{mode} | {size} B | {py:.2f} | {cc:.2f} | {py - cc:+.2f} | {flat} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
