"""The API behind a real uvicorn server on a free local port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from pricegraph.api.server import create_app
from pricegraph.api.services import Services


def free_port() -> int:
    """A local TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(services: Services) -> Iterator[str]:
    """``services`` served by uvicorn on ``127.0.0.1`` until the block ends; yields the
    base URL (``http://127.0.0.1:<port>``). Fails when the server is not up in 20 s."""
    port = free_port()
    app = create_app(services.settings, services=services)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 20 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
