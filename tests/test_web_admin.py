"""Manager administration: accounts, the audit log and importing a bundle through the web.

Real app, real database, CSRF on.  Imports are checked against the whole
database (``database_fingerprint``): a refused upload must change nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import select

from scheduler.bundle import tables
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import AuditRecord, UserRecord
from scheduler.storage.models.network import NetworkRecord, StaffRecord
from scheduler.storage.repository import database_fingerprint, save_bundle
from scheduler.usecases.accounts import add_user
from tests.test_storage import make_bundle
from tests.web_support import ACCOUNTS, PASSWORD, TINY, client_as, login, post, seeded_app

ROLES = ("manager", "coordinator", "practice", "clinician")
NEW_PASSWORD = "correct horse battery staple"
NEW_ACCOUNT = {
    "email": "new.nurse@tiny.test",
    "role": "clinician",
    "staff_id": "S05",
    "site_id": "",
    "password": NEW_PASSWORD,
    "confirm": NEW_PASSWORD,
}


@dataclass
class Site:
    """The seeded app and its database."""

    app: Flask
    network_id: int
    db_url: str

    def client(self, role: str) -> FlaskClient:
        return client_as(self.app, role)

    def query(self, use: Callable[[Any], Any]) -> Any:
        engine = make_engine(self.db_url)
        try:
            with session_scope(engine) as session:
                return use(session)
        finally:
            engine.dispose()

    def fingerprint(self) -> dict[str, list[tuple[Any, ...]]]:
        return dict(self.query(database_fingerprint))

    def audit(self, action: str) -> list[tuple[str, str, Any]]:
        statement = select(AuditRecord).where(AuditRecord.action == action)
        return self.query(lambda s: [(r.actor, r.subject, r.after) for r in s.scalars(statement)])


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    app, network_id = seeded_app(db_url)
    yield Site(app, network_id, db_url)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def tiny_zip(change: Callable[[str, str], str] = lambda name, body: body) -> bytes:
    """The tiny sample bundle as an uploaded .zip, each file passed through ``change``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(TINY.iterdir()):
            archive.writestr(path.name, change(path.name, path.read_text()))
    return buffer.getvalue()


def in_file(file: str, old: str, new: str) -> Callable[[str, str], str]:
    """A ``tiny_zip`` change replacing text in one file."""

    def change(name: str, body: str) -> str:
        if name != file:
            return body
        assert old in body
        return body.replace(old, new)

    return change


def upload(client: FlaskClient, data: bytes, filename: str, **kwargs: Any) -> Any:
    return post(client, "/import", {"bundle": (io.BytesIO(data), filename)}, **kwargs)


# -- who may use which route -----------------------------------------------------------


def test_every_admin_route_answers_each_role_as_expected(site: Site) -> None:
    routes = [
        ("GET", "/admin/users", {}, 200),
        ("POST", "/admin/users", NEW_ACCOUNT, 302),
        ("GET", "/admin/audit", {}, 200),
        ("GET", "/import", {}, 200),
        ("POST", "/import", {"bundle": (io.BytesIO(tiny_zip()), "tiny.zip")}, 302),
    ]
    wrong = []
    clients = {role: site.client(role) for role in ROLES}
    for method, url, data, allowed in routes:
        stranger = site.app.test_client()
        anonymous = stranger.get(url) if method == "GET" else post(stranger, url, dict(data))
        if anonymous.status_code != 302 or "/login" not in anonymous.headers["Location"]:
            wrong.append((method, url, "anonymous", anonymous.status_code))
        for role, client in clients.items():
            fresh = {
                k: (io.BytesIO(tiny_zip()), v[1]) if k == "bundle" else v for k, v in data.items()
            }
            got = client.get(url) if method == "GET" else post(client, url, fresh)
            expected = allowed if role == "manager" else 403
            if got.status_code != expected:
                wrong.append((method, url, role, got.status_code))
    assert wrong == []


def test_a_coordinator_cannot_open_admin_pages(site: Site) -> None:
    coordinator = site.client("coordinator")
    for url in ("/admin/users", "/admin/audit", "/import"):
        response = coordinator.get(url)
        assert response.status_code == 403, url
        assert "may not open this page" in text(response)


def test_an_upload_without_the_csrf_token_is_refused(site: Site) -> None:
    manager = site.client("manager")
    before = site.fingerprint()  # after the login, which is audited
    response = manager.post("/import", data={"bundle": (io.BytesIO(tiny_zip()), "tiny.zip")})
    assert response.status_code == 400
    assert site.fingerprint() == before


# -- accounts ---------------------------------------------------------------------------


