"""A client for faultdisk's control socket (QMP), standard library only.

The connection reads the greeting, negotiates capabilities and then answers commands by id, from
any thread; a reader thread queues events from the moment of connecting, so a test never misses
one that came before it started waiting.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Union

Json = Any
Address = Union[str, "tuple[str, int]"]

DEFAULT_TIMEOUT = 30.0


class FaultdiskError(Exception):
    """Base of every error this package raises."""


class QmpError(FaultdiskError):
    """The server refused a command: QMP's error class (GenericError, DeviceNotFound...) and text."""

    def __init__(self, command: str, error_class: str, desc: str) -> None:
        super().__init__(f"{command}: {error_class}: {desc}")
        self.command = command
        self.error_class = error_class
        self.desc = desc


class ConnectionLost(FaultdiskError):
    """The connection failed or the server closed it."""


class NotQmp(FaultdiskError):
    """The address answered with another protocol (e.g. faultdisk's NBD port)."""


class Timeout(FaultdiskError):
    """A reply or an awaited event did not come in time."""


@dataclass(frozen=True)
class Event:
    """An asynchronous QMP event: its name, data and the server's timestamp (seconds)."""

    name: str
    data: Dict[str, Json]
    timestamp: float

    @property
    def device(self) -> Optional[str]:
        return self.data.get("device")


@dataclass(frozen=True)
class HeldRequest:
    """A request a hang rule or a trigger holds (query-held-requests)."""

    device: str
    id: int
    operation: str
    offset: int
    length: int
    rule: Optional[int] = None
    trigger: Optional[int] = None

    @staticmethod
    def of(m: Dict[str, Json]) -> "HeldRequest":
        return HeldRequest(
            device=m["device"],
            id=m["id"],
            operation=m["operation"],
            offset=m.get("offset", 0),
            length=m.get("length", 0),
            rule=m.get("rule"),
            trigger=m.get("trigger"),
        )


def parse_address(address: Address) -> "tuple[int, Any]":
    """(family, sockaddr) for "HOST:PORT", "unix:PATH" or a (host, port) pair."""
    if isinstance(address, tuple):
        return socket.AF_INET, address
    if address.startswith("unix:"):
        return socket.AF_UNIX, address[len("unix:"):]
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address must be HOST:PORT or unix:PATH, not {address!r}")
    return socket.AF_INET, (host or "127.0.0.1", int(port))


