"""The Python client against a real faultdisk, with qemu-io as the client whose I/O the faults hit."""

from __future__ import annotations

import ast
import json
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import List

import pytest

from faultdisk import Client, NotQmp, QmpError, Server, Timeout

TIMEOUT = 60.0


def qemu_io(uri: str, *commands: str, cache: str = "writethrough") -> subprocess.CompletedProcess:
    argv = ["qemu-io", "-f", "raw", "-t", cache]
    for c in commands:
        argv += ["-c", c]
    return subprocess.run(argv + [uri], capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(autouse=True)
def _needs_qemu_io() -> None:
    if shutil.which("qemu-io") is None:
        pytest.fail("qemu-io is missing (Debian package qemu-utils)")


def in_background(target) -> "tuple[threading.Thread, List[subprocess.CompletedProcess]]":
    results: List[subprocess.CompletedProcess] = []
    thread = threading.Thread(target=lambda: results.append(target()), daemon=True)
    thread.start()
    return thread, results


def test_a_blkdebug_rule_fails_exactly_one_write(faultdisk: Client, faultdisk_server: Server) -> None:
    uri = faultdisk_server.uri()
    faultdisk.blkdebug_set_rules("disk0", [{"event": "write_aio", "type": "inject-error", "errno": 28, "once": True}])
    failed = qemu_io(uri, "write -P 0xab 0 4k")
    assert "write failed: No space left on device" in failed.stdout + failed.stderr
    assert faultdisk.query_blockstats("disk0")["write"]["errors"] == 1
    assert qemu_io(uri, "write -P 0xab 0 4k").returncode == 0
    read = qemu_io(uri, "read -P 0xab 0 4k")
    assert read.returncode == 0 and "Pattern verification failed" not in read.stdout


def test_the_server_says_where_each_export_is_served(faultdisk: Client, faultdisk_server: Server) -> None:
    uri = faultdisk.export_uri("disk0")
    assert uri == faultdisk_server.uri("disk0")
    assert qemu_io(uri, "write -P 0x11 0 4k", "read -P 0x11 0 4k").returncode == 0
    assert faultdisk.export_uri("nope") is None


def test_a_breakpoint_holds_a_write_until_the_with_block_resumes_it(faultdisk: Client, faultdisk_server: Server) -> None:
    uri = faultdisk_server.uri()
    with faultdisk.breakpoint("disk0", "write_aio", "w") as bp:
        writer, done = in_background(lambda: qemu_io(uri, "write -P 0x5a 1M 64k"))
        held = bp.wait_hit(TIMEOUT)
        assert (held["offset"], held["length"]) == (1 << 20, 65536)
        assert qemu_io(uri, "read -P 0 1M 64k").returncode == 0, "another client reads the old data meanwhile"
        assert writer.is_alive()
        bp.resume()
        writer.join(TIMEOUT)
    assert done[0].returncode == 0, done[0].stdout
    assert "Pattern verification failed" not in qemu_io(uri, "read -P 0x5a 1M 64k").stdout


def test_fault_rules_in_a_with_block_hold_then_release(faultdisk: Client, faultdisk_server: Server) -> None:
    uri = faultdisk_server.uri()
    with faultdisk.faults("disk0", {"type": "hang", "ops": ["write"], "nth": 2}) as ids:
        writer, done = in_background(lambda: qemu_io(uri, "write -P 1 0 4k", "write -P 2 4k 4k"))
        event = faultdisk.await_event("FAULT_INJECTED", lambda e: e.data.get("action") == "held", TIMEOUT)
        assert event.device == "disk0"
        [held] = faultdisk.query_held_requests("disk0")
        assert (held.operation, held.offset, held.rule) == ("write", 4096, ids[0])
        assert faultdisk.fault_release("disk0") == [held.id]
        writer.join(TIMEOUT)
    assert done[0].returncode == 0, done[0].stdout
    assert faultdisk.query_faults("disk0") == [], "the with block removed its rules"
    released = faultdisk.await_event("FAULT_RELEASED", timeout=TIMEOUT)
    assert released.data["how"] == "released"


def test_a_power_cut_loses_what_the_writeback_cache_held(faultdisk: Client, faultdisk_server: Server) -> None:
    uri = faultdisk_server.uri()
    assert qemu_io(uri, "write -P 7 0 64k").returncode == 0
    faultdisk.write_cache_set_mode("disk0", "writeback")
    # qemu-io flushes as it exits: hold that flush, and cut the power while the write is still cached.
    with faultdisk.breakpoint("disk0", "flush_to_os", "exit-flush") as bp:
        writer, done = in_background(lambda: qemu_io(uri, "write -P 9 0 64k", cache="writeback"))
        bp.wait_hit(TIMEOUT)
        assert faultdisk.query_write_cache("disk0")["dirty-bytes"] == 65536
        report = faultdisk.power_fail("disk0", mode="drop-all", seed=1)
        assert report["bytes-lost"] == 65536
        assert faultdisk.await_event("POWER_FAIL", timeout=TIMEOUT).data["device"] == "disk0"
    writer.join(TIMEOUT)
    read = qemu_io(uri, "read -P 7 0 64k")
    assert read.returncode == 0 and "Pattern verification failed" not in read.stdout, "the durable data is back"


def test_the_cache_switch_reports_a_disarmed_flush_error(faultdisk: Client) -> None:
    faultdisk.write_cache_set_mode("disk0", "writeback")
    faultdisk.write_cache_arm_flush_error("disk0")
    assert faultdisk.query_write_cache("disk0")["deferred-error-armed"] is True
    assert faultdisk.write_cache_set_mode("disk0", "writethrough") is True
    assert faultdisk.write_cache_set_mode("disk0", "writethrough") is False


@pytest.mark.faultdisk_exports("disk0=memory:8M", "data=memory:1M")
def test_refusals_raise_with_qemus_error_class(faultdisk: Client, faultdisk_server: Server) -> None:
    assert faultdisk.exports() == ["disk0", "data"]
    with pytest.raises(QmpError) as e:
        faultdisk.blkdebug_clear_rules("dsik0")
    assert e.value.error_class == "DeviceNotFound"
    assert e.value.desc == "Device 'dsik0' not found (did you mean disk0? exports: disk0, data)"
    with pytest.raises(QmpError) as e:
        faultdisk.fault_preset("data", "flaky")
    assert "did you mean flaky-disk?" in e.value.desc
    assert len(faultdisk.fault_preset("data", "flaky-disk", up_ms=5000, down_ms=500)) >= 1
    assert {"FAULT_INJECTED", "BLKDEBUG_SUSPENDED", "POWER_FAIL"} <= set(faultdisk.query_events())


def test_the_nbd_socket_is_not_mistaken_for_qmp(faultdisk_server: Server) -> None:
    with pytest.raises(NotQmp, match="NBD server"):
        Client("unix:" + faultdisk_server.nbd_socket, timeout=TIMEOUT)


def test_the_sources_are_python_3_9() -> None:
    package = Path(__file__).resolve().parent.parent / "faultdisk"
    for source in sorted(package.glob("*.py")):
        ast.parse(source.read_text(), str(source), feature_version=(3, 9))


def test_the_servers_notices_of_dropped_events_are_summed(tmp_path: Path) -> None:
    """A session that fell behind gets EVENTS_DROPPED: the client sums the counts and still queues the events.

    The peer is a scripted QMP server: the real one sends the notice only to a client that stops reading,
    which this client's reader thread never does."""
    path = tmp_path / "qmp.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def peer() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rwb") as f:
            f.write(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "p"}, '
                    b'"capabilities": []}}\r\n')
            f.flush()
            request = json.loads(f.readline())
            f.write(json.dumps({"return": {}, "id": request["id"]}).encode() + b"\r\n")
            for name, count in (("EVENTS_DROPPED", 5), ("FAULT_INJECTED", 40), ("EVENTS_DROPPED", 7)):
                event = {"timestamp": {"seconds": 1, "microseconds": 0}, "event": name, "data": {"count": count}}
                f.write(json.dumps(event).encode() + b"\r\n")
            f.flush()
            f.readline()  # until the client closes

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        with Client(f"unix:{path}", timeout=10) as client:
            last = client.await_event("EVENTS_DROPPED", match=lambda e: e.data["count"] == 7)
            assert last.data["count"] == 7
            assert client.server_dropped_events == 12
            assert [e.name for e in client.drain_events()] == ["EVENTS_DROPPED", "FAULT_INJECTED"]
            with pytest.raises(Timeout, match="the server dropped 12 events for this client"):
                client.await_event("POWER_FAIL", timeout=0.1)
    finally:
        listener.close()
        thread.join(10)
