"""Time the mapping and model build of Curtois-Qu instances (no search).

Usage::

    python -m benchmarks.curtois_build ../shared/benchmarks/curtois_qu/instances/Instance24.txt ...

For each instance: seconds to read and map it into a bundle, to lay it out
over its dates (``Horizon``), and to build the CP-SAT model with every rule
(as ``solver.solve`` does, cycle collector paused); the number of assignment
options; and the peak resident memory of the process so far.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence

from scheduler.bench.curtois_format import read_instance
from scheduler.bench.curtois_map import dates_of, to_bundle
from scheduler.horizon import Horizon
from solver.model import RotaModel, gc_paused
from solver.rules import build


def measure(path: str) -> str:
    """One markdown row: instance, read+map s, horizon s, build s, options, peak MB."""
    started = time.perf_counter()
    instance = read_instance(path)
    bundle = to_bundle(instance)
    mapped = time.perf_counter()
    horizon = Horizon(bundle, dates_of(instance))
    laid_out = time.perf_counter()
    with gc_paused():
        model = build(RotaModel(horizon))
    built = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return (
        f"| {instance.name} | {mapped - started:.1f} | {laid_out - mapped:.1f} | "
        f"{built - laid_out:.1f} | {built - started:.1f} | {len(model.x):,} | {peak_mb} |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    print("| instance | read + map (s) | horizon (s) | build (s) | total (s) | options | peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in args.files:
        print(measure(path), flush=True)


if __name__ == "__main__":
    main()
