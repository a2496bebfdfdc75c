"""``policyrules serve``: the service on uvicorn, on a socket bound here (so ``--port 0`` can
say the port it took, as the first line of standard output), with reload on SIGHUP.

With one worker the app runs in this process and SIGHUP reloads the folder in process. With
several, uvicorn's supervisor runs the workers (each builds its app through
`app_from_environment`), and SIGHUP to the supervisor is passed to each worker, which reloads
in process; so a bad edit keeps every worker serving its old set.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from starlette.applications import Starlette

from .app import create_app
from .state import PolicyStore

__all__ = ["ENVIRONMENT", "app_from_environment", "install_reload_signal", "run"]

#: The settings a worker process reads (JSON), set by `run` for several workers.
ENVIRONMENT = "POLICYRULES_SERVE_SETTINGS"
log = logging.getLogger("policyrules.service")


def _logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     [policyrules] %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def install_reload_signal(store: PolicyStore) -> bool:
    """SIGHUP reloads ``store`` (in a thread, so the event loop keeps answering). False where
    signals cannot be set (not the main thread, no SIGHUP)."""
    hup = getattr(signal, "SIGHUP", None)
    if hup is None or threading.current_thread() is not threading.main_thread():
        return False

    def on_hup(signum: int, frame: Any) -> None:
        log.info("SIGHUP: reloading %s", store.folder)
        threading.Thread(target=store.reload, name="policyrules-reload", daemon=True).start()

    signal.signal(hup, on_hup)
    return True


def app_from_environment() -> Starlette:
    """The app of one worker, from the settings `run` put in the environment (a uvicorn factory:
    ``uvicorn --factory policyrules.service.serve:app_from_environment``)."""
    _logging()
    settings = json.loads(os.environ.get(ENVIRONMENT, "{}"))
    store = PolicyStore(settings.get("policies"))
    install_reload_signal(store)
    return create_app(store=store, max_body=int(settings.get("max_body", 10 * 2**20)),
                      enable_reload_endpoint=bool(settings.get("enable_reload_endpoint", False)))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given, so that asyncio sets TCP_NODELAY on each connection accepted from it (it does
    # only for sockets that say IPPROTO_TCP): without it every answer waits ~40 ms for Nagle
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(policies: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        max_body: int = 10 * 2**20, enable_reload_endpoint: bool = False, out: TextIO | None = None) -> int:
    """Serve until stopped (SIGINT, SIGTERM). The folder is loaded before the socket is bound, so
    a bad folder is a `PolicyLoadError` and nothing listens. Returns the exit code."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    out = out or sys.stdout
    _logging()
    store = PolicyStore(policies)
    try:
        sock = _bind(host, port)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 2
    taken = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"http://{shown}:{taken}", file=out, flush=True)
    common: dict[str, Any] = {"host": host, "port": taken, "log_level": "info", "access_log": False,
                              "lifespan": "off", "server_header": False}
    if workers <= 1:
        install_reload_signal(store)
        app = create_app(store=store, max_body=max_body, enable_reload_endpoint=enable_reload_endpoint)
        uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=[sock])
        return 0
    os.environ[ENVIRONMENT] = json.dumps({"policies": str(store.folder), "max_body": max_body,
                                          "enable_reload_endpoint": enable_reload_endpoint})
    config = uvicorn.Config("policyrules.service.serve:app_from_environment", factory=True, workers=workers,
                            **common)

    class Supervisor(Multiprocess):
        def handle_hup(self) -> None:  # pass the reload to each worker, which keeps serving
            log.info("SIGHUP: passing the reload to %d workers", len(self.processes))
            for worker in self.processes:
                process = getattr(worker, "process", worker)  # uvicorn >= 0.30 wraps each process
                if process.pid is not None and process.is_alive():
                    os.kill(process.pid, signal.SIGHUP)

    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn < 0.30
        supervisor = Supervisor(config, target=uvicorn.Server(config).run, sockets=[sock])  # type: ignore[call-arg]
    else:
        supervisor = Supervisor(config, sockets=[sock])
    supervisor.run()
    return 0
