"""Sends the same odd requests and options to NBD servers through libnbd's Python bindings, with
libnbd's own checks off (strict mode 0), and prints one JSON line a case and server:
{"case": ..., "server": ..., "outcome": ...}. The outcome is "ok" (with a digest of data read or
the answer asked for) or "err:" the errno name (libnbd's message where it gives no errno),
followed by whether a 512-byte read on the same connection still works afterwards.

Usage: requests.py [--psk FILE:USERNAME] [--sixty-four-bit] SIZE LABEL=SOCKET[,readonly] ...
Every server serves the export "disk0" (or any name) of SIZE bytes of zeroes on a Unix socket;
the read-only ones take only the read-only cases. With --psk every connection requires TLS with
that pre-shared key. With --sixty-four-bit only the cases of effect lengths past 32 bits run (on
an export of more than 8 GiB; libnbd 1.18 or later, which asks for extended headers).
"""
import errno
import hashlib
import json
import sys

import nbd


def outcome(call):
    try:
        value = call()
    except nbd.Error as e:
        if e.errno:
            return "err:" + errno.errorcode.get(e.errno, str(e.errno))
        return "err:" + e.string
    if isinstance(value, (bytes, bytearray)):
        return "ok:" + hashlib.sha256(value).hexdigest()[:12]
    return "ok" if value is None else "ok:" + repr(value)


PSK = None


def handle(socket, name="disk0", structured=True, meta=None, handshake=None, opt_mode=False, extended=True):
    h = nbd.NBD()
    if PSK:
        h.set_tls(nbd.TLS_REQUIRE)
        h.set_tls_psk_file(PSK[0])
        h.set_tls_username(PSK[1])
    h.set_request_structured_replies(structured)
    if not extended:
        h.set_request_extended_headers(False)
    if meta:
        h.add_meta_context(meta)
    if handshake is not None:
        h.set_handshake_flags(handshake)
    h.set_opt_mode(opt_mode)
    h.set_export_name(name)
    h.connect_unix(socket)
    h.set_strict_mode(0)
    return h


def done(h):
    try:
        h.shutdown()
    except nbd.Error:
        pass


def then_read(h, call):
    first = outcome(call)
    if h.aio_is_negotiating():
        after = outcome(lambda: h.opt_list(lambda name, description: 0)).split(":")[0]
    else:
        after = outcome(lambda: h.pread(512, 0)).split(":")[0]
    return first + " then " + after


def extended(h):
    """Whether extended headers were negotiated (None for a libnbd that knows none: before 1.18)."""
    if not hasattr(h, "get_extended_headers_negotiated"):
        return None
    return h.get_extended_headers_negotiated()


def extents64(h, length, offset=0, flags=0):
    got = []
    h.block_status_64(length, offset, lambda ctx, at, entries, err: got.append((ctx, list(entries))) or 0, flags)
    return got


def extents(h, length, flags=0):
    got = []
    h.block_status(length, 0, lambda ctx, offset, entries, err: got.append((ctx, list(entries))) or 0, flags)
    return got


def filtered(h, length, offset=0, flags=0):
    """Block status filtered to base:allocation (a payload naming it; libnbd 1.18 and later). With
    strict mode 0 libnbd sets the payload flag only when told to: told, whatever was negotiated."""
    got = []
    h.block_status_filter(length, offset, ["base:allocation"],
                          lambda ctx, at, entries, err: got.append((ctx, list(entries))) or 0,
                          flags | nbd.CMD_FLAG_PAYLOAD_LEN)
    return got


def meta_contexts(h, queries):
    h.clear_meta_contexts()
    for q in queries:
        h.add_meta_context(q)
    got = []
    h.opt_list_meta_context(lambda context: got.append(context) or 0)
    return sorted(c for c in got if c.startswith("base:"))


def info(h, name):
    h.set_export_name(name)
    h.opt_info()
    return h.get_size()


def pipelined(h, size):
    """32 requests in flight at once, every third one past the end: each one's own outcome, then the data."""
    buffers, cookies = [], []
    for i in range(32):
        offset = size if i % 3 == 2 else i * 4096
        if i % 2 == 0:
            buf = nbd.Buffer(4096)
            buffers.append(buf)
            cookies.append(h.aio_pread(buf, offset))
        else:
            cookies.append(h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray([i]) * 4096), offset))
    while h.aio_in_flight() > 0:
        h.poll(-1)
    results = [outcome(lambda: h.aio_command_completed(c)) for c in cookies]
    return results, hashlib.sha256(h.pread(32 * 4096, 0)).hexdigest()[:12]


