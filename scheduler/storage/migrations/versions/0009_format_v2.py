"""Scenario format v2: buildings, site organisations and bank holidays, duty and day-off rules.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Every new column is nullable: a network imported before v2 reads back as it was
(no building, the site its own organisation, the network's bank-holiday rule, the
network's duty and day-off rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40

SITE_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("building", sa.String(length=ID)),
    ("organisation", sa.String(length=ID)),
    ("bank_holidays", sa.String(length=16)),
)
STAFF_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("max_duty_hours", sa.Float()),
    ("min_days_off_per_week", sa.Integer()),
)


def upgrade() -> None:
    """Add the site and staff columns, and the buildings table."""
    with op.batch_alter_table("sites") as batch:
        for name, type_ in SITE_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("staff") as batch:
        for name, type_ in STAFF_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=ID), nullable=False),
        sa.Column("rooms", sa.Integer(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_buildings_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint(
            "network_id", "building", name=op.f("uq_buildings_network_id_building")
        ),
    )
    op.create_index(op.f("ix_buildings_network_id"), "buildings", ["network_id"], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index(op.f("ix_buildings_network_id"), table_name="buildings")
    op.drop_table("buildings")
    with op.batch_alter_table("staff") as batch:
        for name, _ in reversed(STAFF_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("sites") as batch:
        for name, _ in reversed(SITE_COLUMNS):
            batch.drop_column(name)
