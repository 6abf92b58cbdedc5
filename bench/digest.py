"""Build time of a full digest (job health + storage) over large emulated back ends, next to its critical path.

    .venv/bin/python -m bench.digest [--polaris 2000] [--phoenix 500] [--terraform 1000] [--latency-ms 50]

Polaris gets `--polaris` projects with 3 tables and 5 jobs each, Phoenix and Terraform their project counts,
and every emulator answers each request after `--latency-ms`. The critical-path minimum is the longest chain of
requests that must follow each other (latency x chain length): Polaris lists its projects, then reads each
project's jobs and tables (2); Phoenix follows its cursor in pages of 1,000 (it sets no maximum: 1 page up to
1,000 projects); Terraform reads its count from one page's `meta.pagination` (1).

Besides wall time it prints the CPU the digest and the emulators spent: with thousands of requests on a small
machine, CPU rather than waiting is what bounds the build time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import yaml

from bot.backends.base import ClientPool
from bot.backends.phoenix import COUNT_PAGE_SIZE
from bot.digests import FanoutClients, build_digest, render_digest
from bot.settings import load_config
from sandbox.backends.server import create_emulators_app, demo_config
from sandbox.serving import free_port

KINDS = ["polaris", "phoenix", "terraform"]


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(create_emulators_app("empty"), host="127.0.0.1", port=port, log_level="warning")


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/healthz").raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def phoenix_pages(base: str) -> int:
    """How many pages Phoenix's cursor walk takes at the digest's page size (read before latency is switched on)."""
    pages, params = 0, {"limit": COUNT_PAGE_SIZE}
    while True:
        pages += 1
        body = httpx.get(f"{base}/phoenix/v1/projects", params=params).json()
        if not body.get("next_cursor"):
            return pages
        params["cursor"] = body["next_cursor"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux `/proc`; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(config_path: Path, runs: int, server_pid: int) -> list[tuple[float, float, float, int, int, int]]:
    services = SimpleNamespace(config=load_config(config_path, environ={}), clients=ClientPool())
    clients = FanoutClients(services)
    results = []
    try:
        for _ in range(runs):
            started, cpu, served = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
            digest = await build_digest(services, {"job-health", "storage"}, clients=clients)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            served = cpu_seconds(server_pid) - served
            render_digest(digest)
            results.append((elapsed, cpu, served, digest.projects_checked, len(digest.jobs), len(digest.down)))
    finally:
        await clients.aclose()
        await services.clients.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polaris", type=int, default=2000)
    parser.add_argument("--phoenix", type=int, default=500)
    parser.add_argument("--terraform", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port,), daemon=True)
    server.start()  # its own process: the emulators' CPU is not the digest's (as with real back ends)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)
    for kind in KINDS:
        httpx.post(f"{base}/{kind}/_admin/reset", json={"seed": "empty"}).raise_for_status()
    httpx.post(f"{base}/polaris/_admin/bulk", timeout=120,
               json={"projects": args.polaris, "tables_per_project": 3, "jobs_per_project": 5}).raise_for_status()
    httpx.post(f"{base}/phoenix/_admin/bulk", json={"projects": args.phoenix}, timeout=120).raise_for_status()
    terraform = {"projects": args.terraform, "workspaces_per_project": 1, "organization": "acme"}
    httpx.post(f"{base}/terraform/_admin/bulk", json=terraform, timeout=120).raise_for_status()
    chains = {"polaris": 2, "phoenix": phoenix_pages(base), "terraform": 1}
    for kind in KINDS:
        httpx.post(f"{base}/{kind}/_faults", json={"latency_ms": args.latency_ms}).raise_for_status()

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config.yml"
        config_path.write_text(yaml.safe_dump(demo_config(base, KINDS)))
        results = asyncio.run(measure(config_path, args.runs, server.pid))
    server.terminate()

    critical = max(chains.values()) * args.latency_ms / 1000
    print(f"digest over {args.polaris} Polaris projects (3 tables, 5 jobs each), {args.phoenix} Phoenix, "
          f"{args.terraform} Terraform; {args.latency_ms:.0f} ms per request")
    print("chains: " + ", ".join(f"{k} {n} requests" for k, n in chains.items())
          + f" -> critical-path minimum {critical * 1000:.0f} ms")
    for i, (elapsed, cpu, served, projects, jobs, down) in enumerate(results, start=1):
        print(f"run {i}: built in {elapsed * 1000:.0f} ms, ratio {elapsed / critical:.2f}x, digest CPU {cpu:.2f} s, "
              f"emulator CPU {served:.2f} s "
              f"({projects} projects checked, {jobs} jobs listed, {down} unreachable)")
    best = min(results)
    floor = (best[1] + best[2]) / (os.cpu_count() or 1)
    print(f"best: {best[0] * 1000:.0f} ms vs {critical * 1000:.0f} ms = {best[0] / critical:.2f}x (target <= 1.5x)")
    print(f"CPU floor on this machine: digest + emulator CPU over {os.cpu_count()} cores = {floor * 1000:.0f} ms; "
          f"built in {best[0] / floor:.2f}x that")


if __name__ == "__main__":
    main()