def transmission(size):
    """Requests on a writable export: (name, call on a handle)."""
    no_op = lambda *args: 0
    return [
        ("read zero bytes", lambda h: h.pread(0, 0)),
        ("read at the end", lambda h: h.pread(4096, size)),
        ("read across the end", lambda h: h.pread(4096, size - 512)),
        ("read at 2^63-512", lambda h: h.pread(512, (1 << 63) - 512)),
        ("read the export whole, up to 32 MiB", lambda h: h.pread(min(size, 32 << 20), 0)),
        ("read with FUA", lambda h: h.pread(512, 0, nbd.CMD_FLAG_FUA)),
        ("read with DF", lambda h: h.pread(512, 0, nbd.CMD_FLAG_DF)),
        ("read with an unknown flag", lambda h: h.pread(512, 0, 0x8000)),
        ("read with REQ_ONE", lambda h: h.pread(512, 0, nbd.CMD_FLAG_REQ_ONE)),
        ("write zero bytes", lambda h: h.pwrite(b"", 0)),
        ("write at the end", lambda h: h.pwrite(b"x" * 4096, size)),
        ("write across the end", lambda h: h.pwrite(b"x" * 4096, size - 512)),
        ("write with FUA", lambda h: h.pwrite(b"y" * 512, 4096, nbd.CMD_FLAG_FUA)),
        ("write with REQ_ONE", lambda h: h.pwrite(b"y" * 512, 4096, nbd.CMD_FLAG_REQ_ONE)),
        ("write with DF", lambda h: h.pwrite(b"y" * 512, 4096, nbd.CMD_FLAG_DF)),
        ("write with NO_HOLE", lambda h: h.pwrite(b"y" * 512, 4096, nbd.CMD_FLAG_NO_HOLE)),
        ("write with an unknown flag", lambda h: h.pwrite(b"y" * 512, 4096, 0x100)),
        ("read back a write", lambda h: h.pread(8192, 0)),
        ("trim at the end", lambda h: h.trim(4096, size)),
        ("trim across the end", lambda h: h.trim(4096, size - 512)),
        ("trim with FUA", lambda h: h.trim(4096, 8192, nbd.CMD_FLAG_FUA)),
        ("trim with FAST_ZERO", lambda h: h.trim(4096, 8192, nbd.CMD_FLAG_FAST_ZERO)),
        ("zero at the end", lambda h: h.zero(4096, size)),
        ("zero with FAST_ZERO", lambda h: h.zero(4096, 4096, nbd.CMD_FLAG_FAST_ZERO)),
        ("zero with NO_HOLE and FUA", lambda h: h.zero(4096, 4096, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FUA)),
        ("zero with DF", lambda h: h.zero(4096, 4096, nbd.CMD_FLAG_DF)),
        ("zero the whole export", lambda h: h.zero(size, 0)),
        ("read back zeroes", lambda h: h.pread(8192, 0)),
        ("cache at the end", lambda h: h.cache(4096, size)),
        ("cache with NO_HOLE", lambda h: h.cache(4096, 0, nbd.CMD_FLAG_NO_HOLE)),
        ("flush", lambda h: h.flush()),
        ("flush with FUA", lambda h: h.flush(nbd.CMD_FLAG_FUA)),
        ("flush with NO_HOLE", lambda h: h.flush(nbd.CMD_FLAG_NO_HOLE)),
        ("block status of zero bytes", lambda h: h.block_status(0, 0, no_op)),
        ("block status at the end", lambda h: h.block_status(4096, size, no_op)),
        ("block status past the end", lambda h: h.block_status(8192, size - 4096, no_op)),
        ("block status of 4 GiB - 1", lambda h: h.block_status(0xFFFFFFFF, 0, no_op)),
        ("block status with REQ_ONE", lambda h: h.block_status(size, 0, no_op, nbd.CMD_FLAG_REQ_ONE)),
        ("block status with FUA", lambda h: h.block_status(size, 0, no_op, nbd.CMD_FLAG_FUA)),
        ("block status with DF", lambda h: h.block_status(size, 0, no_op, nbd.CMD_FLAG_DF)),
        ("block status after a trim", lambda h: (h.trim(1 << 20, 0), extents(h, 1 << 20))[1]),
        ("block status after zeroing", lambda h: (h.zero(1 << 20, 0), extents(h, 1 << 20))[1]),
        ("32 requests in flight", lambda h: pipelined(h, size)),
        ("extended headers negotiated", extended),
    ] + ([
        ("block status payload offered", lambda h: h.can_block_status_payload()),
        ("filtered block status after a write",
         lambda h: (h.pwrite(b"f" * 65536, 1 << 20), filtered(h, size))[1]),
        ("filtered block status with REQ_ONE", lambda h: filtered(h, size, 0, nbd.CMD_FLAG_REQ_ONE)),
        ("filtered block status past the end", lambda h: filtered(h, 8192, size - 4096)),
        ("filtered block status of zero bytes", lambda h: filtered(h, 0, 4096)),
    ] if hasattr(nbd.NBD, "block_status_filter") else [])


