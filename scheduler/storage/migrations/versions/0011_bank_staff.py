"""Bank staff: staff.csv's optional ``bank`` column (yes/no).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Nullable: a network imported before it reads back with nobody on the bank.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add staff.bank."""
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("bank", sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Drop staff.bank."""
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("bank")