def test_a_manager_adds_an_account(site: Site) -> None:
    manager = site.client("manager")
    response = post(manager, "/admin/users", NEW_ACCOUNT, follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "Account new.nurse@tiny.test (clinician) added." in page
    assert NEW_PASSWORD not in page
    added = site.query(
        lambda s: s.scalar(select(UserRecord).where(UserRecord.email == "new.nurse@tiny.test"))
    )
    assert (added.role, added.network_id, added.staff_id, added.site_id) == (
        "clinician",
        site.network_id,
        "S05",
        None,
    )
    login(site.app.test_client(), "new.nurse@tiny.test", NEW_PASSWORD)
    ((actor, subject, after),) = site.audit("user added")
    assert (actor, subject) == (ACCOUNTS.manager, "new.nurse@tiny.test")
    assert set(after) == {"email", "role", "network_id", "staff_id", "site_id"}
    assert NEW_PASSWORD not in repr(after)


@pytest.mark.parametrize(
    ("changes", "field_text"),
    [
        ({"email": "not-an-email"}, "E-mail: &#39;not-an-email&#39; is not an e-mail address"),
        ({"email": ACCOUNTS.coordinator}, "already exists"),
        ({"password": "short", "confirm": "short"}, "Password: use at least 12 characters"),
        ({"confirm": "something else entirely"}, "Password again: the two passwords differ"),
        ({"staff_id": ""}, "Staff id: a clinician account needs the person&#39;s staff_id"),
        ({"staff_id": "S99"}, "Staff id: &#39;S99&#39; is not in the network&#39;s staff.csv"),
        ({"role": "practice", "site_id": "P99"}, "Site id: &#39;P99&#39; is not in the network"),
        ({"role": "owner"}, "Role: &#39;owner&#39; is not one of manager"),
    ],
)
def test_a_bad_account_form_is_refused_naming_the_field(
    site: Site, changes: dict[str, str], field_text: str
) -> None:
    manager = site.client("manager")
    before = site.fingerprint()
    response = post(manager, "/admin/users", {**NEW_ACCOUNT, **changes})
    assert response.status_code == 400
    page = text(response)
    assert field_text in page
    assert NEW_PASSWORD not in page
    assert 'value="new.nurse@tiny.test"' in page or "email" in changes  # kept for the retry
    assert site.fingerprint() == before


def test_a_network_manager_sees_only_their_network_and_a_global_one_sees_all(site: Site) -> None:
    def other_network(session: Any) -> None:
        other = save_bundle(session, make_bundle("Riverside"))
        add_user(session, "river@river.test", PASSWORD, "manager", network_id=other)
        add_user(session, "root@all.test", PASSWORD, "manager")

    site.query(other_network)
    page = text(site.client("manager").get("/admin/users"))
    assert ACCOUNTS.clinician in page
    assert "river@river.test" not in page
    root = site.app.test_client()
    login(root, "root@all.test")
    page = text(root.get("/admin/users"))
    assert "river@river.test" in page
    assert ACCOUNTS.clinician in page
    assert 'name="network_id"' in page  # an unbound manager chooses the network


# -- audit log --------------------------------------------------------------------------


def test_the_audit_log_shows_entries_of_the_managers_network(site: Site) -> None:
    manager = site.client("manager")
    post(manager, "/admin/users", NEW_ACCOUNT)
    site.query(
        lambda s: s.add(
            AuditRecord(
                at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                actor="someone@elsewhere.test",
                network_id=site.network_id + 100,
                action="secret elsewhere",
                subject="x",
            )
        )
    )
    page = text(manager.get("/admin/audit"))
    assert "user added" in page
    assert "new.nurse@tiny.test" in page
    assert "<details>" in page  # the long "after" value folds away
    assert "secret elsewhere" not in page
    assert "scrypt" not in page


def test_a_network_manager_does_not_see_the_global_managers_entries(site: Site) -> None:
    site.query(lambda s: add_user(s, "root@all.test", PASSWORD, "manager"))
    root = site.app.test_client()
    login(root, "root@all.test")  # audited with no network: it is no one network's
    assert "root@all.test" in text(root.get("/admin/audit"))
    assert "root@all.test" not in text(site.client("manager").get("/admin/audit"))


# -- import -----------------------------------------------------------------------------


def test_a_good_zip_is_imported(site: Site) -> None:
    renamed = in_file("staff.csv", "S01,Grace Rees,", "S01,Grace Rees-Jones,")
    response = upload(site.client("manager"), tiny_zip(renamed), "tiny.zip", follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "Imported Tiny Test Network: 3 sites, 3 session types, 8 staff, 16 demand rows" in page
    assert f'href="/n/{site.network_id}/weeks/' in page  # a link to the imported network
    names = site.query(
        lambda s: list(s.scalars(select(StaffRecord.name).where(StaffRecord.staff_id == "S01")))
    )
    assert names == ["Grace Rees-Jones"]
    ((actor, subject, after),) = site.audit("bundle imported")
    assert (actor, subject, after["network"]) == (
        ACCOUNTS.manager,
        "Tiny Test Network",
        "Tiny Test Network",
    )
    assert after["counts"]["staff"] == 8


def test_a_workbook_is_imported_by_a_manager_of_every_network(site: Site) -> None:
    site.query(lambda s: add_user(s, "root@all.test", PASSWORD, "manager"))
    root = site.app.test_client()
    login(root, "root@all.test")
    response = upload(root, tiny_workbook("Workbook Network"), "net.xlsx", follow_redirects=True)
    assert "Imported Workbook Network:" in text(response)
    names = site.query(lambda s: sorted(s.scalars(select(NetworkRecord.name))))
    assert names == ["Tiny Test Network", "Workbook Network"]


def tiny_workbook(name: str) -> bytes:
    """The tiny bundle as an .xlsx: a sheet per CSV file and a ``network`` sheet."""
    book = Workbook()
    settings = book.active
    settings.title = "network"
    for row in (("key", "value"), ("name", name), ("timezone", "Europe/London")):
        settings.append(row)
    for path in sorted(TINY.glob("*.csv")):
        sheet = book.create_sheet(path.stem)
        for line in path.read_text().splitlines():
            sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_broken_bundle_lists_every_problem_and_saves_nothing(site: Site) -> None:
    manager = site.client("manager")
    before = site.fingerprint()
    broken = in_file("staff.csv", "S03,Nia Walsh,GP,P02", "S03,Nia Walsh,GP,P99")
    response = upload(manager, tiny_zip(broken), "tiny.zip")
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was imported: 1 problem" in page
    row = '<th scope="row">staff.csv</th>\n      <td>4</td>\n      <td>home_site</td>'
    assert row in page
    assert "unknown site &#39;P99&#39;" in page
    assert site.fingerprint() == before


def test_another_networks_bundle_is_refused_naming_the_name_field(site: Site) -> None:
    manager = site.client("manager")
    before = site.fingerprint()
    other = in_file("network.toml", 'name = "Tiny Test Network"', 'name = "Someone Else"')
    response = upload(manager, tiny_zip(other), "tiny.zip")
    assert response.status_code == 403
    page = text(response)
    assert "<td>name</td>" in page
    assert "set name = &#39;Tiny Test Network&#39; in network.toml" in page
    assert site.fingerprint() == before


@pytest.mark.parametrize("filename", ["bundle.csv", "rota.pdf", "noextension"])
def test_a_file_that_is_not_a_zip_or_workbook_is_refused(site: Site, filename: str) -> None:
    manager = site.client("manager")
    before = site.fingerprint()
    response = upload(manager, b"site_id,name\n", filename)
    assert response.status_code == 400
    assert "is neither a .zip nor an .xlsx" in text(response)
    assert site.fingerprint() == before


@pytest.mark.parametrize("filename", ["tiny.zip", "tiny.xlsx"])
def test_an_upload_that_unpacks_too_large_is_refused_before_it_is_read(
    site: Site, monkeypatch: pytest.MonkeyPatch, filename: str
) -> None:
    """A zip bomb is refused from the sizes in its directory (here: a limit below the bundle's)."""
    monkeypatch.setattr(tables, "MAX_UNPACKED_BYTES", 1000)
    manager = site.client("manager")
    before = site.fingerprint()
    data = tiny_zip() if filename.endswith(".zip") else tiny_workbook("Tiny Test Network")
    response = upload(manager, data, filename)
    assert response.status_code == 400
    assert "a bundle may be; put only the bundle&#39;s CSV files" in text(response)
    assert site.fingerprint() == before


def test_a_damaged_zip_is_a_problem_not_a_crash(site: Site) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("sites.csv", "site_id,name\nP01,Mill Lane\n")
    damaged = buffer.getvalue().replace(b"Mill Lane", b"Mill Lone")  # no longer its CRC
    manager = site.client("manager")
    before = site.fingerprint()
    response = upload(manager, damaged, "tiny.zip")
    assert response.status_code == 400
    assert "is damaged or encrypted; zip the bundle folder again" in text(response)
    assert site.fingerprint() == before


def test_an_odd_imported_number_is_ignored(site: Site) -> None:
    assert site.client("manager").get("/import?imported=%C2%B2").status_code == 200  # "²"


def test_an_upload_without_a_file_asks_for_one(site: Site) -> None:
    response = post(site.client("manager"), "/import", {})
    assert response.status_code == 400
    assert "choose a .zip of the CSV files or an .xlsx workbook" in text(response)


def test_an_upload_over_the_size_limit_gets_a_friendly_413(db_url: str) -> None:
    app, _ = seeded_app(db_url, MAX_CONTENT_LENGTH=4096)
    response = upload(client_as(app, "manager"), b"x" * 8192, "big.zip")
    assert response.status_code == 413
    page = text(response)
    assert "The file is too large" in page
    assert "at most 4096 bytes" in page


def test_a_manager_of_every_network_picks_the_network_of_a_new_account(site: Site) -> None:
    site.query(lambda s: add_user(s, "root@all.test", PASSWORD, "manager"))
    root = site.app.test_client()
    login(root, "root@all.test")
    refused = post(root, "/admin/users", {**NEW_ACCOUNT, "network_id": "999"})
    assert refused.status_code == 400
    assert "Network: choose a network from the list" in text(refused)
    added = post(root, "/admin/users", {**NEW_ACCOUNT, "network_id": str(site.network_id)})
    assert added.status_code == 302
    found = site.query(
        lambda s: s.scalar(
            select(UserRecord.network_id).where(UserRecord.email == NEW_ACCOUNT["email"])
        )
    )
    assert found == site.network_id
