"""The network generator and the sample bundles: deterministic, valid, realistic in size.

The bundles are read with the csv module and checked against the rules of
SCENARIO_FORMAT.md here, independently of the importer, so these tests hold
whether or not the importer agrees.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import math
import os
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.generate import generate_network, main, write_network

ROOT = Path(__file__).resolve().parents[1]
RIVERSIDE = ROOT / "sample_data" / "riverside"
TINY = ROOT / "sample_data" / "tiny"
RIVERSIDE_SEED = 34  # the seed sample_data/README.md documents
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK = tuple(dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(7))  # 2026-W49
CORE_HOURS = 4.5


# --- Reading bundles --------------------------------------------------------------


def read_dir(path: Path) -> dict[str, str]:
    """A bundle folder as the generator returns it: file name -> text."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(path.iterdir()) if p.is_file()}


def rows(files: dict[str, str], name: str) -> list[dict[str, str]]:
    """The rows of one CSV file of the bundle (an empty list when the file is absent)."""
    if name not in files:
        return []
    return list(csv.DictReader(io.StringIO(files[name])))


def weekdays(text: str) -> set[int]:
    """Weekday indices of a day cell: 'Tue', 'Mon-Fri' or a date of the planned week."""
    if "-" in text and text[:4].isdigit():
        return {WEEK.index(dt.date.fromisoformat(text))}
    if "-" in text:
        first, last = text.split("-")
        return set(range(DAYS.index(first), DAYS.index(last) + 1))
    return {DAYS.index(text)}


def minutes(start: str, end: str) -> int:
    """Length of a session written HH:MM-HH:MM (none of ours is overnight)."""
    start_h, start_m = start.split(":")
    end_h, end_m = end.split(":")
    return (int(end_h) - int(start_h)) * 60 + int(end_m) - int(start_m)


# --- Checking bundles ------------------------------------------------------------------


def problems(files: dict[str, str]) -> list[str]:
    """Every broken rule of SCENARIO_FORMAT.md found in the bundle (empty = valid)."""
    found: list[str] = []
    found += check_sites_and_sessions(files)
    found += check_staff(files)
    found += check_demand(files)
    found += check_leave_and_preferences(files)
    found += check_fixed(files)
    return found


def check_sites_and_sessions(files: dict[str, str]) -> list[str]:
    found = []
    sites = rows(files, "sites.csv")
    if len({s["site_id"] for s in sites}) != len(sites):
        found.append("duplicate site_id")
    for s in sites:
        if s["kind"] not in ("practice", "hub") or int(s["rooms"]) < 0:
            found.append(f"bad site {s}")
        if s["kind"] == "hub" and int(s["list_size"]) != 0:
            found.append(f"hub with a list: {s['site_id']}")
    sessions = rows(files, "session_types.csv")
    for day in range(7):
        spans = sorted((s["start"], s["end"]) for s in sessions if day in weekdays(s["days"]))
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                found.append(f"session types overlap on {DAYS[day]}")
    return found


def check_staff(files: dict[str, str]) -> list[str]:
    found = []
    site_ids = {s["site_id"] for s in rows(files, "sites.csv")}
    staff = rows(files, "staff.csv")
    if len({p["staff_id"] for p in staff}) != len(staff):
        found.append("duplicate staff_id")
    for p in staff:
        sites = p["sites"].split(";") if p["sites"] else [p["home_site"]]
        if p["home_site"] not in site_ids or p["employer"] not in site_ids | {"FED"}:
            found.append(f"{p['staff_id']}: unknown home or employer")
        if sites != ["*"] and not (set(sites) <= site_ids and p["home_site"] in sites):
            found.append(f"{p['staff_id']}: bad sites {sites}")
        if not 0 <= float(p["min_hours"]) <= float(p["max_hours"]) <= 48:
            found.append(f"{p['staff_id']}: bad hour bounds")
    emails = [p["email"] for p in staff if p["email"]]
    if len(set(emails)) != len(emails) or not all(e.endswith("@example.nhs.uk") for e in emails):
        found.append("emails not unique or not example.nhs.uk")
    return found


