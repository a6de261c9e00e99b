"""Starts a real ``faultdisk serve`` for a test: from a release (FAULTDISK_HOME, the unpacked
tarball, or ``faultdisk`` on the PATH) or from the runnable jar (FAULTDISK_JAR, run with the
``java`` of FAULTDISK_JAVA or JAVA_HOME). NBD and QMP listen on Unix sockets in a private
directory, so parallel tests never compete for ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

from .client import Client, FaultdiskError

STARTUP_TIMEOUT = 60.0


def command() -> List[str]:
    """The command that runs faultdisk here, found as the module docstring says."""
    home = os.environ.get("FAULTDISK_HOME")
    if home:
        return [str(Path(home) / "bin" / "faultdisk")]
    jar = os.environ.get("FAULTDISK_JAR")
    if jar:
        java = os.environ.get("FAULTDISK_JAVA") or (
            str(Path(os.environ["JAVA_HOME"]) / "bin" / "java") if os.environ.get("JAVA_HOME") else "java")
        return [java, "--enable-native-access=ALL-UNNAMED", "-jar", jar]
    on_path = shutil.which("faultdisk")
    if on_path:
        return [on_path]
    raise FaultdiskError("no faultdisk to run: set FAULTDISK_HOME (an unpacked release), FAULTDISK_JAR"
                         " (cli/target/faultdisk.jar) or put faultdisk on the PATH")


class Server:
    """A running ``faultdisk serve``; ``stop()`` (or the with block's end) sends SIGTERM."""

    def __init__(self, exports: Sequence[str] = ("disk0=memory:64M",), extra_args: Sequence[str] = ()) -> None:
        self.exports = list(exports)
        self._dir = tempfile.mkdtemp(prefix="faultdisk-")
        self.nbd_socket = os.path.join(self._dir, "nbd.sock")
        self.qmp_address = "unix:" + os.path.join(self._dir, "qmp.sock")
        argv = command() + ["serve", "--nbd", "unix:" + self.nbd_socket, "--qmp", self.qmp_address]
        for e in self.exports:
            argv += ["--export", e]
        argv += list(extra_args)
        self._out = open(os.path.join(self._dir, "serve.out"), "w+")
        self.process = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_started()

    def _wait_started(self) -> None:
        # The banner's last line says it listens; until then the sockets may not exist.
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Stop with Ctrl-C." not in self.output():
            if self.process.poll() is not None:
                raise FaultdiskError(f"faultdisk serve exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise FaultdiskError(f"faultdisk serve did not start within {STARTUP_TIMEOUT} s:\n{self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        with open(os.path.join(self._dir, "serve.out")) as f:
            return f.read()

    def uri(self, export: Optional[str] = None) -> str:
        """The NBD URI of an export (the first by default), as qemu-io, nbdinfo and libnbd take it."""
        name = export if export is not None else self.exports[0].split("=", 1)[0]
        return f"nbd+unix:///{name}?socket={self.nbd_socket}"

    def client(self, timeout: float = 30.0) -> Client:
        return Client(self.qmp_address, timeout)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then waits: connections close cleanly and file-backed exports are flushed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        return self.process.returncode

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
