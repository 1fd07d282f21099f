"""How long the largest import the caps allow takes, and how long it holds the write lock.

It copies ``sample_data/riverside`` into a temporary folder, replaces its
demand with dated rows (every weekday, site, session and role, one row per
need) up to ``--rows`` (default: the demand cap, ``tables.MAX_ROWS``), then
imports it into a new SQLite file twice (a first import, then a re-import
that replaces every row), reporting for each:

- ``read``: reading and validating the bundle (no database);
- ``lock held``: from the transaction's first statement (``BEGIN IMMEDIATE``
  on SQLite: the write lock) to its commit. Every other writer waits this
  long, and gives up after ``storage.db.BUSY_TIMEOUT`` seconds (503, exit 4);
- peak memory of the process (``ru_maxrss``).

Usage::

    python -m benchmarks.import_at_cap [--rows 300000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from scheduler.bundle.reader import read_bundle
from scheduler.bundle.tables import MAX_ROWS
from scheduler.domain import DEMAND
from scheduler.storage.db import BUSY_TIMEOUT, make_engine, session_scope, upgrade
from scheduler.storage.repository import load_bundle, save_bundle

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "riverside"


def write_demand(folder: Path, rows: int) -> int:
    """Dated demand rows, one per weekday, site, session and role, until ``rows``."""
    sites = [row["site_id"] for row in csv.DictReader((folder / "sites.csv").open())]
    roles = sorted({row["role"] for row in csv.DictReader((folder / "staff.csv").open())})
    written = 0
    day = dt.date(2027, 1, 4)
    with (folder / "demand.csv").open("w", encoding="utf-8") as out:
        out.write("site_id,day,session_id,role,skill,min,target,weight\n")
        while written < rows:
            if day.weekday() < 5:
                for site in sites:
                    for session in ("AM", "PM"):
                        for role in roles:
                            if written < rows:
                                out.write(f"{site},{day.isoformat()},{session},{role},,0,1,1\n")
                                written += 1
            day += dt.timedelta(days=1)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=MAX_ROWS[DEMAND])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "capped"
        shutil.copytree(SAMPLE, folder)
        rows = write_demand(folder, args.rows)
        started = time.perf_counter()
        bundle, _ = read_bundle(folder)
        print(f"{rows:,} demand rows; read and validated in {time.perf_counter() - started:.1f} s")
        url = f"sqlite:///{Path(scratch) / 'capped.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        marks: dict[str, float] = {}
        event.listen(engine, "begin", lambda _: marks.__setitem__("begin", time.perf_counter()))
        event.listen(engine, "commit", lambda _: marks.__setitem__("commit", time.perf_counter()))
        try:
            for label in ("first import", "re-import"):
                started = time.perf_counter()
                with session_scope(engine) as session:
                    save_bundle(session, bundle)
                done = time.perf_counter()
                held = marks["commit"] - marks["begin"]
                print(
                    f"{label}: saved in {done - started:.1f} s, write lock held {held:.1f} s "
                    f"(other writers wait up to {BUSY_TIMEOUT:.0f} s)"
                )
            with session_scope(engine) as session:
                if load_bundle(session, bundle.name) != bundle:
                    raise SystemExit("the saved bundle does not read back as the one imported")
        finally:
            engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
