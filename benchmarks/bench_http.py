"""Benchmark: the HTTP service (`policyrules serve`) on loopback, as a hospital system calls it.

    python benchmarks/bench_http.py [--seconds 5] [--requests 20000] [--clients 1,8,32] [--workers 1,2]

The server runs in its own process (`policyrules serve --host 127.0.0.1 --port 0`); the load
client runs in another (a minimal HTTP/1.1 client on asyncio streams, one keep-alive connection
per concurrent client), so that client and server each have a core. For 1, 8 and 32 concurrent clients it sends
single-context ``POST /evaluate`` requests, then 1,000-context batches of full answers, then the
same batches as values lines (``?values=1``), each run bounded by
``--seconds`` and ``--requests``, and prints requests/s (and contexts/s), median and p99 latency,
and the count of answers that were not 200 (or not the library's answer on a sample). With a list
of ``--workers`` (default 1,2) the whole run is made for each, a fresh server each time.

Goals (issue 19) on a 2-core machine: >= 3,000 single-context requests/s with one worker;
batches >= 50,000 contexts/s (with any number of workers: 2 on 2 cores); 0 errors. Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 1000


def contexts() -> list[dict[str, Any]]:
    """The shipped examples, each a few times with its own id (the answers differ by id only)."""
    found: list[dict[str, Any]] = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        found.append(json.loads(path.read_text(encoding="utf-8")))
    for line in (ROOT / "examples" / "admissions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            found.append(json.loads(line))
    return [context | {"id": f"c{n}"} for n, context in enumerate(found * 3)]


async def _connection(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port, limit=2**24)  # a batch answer read whole
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, body: bytes,
                path: bytes = b"/evaluate") -> int:
    """One keep-alive ``POST`` to ``path`` on a raw HTTP/1.1 connection: its status (the body is read)."""
    writer.write(b"POST " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _load(address: str, clients: int, bodies: list[bytes], seconds: float, count: int,
                path: bytes = b"/evaluate") -> dict[str, Any]:
    """``clients`` concurrent keep-alive connections (a minimal HTTP/1.1 client on asyncio
    streams, so that the client costs little next to the server), each posting in turn."""
    host, port = address.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    errors = 0
    sent = 0
    stop_at = time.perf_counter() + seconds

    async def client(start: int) -> None:
        nonlocal errors, sent
        reader, writer = await _connection(host, int(port))
        n = start
        try:
            while sent < count and time.perf_counter() < stop_at:
                sent += 1
                body = bodies[n % len(bodies)]
                n += 1
                began = time.perf_counter()
                status = await _post(reader, writer, host, body, path)
                latencies.append(time.perf_counter() - began)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "seconds": elapsed, "errors": errors,
            "median_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}


def client_main() -> None:
    """The load client's process: reads its job as JSON on standard input, prints the result."""
    job = json.loads(sys.stdin.read())
    pool = contexts()
    if job["batch"]:
        bodies = [json.dumps([pool[(i + k) % len(pool)] for k in range(BATCH)], ensure_ascii=False).encode()
                  for i in range(4)]
    else:
        bodies = [json.dumps(c, ensure_ascii=False).encode() for c in pool]
    path = b"/evaluate?values=1" if job.get("values") else b"/evaluate"
    result = asyncio.run(_load(job["address"], job["clients"], bodies, job["seconds"], job["requests"], path))
    print(json.dumps(result))


def _check_answers(address: str) -> int:
    """The service's answers against the library's, on the whole pool: the count that differ."""
    import httpx

    from policyrules import load_policies

    policies = load_policies()
    pool = contexts()
    served = httpx.post(address + "/evaluate", json=pool, timeout=60).json()
    return sum(served[i] != policies.evaluate(c).to_dict() for i, c in enumerate(pool))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="the longest each run lasts")
    parser.add_argument("--requests", type=int, default=20000, help="the most requests each run sends")
    parser.add_argument("--clients", default="1,8,32", help="the concurrent clients of each run")
    parser.add_argument("--workers", default="1,2", help="the server's worker processes (a list: a run each)")
    parser.add_argument("--load", choices=("wrk", "asyncio"), default="wrk" if shutil.which("wrk") else "asyncio",
                        help="the load client: wrk (Debian's package, one thread; the default where it is "
                             "installed) or this script's asyncio client")
    args = parser.parse_args()
    print(f"load client: {args.load}" + ("" if args.load == "wrk" else
                                         " (apt-get install wrk for a client that costs less CPU)"))
    for workers in (int(w) for w in args.workers.split(",")):
        _run(args, workers)


