"""What format v2 changes in the outputs: coverage.csv names the sites a bank holiday
closed (rule 6), and a calendar event of a night ends on the real next morning."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from icalendar import Calendar

from scheduler.checks.validator import check_rota
from scheduler.domain import SiteKind
from scheduler.outputs.calendar import Occurrence, make_event
from scheduler.outputs.exports import write_exports
from scheduler.storage.feeds import Directory
from tests.factories import make_bundle, make_demand, make_session, make_site, make_staff

CHRISTMAS = tuple(dt.date(2026, 12, 21) + dt.timedelta(days=i) for i in range(7))
DAY = make_session("DAY", "08:00", "20:00", "Mon-Sun")


def _coverage(tmp_path: Path, miu_setting: str | None) -> list[dict[str, str]]:
    sites = [
        make_site(),
        make_site(
            site_id="MIU", name="Minor injuries", kind=SiteKind.SERVICE, bank_holidays=miu_setting
        ),
    ]
    demand = [make_demand("P01", "Mon-Fri", "DAY"), make_demand("MIU", "Mon-Sun", "DAY")]
    bundle = make_bundle(sites=sites, session_types=[DAY], demand=demand)
    report = check_rota(bundle, CHRISTMAS, [])
    write_exports(tmp_path, bundle, CHRISTMAS, [], report.coverage)
    with (tmp_path / "coverage.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_closed_site_has_a_row_naming_the_bank_holiday_with_nothing_needed(
    tmp_path: Path,
) -> None:
    rows = _coverage(tmp_path, "open")
    closed = [(r["date"], r["site_id"], r["closed"]) for r in rows if r["closed"]]
    assert closed == [("2026-12-25", "P01", "bank holiday: Christmas Day")]
    christmas_p01 = next(r for r in rows if r["closed"])
    assert (christmas_p01["min"], christmas_p01["shortfall"]) == ("0", "0")
    # the open unit is planned like any other day, and its row says nothing of a holiday
    miu = [r for r in rows if r["site_id"] == "MIU" and r["date"] == "2026-12-25"]
    assert len(miu) == 1 and miu[0]["closed"] == "" and miu[0]["min"] == "1"


def test_rows_stay_in_date_order_and_saturday_26th_is_ordinary(tmp_path: Path) -> None:
    rows = _coverage(tmp_path, None)
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    closed = {(r["date"], r["site_id"]) for r in rows if r["closed"]}
    assert closed == {("2026-12-25", "P01"), ("2026-12-25", "MIU")}
    saturday = [r for r in rows if r["date"] == "2026-12-26"]
    assert [(r["site_id"], r["closed"]) for r in saturday] == [("MIU", "")]


NIGHT = make_session("NIGHT", "23:00", "08:00", "Mon-Sun")


def _night_event(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    site, person = make_site(), make_staff(staff_id="S0008")
    directory = Directory(
        "Coast", "Europe/London", {site.site_id: site}, {"NIGHT": NIGHT}, {"S0008": person}
    )
    stamp = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    occurrence = Occurrence(1, "S0008", day, "NIGHT", site.site_id, "confirmed", 0, stamp, stamp)
    event = make_event(directory, occurrence, "rota.example", "staff", stamp)
    cal = Calendar()
    cal.add_component(event)
    parsed = next(iter(Calendar.from_ical(cal.to_ical()).walk("VEVENT")))
    return parsed.decoded("dtstart"), parsed.decoded("dtend")


def test_a_night_event_ends_the_next_morning_at_its_real_length() -> None:
    start, end = _night_event(dt.date(2026, 11, 30))
    assert (f"{start:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}") == (
        "2026-11-30 23:00",
        "2026-12-01 08:00",
    )
    assert end - start == dt.timedelta(hours=9)


def test_a_night_across_the_october_clock_change_lasts_an_hour_longer() -> None:
    start, end = _night_event(dt.date(2026, 10, 24))  # clocks go back at 02:00 on the 25th
    assert f"{end:%Y-%m-%d %H:%M}" == "2026-10-25 08:00"
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=10)
