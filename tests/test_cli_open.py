"""``rotapool open add|list|withdraw`` on the tiny network, a week ahead of today."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.cli.main import main
from scheduler.domain import iso_week_label
from tests.web_support import TINY

AHEAD = dt.date.today() + dt.timedelta(days=14)  # a week whose sessions have not started
WEEK = iso_week_label(AHEAD)
WEDNESDAY = dt.date.fromisocalendar(*AHEAD.isocalendar()[:2], 3).isoformat()
SATURDAY = dt.date.fromisocalendar(*AHEAD.isocalendar()[:2], 6).isoformat()


@pytest.fixture
def published(db_url: str) -> str:
    """The tiny network with WEEK planned and published."""
    assert main(["import", str(TINY), "--database", db_url]) == 0
    assert main(["solve", "--week", WEEK, "--time-limit", "5", "--database", db_url]) == 0
    assert main(["publish", "--week", WEEK, "--database", db_url]) == 0
    return db_url


def test_a_place_is_offered_listed_and_withdrawn(
    published: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    place = ["--site-id", "P01", "--date", WEDNESDAY, "--session-id", "PM", "--role", "GP"]
    extra = ["--rate", "95", "--note", "urgent"]
    assert main(["open", "add", *place, *extra, "--database", published]) == 0
    said = capsys.readouterr().out
    assert "Offered 1 place." in said and "#1 P01" in said and "£95.00/h (urgent): open" in said
    assert main(["open", "list", "--week", WEEK, "--database", published]) == 0
    assert "1 place." in capsys.readouterr().out
    assert main(["open", "withdraw", "1", "--database", published]) == 0
    assert main(["open", "withdraw", "1", "--database", published]) == 1
    assert "not withdrawn: it is withdrawn" in capsys.readouterr().err
    assert main(["open", "list", "--database", published]) == 0
    assert "0 places." in capsys.readouterr().out
    assert main(["open", "list", "--state", "withdrawn", "--database", published]) == 0
    assert "withdrawn" in capsys.readouterr().out


def test_a_place_that_makes_no_sense_names_the_option(
    published: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    saturday = ["--site-id", "P01", "--date", SATURDAY, "--session-id", "PM"]
    assert main(["open", "add", *saturday, "--database", published]) == 2
    assert "--session-id: PM does not run on Saturdays" in capsys.readouterr().err
    unknown = ["--site-id", "P99", "--date", WEDNESDAY, "--session-id", "PM"]
    assert main(["open", "add", *unknown, "--database", published]) == 2
    assert "--site-id: 'P99' is not a site of the network" in capsys.readouterr().err


def test_every_shortfall_is_offered_once(
    published: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["open", "add", "--short", WEEK, "--database", published]) == 0
    first = capsys.readouterr().out
    assert main(["open", "add", "--short", WEEK, "--database", published]) == 0
    assert "Nothing to offer" in capsys.readouterr().out
    assert "Offered" in first or "Nothing to offer" in first
