"""Initial schema: networks with their bundle records, rotas and assignments.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Written out in full (not by reference to the models) so that later model
changes cannot silently rewrite history; tests compare it with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
LABEL = 200
DRAFT_ONLY = "state = 'draft'"

# Child tables of networks, created in this order and dropped in reverse.
NETWORK_CHILDREN = (
    "sites",
    "session_types",
    "staff",
    "demand",
    "leave",
    "preferences",
    "fixed",
    "travel",
    "rotas",
)


def _required(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False)


def _optional(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A nullable column."""
    return sa.Column(name, type_, nullable=True)


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


def _create_networks() -> None:
    """The network header with its settings as JSON."""
    op.create_table(
        "networks",
        _required("id", sa.Integer()),
        _required("name", sa.String(length=LABEL)),
        _required("timezone", sa.String(length=64)),
        _required("settings", sa.JSON()),
        _required("imported_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
        sa.UniqueConstraint("name", name=op.f("uq_networks_name")),
    )


def _create_sites() -> None:
    """sites.csv."""
    _create_network_child(
        "sites",
        _required("site_id", sa.String(length=ID)),
        _required("name", sa.String(length=LABEL)),
        _required("kind", sa.String(length=16)),
        _required("list_size", sa.Integer()),
        _required("rooms", sa.Integer()),
        _optional("lat", sa.Float()),
        _optional("lon", sa.Float()),
        _required("source_row", sa.Integer()),
        sa.UniqueConstraint("network_id", "site_id", name=op.f("uq_sites_network_id_site_id")),
    )


def _create_session_types() -> None:
    """session_types.csv."""
    _create_network_child(
        "session_types",
        _required("session_id", sa.String(length=ID)),
        _required("label", sa.String(length=LABEL)),
        _required("start_time", sa.Time()),
        _required("end_time", sa.Time()),
        _required("days", sa.String(length=LABEL)),
        _required("kind", sa.String(length=16)),
        _required("source_row", sa.Integer()),
        sa.UniqueConstraint(
            "network_id", "session_id", name=op.f("uq_session_types_network_id_session_id")
        ),
    )


def _create_staff() -> None:
    """staff.csv."""
    _create_network_child(
        "staff",
        _required("staff_id", sa.String(length=ID)),
        _required("name", sa.String(length=LABEL)),
        _required("role", sa.String(length=ID)),
        _required("home_site", sa.String(length=ID)),
        _required("employer", sa.String(length=ID)),
        _required("contract_hours", sa.Float()),
        _required("min_hours", sa.Float()),
        _required("max_hours", sa.Float()),
        _required("skills", sa.Text()),
        _optional("sites", sa.Text()),
        _optional("max_sessions_per_day", sa.Integer()),
        _required("max_evenings", sa.Integer()),
        _required("max_weekend_sessions", sa.Integer()),
        _optional("hourly_rate", sa.Float()),
        _optional("email", sa.String(length=LABEL)),
        _required("source_row", sa.Integer()),
        sa.UniqueConstraint("network_id", "staff_id", name=op.f("uq_staff_network_id_staff_id")),
    )


def _create_demand() -> None:
    """demand.csv."""
    _create_network_child(
        "demand",
        _required("site_id", sa.String(length=ID)),
        _required("weekdays", sa.String(length=LABEL)),
        _optional("day_date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _optional("role", sa.String(length=ID)),
        _optional("skill", sa.String(length=ID)),
        _required("min_people", sa.Integer()),
        _required("target_people", sa.Integer()),
        _required("weight", sa.Float()),
        _required("source_row", sa.Integer()),
    )


def _create_leave() -> None:
    """leave.csv."""
    _create_network_child(
        "leave",
        _required("staff_id", sa.String(length=ID)),
        _required("start_date", sa.Date()),
        _required("end_date", sa.Date()),
        _required("kind", sa.String(length=16)),
        _optional("session_id", sa.String(length=ID)),
        _required("source_row", sa.Integer()),
    )


def _create_preferences() -> None:
    """preferences.csv."""
    _create_network_child(
        "preferences",
        _required("staff_id", sa.String(length=ID)),
        _required("weekdays", sa.String(length=LABEL)),
        _optional("day_date", sa.Date()),
        _optional("session_id", sa.String(length=ID)),
        _optional("site_id", sa.String(length=ID)),
        _required("preference", sa.String(length=16)),
        _required("weight", sa.Float()),
        _required("source_row", sa.Integer()),
    )


def _create_fixed() -> None:
    """fixed.csv."""
    _create_network_child(
        "fixed",
        _required("staff_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("site_id", sa.String(length=ID)),
        _required("source_row", sa.Integer()),
    )


def _create_travel() -> None:
    """travel.csv."""
    _create_network_child(
        "travel",
        _required("from_site", sa.String(length=ID)),
        _required("to_site", sa.String(length=ID)),
        _required("minutes", sa.Integer()),
        _required("source_row", sa.Integer()),
    )


def _create_rotas() -> None:
    """Rotas, with at most one draft per network and week."""
    _create_network_child(
        "rotas",
        _required("week", sa.String(length=10)),
        _required("state", sa.String(length=16)),
        _required("created_at", sa.DateTime(timezone=True)),
        _required("status", sa.String(length=32)),
        _optional("objective", sa.Float()),
        _optional("bound", sa.Float()),
        _optional("gap", sa.Float()),
        _optional("seconds", sa.Float()),
        _required("summary", sa.JSON()),
        sa.CheckConstraint(
            "state IN ('draft', 'published', 'superseded')", name=op.f("ck_rotas_state")
        ),
    )
    op.create_index(
        "uq_rotas_one_draft_per_week",
        "rotas",
        ["network_id", "week"],
        unique=True,
        sqlite_where=sa.text(DRAFT_ONLY),
        postgresql_where=sa.text(DRAFT_ONLY),
    )


def _create_assignments() -> None:
    """The assignments of each rota."""
    op.create_table(
        "assignments",
        _required("id", sa.Integer()),
        _required("rota_id", sa.Integer()),
        _required("staff_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("site_id", sa.String(length=ID)),
        _required("pinned", sa.Boolean()),
        sa.ForeignKeyConstraint(
            ["rota_id"], ["rotas.id"], name=op.f("fk_assignments_rota_id_rotas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint(
            "rota_id",
            "date",
            "session_id",
            "site_id",
            "staff_id",
            name=op.f("uq_assignments_rota_id_date_session_id_site_id_staff_id"),
        ),
    )
    op.create_index(op.f("ix_assignments_rota_id"), "assignments", ["rota_id"], unique=False)


def upgrade() -> None:
    """Create every table, parents before children."""
    _create_networks()
    _create_sites()
    _create_session_types()
    _create_staff()
    _create_demand()
    _create_leave()
    _create_preferences()
    _create_fixed()
    _create_travel()
    _create_rotas()
    _create_assignments()


def downgrade() -> None:
    """Drop every table, children before parents (indexes go with their tables)."""
    op.drop_table("assignments")
    for table in reversed(NETWORK_CHILDREN):
        op.drop_table(table)
    op.drop_table("networks")
