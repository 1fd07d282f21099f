"""The week board: the whole week on one screen, fixed in place.

Every action is an ordinary link or form, so the board works without
JavaScript; with htmx (vendored) a click on a cell opens its side panel and an
edit replaces only the cells it touched, the shortfall list and the status
line, so the board keeps its scroll position.  Every edit goes through
``scheduler.usecases.editing``: checked by the validator before it is saved,
refused with the rule and the person named, and refused when the page is stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as Redirect

from scheduler.domain import DAY_NAMES, Assignment, Bundle
from scheduler.storage.repository import NetworkLookupError
from scheduler.usecases import editing
from scheduler.views.board import (
    BoardFilter,
    build_board,
    day_heading,
    groups,
    person_board,
)
from scheduler.views.grid import filter_options
from scheduler.views.panel import cell_panel, move_choices
from scheduler.views.week import (
    COVERAGE,
    Recent,
    Week,
    current_network,
    week_cover,
    week_coverage,
)
from web.auth import STAFF_ROLES, network_guard, require
from web.common import (
    checked_week,
    chosen_state,
    editable_shown,
    not_found,
    page_context,
    picked_week,
    read_week,
)
from web.db import reading, transaction

bp = Blueprint("board", __name__)

VIEWS = ("sites", "people")
FILTERS = ("role", "skill", "site", "group")
Slot = tuple[dt.date, str, str]


def htmx() -> bool:
    """Whether htmx asked (it then takes a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def board_filter(bundle: Bundle, args: Mapping[str, str], prefix: str = "") -> BoardFilter:
    """The filters of the board from a query or a form; an unknown value is a 404 naming it."""
    values = {name: (args.get(prefix + name) or None) for name in FILTERS}
    roles, skills = filter_options(bundle)
    known = {
        "role": roles,
        "skill": skills,
        "site": [s.site_id for s in bundle.sites],
        "group": groups(bundle),
    }
    for name, value in values.items():
        if value is not None and value not in known[name]:
            not_found(f"{name}: {value!r} is not one this network has; pick one from the list.")
    return BoardFilter(**values)


def filter_args(flt: BoardFilter) -> dict[str, str]:
    """The filter as query arguments, to keep it on every link of the board."""
    return {name: value for name in FILTERS if (value := getattr(flt, name)) is not None}


def slot_of(bundle: Bundle, dates: tuple[dt.date, ...], args: Mapping[str, str]) -> Slot | None:
    """The cell a query or form names (``cell_site``, ``cell_date``, ``cell_session``)."""
    site, day, session = (args.get(f"cell_{k}") or "" for k in ("site", "date", "session"))
    if not (site or day or session):
        return None
    if site not in {s.site_id for s in bundle.sites}:
        not_found(f"cell_site: {site!r} is not a site of this network.")
    if session not in {s.session_id for s in bundle.session_types}:
        not_found(f"cell_session: {session!r} is not a session of this network.")
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        date = None
    if date not in dates:
        not_found(f"cell_date: {day!r} is not a date of this week (write it as YYYY-MM-DD).")
    assert date is not None
    return date, site, session


def shown_day(dates: tuple[dt.date, ...], text: str | None) -> int:
    """The day a phone shows (``?day=0..6``): asked for, else today when in the week, else 0."""
    if text is not None and text.isdigit() and int(text) < len(dates):
        return int(text)
    today = dt.date.today()
    return dates.index(today) if today in dates else 0


def _pins(loaded: Week) -> frozenset[Assignment]:
    if loaded.shown is None:
        return frozenset()
    with reading() as db:
        return editing.pinned_cells(db, loaded.shown.id)


def _base_context(network_id: int, loaded: Week, name: str, state: str | None) -> dict[str, Any]:
    """What every board template needs but the board itself: filters and the week's header."""
    flt = board_filter(loaded.bundle, request.values)
    roles, skills = filter_options(loaded.bundle)
    return {
        "flt": flt,
        "fargs": filter_args(flt),
        "roles": roles,
        "skills": skills,
        "groups": groups(loaded.bundle),
        "sites": loaded.bundle.sites,
        "editable": editable_shown(loaded),
        "day_heading": day_heading,
        "day_names": DAY_NAMES,
        "board_url": url_for("board.board", network_id=network_id, week=loaded.label),
        "cell_url": url_for("board.cell", network_id=network_id, week=loaded.label),
        "fquery": "&" + urlencode(filter_args(flt)) if filter_args(flt) else "",
        **page_context(network_id, name, loaded, state),
    }


def _context(network_id: int, loaded: Week, name: str, state: str | None) -> dict[str, Any]:
    """The base context and the board of the shown rota under the filter."""
    context = _base_context(network_id, loaded, name, state)
    key = (loaded.fingerprint, context["flt"])
    board = BOARDS.get(key)
    if board is None:
        coverage = week_coverage(loaded)
        board = build_board(loaded.bundle, loaded.dates, loaded.assignments, coverage, key[1])
        BOARDS.put(key, board)
    context["board"] = board
    return context


# A cell's panel (who is there, what it needs, who could come) is the same for everyone
# who opens that cell of that revision of a rota, with the same leave: remembered whole.
PANELS: Recent[tuple[object, ...], Any] = Recent(64)


def _panel(
    loaded: Week, slot: Slot, message: tuple[str, str] | None = None, defer: bool = False
) -> dict[str, Any]:
    shown = loaded.shown
    key = (
        loaded.fingerprint,
        hash(loaded.bundle.leave),
        (shown.id, shown.revision) if shown else None,
        slot,
        defer,
    )
    panel = PANELS.get(key)
    if panel is None:
        panel = cell_panel(
            loaded.bundle,
            loaded.dates,
            loaded.assignments,
            week_coverage(loaded),
            pinned=_pins(loaded),
            slot=slot,
            ctx=None if defer else week_cover(loaded),
            defer=defer,
        )
        PANELS.put(key, panel)
    query = urlencode(
        {"cell_site": slot[1], "cell_date": slot[0].isoformat(), "cell_session": slot[2]}
    )
    return {"panel": panel, "message": message, "panel_query": query}


# -- the board ------------------------------------------------------------------------------


@bp.get("/n/<int:network_id>/weeks/<week>/board")
@require(*STAFF_ROLES)
def board(network_id: int, week: str) -> str | Redirect:
    """Sites by days and sessions (or people by days), the shortfalls, and a cell's panel."""
    network_guard(network_id)
    moved = picked_week("board.board", network_id)
    if moved is not None:
        return moved
    state = chosen_state()
    name, loaded = read_week(network_id, checked_week(week), state)
    view = request.args.get("view") or "sites"
    if view not in VIEWS:
        not_found(f"view: {view!r} is not one of {', '.join(VIEWS)}.")
    context = _page_context(network_id, loaded, name, state, view)
    slot = slot_of(loaded.bundle, loaded.dates, request.args)
    if slot is not None:
        context.update(_panel(loaded, slot))
    return render_template("board/board.html", **context)


BOARDS: Recent[tuple[object, ...], Any] = Recent(16)  # boards and person views
# The board's table is the same for everyone who sees a rota with a filter: the rota's
# fingerprint changes with every edit (a new revision), so a remembered table is never stale.
TABLES: Recent[tuple[object, ...], Markup] = Recent(48)


def _table(loaded: Week, context: dict[str, Any], view: str) -> Markup:
    """The rendered table of the board (or of the person view), remembered per rota, filter,
    day and address."""
    key = (
        view,
        loaded.fingerprint,
        context["flt"],
        context["board_url"],
        context["day"],
        context["one_day"],
    )
    table = TABLES.get(key)
    if table is None:
        template = "board/_table.html" if view == "sites" else "board/_people.html"
        table = Markup(render_template(template, **context))
        TABLES.put(key, table)
    return table


def short_list(loaded: Week, context: dict[str, Any], oob: bool) -> Markup:
    """The rendered list of short cells, remembered like the table (it links every cell)."""
    key = ("short", loaded.fingerprint, context["flt"], context["board_url"], oob)
    found = TABLES.get(key)
    if found is None:
        found = Markup(render_template("board/_short.html", **context, oob=oob))
        TABLES.put(key, found)
    return found


def _page_context(
    network_id: int, loaded: Week, name: str, state: str | None, view: str = "sites"
) -> dict[str, Any]:
    """What the whole board page needs, beyond ``_context``: the view and the phone's day."""
    context = _context(network_id, loaded, name, state)
    if view == "people":
        key = ("people", loaded.fingerprint, context["flt"])
        people = BOARDS.get(key)
        if people is None:
            people = person_board(loaded.bundle, loaded.dates, loaded.assignments, key[2])
            BOARDS.put(key, people)
        context["people"] = people
    context["view"] = view
    context["day"] = shown_day(loaded.dates, request.args.get("day"))
    context["one_day"] = request.args.get("one_day") == "1"  # one day of every site, to print
    context["short_html"] = short_list(loaded, context, oob=False)
    context["table"] = _table(loaded, context, view)
    return context


@bp.get("/n/<int:network_id>/weeks/<week>/board/cell")
@require(*STAFF_ROLES)
def cell(network_id: int, week: str) -> str | Redirect:
    """A cell's side panel: a fragment for htmx, else the board with the panel open."""
    network_guard(network_id)
    state = chosen_state()
    name, loaded = read_week(network_id, checked_week(week), state)
    slot = slot_of(loaded.bundle, loaded.dates, request.args)
    if slot is None:
        not_found("Name a cell: cell_site, cell_date and cell_session.")
    if not htmx():
        asked: dict[str, Any] = dict(request.args)
        return redirect(url_for(".board", network_id=network_id, week=loaded.label, **asked))
    context = _base_context(network_id, loaded, name, state)
    part = "board/_offers.html" if request.args.get("part") == "offers" else "board/_panel.html"
    return render_template(part, **context, **_panel(loaded, slot))


@bp.get("/n/<int:network_id>/weeks/<week>/board/moves")
@require(*STAFF_ROLES)
def moves(network_id: int, week: str) -> str:
    """Where one person of a cell could move to, each place checked against every rule."""
    network_guard(network_id)
    name, loaded = read_week(network_id, checked_week(week), None)
    slot = slot_of(loaded.bundle, loaded.dates, request.args)
    staff_id = request.args.get("staff_id") or ""
    if slot is None:
        not_found("Name a cell: cell_site, cell_date and cell_session.")
    here = Assignment(slot[0], slot[2], slot[1], staff_id)
    if here not in loaded.assignments:
        not_found(f"staff_id: {staff_id!r} does not work in that cell; reload the board.")
    ctx = week_cover(loaded)
    if htmx():
        context = _base_context(network_id, loaded, name, None)
        template = "board/_moves.html"
    else:
        context = _page_context(network_id, loaded, name, None)
        template = "board/moves.html"
    context.update(_panel(loaded, slot))
    return render_template(template, here=here, choices=move_choices(ctx, here), **context)


# -- editing in place -----------------------------------------------------------------------


def _done(edit: editing.Edit, bundle: Bundle, outcome: editing.EditOutcome) -> str:
    names = {p.staff_id: p.name for p in bundle.staff}
    who = names.get(edit.cell.staff_id, edit.cell.staff_id)
    where = edit.to or edit.cell
    what = {
        "assign": f"{who} added to {where.site_id} {where.session_id}",
        "unassign": f"{who} removed from {where.site_id} {where.session_id}",
        "move": f"{who} moved to {where.site_id} {where.session_id} {where.date:%a %d %b}",
        "pin": f"{who} pinned: a new plan keeps them here",
        "unpin": f"{who} unpinned",
    }[edit.action]
    short = outcome.shortfall
    return f"{what}. {short} {'person' if short == 1 else 'people'} short of a minimum this week."


def _refusal(err: Exception) -> str:
    if isinstance(err, editing.EditError):
        return f"Not saved. {err.field}: {err.message}."
    if isinstance(err, editing.StaleRevisionError):
        return (
            "Not saved: someone changed this rota since the board was opened. "
            "The board now shows their change; try again if it is still needed."
        )
    if isinstance(err, editing.HardRuleError):
        broken = "; ".join(v.message for v in err.violations)
        return f"Not saved: it would break a hard rule. {broken}"
    return f"Not saved: {err}."


Tried = tuple[editing.Edit | None, editing.EditOutcome | None, str, str]


def _try_edit(network_id: int, week: str, actor: str) -> Tried:
    """Make the edit the form asks for: (the edit, its outcome, ``success`` or ``error``, the
    words)."""
    with reading() as db:
        try:
            bundle = current_network(db, network_id)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the home page.")
    try:
        edit = editing.parse_edit(bundle, week, request.form)
        revision = editing.parse_revision(request.form.get("revision"))
        with transaction() as db:
            outcome = editing.apply_edit(
                db, network_id, week, edit, expected_revision=revision, actor=actor
            )
    except (editing.EditError, editing.EditRefusedError) as err:
        return None, None, "error", _refusal(err)
    return edit, outcome, "success", _done(edit, bundle, outcome)


@bp.post("/n/<int:network_id>/weeks/<week>/board/edit")
@require(*STAFF_ROLES)
def edit(network_id: int, week: str) -> str | Redirect:
    """Assign, remove, move, pin or unpin one person; the panel's cell stays open."""
    user = network_guard(network_id)
    label = checked_week(week)
    made, outcome, kind, words = _try_edit(network_id, label, user.email)
    name, loaded = read_week(network_id, label, None)
    shown = loaded.shown
    if outcome and shown and (shown.id, shown.revision) == (outcome.rota_id, outcome.revision):
        COVERAGE.put(loaded.fingerprint, outcome.coverage)  # the edit's check: no second one
    slot = slot_of(loaded.bundle, loaded.dates, request.form)
    if not htmx():
        flash(words, kind)
        keep: dict[str, Any] = {
            k: v for k, v in request.form.items() if k.startswith("cell_") or k in FILTERS
        }
        return redirect(url_for(".board", network_id=network_id, week=label, **keep))
    context = _context(network_id, loaded, name, None)
    context["short_html"] = short_list(loaded, context, oob=True)
    touched: set[Slot] = set()
    if made is not None:
        for c in (made.cell, made.to):
            if c is not None:
                touched.add((c.date, c.site_id, c.session_id))
    context["touched"] = {
        cell.key
        for group in context["board"].groups
        for row in group.rows
        for cell in row.cells
        if (cell.date, cell.site_id, cell.session_id) in touched
    }
    if slot is None:
        context.update(panel=None, message=(kind, words))
    else:
        context.update(_panel(loaded, slot, (kind, words), defer=True))
    return render_template("board/_after_edit.html", **context)
