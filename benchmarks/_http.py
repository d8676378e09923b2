"""The real server stack and an open-loop client, for the load test and the intake benchmark.

``serve(database_url)`` starts gunicorn on ``qcity.wsgi`` (several worker processes, as in
production; ``--preload``) on a free port of 127.0.0.1 against the given database, waits
until ``/api/v1/ping`` answers and stops it afterwards. ``drive(...)`` sends requests at a
fixed rate for a fixed time, **open loop**: request *i* is sent at ``start + i / rate``
whether or not the earlier ones have been answered, and its latency is counted from that
moment, so a slow server shows as latency and errors instead of quietly lowering the
rate (the "coordinated omission" of closed-loop tools).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Threaded workers (gthread): they keep connections alive, where sync workers close each
# one after its request, and on a 2-core machine the new connection per request cost more
# than the request itself (ping: p50 0.9 s at 200/s with 5 sync workers, 2 ms with 3 × 4
# threads). One process per core plus one, four threads each, so a thread waiting on
# PostgreSQL leaves the core to another.
DEFAULT_WORKERS = (os.cpu_count() or 1) + 1
DEFAULT_THREADS = 4


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of a Django database (the test database, once pytest-django created it)."""
    if "sqlite" in settings_dict["ENGINE"]:
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{user}:{password}@{host}:{port}/{settings_dict['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def serve(
    database: str,
    *,
    var_dir: Path,
    workers: int = DEFAULT_WORKERS,
    threads: int = DEFAULT_THREADS,
    extra_env: dict[str, str] | None = None,
    boot_seconds: float = 90,
) -> Iterator[Server]:
    """gunicorn on ``qcity.wsgi`` against ``database``; stopped (SIGTERM) on exit."""
    var_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = var_dir / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "QCITY_ENV": "development",
        # DEBUG keeps every query in memory and renders debug pages: never under load.
        "DEBUG": "False",
        "QCITY_VAR_DIR": str(var_dir),
        "QCITY_PII_KEY_FILE": str(var_dir / "pii.key"),
        "QCITY_ATTACHMENT_DIR": str(var_dir / "attachments"),
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
        **(extra_env or {}),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "qcity.wsgi",
        "--preload",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *(["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []),
        # Longer than the client's own idle timeout (aiohttp: 15 s): a server closing an
        # idle connection just as the client reuses it drops that request.
        "--keep-alive",
        "30",
        "--backlog",
        "4096",
        "--timeout",
        "60",
        "--error-logfile",
        str(log),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=var_dir
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + boot_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {process.returncode}:\n{server.log_tail()}"
                )
            try:
                with urllib.request.urlopen(server.url + "/api/v1/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass  # not listening yet: try again until the deadline
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not answer in {boot_seconds} s:\n{server.log_tail()}"
                )
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the open-loop client ----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    index: int
    status: int  # 0: no answer (timeout, refused, reset)
    latency: float  # seconds from the moment it was due to be sent
    body: bytes
    error: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Run:
    rate: float
    seconds: float
    outcomes: list[Outcome]
    elapsed: float  # from the first send to the last answer

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    def statuses(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    def errors(self) -> Counter:
        return Counter(o.error for o in self.outcomes if o.error)

    def percentile(self, p: float, status: int | None = None) -> float:
        latencies = sorted(o.latency for o in self.outcomes if status is None or o.status == status)
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    def answered_rate(self, status: int) -> float:
        """Answers with ``status`` per second over the whole run."""
        return sum(1 for o in self.outcomes if o.status == status) / self.elapsed

    def summary(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": self.sent,
            "statuses": dict(sorted(self.statuses().items())),
            "errors": dict(self.errors()),
            "p50_ms": round(self.percentile(50) * 1000, 1),
            "p99_ms": round(self.percentile(99) * 1000, 1),
            "max_ms": round(max((o.latency for o in self.outcomes), default=0) * 1000, 1),
            "elapsed_s": round(self.elapsed, 1),
        }


async def _drive(
    base_url: str,
    make: Callable[[int], Request],
    *,
    rate: float,
    seconds: float,
    max_in_flight: int,
    timeout: float,
) -> Run:
    import aiohttp

    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=max_in_flight, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    # Built ahead, so the pacing loop only sends.
    requests = [make(i) for i in range(total)]

    async with aiohttp.ClientSession(
        base_url, connector=connector, timeout=client_timeout, auto_decompress=False
    ) as session:

        async def one(i: int, due: float) -> Outcome:
            request = requests[i]
            try:
                async with session.request(
                    request.method, request.path, headers=request.headers, data=request.body
                ) as response:
                    body = await response.read()
                    return Outcome(i, response.status, loop.time() - due, body)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                return Outcome(i, 0, loop.time() - due, b"", type(exc).__name__)

        start = loop.time() + 0.1
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        outcomes = await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    return Run(rate, seconds, list(outcomes), elapsed)


def drive(
    base_url: str,
    make: Callable[[int], Request],
    *,
    rate: float,
    seconds: float,
    max_in_flight: int = 512,
    timeout: float = 30,
) -> Run:
    """Send ``make(i)`` for i in 0 … rate × seconds − 1 at ``rate`` per second, open loop."""
    return asyncio.run(
        _drive(
            base_url,
            make,
            rate=rate,
            seconds=seconds,
            max_in_flight=max_in_flight,
            timeout=timeout,
        )
    )


async def _saturate(
    base_url: str, make: Callable[[int], Request], *, concurrency: int, seconds: float
) -> Run:
    import aiohttp

    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=concurrency)
    outcomes: list[Outcome] = []
    counter = iter(range(10**9))
    async with aiohttp.ClientSession(
        base_url, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        start = loop.time()
        stop = start + seconds

        async def client() -> None:
            while loop.time() < stop:
                i = next(counter)
                request = make(i)
                sent = loop.time()
                try:
                    async with session.request(
                        request.method, request.path, headers=request.headers, data=request.body
                    ) as response:
                        body = await response.read()
                        outcomes.append(Outcome(i, response.status, loop.time() - sent, body))
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    outcomes.append(Outcome(i, 0, loop.time() - sent, b"", type(exc).__name__))

        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = loop.time() - start
    return Run(len(outcomes) / elapsed, seconds, outcomes, elapsed)


def saturate(
    base_url: str, make: Callable[[int], Request], *, concurrency: int, seconds: float
) -> Run:
    """Closed loop: ``concurrency`` clients, each sending the next request when answered.

    What a server sustains at that concurrency (``run.rate``, answers per second); the
    benchmark compares two endpoints of one server this way, at the same concurrency.
    """
    return asyncio.run(_saturate(base_url, make, concurrency=concurrency, seconds=seconds))


def json_request(path: str, payload: Any, headers: dict[str, str] | None = None) -> Request:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Request("POST", path, {"Content-Type": "application/json", **(headers or {})}, body)