def _run(args: argparse.Namespace, workers: int) -> None:
    server = subprocess.Popen([sys.executable, "-m", "policyrules.cli", "serve", "--host", "127.0.0.1",
                               "--port", "0", "--workers", str(workers)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        address = server.stdout.readline().strip()
        assert address.startswith("http://127.0.0.1:"), address
        _wait(address)
        print(f"server {address}, {workers} worker(s); answers differing from the library: "
              f"{_check_answers(address)}")
        print(f"{'kind':8} {'clients':>7} {'requests':>9} {'req/s':>9} {'contexts/s':>11} {'median ms':>10} "
              f"{'p99 ms':>8} {'errors':>7}")
        for batch, values in ((False, False), (True, False), (True, True)):
            for clients in (int(c) for c in args.clients.split(",")):
                job = {"address": address, "clients": clients, "seconds": args.seconds, "batch": batch,
                       "values": values, "requests": args.requests if not batch else max(1, args.requests // 100)}
                if args.load == "wrk":
                    r = _wrk(job)
                else:
                    done = subprocess.run([sys.executable, __file__, "--client"], input=json.dumps(job),
                                          capture_output=True, text=True, check=True)
                    r = json.loads(done.stdout)
                rate = r["requests"] / r["seconds"]
                kind = "values" if values else "batch" if batch else "single"
                print(f"{kind:8} {clients:>7} {r['requests']:>9} {rate:>9.0f} "
                      f"{rate * (BATCH if batch else 1):>11.0f} {r['median_ms']:>10.2f} {r['p99_ms']:>8.2f} "
                      f"{r['errors']:>7}")
    finally:
        server.terminate()
        server.wait(timeout=20)


_WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, os.getenv("BENCH_PATH"), nil, bodies[(n % #bodies) + 1])
end
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _wrk(job: dict[str, Any]) -> dict[str, Any]:
    """One run by wrk (one thread, ``clients`` keep-alive connections, for ``seconds``): the same
    figures as the asyncio client's. wrk is written in C, so the load costs the machine little;
    each connection sends the same bodies in turn as the asyncio client does."""
    import re
    import tempfile

    pool = contexts()
    if job["batch"]:
        bodies = [json.dumps([pool[(i + k) % len(pool)] for k in range(BATCH)], ensure_ascii=False) for i in range(4)]
    else:
        bodies = [json.dumps(c, ensure_ascii=False) for c in pool]
    with tempfile.TemporaryDirectory() as folder:
        script, lines = Path(folder) / "post.lua", Path(folder) / "bodies.jsonl"
        script.write_text(_WRK_SCRIPT, encoding="utf-8")
        lines.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        path = "/evaluate?values=1" if job.get("values") else "/evaluate"
        env = {"BENCH_BODIES": str(lines), "BENCH_PATH": path, "PATH": "/usr/bin:/bin"}
        out = subprocess.run(["wrk", "-t1", f"-c{job['clients']}", f"-d{max(1, round(job['seconds']))}s", "--latency",
                              "--timeout", "30s", "-s", str(script), job["address"] + path],
                             capture_output=True, text=True, check=True, env=env).stdout

    def millis(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([0-9.]+)(us|ms|s|m)\b", out, re.M)
        if found is None:
            raise SystemExit(f"wrk said:\n{out}")
        return float(found.group(1)) * _UNITS[found.group(2)]

    done = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)", out)
    if done is None:
        raise SystemExit(f"wrk said:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket is not None:
        errors += sum(int(n) for n in socket.groups())
    return {"requests": int(done.group(1)), "seconds": float(done.group(2)) * _UNITS[done.group(3)] / 1e3,
            "errors": errors, "median_ms": millis("50%"), "p99_ms": millis("99%")}


def _wait(address: str) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(address + "/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer")


if __name__ == "__main__":
    if sys.argv[1:] == ["--client"]:
        client_main()
    else:
        main()