class Client:
    """A connected, negotiated control client; close it (or use it as a context manager)."""

    def __init__(self, address: Address = "127.0.0.1:4444", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.address = address
        self.timeout = timeout
        family, sockaddr = parse_address(address)
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(sockaddr)
        except OSError as e:
            self._sock.close()
            raise ConnectionLost(f"cannot connect to {address}: {e}") from e
        self._sock.settimeout(None)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, "_Reply"] = {}
        self._events: Deque[Event] = collections.deque(maxlen=10_000)
        self._server_dropped = 0
        self._arrived = threading.Condition()
        self._ended: Optional[str] = None
        self._greeting = _Reply()
        self._reader = threading.Thread(target=self._read_loop, name=f"faultdisk-qmp {address}", daemon=True)
        self._reader.start()
        try:
            self.greeting = self._greeting.wait(timeout, f"the QMP greeting from {address}")
            self.execute("qmp_capabilities")
        except BaseException:
            self.close()
            raise

    # ---- the protocol

    def execute(self, command: str, arguments: Optional[Dict[str, Json]] = None, timeout: Optional[float] = None) -> Json:
        """Runs any command and returns its "return" value; raises QmpError when refused."""
        msg_id = next(self._ids)
        reply = _Reply()
        message: Dict[str, Json] = {"execute": command, "id": msg_id}
        if arguments:
            message["arguments"] = arguments
        with self._lock:
            if self._ended:
                raise ConnectionLost(f"{command}: {self._ended}")
            self._pending[msg_id] = reply
            try:
                self._sock.sendall((json.dumps(message) + "\n").encode("utf-8"))
            except OSError as e:
                self._pending.pop(msg_id, None)
                raise ConnectionLost(f"{command}: {e}") from e
        try:
            answer = reply.wait(self.timeout if timeout is None else timeout, f"the reply to {command}")
        finally:
            self._pending.pop(msg_id, None)
        if "error" in answer:
            error = answer["error"]
            raise QmpError(command, error.get("class", "GenericError"), error.get("desc", ""))
        return answer.get("return")

    def _read_loop(self) -> None:
        why = "the server closed the connection"
        buffer = b""
        first = True
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                if first and buffer.startswith(b"NBDMAGIC"):
                    why = "it is an NBD server (it greeted with NBDMAGIC), not a QMP control socket"
                    self._greeting.fail(NotQmp(f"{self.address}: {why}"))
                    break
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    first = False
                    if line.strip():
                        self._dispatch(json.loads(line))
        except (OSError, ValueError) as e:
            why = f"connection failed: {e}"
        finally:
            self._end(why)

    def _dispatch(self, message: Dict[str, Json]) -> None:
        if "QMP" in message:
            self._greeting.set(message["QMP"])
        elif "event" in message:
            ts = message.get("timestamp") or {}
            event = Event(message["event"], message.get("data") or {},
                          ts.get("seconds", 0) + ts.get("microseconds", 0) / 1e6)
            with self._arrived:
                if event.name == "EVENTS_DROPPED" and isinstance(event.data.get("count"), int):
                    self._server_dropped += event.data["count"]
                self._events.append(event)
                self._arrived.notify_all()
        elif "id" in message:
            reply = self._pending.get(message["id"])
            if reply is not None:
                reply.set(message)

    def _end(self, why: str) -> None:
        if self._ended is None:
            self._ended = why
        self._greeting.fail(ConnectionLost(f"{self.address}: {why}"))
        for reply in list(self._pending.values()):
            reply.fail(ConnectionLost(why))
        with self._arrived:
            self._arrived.notify_all()

    def close(self) -> None:
        if self._ended is None:
            self._ended = "the client was closed"
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._reader.join(5)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- events

    def await_event(self, name: Optional[str] = None, match: Optional[Callable[[Event], bool]] = None,
                    timeout: Optional[float] = None) -> Event:
        """Takes the oldest queued event with this name (any, if None) that {match} accepts, waiting for one."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._arrived:
            while True:
                for event in self._events:
                    if (name is None or event.name == name) and (match is None or match(event)):
                        self._events.remove(event)
                        return event
                left = deadline - time.monotonic()
                if self._ended is not None:
                    raise ConnectionLost(f"waiting for {name or 'an event'}: {self._ended}")
                if left <= 0:
                    lost = (f"; the server dropped {self._server_dropped} events for this client, which fell behind"
                            if self._server_dropped else "")
                    raise Timeout(f"no event {name or ''} within {timeout if timeout is not None else self.timeout} s"
                                  + lost)
                self._arrived.wait(left)

    @property
    def server_dropped_events(self) -> int:
        """Events the server did not send because this client fell behind (the sum of EVENTS_DROPPED counts)."""
        with self._arrived:
            return self._server_dropped

    def drain_events(self) -> List[Event]:
        """Forgets (and returns) every event queued so far."""
        with self._arrived:
            events = list(self._events)
            self._events.clear()
        return events

    def query_events(self) -> List[str]:
        """The names of the events the server emits."""
        return [e["name"] for e in self.execute("query-events")]

    # ---- exports

    def query_block(self) -> List[Dict[str, Json]]:
        return self.execute("query-block")

    def exports(self) -> List[str]:
        return [b["device"] for b in self.query_block()]

    def export_uri(self, device: str) -> Optional[str]:
        """The NBD URI a client on the server's host uses for an export (query-block's "uri"), or None."""
        for b in self.query_block():
            if b["device"] == device and b.get("uri"):
                return b["uri"]
        return None

    def query_blockstats(self, device: str) -> Dict[str, Dict[str, int]]:
        """One export's counters per operation: {"write": {"operations": 2, "bytes": 8192, "errors": 0}, ...}."""
        return self.execute("query-blockstats", {"device": device})[0]["stats"]

    def export_add(self, name: str, spec: str) -> Json:
        return self.execute("export-add", {"name": name, "spec": spec})

    def export_remove(self, name: str) -> Json:
        return self.execute("export-remove", {"name": name})

    # ---- blkdebug rules and breakpoints

    def blkdebug_set_rules(self, device: str, rules: Sequence[Dict[str, Json]]) -> None:
        """Adds QEMU blkdebug rules, e.g. {"event": "write_aio", "type": "inject-error", "errno": 28, "once": True}."""
        self.execute("blkdebug-set-rules", {"device": device, "rules": list(rules)})

    def blkdebug_clear_rules(self, device: str) -> None:
        self.execute("blkdebug-clear-rules", {"device": device})

    def query_blkdebug_rules(self, device: str) -> Dict[str, Json]:
        return self.execute("query-blkdebug-rules", {"device": device})

    def breakpoint(self, device: str, event: str, tag: str) -> "Breakpoint":
        """Sets a breakpoint; use it as a context manager, which removes it (releasing what it holds)."""
        self.execute("blkdebug-set-breakpoint", {"device": device, "event": event, "tag": tag})
        return Breakpoint(self, device, event, tag)

    # ---- fault rules

    def fault_add(self, device: str, rules: Sequence[Dict[str, Json]]) -> List[int]:
        """Adds fault rules (docs/faults/), all or none; returns their ids."""
        return self.execute("fault-add", {"device": device, "rules": list(rules)})["ids"]

    @contextlib.contextmanager
    def faults(self, device: str, *rules: Dict[str, Json]) -> Iterator[List[int]]:
        """The rules for the duration of a with block: removed after it, which releases what they hold."""
        ids = self.fault_add(device, rules)
        try:
            yield ids
        finally:
            if self._ended is None:
                self.fault_remove(device, ids)

    def fault_preset(self, device: str, preset: str, **params: Json) -> List[int]:
        """Adds a preset's rules (limping-disk, dying-disk, flaky-disk); params as in docs/faults/presets.md."""
        arguments: Dict[str, Json] = {"device": device, "preset": preset}
        if params:
            arguments["params"] = {k.replace("_", "-"): v for k, v in params.items()}
        return self.execute("fault-preset", arguments)["ids"]

    def fault_remove(self, device: str, ids: Sequence[int]) -> Json:
        return self.execute("fault-remove", {"device": device, "ids": list(ids)})

    def fault_clear(self, device: str) -> Json:
        return self.execute("fault-clear", {"device": device})

    def query_faults(self, device: str) -> List[Dict[str, Json]]:
        return self.execute("query-faults", {"device": device})

    def query_held_requests(self, device: str) -> List[HeldRequest]:
        return [HeldRequest.of(m) for m in self.execute("query-held-requests", {"device": device})]

    def fault_release(self, device: str, ids: Optional[Sequence[int]] = None, order: Optional[str] = None,
                      errno: Optional[str] = None) -> List[int]:
        """Lets held requests go on (or fail with errno), each after the one before finished; returns their ids."""
        arguments: Dict[str, Json] = {"device": device}
        if ids is not None:
            arguments["ids"] = list(ids)
        if order is not None:
            arguments["order"] = order
        if errno is not None:
            arguments["errno"] = errno
        return self.execute("fault-release", arguments)["released"]

    # ---- write cache and power

    def query_write_cache(self, device: str) -> Dict[str, Json]:
        return self.execute("query-write-cache", {"device": device})

    def write_cache_set_mode(self, device: str, mode: str) -> bool:
        """writethrough, writeback or lying-flush; returns whether an armed flush error was disarmed."""
        reply = self.execute("write-cache-set-mode", {"device": device, "mode": mode})
        return bool(reply and reply.get("flush-error-disarmed"))

    def write_cache_arm_flush_error(self, device: str) -> None:
        self.execute("write-cache-arm-flush-error", {"device": device})

    def power_fail(self, device: str, mode: Optional[str] = None, seed: Optional[int] = None) -> Dict[str, Json]:
        """Cuts the export's power (drop-all, random-subset, torn-writes); returns what was lost."""
        arguments: Dict[str, Json] = {"device": device}
        if mode is not None:
            arguments["mode"] = mode
        if seed is not None:
            arguments["seed"] = seed
        return self.execute("power-fail", arguments)

    # ---- triggers, snapshots, reset

    def trigger_add(self, *triggers: Dict[str, Json]) -> List[int]:
        return self.execute("trigger-add", {"triggers": list(triggers)})["ids"]

    def trigger_clear(self) -> Json:
        return self.execute("trigger-clear")

    def snapshot_create(self, device: str, name: str) -> Json:
        return self.execute("snapshot-create", {"device": device, "name": name})

    def snapshot_revert(self, device: str, name: str) -> Json:
        return self.execute("snapshot-revert", {"device": device, "name": name})

    def reset(self, device: Optional[str] = None, snapshot: Optional[str] = None) -> Json:
        arguments: Dict[str, Json] = {}
        if device is not None:
            arguments["device"] = device
        if snapshot is not None:
            arguments["snapshot"] = snapshot
        return self.execute("reset", arguments)