def check_demand(files: dict[str, str]) -> list[str]:
    found = []
    sites = {s["site_id"]: s for s in rows(files, "sites.csv")}
    sessions = {s["session_id"]: s for s in rows(files, "session_types.csv")}
    staff = rows(files, "staff.csv")
    load: Counter[tuple[str, int, str]] = Counter()
    for n in rows(files, "demand.csv"):
        session = sessions.get(n["session_id"])
        if n["site_id"] not in sites or session is None:
            found.append(f"demand row with unknown site or session: {n}")
            continue
        if not weekdays(n["day"]) <= weekdays(session["days"]):
            found.append(f"demand on a day the session does not run: {n}")
        if not 0 <= int(n["min"]) <= int(n["target"]):
            found.append(f"min above target: {n}")
        if not any(can_fill(p, n) for p in staff):
            found.append(f"nobody can ever fill: {n}")
        for day in weekdays(n["day"]):
            load[(n["site_id"], day, n["session_id"])] += int(n["min"])
    for (site, day, session_id), people in load.items():
        rooms = int(sites[site]["rooms"])
        if rooms and people > rooms:
            found.append(f"{site} {DAYS[day]} {session_id}: min {people} > {rooms} rooms")
    return found


def can_fill(person: dict[str, str], need: dict[str, str]) -> bool:
    """Role, skill and site all match (leave aside)."""
    sites = person["sites"].split(";") if person["sites"] else [person["home_site"]]
    return (
        need["role"] in ("", person["role"])
        and (not need["skill"] or need["skill"] in person["skills"].split(";"))
        and (sites == ["*"] or need["site_id"] in sites)
    )


def check_leave_and_preferences(files: dict[str, str]) -> list[str]:
    found = []
    staff_ids = {p["staff_id"] for p in rows(files, "staff.csv")}
    site_ids = {s["site_id"] for s in rows(files, "sites.csv")}
    session_ids = {s["session_id"] for s in rows(files, "session_types.csv")} | {""}
    for leave in rows(files, "leave.csv"):
        start, end = dt.date.fromisoformat(leave["start"]), dt.date.fromisoformat(leave["end"])
        if leave["staff_id"] not in staff_ids or not WEEK[0] <= start <= end <= WEEK[-1]:
            found.append(f"bad leave {leave}")
        if leave["kind"] not in ("annual", "study", "sick", "parental", "other"):
            found.append(f"bad leave kind {leave}")
        if leave["session_id"] not in session_ids:
            found.append(f"bad leave session {leave}")
    for pref in rows(files, "preferences.csv"):
        if pref["staff_id"] not in staff_ids or pref["site_id"] not in site_ids | {""}:
            found.append(f"bad preference {pref}")
        if pref["session_id"] not in session_ids or pref["preference"] not in (
            "unavailable",
            "avoid",
            "prefer",
        ):
            found.append(f"bad preference {pref}")
    return found


def check_fixed(files: dict[str, str]) -> list[str]:
    """Pinned sessions: a person free that day, at a site they may work, on a row they fit."""
    found = []
    staff = {p["staff_id"]: p for p in rows(files, "staff.csv")}
    demand = rows(files, "demand.csv")
    for pin in rows(files, "fixed.csv"):
        person = staff[pin["staff_id"]]
        day = WEEK.index(dt.date.fromisoformat(pin["date"]))
        if is_off(files, pin["staff_id"], day, pin["session_id"]):
            found.append(f"pinned while on leave or unavailable: {pin}")
        fits = [
            n
            for n in demand
            if n["site_id"] == pin["site_id"]
            and n["session_id"] == pin["session_id"]
            and day in weekdays(n["day"])
            and int(n["target"]) > 0
            and can_fill(person, n)
        ]
        if not fits:
            found.append(f"pinned where no demand row fits: {pin}")
        if day >= 5 and int(person["max_weekend_sessions"] or 0) < 1:
            found.append(f"pinned on a weekend beyond the cap: {pin}")
        if pin["session_id"] == "EVE" and int(person["max_evenings"] or 0) < 1:
            found.append(f"pinned on an evening beyond the cap: {pin}")
    return found


