"""Leave requests: withdrawn by whoever asked, and asking to cancel approved leave.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

The state check gains ``withdrawn``; ``cancel_asked_at`` is nullable (nobody asked).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("requested", "approved", "declined")
AFTER = (*BEFORE, "withdrawn")


def _states(states: tuple[str, ...]) -> None:
    with op.batch_alter_table("leave_requests", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_leave_requests_state"), type_="check")
        batch.create_check_constraint("state", f"state IN {states!r}")


def upgrade() -> None:
    """Allow ``withdrawn``; add ``cancel_asked_at``."""
    _states(AFTER)
    with op.batch_alter_table("leave_requests") as batch:
        batch.add_column(sa.Column("cancel_asked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop ``cancel_asked_at``; withdrawn requests become declined."""
    with op.batch_alter_table("leave_requests") as batch:
        batch.drop_column("cancel_asked_at")
    op.execute("UPDATE leave_requests SET state = 'declined' WHERE state = 'withdrawn'")
    _states(BEFORE)