@dataclass
class Breakpoint:
    """A blkdebug breakpoint: wait for its hit, act while the request is held, resume it."""

    client: Client
    device: str
    event: str
    tag: str
    _closed: bool = field(default=False, repr=False)

    def wait_hit(self, timeout: Optional[float] = None) -> Dict[str, Json]:
        """Returns the held request (BLKDEBUG_SUSPENDED's data) as soon as one is held; a hit before the call counts."""
        event = self.client.await_event(
            "BLKDEBUG_SUSPENDED",
            lambda e: e.device == self.device and e.data.get("tag") == self.tag,
            timeout,
        )
        return event.data

    def resume(self) -> None:
        """Lets the held request go on; the breakpoint, which fires once, is gone with it."""
        self.client.execute("blkdebug-resume", {"device": self.device, "tag": self.tag})
        self._closed = True

    def close(self) -> None:
        """Removes the breakpoint; a request it still holds goes on.

        Nothing is left to remove when the request it held was dropped with its connection (the
        client went away, or a power cut closed it): that is not an error here.
        """
        if not self._closed:
            self._closed = True
            try:
                self.client.execute("blkdebug-remove-breakpoint", {"device": self.device, "tag": self.tag})
            except QmpError as e:
                if not e.desc.startswith("No breakpoint or suspended request"):
                    raise

    def __enter__(self) -> "Breakpoint":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reply:
    """One awaited message (a reply, or the greeting), or the failure that ended the wait."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Json = None
        self._error: Optional[BaseException] = None

    def set(self, value: Json) -> None:
        if not self._done.is_set():
            self._value = value
            self._done.set()

    def fail(self, error: BaseException) -> None:
        if not self._done.is_set():
            self._error = error
            self._done.set()

    def wait(self, timeout: float, what: str) -> Json:
        if not self._done.wait(timeout):
            raise Timeout(f"no {what} within {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value
