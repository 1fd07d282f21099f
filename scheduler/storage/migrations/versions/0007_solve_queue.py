"""Solve jobs on a queue: what each solves (for idempotency), who runs it, its heartbeat.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Solves left queued or running by the process that was stopped for this
upgrade are closed as failed first: nothing will run them now, and the new
index allows one active solve per week.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LABEL = 200
ACTIVE_JOB = "state IN ('queued', 'running')"
INTERRUPTED = "interrupted: the server restarted before this solve finished; start it again"
NEW_COLUMNS = (
    ("input_hash", sa.String(length=64)),
    ("result_hash", sa.String(length=64)),
    ("time_limit", sa.Float()),
    ("workers", sa.Integer()),
    ("backend", sa.String(length=16)),
    ("owner", sa.String(length=LABEL)),
    ("heartbeat_at", sa.DateTime(timezone=True)),
    ("sent_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    """Close orphaned solves, add the queue's columns and the one-active-solve-per-week index."""
    jobs = sa.table(
        "solve_jobs",
        sa.column("state", sa.String),
        sa.column("message", sa.Text),
        sa.column("finished_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        jobs.update()
        .where(jobs.c.state.in_(("queued", "running")))
        .values(state="failed", message=INTERRUPTED, finished_at=sa.func.current_timestamp())
    )
    with op.batch_alter_table("solve_jobs") as batch:
        for name, type_ in NEW_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(
            sa.Column("if_free", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_index(
        "uq_solve_jobs_active_week",
        "solve_jobs",
        ["network_id", "week"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB),
        postgresql_where=sa.text(ACTIVE_JOB),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("uq_solve_jobs_active_week", table_name="solve_jobs")
    with op.batch_alter_table("solve_jobs") as batch:
        for name in ("attempts", "if_free", *(name for name, _ in NEW_COLUMNS)):
            batch.drop_column(name)
