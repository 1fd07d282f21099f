"""Throughput of the solve queue: solves per minute with 1 and with 2 ``rotapool worker``s.

For each number of workers: the database is emptied and migrated, the
network is imported ``--jobs`` times under different names, the workers are
started and waited for, then one solve job per network is queued at once
(Celery on Redis) and timed until the last has finished.  Every job must end
``done`` with one attempt, or the run stops with an error.

Usage (PostgreSQL and Redis of the machine; the database is emptied)::

    python -m benchmarks.queue_throughput --jobs 12 --time-limit 20 --solver-workers 2 1
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, MetaData

from scheduler.bundle.reader import read_bundle
from scheduler.jobs.queue import start
from scheduler.jobs.records import create_job, wait_for_state
from scheduler.jobs.settings import QueueSettings, queue_settings
from scheduler.jobs.worker import worker_command
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.repository import save_bundle
from solver import SolveOptions

ROOT = Path(__file__).resolve().parents[1]
WEEK = "2026-W49"
READY_WAIT = 120.0  # seconds for a worker to start


def empty_database(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        metadata.drop_all(bind=connection)
    engine.dispose()
    upgrade(url)


def start_workers(count: int, env: dict[str, str], folder: Path) -> list[subprocess.Popen[bytes]]:
    """``count`` worker processes, returned once each says it is ready."""
    processes, logs = [], []
    for n in range(count):
        log = folder / f"worker-{n}.log"
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(worker_command(), env=env, stdout=out, stderr=out, cwd=ROOT)
            )
        logs.append(log)
    deadline = time.monotonic() + READY_WAIT
    for process, log in zip(processes, logs, strict=True):
        while b" ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"a worker did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
    return processes


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=120)


def queue_solve(
    engine: Engine, network_id: int, options: SolveOptions, settings: QueueSettings
) -> int:
    """Queue one solve of the benchmark week and send it; the job's id."""
    with session_scope(engine) as session:
        ticket = create_job(
            session,
            network_id,
            WEEK,
            weeks=1,
            keep_pins=False,
            actor="benchmark",
            options=options,
            settings=settings,
        )
    start(engine, ticket.id, settings)
    return ticket.id


def run(args: argparse.Namespace, workers: int, solver_workers: int) -> dict[str, float]:
    """Queue ``args.jobs`` solves for ``workers`` workers; the figures of the run."""
    empty_database(args.database)
    bundle, _ = read_bundle(args.network)
    engine = make_engine(args.database)
    with session_scope(engine) as session:
        networks = [
            save_bundle(session, dataclasses.replace(bundle, name=f"{bundle.name} {n}"))
            for n in range(args.jobs)
        ]
    config = {
        "BROKER_URL": args.broker,
        "SOLVE_QUEUE": f"rotapool-bench-{uuid.uuid4().hex[:12]}",
        "SOLVE_TIME_LIMIT": args.time_limit,
        "VISIBILITY_TIMEOUT": max(3600.0, 2 * args.time_limit),
    }
    settings = queue_settings(config)
    env = {**os.environ, "DATABASE_URL": args.database}
    env.update({f"ROTAPOOL_{name}": str(value) for name, value in config.items()})
    options = SolveOptions(time_limit=args.time_limit, workers=solver_workers)
    with tempfile.TemporaryDirectory() as folder:
        env["ROTAPOOL_INSTANCE"] = folder
        processes = start_workers(workers, env, Path(folder))
        try:
            started = time.monotonic()
            ids = [queue_solve(engine, n, options, settings) for n in networks]
            views = [wait_for_state(engine, i, args.jobs * args.time_limit * 2) for i in ids]
            elapsed = time.monotonic() - started
        finally:
            stop_workers(processes)
    with session_scope(engine) as session:
        rows = [session.get(SolveJobRecord, i) for i in ids]
        runs = [
            (r.finished_at - r.started_at).total_seconds()
            for r in rows
            if r is not None and r.finished_at and r.started_at
        ]
    engine.dispose()
    bad = [(v.id, v.state, v.attempts) for v in views if (v.state, v.attempts) != ("done", 1)]
    if bad:
        raise SystemExit(f"jobs that did not finish done at the first attempt: {bad}")
    return {
        "elapsed": elapsed,
        "per_minute": args.jobs / elapsed * 60,
        "mean_run": statistics.mean(runs),
        "optimal": sum("(optimal)" in (v.message or "") for v in views),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default=str(ROOT / "sample_data" / "riverside"))
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--solver-workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    print(
        "| queue workers | CP-SAT threads each | solves | wall time (s) | solves per minute "
        "| mean solve (s) | proved optimal |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for threads in args.solver_workers:
        for workers in args.workers:
            figures = run(args, workers, threads)
            print(
                f"| {workers} | {threads} | {args.jobs} | {figures['elapsed']:.1f} "
                f"| {figures['per_minute']:.1f} | {figures['mean_run']:.2f} "
                f"| {figures['optimal']:.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
