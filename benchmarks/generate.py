"""Generate realistic synthetic scenario bundles for demos, tests and benchmarks.

A generated network is a federation of Primary Care Networks (PCNs): the
practices are grouped into PCNs of about eight, each PCN has one
enhanced-access hub and its own network-employed (ARRS) staff.  Every figure
below says where it comes from; "DOMAIN.md" is the project's domain brief
(/work/shared/DOMAIN.md).  The output follows SCENARIO_FORMAT.md (bundle v1)
and every row is valid: references resolve, ``min <= target``, session types
do not overlap, and pinned sessions are on days their person can work.

Usage::

    python -m benchmarks.generate --practices 8 --seed 1 --out DIR

The generator is deterministic for a given seed: it draws only from its own
``random.Random(seed)`` and never iterates over a set of strings."""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

from benchmarks.generator.demand import make_demand, make_fixed
from benchmarks.generator.figures import PRACTICES_PER_PCN, Network
from benchmarks.generator.names import LOCALITIES
from benchmarks.generator.render import render, summary
from benchmarks.generator.sites import make_sites
from benchmarks.generator.staff import ensure_hub_cover, make_leave, make_preferences, make_staff
from scheduler.domain import parse_iso_week

# --- Entry points ------------------------------------------------------------


def generate_network(
    practices: int, seed: int, week: str = "2026-W49", name: str | None = None
) -> dict[str, str]:
    """A complete bundle (file name -> text) for ``practices`` practices, same seed same files."""
    if practices < 1:
        raise ValueError("a network needs at least one practice")
    rng = random.Random(seed)
    net = build_network(rng, practices, parse_iso_week(week), name)
    return render(net)


def write_network(
    out_dir: str | Path, practices: int, seed: int, week: str = "2026-W49", name: str | None = None
) -> dict[str, str]:
    """Write a generated bundle into ``out_dir`` (created if missing) and return its files."""
    files = generate_network(practices, seed, week, name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        (out / file_name).write_text(text, encoding="utf-8")
    return files


def build_network(
    rng: random.Random, practices: int, dates: Sequence[dt.date], name: str | None
) -> Network:
    """Generate in dependency order: places, people, time off, then the demand they meet."""
    sites = make_sites(rng, practices)
    kind = "Primary Care Network" if practices <= PRACTICES_PER_PCN else "GP Federation"
    default_name = f"{rng.choice(LOCALITIES)} {kind}"  # drawn even when named: same stream
    net = Network(name or default_name, tuple(dates), sites)
    make_staff(rng, net)
    ensure_hub_cover(rng, net)
    net.leave = make_leave(rng, net)
    net.preferences = make_preferences(rng, net)
    net.demand = make_demand(rng, net)
    net.fixed = make_fixed(rng, net)
    return net


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: write a generated bundle and print what it contains."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--practices", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--week", default="2026-W49", help="ISO week of leave and pins")
    parser.add_argument("--name", default=None, help="network name (default: generated)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    files = write_network(args.out, args.practices, args.seed, args.week, args.name)
    print(f"{args.out}: {summary(files)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
