"""What the rota blueprint's tests share: the app under test and its forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from scheduler.jobs.records import create_job
from scheduler.storage.audit import entries
from scheduler.storage.db import session_scope
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.repository import database_fingerprint
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import Cells, load_cells
from tests.jobs.support import old_job
from tests.test_publishing import WEEK
from tests.web_support import ACCOUNTS, post

WAIT = 120.0
JOB_URL = re.compile(r"/n/\d+/jobs/(\d+)$")


@dataclass
class Site:
    """The app under test, its network and an engine for looking at the database."""

    app: Flask
    network_id: int
    engine: Engine

    def url(self, tail: str) -> str:
        return f"/n/{self.network_id}/{tail}"

    def week(self, tail: str = "", week: str = WEEK) -> str:
        return self.url(f"weeks/{week}/{tail}".rstrip("/"))

    def draft(self) -> tuple[RotaRecord, Cells] | None:
        with session_scope(self.engine) as session:
            rota = find_rota(session, self.network_id, WEEK, "draft")
            return None if rota is None else (rota, load_cells(session, rota.id))

    def fingerprint(self) -> dict[str, list[tuple[Any, ...]]]:
        with session_scope(self.engine) as session:
            return database_fingerprint(session)

    def actions(self) -> list[tuple[str, str]]:
        """(actor, action) of the audit log, newest first, logins left out."""
        with session_scope(self.engine) as session:
            return [
                (e.actor, e.action)
                for e in entries(session, self.network_id)
                if e.action != "login"
            ]


def _job_id(response: TestResponse) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = JOB_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _cell_form(item: Any, action: str, revision: int, **extra: str) -> dict[str, str]:
    return {
        "action": action,
        "staff_id": item.staff_id,
        "date": item.date.isoformat(),
        "session_id": item.session_id,
        "site_id": item.site_id,
        "revision": str(revision),
        **extra,
    }


def _edit(site: Site, client: FlaskClient, form: dict[str, str]) -> TestResponse:
    return post(client, site.week("edit"), form)


# -- who may use the routes ---------------------------------------------------------------------


def _routes(site: Site, job_id: int, rota_id: int) -> list[tuple[str, str]]:
    return [
        ("POST", site.week("solve")),
        ("GET", site.url(f"jobs/{job_id}")),
        ("GET", site.url(f"jobs/{job_id}.json")),
        ("POST", site.url(f"jobs/{job_id}/cancel")),
        ("GET", site.week("edit")),
        ("POST", site.week("edit")),
        ("POST", site.week("publish")),
        ("GET", site.week("versions")),
        ("GET", site.week(f"diff?a={rota_id}&b={rota_id}")),
    ]


def _queued_job(site: Site) -> int:
    with session_scope(site.engine) as session:
        return create_job(
            session, site.network_id, WEEK, weeks=1, keep_pins=False, actor=ACCOUNTS.manager
        ).id


def _call(client: FlaskClient, method: str, url: str) -> TestResponse:
    return post(client, url, {}) if method == "POST" else client.get(url)


def _job_row(site: Site, **fields: Any) -> int:
    """A running job's row as another process left it; its id."""
    with session_scope(site.engine) as session:
        record = old_job(site.network_id, WEEK, "running", **fields)
        session.add(record)
        session.flush()
        return record.id
