#!/usr/bin/env python3
"""Control latency: how soon a QMP command takes effect while the server is busy.

  control_latency.py QMP_PORT NBD_PORT EXPORT ROUNDS [process|thread]

Each round:
  fault-add   adds an error rule for reads of the export's first 4 KiB, while a probe client
              reads those 4 KiB in a loop (queue depth 1, its own connection); measured: the QMP
              round trip (the rule is in force when the reply is sent), and the time from sending
              the command to sending the first probe read that failed (an upper bound of when
              requests saw the rule, coarse by one probe round trip); then fault-clear.
  power-fail  after 16 unflushed 4 KiB writes (write cache in writeback mode), power-fail with
              the default mode; measured: the QMP round trip that returns the report.
  floor       in each fault-add round, with the probe running, query-version: a command that
              changes nothing. Its round trip is what the machine, the client and the QMP
              session cost without any fault work: the part of the other figures' tails that the
              rule path and power-fail did not add.

The probe runs in a process of its own (the default) and logs into memory shared with this one.
In a thread of this process (`thread`, as before) it took Python's interpreter lock between a
reply's arrival and the command's timer reading it: the floor's p99 was 2.8-6.6 ms under load,
the client's own tail inside a 5 ms goal.

Each measurement first runs WARMUP (20) rounds that are not recorded, as compare.sh's warm-up
run does: the server's JIT compiles the control path on the first calls.

Prints p50, p99 and max of each in milliseconds, one line each.
"""
import json
import mmap
import os
import signal
import socket
import statistics
import struct
import sys
import threading
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from nbd_clients import REQUEST_MAGIC, SIMPLE_REPLY_MAGIC, connect, recv_exact  # noqa: E402

CMD_READ, CMD_WRITE = 0, 1
WARMUP = 20


class Qmp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.call("qmp_capabilities")

    def call(self, name, **args):
        cmd = {"execute": name}
        if args:
            cmd["arguments"] = args
        self.f.write(json.dumps(cmd) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "event" in reply:
                continue
            if "return" not in reply:
                raise SystemExit(f"QMP {name}: {reply}")
            return reply["return"]


class Probe:
    """Reads the first 4 KiB in a loop; logs (send time, ok) of each read in a shared ring.

    The ring is an anonymous shared mapping, so a forked probe writes it and this process reads
    it without a system call; time.monotonic is the system's CLOCK_MONOTONIC in both processes.
    Slot i holds read i modulo SLOTS; the count, written after each slot, says how many there are.
    """

    SLOTS = 4096
    SLOT = struct.Struct("<dq")
    COUNT = struct.Struct("<q")

    def __init__(self, port, export, mode):
        self.port, self.export, self.mode = port, export, mode
        self.ring = mmap.mmap(-1, self.COUNT.size + self.SLOTS * self.SLOT.size)
        self.stopped = False
        self.pid = None
        self.thread = None

    def start(self):
        if self.mode == "thread":
            self.thread = threading.Thread(target=self.run, daemon=True)
            self.thread.start()
            return
        self.pid = os.fork()
        if self.pid == 0:
            try:
                self.run()
            finally:
                os._exit(0)

    def run(self):
        s = connect(self.port, self.export)
        cookie = 0
        while not self.stopped:
            sent = time.monotonic()
            s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, cookie + 1, 0, 4096))
            magic, error, _ = struct.unpack(">IIQ", recv_exact(s, 16))
            if magic != SIMPLE_REPLY_MAGIC:
                raise SystemExit("bad reply magic")
            if error == 0:
                recv_exact(s, 4096)
            self.SLOT.pack_into(self.ring, self.offset(cookie), sent, error == 0)
            cookie += 1
            self.COUNT.pack_into(self.ring, 0, cookie)
        s.close()

    def offset(self, i):
        """Where read i's slot is in the ring."""
        return self.COUNT.size + (i % self.SLOTS) * self.SLOT.size

    def recent(self, n):
        """The last n reads logged, oldest first, as (send time, ok).

        At most SLOTS - 64: the oldest slots may be written over while they are read.
        """
        count = self.COUNT.unpack_from(self.ring, 0)[0]
        return [
            self.SLOT.unpack_from(self.ring, self.offset(i))
            for i in range(max(0, count - min(n, self.SLOTS - 64)), count)
        ]

    def stop(self):
        if self.thread is not None:
            self.stopped = True
            self.thread.join(5)
        elif self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def report(name, ms):
    print(f"{name:<34} p50 {pct(ms, 50):7.2f} ms  p99 {pct(ms, 99):7.2f} ms  max {max(ms):7.2f} ms  (n={len(ms)})")


def main():
    qmp_port, nbd_port, export, rounds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    mode = sys.argv[5] if len(sys.argv) > 5 else "process"
    if mode not in ("process", "thread"):
        raise SystemExit(f"the probe runs in a process or a thread, not {mode!r}")
    probe = Probe(nbd_port, export, mode)
    probe.start()  # before the QMP session: a forked child must not share its socket
    try:
        qmp = Qmp(qmp_port)
        time.sleep(0.5)
        rtt, applied, floor = [], [], []
        rule = {"type": "error", "ops": ["read"], "offset": 0, "length": 4096, "errno": "EIO", "events": False}
        for n in range(WARMUP + rounds):
            if n == WARMUP:
                rtt.clear()
                applied.clear()
                floor.clear()
            t0 = time.monotonic()
            qmp.call("fault-add", device=export, rules=[rule])
            t1 = time.monotonic()
            rtt.append((t1 - t0) * 1000)
            deadline = time.monotonic() + 5
            first = None
            while first is None and time.monotonic() < deadline:
                for sent, ok in reversed(probe.recent(64)):
                    if sent >= t0 and not ok:
                        first = sent
                time.sleep(0.0005)
            if first is None:
                raise SystemExit("the probe saw no failed read within 5 s of fault-add")
            # The earliest failed read sent after t0 (the log is in order), or the one found above
            # if the window has moved past it meanwhile.
            late = (sent for sent, ok in probe.recent(Probe.SLOTS) if sent >= t0 and not ok)
            first = min(late, default=first)
            applied.append((first - t0) * 1000)
            qmp.call("fault-clear", device=export)
            time.sleep(0.005)
            t0 = time.monotonic()
            qmp.call("query-version")
            floor.append((time.monotonic() - t0) * 1000)
            time.sleep(0.005)
    finally:
        probe.stop()

    power = []
    qmp.call("write-cache-set-mode", device=export, mode="writeback")
    for r in range(WARMUP + rounds):
        if r == WARMUP:
            power.clear()
        s = connect(nbd_port, export)
        for i in range(16):
            s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_WRITE, i + 1, i * 4096, 4096) + bytes([r % 251 + 1]) * 4096)
        for _ in range(16):
            magic, error, _ = struct.unpack(">IIQ", recv_exact(s, 16))
            if magic != SIMPLE_REPLY_MAGIC or error:
                raise SystemExit(f"write failed: {error}")
        t0 = time.monotonic()
        qmp.call("power-fail", device=export)
        power.append((time.monotonic() - t0) * 1000)
        s.close()
    report("fault-add QMP round trip", rtt)
    report("fault-add to first failed read", applied)
    report("power-fail QMP round trip (report)", power)
    report("floor: query-version round trip", floor)


if __name__ == "__main__":
    main()
