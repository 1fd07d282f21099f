"""Scheduled jobs: the run history that makes each run happen once, and week alerts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Written out in full, like 0001; tests compare the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
LABEL = 200
JOB_OUTCOMES = ("running", "done", "failed", "skipped")
ALERT_KINDS = ("shortfall", "reminder")
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
    """Create the job_runs and week_alerts tables."""
    _create_network_child(
        "job_runs",
        _required("job_id", sa.String(length=LABEL)),
        _required("kind", sa.String(length=16)),
        _required("due_at", MOMENT),
        _required("started_at", MOMENT),
        _optional("finished_at", MOMENT),
        _required("outcome", sa.String(length=16)),
        _optional("summary", sa.Text()),
        _optional("error", sa.Text()),
        _required("runner", sa.String(length=LABEL)),
        sa.CheckConstraint(f"outcome IN {JOB_OUTCOMES!r}", name=op.f("ck_job_runs_outcome")),
        sa.UniqueConstraint("job_id", "due_at", name=op.f("uq_job_runs_job_id_due_at")),
    )
    _create_network_child(
        "week_alerts",
        _required("week", sa.String(length=10)),
        _required("kind", sa.String(length=16)),
        _required("message", sa.Text()),
        _required("created_at", MOMENT),
        _optional("cleared_at", MOMENT),
        sa.CheckConstraint(f"kind IN {ALERT_KINDS!r}", name=op.f("ck_week_alerts_kind")),
    )
    op.create_index(op.f("ix_week_alerts_week"), "week_alerts", ["week"], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    for table in ("week_alerts", "job_runs"):
        op.drop_table(table)
