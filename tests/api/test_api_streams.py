"""Event streams against a real server (uvicorn in a subprocess on 127.0.0.1): served on the
event loop (no thread per stream), capped per key (429), /health fast with 100 streams open;
and the bounded load run of ``bench/load.py`` (100 streams, 50 jobs)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import AS_OF_RULES, tiny_zip

from api.store import Store
from bench.load import Server, pct, run_load, service_env

CAP = 20
STREAMS = 100


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("Threads:")))


@pytest.fixture
def http_only(tmp_path):
    """A server that runs no solves (WORKERS=0): its jobs stay queued, its streams stay open."""
    db = tmp_path / "streams.sqlite3"
    env = service_env(f"sqlite:///{db}", tmp_path, WORKERS=0, MAX_STREAMS_PER_KEY=CAP)
    server = Server.make(env, tmp_path / "server.log").start()
    try:
        server.wait_ready()
        store = Store(f"sqlite:///{db}")
        yield server, store
        store.dispose()
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()[-3000:]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _jobs(url: str, admin: str, n: int) -> list[str]:
    h = _bearer(admin)
    r = httpx.post(
        url + "/v1/datasets",
        headers=h,
        files={"file": ("tiny.zip", tiny_zip(), "application/zip")},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    ds = r.json()["dataset_id"]
    out = []
    for _ in range(n):
        r = httpx.post(f"{url}/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h, timeout=30)
        assert r.status_code == 202, r.text
        out.append(r.json()["job_id"])
    return out


class Stream:
    """One open event stream: the response and its line iterator (read event by event)."""

    def __init__(self, resp: httpx.Response) -> None:
        self.resp = resp
        self.lines = resp.aiter_lines()

    async def next_event(self) -> tuple[str, dict]:
        event = ""
        async for line in self.lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                return event, json.loads(line[6:])
        raise AssertionError("stream ended without an event")

    async def until_end(self) -> dict:
        """Events up to ``end``: a progress event with the final status comes first."""
        seen = []
        while True:
            event, data = await self.next_event()
            seen.append((event, data["status"]))
            if event == "end":
                assert ("progress", data["status"]) in seen, seen
                return data

    async def aclose(self) -> None:
        await self.resp.aclose()


async def _open_streams(client, job_ids, keys, n) -> list[Stream]:
    """Open n streams (job i % len, key i % len); each has sent its first event (queued)."""
    opened = []
    for i in range(n):
        path = f"/v1/jobs/{job_ids[i % len(job_ids)]}/events"
        req = client.build_request("GET", path, headers=_bearer(keys[i % len(keys)]))
        resp = await client.send(req, stream=True)
        assert resp.status_code == 200, (i, resp.status_code)
        opened.append(Stream(resp))
    firsts = await asyncio.gather(*(s.next_event() for s in opened))
    assert all(e == "progress" and d["status"] == "queued" for e, d in firsts), firsts[:3]
    return opened


def test_streams_cost_no_thread_and_health_stays_fast(http_only):
    """100 open streams (5 keys x 20): the server holds no thread per stream and answers /health
    (its p50/p95 are printed: a benchmark figure for bench/README.md, not a timed assertion);
    cancelling the jobs ends every stream with an ``end`` event."""
    server, store = http_only
    admin = store.create_key("admin", None)[1]
    viewers = [store.create_key("viewer", None)[1] for _ in range(STREAMS // CAP)]
    job_ids = _jobs(server.url, admin, 5)
    before = _threads(server.pid)

    async def scenario() -> tuple[list[float], int, list[str]]:
        limits = httpx.Limits(max_connections=STREAMS + 20)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            opened = await _open_streams(client, job_ids, viewers, STREAMS)
            threads = _threads(server.pid)
            health = []
            for _ in range(100):
                t0 = time.perf_counter()
                r = await client.get("/health")
                health.append(time.perf_counter() - t0)
                assert r.status_code == 200
                await asyncio.sleep(0.01)
            for job_id in job_ids:
                r = await client.delete(f"/v1/jobs/{job_id}", headers=_bearer(admin))
                assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
            ends = await asyncio.wait_for(asyncio.gather(*(st.until_end() for st in opened)), 30)
            for st in opened:
                await st.aclose()
            return health, threads, [d["status"] for d in ends]

    health, threads, ends = asyncio.run(scenario())
    print(
        f"/health with {STREAMS} open streams: p50 {pct(health, 0.5):.1f} ms, "
        f"p95 {pct(health, 0.95):.1f} ms; server threads {before} before, {threads} with them"
    )
    assert ends == ["cancelled"] * STREAMS
    assert threads - before < 20, (before, threads)  # no thread per stream
    assert len(health) == 100


def test_stream_cap_per_key(http_only):
    """A key's (CAP+1)-th open stream is refused with 429; closing one frees a slot; another key
    is not affected."""
    server, store = http_only
    admin = store.create_key("admin", None)[1]
    viewer = store.create_key("viewer", None)[1]
    other = store.create_key("viewer", None)[1]
    job_ids = _jobs(server.url, admin, 1)

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            opened = await _open_streams(client, job_ids, [viewer], CAP)
            path = f"/v1/jobs/{job_ids[0]}/events"
            r = await client.get(path, headers=_bearer(viewer))
            assert r.status_code == 429, r.text
            assert str(CAP) in r.text
            ok = await client.send(
                client.build_request("GET", path, headers=_bearer(other)), stream=True
            )
            assert ok.status_code == 200
            await ok.aclose()
            await opened.pop().aclose()
            deadline = time.monotonic() + 10
            while True:  # the server notices the closed connection within a poll or two
                again = await client.send(
                    client.build_request("GET", path, headers=_bearer(viewer)), stream=True
                )
                if again.status_code == 200 or time.monotonic() > deadline:
                    break
                await again.aclose()
                await asyncio.sleep(0.2)
            assert again.status_code == 200
            await again.aclose()
            for st in opened:
                await st.aclose()

    asyncio.run(scenario())
    r = httpx.get(f"{server.url}/v1/jobs/nope/events", headers=_bearer(viewer), timeout=10)
    assert r.status_code == 404


@pytest.mark.load
def test_load_100_streams_50_jobs(tmp_path):
    """bench/load.py, bounded: 100 streams and 50 tiny jobs on one server with 2 workers; every
    job runs exactly once and ends done, every stream sees its job's end, no 5xx."""
    figures = run_load(
        streams=STREAMS,
        jobs=50,
        workers=2,
        dataset_zip=tiny_zip(),
        rules=AS_OF_RULES,
        per_key=CAP,
        timeout=400,
        workdir=tmp_path,
    )
    print("\n".join(figures.lines()))
    assert figures.errors == 0 and figures.streams_refused == 0
    assert figures.jobs_lost == 0 and figures.jobs_done == 50
    assert figures.jobs_run_once == 50
    assert figures.streams_ended == STREAMS
