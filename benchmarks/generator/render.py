"""A generated network written as a scenario bundle (CSV text), and a one-line summary."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence

from benchmarks.generator.figures import EA_MINUTES_PER_1000, SESSION_TYPES, Network

# --- Rendering -----------------------------------------------------------------


def number(value: float) -> str:
    """36.0 -> '36', 40.5 -> '40.5': how a person would type it."""
    return f"{value:g}"


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with Unix line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render(net: Network) -> dict[str, str]:
    """The bundle's files, in the order SCENARIO_FORMAT.md describes them."""
    return {
        "network.toml": render_network(net),
        "sites.csv": render_sites(net),
        "session_types.csv": to_csv(
            ("session_id", "label", "start", "end", "days", "kind"), SESSION_TYPES
        ),
        "staff.csv": render_staff(net),
        "demand.csv": render_demand(net),
        "leave.csv": to_csv(("staff_id", "start", "end", "kind", "session_id"), net.leave),
        "preferences.csv": to_csv(
            ("staff_id", "day", "session_id", "site_id", "preference", "weight"),
            net.preferences,
        ),
        "fixed.csv": to_csv(("staff_id", "date", "session_id", "site_id"), net.fixed),
    }


def render_network(net: Network) -> str:
    """network.toml: the Working Time Regulations defaults and the enhanced-access rule."""
    population = sum(p.list_size for p in net.practices())
    name = net.name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'name = "{name}"\n'
        'timezone = "Europe/London"\n\n'
        "[rules]\n"
        "min_rest_hours = 11        # Working Time Regulations daily rest\n"
        "max_week_hours = 48        # Working Time Regulations weekly cap\n"
        "max_sessions_per_day = 2\n\n"
        "[enhanced_access]          # Network Contract DES\n"
        f"minutes_per_1000_per_week = {EA_MINUTES_PER_1000}\n"
        "# Sum of list sizes, standing in for the NHS-published adjusted population.\n"
        f"adjusted_population = {population}\n"
    )


def render_sites(net: Network) -> str:
    """sites.csv, hubs after practices."""
    header = ("site_id", "name", "kind", "list_size", "rooms", "lat", "lon")
    rows = [(s.site_id, s.name, s.kind, s.list_size, s.rooms, s.lat, s.lon) for s in net.sites]
    return to_csv(header, rows)


def render_staff(net: Network) -> str:
    """staff.csv; min_hours 0 and the network's sessions-per-day rule for everyone."""
    header = (
        "staff_id",
        "name",
        "role",
        "home_site",
        "employer",
        "contract_hours",
        "min_hours",
        "max_hours",
        "skills",
        "sites",
        "max_sessions_per_day",
        "max_evenings",
        "max_weekend_sessions",
        "hourly_rate",
        "email",
    )
    rows = [
        (
            p.staff_id,
            p.name,
            p.role,
            p.home,
            p.employer,
            number(p.contract_hours),
            0,
            number(p.max_hours),
            ";".join(p.skills),
            ";".join(p.sites),
            "",
            p.max_evenings,
            p.max_weekend,
            number(p.hourly_rate),
            p.email,
        )
        for p in net.staff
    ]
    return to_csv(header, rows)


def render_demand(net: Network) -> str:
    """demand.csv in generation order: by PCN, ARRS, practices, hub."""
    header = ("site_id", "day", "session_id", "role", "skill", "min", "target", "weight")
    rows = [
        (n.site_id, n.day, n.session_id, n.role, n.skill, n.min, n.target, number(n.weight))
        for n in net.demand
    ]
    return to_csv(header, rows)


# --- Command line ------------------------------------------------------------------


def summary(files: dict[str, str]) -> str:
    """A one-paragraph description of a bundle: sites, patients, staff by role, demand."""
    sites = list(csv.DictReader(io.StringIO(files["sites.csv"])))
    staff = list(csv.DictReader(io.StringIO(files["staff.csv"])))
    demand = list(csv.DictReader(io.StringIO(files["demand.csv"])))
    practices = [s for s in sites if s["kind"] == "practice"]
    patients = sum(int(s["list_size"]) for s in practices)
    roles = Counter(p["role"] for p in staff)
    by_role = ", ".join(f"{role} {count}" for role, count in sorted(roles.items()))
    return (
        f"{len(practices)} practices, {len(sites) - len(practices)} hub(s), "
        f"{patients:,} patients; {len(staff)} staff ({by_role}); "
        f"{len(demand)} demand rows"
    )
