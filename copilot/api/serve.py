"""Run the API: headless (`agent-copilot serve`) or in a thread beside the window."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from copilot.api.models import DEFAULT_PORT
from copilot.api.server import check_loopback, create_app
from copilot.errors import CopilotError

log = logging.getLogger(__name__)


@dataclass
class RunningApi:
    host: str
    port: int
    token: str
    server: Any
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on loopback only; a busy port is a clear error."""
    host = check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CopilotError(
            f"The API cannot listen on {host}:{port} ({exc.strerror}). Another program may use "
            f"the port: choose another with --port (the default is {DEFAULT_PORT})."
        ) from None
    sock.listen(64)
    return sock


def prepare(
    live: Any, token: str, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> tuple[RunningApi, socket.socket]:
    import uvicorn

    sock = bind(host, port)
    app = create_app(live, token)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    bound = sock.getsockname()
    return RunningApi(host=bound[0], port=bound[1], token=token, server=server), sock


def start_in_thread(live: Any, token: str, host: str = "127.0.0.1", port: int = 0) -> RunningApi:
    running, sock = prepare(live, token, host, port)
    server = running.server
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    running.thread = thread
    return running


def serve_forever(live: Any, token: str, host: str, port: int) -> None:
    running, sock = prepare(live, token, host, port)
    print(f"API listening on {running.url} (OpenAPI at {running.url}/openapi.json)", flush=True)
    running.server.run(sockets=[sock])