def sixty_four_bit(size):
    """Effect lengths past 32 bits, on an export of more than 8 GiB: (name, call on a handle)."""
    gib = 1 << 30
    return [
        ("zero 5 GiB", lambda h: h.zero(5 * gib, gib)),
        ("zero 5 GiB with FAST_ZERO", lambda h: h.zero(5 * gib, gib, nbd.CMD_FLAG_FAST_ZERO)),
        ("trim 6 GiB", lambda h: h.trim(6 * gib, 2 * gib)),
        ("cache 5 GiB", lambda h: h.cache(5 * gib, 0)),
        ("write, zero 5 GiB over it, read back",
         lambda h: (h.pwrite(b"w" * 4096, 3 * gib), h.zero(5 * gib, gib), h.pread(8192, 3 * gib - 4096))[2]),
        ("write, then block status of the whole export",
         lambda h: (h.pwrite(b"d" * (1 << 20), 6 * gib), extents64(h, size))[1]),
        ("block status of 5 GiB with REQ_ONE", lambda h: extents64(h, 5 * gib, 0, nbd.CMD_FLAG_REQ_ONE)),
        ("block status of 2^40 from 1 GiB", lambda h: extents64(h, 1 << 40, gib)),
        ("zero across the end by 4 GiB", lambda h: h.zero(5 * gib, size - gib)),
        ("trim across the end by 4 GiB", lambda h: h.trim(5 * gib, size - gib)),
        ("trim of 2^63 bytes", lambda h: h.trim(1 << 63, 0)),
        ("zero of 2^64 - 1 bytes", lambda h: h.zero((1 << 64) - 1, 0)),
        ("extended headers negotiated", extended),
    ]


def read_only():
    return [
        ("write to a read-only export", lambda h: h.pwrite(b"a" * 512, 0)),
        ("write with FUA to a read-only export", lambda h: h.pwrite(b"a" * 512, 0, nbd.CMD_FLAG_FUA)),
        ("trim a read-only export", lambda h: h.trim(512, 0)),
        ("zero a read-only export", lambda h: h.zero(512, 0)),
        ("fast zero a read-only export", lambda h: h.zero(512, 0, nbd.CMD_FLAG_FAST_ZERO)),
        ("flush a read-only export", lambda h: h.flush()),
        ("cache a read-only export", lambda h: h.cache(512, 0)),
        ("read a read-only export", lambda h: h.pread(4096, 0)),
        ("read-only export's flags", lambda h: (h.is_read_only(), h.can_trim(), h.can_zero(), h.can_fast_zero())),
    ]


