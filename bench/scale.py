"""Several replicas on one database: commands per second and time to ack, and audit appends under concurrent writers.

    .venv/bin/python -m bench.scale [--requests 400] [--concurrency 20] [--latency-ms 100] [--command "list phoenix"]
                                    [--writers 8] [--rows 250] [--only sqlite|postgresql]

Commands: each setup runs `projectops run --http` as its own process(es), as a deployment does (1 replica on SQLite,
2 on one SQLite file, 1 and 2 on PostgreSQL), next to a bare Bolt app that only acks (the floor). The back-end
emulators run in a process of their own, each answer delayed by `--latency-ms`; the Slack emulator and the load
generator run here. The load generator sends signed `/projects <command>` requests, `--concurrency` at a time,
alternating between the replicas as a load balancer would; commands/s counts commands answered (the answer
posted at the response_url) per second of wall time, so it includes the audit rows and the back-end call.

Audit appends: `--writers` threads append `--rows` complete rows each through the store (`AuditLog.record`: the
started row, its outcome and its link in the hash chain), on SQLite and on PostgreSQL; then every row is counted
and the chain verified.

PostgreSQL is Debian's, started on 127.0.0.1 in a temporary folder (tests/pg.py); without it, only SQLite runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT, Figures, bare_bolt, emulators, measure, replicas, slack_emulator

# ---------------------------------------------------------------- audit appends

@dataclass
class Appends:
    per_second: float
    rows: int
    expected: int
    chained: int
    intact: bool


def audit_appends(where: str | Path, writers: int, rows: int) -> Appends:
    from bot.store import AuditEntry, Store

    store = Store.open(where)
    try:
        entry = AuditEntry(user="U0BENCH", operation="bench.append", surface="bench", params={"n": 1})
        gate = threading.Barrier(writers + 1)
        failures: list[BaseException] = []

        def writer() -> None:
            gate.wait()
            try:
                for _ in range(rows):
                    store.audit.record(entry, "succeeded")
            except BaseException as exc:  # counted below: a lost row must show, not vanish in a thread
                failures.append(exc)

        threads = [threading.Thread(target=writer) for _ in range(writers)]
        for thread in threads:
            thread.start()
        gate.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        report = store.audit.verify()
        count = store.audit.count()
        if failures:
            print(f"  {len(failures)} writer(s) failed: {failures[0]!r}")
        return Appends(count / elapsed, count, writers * rows, report.checked, report.ok and not failures)
    finally:
        store.close()


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--command", default="list phoenix")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rows", type=int, default=250)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "tests"))
    from pg import postgres_server  # tests/pg.py: Debian's PostgreSQL in a temporary folder

    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    rows: list[tuple[str, int, Figures]] = []
    appends: list[tuple[str, Appends]] = []
    with slack_emulator() as slack, emulators(workdir, args.latency_ms) as (_, config), postgres_server() as pg:
        if pg is None and args.only != "sqlite":
            print("(PostgreSQL is not installed here: apt-get install -y postgresql; SQLite only)")
        load = (args.requests, args.concurrency)
        with bare_bolt(slack, workdir) as urls:
            rows.append(("bare Bolt (acks only)", 1, measure(urls, slack, "help", *load, answers=False)))
        if args.only != "postgresql":
            for count in (1, 2):
                db = workdir / f"sqlite-{count}.db"
                with replicas(count, slack, config, workdir, sqlite=db) as urls:
                    rows.append(("SQLite" + (" (one file)" if count > 1 else ""), count,
                                 measure(urls, slack, args.command, *load)))
        if pg is not None and args.only != "sqlite":
            for count in (1, 2):
                with replicas(count, slack, config, workdir, database_url=pg.database()) as urls:
                    rows.append(("PostgreSQL", count, measure(urls, slack, args.command, *load)))
        if args.only != "postgresql":
            appends.append(("SQLite", audit_appends(workdir / "appends.db", args.writers, args.rows)))
        if pg is not None and args.only != "sqlite":
            appends.append(("PostgreSQL", audit_appends(pg.database(), args.writers, args.rows)))

    print(f"\n`/projects {args.command}`: {args.requests} signed commands, {args.concurrency} at a time, back ends "
          f"answering after {args.latency_ms} ms, {os.cpu_count()} CPUs")
    print(f"  {'setup':<24}{'replicas':>9}{'commands/s':>12}{'ack p50':>10}{'ack p99':>10}{'answered':>10}"
          f"{'CPU/command':>13}")
    for name, count, f in rows:
        cpu = f"{f.cpu_ms:>11.1f}ms" if f.cpu_ms is not None else ""
        print(f"  {name:<24}{count:>9}{f.per_second:>12.1f}{f.p50:>8.1f}ms{f.p99:>8.1f}ms"
              f"{f.answered:>6}/{f.sent}{cpu}")
    print(f"\naudit appends: {args.writers} writers x {args.rows} complete rows each (row, outcome, chain link)")
    print(f"  {'database':<24}{'rows/s':>9}{'rows':>12}{'chained':>10}{'chain':>10}")
    for name, a in appends:
        state = "intact" if a.intact and a.rows == a.expected == a.chained else "BROKEN"
        print(f"  {name:<24}{a.per_second:>9.0f}{a.rows:>7}/{a.expected}{a.chained:>10}{state:>10}")


if __name__ == "__main__":
    main()
