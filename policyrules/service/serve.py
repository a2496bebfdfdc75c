"""``policyrules serve``: the service on uvicorn, on a socket bound here (so ``--port 0`` can
say the port it took, as the first line of standard output), with reload on SIGHUP.

With one worker the app runs in this process and SIGHUP reloads the folder in process. With
several, uvicorn's supervisor runs the workers (each builds its app through
`app_from_environment`), and SIGHUP to the supervisor is passed to each worker, which reloads
in process; so a bad edit keeps every worker serving its old set.

Where the kernel balances connections between sockets (``SO_REUSEPORT`` on Linux), each worker
listens on a socket of its own, all bound to the one port: with a single shared socket, the worker
that wakes first accepts every connection a client's pool opens at once and the others idle (8
connections of wrk all went to one of 2 workers in 1 run of 10, at half the throughput). The
supervisor holds the sockets, so a worker that dies is replaced on its own socket, whose queued
connections wait for it.
"""

from __future__ import annotations

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

__all__ = ["ENVIRONMENT", "app_from_environment", "install_reload_signal", "listening_sockets", "run"]

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


def _bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given, so that asyncio sets TCP_NODELAY on each connection accepted from it (it does
    # only for sockets that say IPPROTO_TCP): without it every answer waits ~40 ms for Nagle
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


#: Whether the kernel spreads a port's connections over the sockets bound to it with
#: SO_REUSEPORT (Linux does, by a hash of each connection's addresses; elsewhere the option
#: means something else or is missing, and the workers share one socket).
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets listening on ``host``:``port`` (``port`` 0: a free one, the same for
    all) that the kernel balances connections between; one shared socket where it cannot."""
    if count <= 1 or not BALANCED:
        return [_bind(host, port)]
    found = [_bind(host, port, reuse_port=True)]
    try:
        taken = found[0].getsockname()[1]
        while len(found) < count:
            found.append(_bind(host, taken, reuse_port=True))
    except OSError:
        for sock in found:
            sock.close()
        raise
    return found


def run(policies: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        max_body: int = 10 * 2**20, enable_reload_endpoint: bool = False, out: TextIO | None = None) -> int:
    """Serve until stopped (SIGINT, SIGTERM). The folder is loaded before the socket is bound, so
    a bad folder is a `PolicyLoadError` and nothing listens. Returns the exit code."""
    import uvicorn

    out = out or sys.stdout
    _logging()
    store = PolicyStore(policies)
    try:
        sockets = listening_sockets(host, port, workers)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 2
    taken = sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"http://{shown}:{taken}", file=out, flush=True)
    common: dict[str, Any] = {"host": host, "port": taken, "log_level": "info", "access_log": False,
                              "lifespan": "off", "server_header": False}
    if workers <= 1:
        install_reload_signal(store)
        app = create_app(store=store, max_body=max_body, enable_reload_endpoint=enable_reload_endpoint)
        uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=sockets)
        return 0
    os.environ[ENVIRONMENT] = json.dumps({"policies": str(store.folder), "max_body": max_body,
                                          "enable_reload_endpoint": enable_reload_endpoint})
    config = uvicorn.Config("policyrules.service.serve:app_from_environment", factory=True, workers=workers,
                            **common)
    _supervisor_class()(config, sockets).run()
    return 0


def _supervisor_class() -> type:
    """`Supervisor`, made when first asked for: uvicorn is imported only by ``serve``."""
    from uvicorn.supervisors import multiprocess

    class Supervisor(multiprocess.Multiprocess):
        """uvicorn's supervisor, with each worker on its own socket of ``sockets`` (one for all
        where there is only one), and SIGHUP passed to the workers, which reload in process."""

        def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
            super().__init__(config, sockets=sockets[:1])
            self.per_worker = sockets

        def _process(self, index: int) -> Any:
            sockets = self.per_worker if len(self.per_worker) == 1 else [self.per_worker[index]]
            return multiprocess.Process(self.config, sockets)

        def init_processes(self) -> None:
            for index in range(self.processes_num):
                process = self._process(index)
                process.start()
                self.processes.append(process)

        def keep_subprocess_alive(self) -> None:  # as uvicorn's, the replacement on the same socket
            for index, process in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                if process.is_alive(timeout=getattr(self.config, "timeout_worker_healthcheck", 5)):
                    continue
                process.kill()  # hung: stopped
                process.join()
                if process.exitcode == getattr(multiprocess, "STARTUP_FAILURE", 3):
                    log.error("worker %s failed to start: stopping", process.pid)
                    self.should_exit.set()
                    return
                log.info("worker %s died: starting another", process.pid)
                self.processes[index] = self._process(index)
                self.processes[index].start()

        def handle_hup(self) -> None:  # pass the reload to each worker, which keeps serving
            log.info("SIGHUP: passing the reload to %d workers", len(self.processes))
            for worker in self.processes:
                if worker.pid is not None and worker.is_alive():
                    os.kill(worker.pid, signal.SIGHUP)

        def handle_ttin(self) -> None:  # the number of workers is fixed by --workers
            log.info("SIGTTIN: the number of workers stays %d (--workers)", self.processes_num)

        def handle_ttou(self) -> None:
            log.info("SIGTTOU: the number of workers stays %d (--workers)", self.processes_num)

    return Supervisor