def negotiation():
    """Options in negotiation mode: (name, call on a negotiating handle)."""
    long_name = "x" * 4096
    return [
        ("INFO for a 4096-byte name", lambda h: info(h, long_name)),
        ("INFO for disk0", lambda h: info(h, "disk0")),
        ("LIST_META_CONTEXT of nothing", lambda h: meta_contexts(h, [])),
        ("LIST_META_CONTEXT base:", lambda h: meta_contexts(h, ["base:"])),
        ("LIST_META_CONTEXT base:allocation", lambda h: meta_contexts(h, ["base:allocation"])),
        ("LIST_META_CONTEXT base:alloc", lambda h: meta_contexts(h, ["base:alloc"])),
        ("LIST_META_CONTEXT of unknown namespaces", lambda h: meta_contexts(h, ["x-nope:", "BASE:allocation"])),
        ("LIST_META_CONTEXT of a 65000-byte query", lambda h: meta_contexts(h, ["base:" + "a" * 65000])),
        ("GO for disk0 after INFO for another", lambda h: (info(h, "disk0"), h.set_export_name("disk0"), h.opt_go(), h.get_size())[3]),
    ] + ([
        # libnbd 1.18 and later: it has asked for extended headers (or structured replies where
        # refused) already; asked again, the answer says whether the server took the duplicate.
        ("STRUCTURED_REPLY after what libnbd negotiated", lambda h: h.opt_structured_reply()),
        ("EXTENDED_HEADERS after what libnbd negotiated", lambda h: h.opt_extended_headers()),
        ("EXTENDED_HEADERS after what libnbd negotiated, then GO", lambda h: (h.opt_extended_headers(), h.opt_go(), h.get_size())),
        ("SET_META_CONTEXT of nothing, then GO", lambda h: (
            h.opt_set_meta_context_queries([], lambda ctx: 0), h.opt_go(), h.can_meta_context("base:allocation"))),
        ("SET_META_CONTEXT base:allocation, then GO", lambda h: (
            h.opt_set_meta_context_queries(["base:allocation"], lambda ctx: 0), h.opt_go(),
            h.can_meta_context("base:allocation"))),
        ("SET_META_CONTEXT of unknown contexts", lambda h: h.opt_set_meta_context_queries(
            ["base:", "x-nope:y", "base:allocation:extra"], lambda ctx: 0)),
    ] + ([] if PSK else [
        ("STARTTLS where TLS is off", lambda h: h.opt_starttls()),
    ]) if hasattr(nbd.NBD, "opt_extended_headers") else [])


def main():
    global PSK
    args = sys.argv[1:]
    if args[0] == "--psk":
        PSK = args[1].rsplit(":", 1)
        args = args[2:]
    wide = args[0] == "--sixty-four-bit"
    if wide:
        args = args[1:]
    size = int(args[0])
    servers = []
    for arg in args[1:]:
        label, spec = arg.split("=", 1)
        socket, _, mode = spec.partition(",")
        servers.append((label, socket, mode == "readonly"))

    def emit(case, label, result):
        print(json.dumps({"case": case, "server": label, "outcome": result}), flush=True)

    if wide:
        for case, call in sixty_four_bit(size):
            for label, socket, ro in servers:
                h = handle(socket, meta="base:allocation")
                emit(case, label, then_read(h, lambda: call(h)))
                done(h)
        return
    # What this libnbd asks for first (extended headers from 1.18 on, else structured replies);
    # where it asks for extended headers, structured replies without them too; simple replies.
    modes = [("", True, True)]
    if hasattr(nbd.NBD, "set_request_extended_headers"):
        modes.append(("structured replies, not extended: ", True, False))
    modes.append(("simple replies: ", False, True))
    for prefix, structured, ext in modes:
        for case, call in transmission(size):
            for label, socket, ro in servers:
                if not ro:
                    h = handle(socket, structured=structured, meta="base:allocation", extended=ext)
                    emit(prefix + case, label, then_read(h, lambda: call(h)))
                    done(h)
    for case, call in read_only():
        for label, socket, ro in servers:
            if ro:
                h = handle(socket)
                emit(case, label, then_read(h, lambda: call(h)))
                done(h)
    for prefix, _, ext in modes[:-1]:  # options need no simple-replies pass
        for case, call in negotiation():
            for label, socket, ro in servers:
                if not ro:
                    h = handle(socket, opt_mode=True, extended=ext)
                    emit(prefix + case, label, then_read(h, lambda: call(h)))
                    done(h)
    # Without fixed newstyle a client cannot ask for TLS: these go only without it.
    for case, flags, name in [] if PSK else [
        ("oldstyle client flags, disk0", 0, "disk0"),
        ("only NO_ZEROES, disk0", nbd.HANDSHAKE_FLAG_NO_ZEROES, "disk0"),
    ]:
        for label, socket, ro in servers:
            if not ro:
                emit(case, label, outcome(lambda: handle(socket, name=name, handshake=flags).get_size()))


main()
