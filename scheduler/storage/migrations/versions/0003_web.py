"""Web app: accounts, login throttle, audit log, solve jobs, requests, rota versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Written out in full, like 0001; tests compare the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
LABEL = 200
USER_ROLES = ("manager", "coordinator", "practice", "clinician")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
REQUEST_STATES = ("requested", "approved", "declined")
MOMENT = sa.DateTime(timezone=True)

ROTA_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("revision", sa.Integer(), False),
    ("version", sa.Integer(), True),
    ("published_at", MOMENT, True),
    ("published_by", sa.String(length=LABEL), True),
)


def _required(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False)


def _optional(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A nullable column."""
    return sa.Column(name, type_, nullable=True)


def _state_check(table: str, states: tuple[str, ...]) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"state IN {states!r}", name=op.f(f"ck_{table}_state"))


def _create_network_child(table: str, *items: sa.schema.SchemaItem) -> None:
    """A table owned by a network: id, network_id (cascading FK, indexed), then ``items``."""
    op.create_table(
        table,
        _required("id", sa.Integer()),
        _required("network_id", sa.Integer()),
        *items,
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f(f"fk_{table}_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_network_id"), table, ["network_id"], unique=False)


def _requests(table: str, *items: sa.schema.SchemaItem) -> None:
    """A request table: its own columns, then state and who asked and decided when."""
    _create_network_child(
        table,
        *items,
        _required("state", sa.String(length=16)),
        _required("requested_by", sa.String(length=LABEL)),
        _required("requested_at", MOMENT),
        _optional("decided_by", sa.String(length=LABEL)),
        _optional("decided_at", MOMENT),
        _state_check(table, REQUEST_STATES),
    )


def upgrade() -> None:
    """Create the web app's tables and the rota's publication columns."""
    with op.batch_alter_table("rotas") as batch:
        for name, type_, nullable in ROTA_COLUMNS:
            default = sa.text("0") if name == "revision" else None
            batch.add_column(sa.Column(name, type_, nullable=nullable, server_default=default))
    op.create_table(
        "users",
        _required("id", sa.Integer()),
        _required("email", sa.String(length=LABEL)),
        _required("password_hash", sa.String(length=255)),
        _required("role", sa.String(length=16)),
        _optional("network_id", sa.Integer()),
        _optional("staff_id", sa.String(length=ID)),
        _optional("site_id", sa.String(length=ID)),
        _required("active", sa.Boolean()),
        _required("created_at", MOMENT),
        sa.CheckConstraint(f"role IN {USER_ROLES!r}", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_users_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_network_id"), "users", ["network_id"], unique=False)
    op.create_table(
        "login_failures",
        _required("id", sa.Integer()),
        _required("email", sa.String(length=LABEL)),
        _required("at", MOMENT),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_email"), "login_failures", ["email"], unique=False)
    op.create_table(
        "audit_log",
        _required("id", sa.Integer()),
        _required("at", MOMENT),
        _required("actor", sa.String(length=LABEL)),
        _optional("network_id", sa.Integer()),
        _required("action", sa.String(length=64)),
        _required("subject", sa.String(length=LABEL)),
        _optional("before", sa.JSON()),
        _optional("after", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_network_id"), "audit_log", ["network_id"], unique=False)
    _create_network_child(
        "solve_jobs",
        _required("week", sa.String(length=10)),
        _required("weeks", sa.Integer()),
        _required("keep_pins", sa.Boolean()),
        _required("state", sa.String(length=16)),
        _required("requested_by", sa.String(length=LABEL)),
        _required("created_at", MOMENT),
        _optional("started_at", MOMENT),
        _optional("finished_at", MOMENT),
        _optional("objective", sa.Float()),
        _optional("bound", sa.Float()),
        _optional("elapsed", sa.Float()),
        _required("solutions", sa.Integer()),
        _required("cancel_requested", sa.Boolean()),
        _optional("message", sa.Text()),
        _optional("rota_id", sa.Integer()),
        _state_check("solve_jobs", JOB_STATES),
    )
    _requests(
        "leave_requests",
        _required("staff_id", sa.String(length=ID)),
        _required("start_date", sa.Date()),
        _required("end_date", sa.Date()),
        _required("kind", sa.String(length=16)),
        _optional("reason", sa.Text()),
    )
    _requests(
        "cover_requests",
        _required("site_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _optional("role", sa.String(length=ID)),
        _optional("skill", sa.String(length=ID)),
        _required("people", sa.Integer()),
        _optional("note", sa.Text()),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    for table in ("cover_requests", "leave_requests", "solve_jobs", "audit_log"):
        op.drop_table(table)
    op.drop_table("login_failures")
    op.drop_table("users")
    with op.batch_alter_table("rotas") as batch:
        for name, _, _ in reversed(ROTA_COLUMNS):
            batch.drop_column(name)
