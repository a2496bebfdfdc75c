"""A real server: ``policyrules serve --port 0`` started on 127.0.0.1 in a subprocess, talked to
with httpx, reloaded with SIGHUP (a bad edit keeps it serving), then stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from policyrules import load_policies  # noqa: E402
from policyrules.shipped import shipped_policies_dir  # noqa: E402

from .conftest import ROOT  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is POSIX")
GUYANG = json.loads((ROOT / "examples" / "guyang_poor_inpatient.json").read_text(encoding="utf-8"))


class Server:
    def __init__(self, folder: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "policyrules.cli", "serve", "--policies", str(folder), "--host", "127.0.0.1",
             "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.address = self.process.stdout.readline().strip()
        assert self.address.startswith("http://127.0.0.1:"), self.address
        self.client = httpx.Client(base_url=self.address, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.1)

    def generation(self) -> str:
        return str(self.client.get("/health").headers["policyrules-generation"])

    def wait_for(self, generation: str) -> None:
        deadline = time.monotonic() + 20
        while self.generation() != generation:
            assert time.monotonic() < deadline
            time.sleep(0.1)

    def stop(self) -> str:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return str(err)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(shipped_policies_dir(), tmp_path / "policies", ignore=shutil.ignore_patterns("cases")))


@pytest.fixture
def server(folder: Path) -> Iterator[Server]:
    running = Server(folder)
    yield running
    running.stop()


def test_a_real_server_answers_as_the_library(server: Server) -> None:
    response = server.client.post("/evaluate", json=GUYANG | {"id": 1})
    assert response.status_code == 200
    assert response.json() == load_policies().evaluate(GUYANG | {"id": 1}).to_dict()
    assert response.headers["policyrules-policy"].startswith("guyang_2020@")
    bad = server.client.post("/evaluate", content=b"{not json")
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert server.client.get("/openapi.json").json()["openapi"] == "3.1.0"


def test_sighup_with_a_bad_edit_keeps_serving_then_a_good_edit_is_taken(server: Server, folder: Path) -> None:
    guyang = folder / "guyang_2020.yaml"
    text = guyang.read_text(encoding="utf-8")
    before = server.client.post("/evaluate", json=GUYANG)
    guyang.write_text(text.replace("rules:", "rulez:", 1), encoding="utf-8")
    server.process.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    after = server.client.post("/evaluate", json=GUYANG)
    assert after.status_code == 200 and after.json() == before.json()
    assert after.headers["policyrules-generation"] == "1"
    guyang.write_text(text + "\n# edited\n", encoding="utf-8")
    server.process.send_signal(signal.SIGHUP)
    server.wait_for("2")
    err = server.stop()
    assert "guyang_2020.yaml:" in err  # the bad edit's problems logged with file:line


def test_a_reload_under_load_loses_no_request(server: Server, folder: Path) -> None:
    import threading

    failures: list[Any] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.address, timeout=10) as client:
            while not stop.is_set():
                response = client.post("/evaluate", json=GUYANG)
                if response.status_code != 200:
                    failures.append(response.status_code)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    guyang = folder / "guyang_2020.yaml"
    for count in range(3):
        guyang.write_text(guyang.read_text(encoding="utf-8") + f"\n# edit {count}\n", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        server.wait_for(str(count + 2))
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []


def test_several_workers_each_reload_on_sighup(folder: Path) -> None:
    running = Server(folder, "--workers", "2")
    try:
        def workers() -> dict[int, int]:
            seen: dict[int, int] = {}
            for _ in range(200):
                with httpx.Client(base_url=running.address, timeout=10) as client:  # a new connection each
                    health = client.get("/health").json()
                seen[health["worker"]] = health["generation"]
                if len(seen) == 2:
                    break
            return seen

        assert sorted(workers().values()) == [1, 1]
        running.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while sorted(workers().values()) != [2, 2]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        running.stop()


def _burst(address: str, count: int) -> set[int]:
    """The workers that answer ``count`` connections opened at once (a client pool's start)."""
    import socket

    host, port = address.removeprefix("http://").split(":")
    connections = [socket.create_connection((host, int(port)), timeout=10) for _ in range(count)]
    workers = set()
    try:
        for connection in connections:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        for connection in connections:
            data = b""
            while not data.rstrip().endswith(b"}"):
                piece = connection.recv(65536)
                assert piece, data
                data += piece
            workers.add(json.loads(data.split(b"\r\n\r\n", 1)[1])["worker"])
    finally:
        for connection in connections:
            connection.close()
    return workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_a_burst_of_connections_reaches_every_worker(folder: Path) -> None:
    """A client's pool opens its connections at once: each worker listens on its own socket, so
    the kernel spreads them (with one shared socket, the first worker to wake took all 8 of a
    burst in 121 bursts of 200, and the other idled). 16 connections all on one of 2 workers by
    the kernel's hash: 1 chance in 32,768."""
    running = Server(folder, "--workers", "2")
    try:
        assert len(_burst(running.address, 16)) == 2
    finally:
        running.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_a_killed_worker_is_replaced_on_its_own_socket(folder: Path) -> None:
    """The supervisor holds each worker's socket: a worker killed outright is replaced by one
    listening on the same socket, so the connections the kernel sends there are answered."""
    running = Server(folder, "--workers", "2")
    try:
        first = _burst(running.address, 16)
        assert len(first) == 2
        os.kill(next(iter(first)), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            try:
                now = _burst(running.address, 16)
            except (OSError, AssertionError):  # a connection the dead worker's socket held
                now = set()
            if len(now) == 2 and now != first:
                break
            assert time.monotonic() < deadline, now
            time.sleep(0.5)
        assert len(now & first) == 1  # the other worker served on; the dead one's replacement is new
    finally:
        running.stop()


def test_listening_sockets_share_one_port() -> None:
    from policyrules.service.serve import BALANCED, listening_sockets

    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        assert len(sockets) == (3 if BALANCED else 1)
        assert len({sock.getsockname()[1] for sock in sockets}) == 1
    finally:
        for sock in sockets:
            sock.close()


def test_a_bad_folder_is_exit_2_and_nothing_listens(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("meta: [", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "policyrules.cli", "serve", "--policies", str(tmp_path),
                           "--port", "0"], capture_output=True, text=True, timeout=60,
                          env=os.environ | {"PYTHONWARNINGS": "ignore"})
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_the_listening_socket_says_tcp_so_asyncio_sets_nodelay() -> None:
    import socket

    from policyrules.service.serve import _bind

    sock = _bind("127.0.0.1", 0)
    try:  # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP (else ~40 ms a reply)
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