def is_off(files: dict[str, str], staff_id: str, day: int, session: str) -> bool:
    """On leave or 'unavailable' for that session of that day."""
    for leave in rows(files, "leave.csv"):
        start, end = dt.date.fromisoformat(leave["start"]), dt.date.fromisoformat(leave["end"])
        mine = leave["staff_id"] == staff_id and leave["session_id"] in ("", session)
        if mine and start <= WEEK[day] <= end:
            return True
    return any(
        p["staff_id"] == staff_id
        and p["preference"] == "unavailable"
        and day in weekdays(p["day"])
        and p["session_id"] in ("", session)
        for p in rows(files, "preferences.csv")
    )


# --- Measuring bundles ------------------------------------------------------------------


def core_capacity_hours(files: dict[str, str]) -> float:
    """Hours of core sessions staff can work this week: whole sessions within max hours,
    two a day, less leave and 'unavailable' sessions."""
    total = 0.0
    for p in rows(files, "staff.csv"):
        free = sum(
            1 for day in range(5) for s in ("AM", "PM") if not is_off(files, p["staff_id"], day, s)
        )
        total += min(int(float(p["max_hours"]) // CORE_HOURS), free) * CORE_HOURS
    return total


def min_demand_hours(files: dict[str, str]) -> float:
    """Hours of work the demand rows ask for at least in the week."""
    sessions = {s["session_id"]: s for s in rows(files, "session_types.csv")}
    total = 0.0
    for n in rows(files, "demand.csv"):
        length = minutes(sessions[n["session_id"]]["start"], sessions[n["session_id"]]["end"])
        total += int(n["min"]) * length / 60 * len(weekdays(n["day"]))
    return total


def hub_minutes(files: dict[str, str], hub: str) -> int:
    """Minutes of clinician time the hub's demand rows ask for at least in the week."""
    sessions = {s["session_id"]: s for s in rows(files, "session_types.csv")}
    total = 0
    for n in rows(files, "demand.csv"):
        if n["site_id"] == hub:
            session = sessions[n["session_id"]]
            length = minutes(session["start"], session["end"])
            total += int(n["min"]) * length * len(weekdays(n["day"]))
    return total


def patients(files: dict[str, str]) -> int:
    return sum(int(s["list_size"]) for s in rows(files, "sites.csv"))


@pytest.fixture(scope="module")
def generated() -> dict[int, dict[str, str]]:
    """Generated networks of 5, 8 and 60 practices, made once for the module."""
    return {n: generate_network(n, seed=11) for n in (5, 8, 60)}


# --- Determinism ------------------------------------------------------------------------


def test_same_seed_gives_identical_files() -> None:
    assert generate_network(8, seed=3) == generate_network(8, seed=3)


def test_different_seed_gives_different_files() -> None:
    first, second = generate_network(8, seed=3), generate_network(8, seed=4)
    assert first["staff.csv"] != second["staff.csv"]
    assert first["sites.csv"] != second["sites.csv"]


def test_files_do_not_depend_on_string_hashing() -> None:
    """Two interpreters with different hash seeds write the same bundle."""
    code = (
        "import hashlib, json; from benchmarks.generate import generate_network; "
        "print(hashlib.sha256(json.dumps(generate_network(9, 5)).encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(done.stdout.strip())
    local = hashlib.sha256(json.dumps(generate_network(9, 5)).encode()).hexdigest()
    assert digests == {local}


def test_week_moves_leave_and_pins_only() -> None:
    w49, w50 = generate_network(5, seed=2), generate_network(5, seed=2, week="2026-W50")
    assert w49["demand.csv"] == w50["demand.csv"]
    moved = [
        (row49["start"], row50["start"])
        for row49, row50 in zip(rows(w49, "leave.csv"), rows(w50, "leave.csv"), strict=True)
    ]
    assert moved
    for start49, start50 in moved:
        shift = dt.date.fromisoformat(start50) - dt.date.fromisoformat(start49)
        assert shift == dt.timedelta(days=7)


def test_at_least_one_practice() -> None:
    with pytest.raises(ValueError, match="at least one practice"):
        generate_network(0, seed=1)


# --- Validity and scale -------------------------------------------------------------------


@pytest.mark.parametrize("practices", [5, 8, 60])
def test_generated_bundle_is_valid(generated: dict[int, dict[str, str]], practices: int) -> None:
    assert problems(generated[practices]) == []


@pytest.mark.parametrize("practices", [5, 8, 60])
def test_generated_bundle_has_every_file(
    generated: dict[int, dict[str, str]], practices: int
) -> None:
    files = generated[practices]
    assert set(files) == {
        "network.toml",
        "sites.csv",
        "session_types.csv",
        "staff.csv",
        "demand.csv",
        "leave.csv",
        "preferences.csv",
        "fixed.csv",
    }
    toml = tomllib.loads(files["network.toml"])
    assert toml["rules"] == {"min_rest_hours": 11, "max_week_hours": 48, "max_sessions_per_day": 2}
    assert toml["enhanced_access"]["minutes_per_1000_per_week"] == 60
    assert toml["enhanced_access"]["adjusted_population"] == patients(files)


@pytest.mark.parametrize(
    ("practices", "patient_range", "staff_range"),
    [
        (5, (30_000, 45_000), (35, 60)),
        (8, (52_000, 68_000), (60, 85)),
        (60, (450_000, 550_000), (500, 700)),
    ],
)
def test_sizes_scale_with_practices(
    generated: dict[int, dict[str, str]],
    practices: int,
    patient_range: tuple[int, int],
    staff_range: tuple[int, int],
) -> None:
    files = generated[practices]
    kinds = Counter(s["kind"] for s in rows(files, "sites.csv"))
    assert kinds == {"practice": practices, "hub": math.ceil(practices / 8)}
    assert patient_range[0] <= patients(files) <= patient_range[1]
    assert staff_range[0] <= len(rows(files, "staff.csv")) <= staff_range[1]


@pytest.mark.parametrize("practices", [5, 8, 60])
def test_week_is_tight_but_coverable(generated: dict[int, dict[str, str]], practices: int) -> None:
    """Minimum demand is 85-95% of the hours staff can work after leave."""
    files = generated[practices]
    assert 0.85 <= min_demand_hours(files) / core_capacity_hours(files) <= 0.95


@pytest.mark.parametrize("practices", [5, 8, 60])
def test_hubs_deliver_enhanced_access_minutes(
    generated: dict[int, dict[str, str]], practices: int
) -> None:
    """60 minutes per 1,000 patients a week across the hubs, a GP in every hub session."""
    files = generated[practices]
    hubs = [s["site_id"] for s in rows(files, "sites.csv") if s["kind"] == "hub"]
    assert sum(hub_minutes(files, hub) for hub in hubs) >= 60 * patients(files) / 1000
    hub_gp_rows = [
        n for n in rows(files, "demand.csv") if n["site_id"] in hubs and n["role"] == "GP"
    ]
    assert len(hub_gp_rows) == 7 * len(hubs)
    assert all(int(n["min"]) >= 1 for n in hub_gp_rows)


def test_leave_preferences_and_pins_are_present(generated: dict[int, dict[str, str]]) -> None:
    files = generated[60]
    staff = len(rows(files, "staff.csv"))
    on_leave = {row["staff_id"] for row in rows(files, "leave.csv")}
    assert 0.08 * staff <= len(on_leave) <= 0.12 * staff
    assert 1 <= sum(1 for row in rows(files, "leave.csv") if row["session_id"]) <= 2
    kinds = Counter(p["preference"] for p in rows(files, "preferences.csv"))
    assert set(kinds) == {"prefer", "avoid", "unavailable"}
    assert 2 <= len(rows(files, "fixed.csv")) <= 4


def test_cli_writes_the_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--practices", "3", "--seed", "9", "--out", str(tmp_path / "net")]) == 0
    assert read_dir(tmp_path / "net") == generate_network(3, seed=9)
    assert "3 practices" in capsys.readouterr().out


# --- The sample networks --------------------------------------------------------------------


def test_riverside_is_a_realistic_pcn() -> None:
    files = read_dir(RIVERSIDE)
    assert problems(files) == []
    assert tomllib.loads(files["network.toml"])["name"] == "Riverside Primary Care Network"
    kinds = Counter(s["kind"] for s in rows(files, "sites.csv"))
    assert kinds == {"practice": 8, "hub": 1}
    assert 55_000 <= patients(files) <= 65_000
    roles = Counter(p["role"] for p in rows(files, "staff.csv"))
    assert 60 <= sum(roles.values()) <= 75
    assert {"GP", "PN", "HCA", "PHARM", "PARA", "FCP", "PA"} <= set(roles)
    assert 2 <= len(rows(files, "fixed.csv")) <= 4
    assert 0.85 <= min_demand_hours(files) / core_capacity_hours(files) <= 0.95
    assert hub_minutes(files, "HUB1") >= 60 * patients(files) / 1000


def test_riverside_matches_its_generator_command() -> None:
    """sample_data/README.md's command regenerates riverside; only site names were edited."""
    on_disk = read_dir(RIVERSIDE)
    fresh = generate_network(8, RIVERSIDE_SEED, "2026-W49", "Riverside Primary Care Network")
    for name, text in fresh.items():
        if name != "sites.csv":
            assert on_disk[name] == text, name
    strip = [{**s, "name": ""} for s in rows(on_disk, "sites.csv")]
    assert strip == [{**s, "name": ""} for s in rows(fresh, "sites.csv")]


def test_tiny_is_small_and_valid() -> None:
    files = read_dir(TINY)
    assert problems(files) == []
    assert Counter(s["kind"] for s in rows(files, "sites.csv")) == {"practice": 2, "hub": 1}
    assert len(rows(files, "staff.csv")) == 8
    assert [s["session_id"] for s in rows(files, "session_types.csv")] == ["AM", "PM", "EVE"]
    assert len(rows(files, "leave.csv")) == 1
    assert len(rows(files, "fixed.csv")) == 1
    kinds = sorted(p["preference"] for p in rows(files, "preferences.csv"))
    assert kinds == ["avoid", "prefer", "unavailable"]
    fed = [p for p in rows(files, "staff.csv") if p["employer"] == "FED"]
    assert [(p["role"], p["sites"]) for p in fed] == [("PHARM", "*")]


# --- The importer agrees ---------------------------------------------------------------------


@pytest.mark.parametrize("source", ["riverside", "tiny", 5, 60])
def test_importer_accepts_sample_and_generated_bundles(tmp_path: Path, source: str | int) -> None:
    """Every bundle made here imports without errors or warnings."""
    from scheduler.bundle import reader as importer

    if isinstance(source, int):
        folder = tmp_path / f"net{source}"
        write_network(folder, source, seed=11)
    else:
        folder = ROOT / "sample_data" / source
    bundle, warnings = importer.read_bundle(folder)
    assert [str(w) for w in warnings] == []
    assert len(bundle.staff) == len(rows(read_dir(folder), "staff.csv"))
