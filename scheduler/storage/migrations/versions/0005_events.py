"""Coordinators' events and lending: absences, demand changes, transfers between practices.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Written out in full, like 0001; tests compare the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
LABEL = 200
ABSENCE_KINDS = ("sick", "annual", "study", "parental", "other")
DEMAND_CHANGE_KINDS = ("set", "cancel")
TRANSFER_STATES = ("proposed", "accepted", "declined", "withdrawn")
MOMENT = sa.DateTime(timezone=True)


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


def upgrade() -> None:
    """Create the absences, demand changes and transfers tables."""
    _create_network_child(
        "absences",
        _required("staff_id", sa.String(length=ID)),
        _required("start_date", sa.Date()),
        _required("end_date", sa.Date()),
        _optional("session_id", sa.String(length=ID)),
        _required("kind", sa.String(length=16)),
        _optional("reason", sa.Text()),
        _required("recorded_by", sa.String(length=LABEL)),
        _required("recorded_at", MOMENT),
        _optional("withdrawn_at", MOMENT),
        sa.CheckConstraint(f"kind IN {ABSENCE_KINDS!r}", name=op.f("ck_absences_kind")),
    )
    _create_network_child(
        "demand_changes",
        _required("site_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("kind", sa.String(length=16)),
        _optional("role", sa.String(length=ID)),
        _optional("skill", sa.String(length=ID)),
        _required("min", sa.Integer()),
        _required("target", sa.Integer()),
        _optional("note", sa.Text()),
        _optional("cover_request_id", sa.Integer()),
        _required("recorded_by", sa.String(length=LABEL)),
        _required("recorded_at", MOMENT),
        _optional("withdrawn_at", MOMENT),
        sa.CheckConstraint(f"kind IN {DEMAND_CHANGE_KINDS!r}", name=op.f("ck_demand_changes_kind")),
    )
    _create_network_child(
        "transfers",
        _required("week", sa.String(length=10)),
        _required("staff_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("lender_site", sa.String(length=ID)),
        _required("borrower_site", sa.String(length=ID)),
        _required("hours", sa.Float()),
        _optional("cost", sa.Float()),
        _required("travel_minutes", sa.Integer()),
        _required("leaves_lender_short", sa.Boolean()),
        _required("state", sa.String(length=16)),
        _required("proposed_by", sa.String(length=LABEL)),
        _required("proposed_at", MOMENT),
        _optional("lender_accepted_by", sa.String(length=LABEL)),
        _optional("lender_accepted_at", MOMENT),
        _optional("borrower_accepted_by", sa.String(length=LABEL)),
        _optional("borrower_accepted_at", MOMENT),
        _optional("decided_at", MOMENT),
        sa.CheckConstraint(f"state IN {TRANSFER_STATES!r}", name=op.f("ck_transfers_state")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    for table in ("transfers", "demand_changes", "absences"):
        op.drop_table(table)
