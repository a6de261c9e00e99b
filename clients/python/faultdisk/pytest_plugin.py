"""pytest fixtures: ``faultdisk_server`` (a real server per test) and ``faultdisk`` (its client).

Enable with ``pytest_plugins = ["faultdisk.pytest_plugin"]`` in a conftest.py. A test chooses its
exports with ``@pytest.mark.faultdisk_exports("disk0=memory:64M", "data=memory:1G")``.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from .client import Client
from .server import Server


def pytest_configure(config: "pytest.Config") -> None:
    config.addinivalue_line("markers", "faultdisk_exports(*specs): the exports of the test's faultdisk server")


@pytest.fixture
def faultdisk_server(request: "pytest.FixtureRequest") -> Iterator[Server]:
    marker = request.node.get_closest_marker("faultdisk_exports")
    exports = marker.args if marker else ("disk0=memory:64M",)
    server = Server(exports)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def faultdisk(faultdisk_server: Server) -> Iterator[Client]:
    with faultdisk_server.client() as client:
        yield client
