"""What publishing the week's draft would do, for the confirmation a manager reads first:
who is still short, how much changed since the published version, who will be told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from scheduler.checks.validator import CoverageLine, check_rota
from scheduler.storage.events import current_bundle
from scheduler.storage.rotas import find_rota, normalise_week
from scheduler.usecases.editing import load_cells, week_dates
from scheduler.usecases.notices import NOTICE_DAYS, in_window
from scheduler.usecases.publishing import diff_rotas


@dataclass(frozen=True)
class PublishPreview:
    week: str
    revision: int  # the draft's: publishing refuses a draft changed after the preview
    ok: bool  # the validator passes the draft (publishing refuses it otherwise)
    short: tuple[CoverageLine, ...]  # demand rows short of their minimum
    last_version: int | None  # the published version it would replace
    sessions_changed: int  # sessions added, removed or moved since that version
    people_changed: int
    people_told: int  # people with a change in the next NOTICE_DAYS days: each gets a notice
    notice_days: int = NOTICE_DAYS

    @property
    def people_short(self) -> int:
        return sum(line.shortfall for line in self.short)


def preview_publication(
    session: Session, network_id: int, week: str, today: dt.date
) -> PublishPreview | None:
    """The preview of publishing the week's draft; None when there is no draft."""
    week = normalise_week(week)
    draft = find_rota(session, network_id, week, "draft")
    if draft is None:
        return None
    published = find_rota(session, network_id, week, "published")
    cells = load_cells(session, draft.id).assignments
    report = check_rota(current_bundle(session, network_id), week_dates(week), cells)
    before = load_cells(session, published.id).assignments if published else frozenset()
    changes = diff_rotas(before, cells)
    told = set()
    for change in changes if published is not None else []:  # a first version tells nobody
        days = [m.before.date for m in change.moved] + [m.after.date for m in change.moved]
        days += [a.date for a in (*change.added, *change.removed)]
        if any(in_window(day, today) for day in days):
            told.add(change.staff_id)
    return PublishPreview(
        week=week,
        revision=draft.revision,
        ok=report.ok,
        short=tuple(line for line in report.coverage if line.shortfall),
        last_version=published.version if published else None,
        sessions_changed=sum(len(c.moved) + len(c.added) + len(c.removed) for c in changes),
        people_changed=len(changes),
        people_told=len(told),
    )
