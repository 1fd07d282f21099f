"""What people do themselves: swaps, availability, timesheets, the inbox, the digest.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Generated from the models (scheduler/storage/models/pool.py) and checked against them
by tests/test_migrations.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables of swaps, availability, timesheets, the inbox and digests."""
    op.create_table(
        "availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('prefer', 'cannot')", name=op.f("ck_availability_kind")),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_availability_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability")),
        sa.UniqueConstraint(
            "network_id",
            "staff_id",
            "date",
            "session_id",
            name=op.f("uq_availability_network_id_staff_id_date_session_id"),
        ),
    )
    with op.batch_alter_table("availability", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_network_id"), ["network_id"], unique=False
        )

    op.create_table(
        "availability_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_availability_answers_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_answers")),
        sa.UniqueConstraint(
            "network_id",
            "staff_id",
            "week",
            name=op.f("uq_availability_answers_network_id_staff_id_week"),
        ),
    )
    with op.batch_alter_table("availability_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_answers_network_id"), ["network_id"], unique=False
        )

    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("last_sent_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_digests_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("network_id", "staff_id", name=op.f("uq_digests_network_id_staff_id")),
    )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digests_network_id"), ["network_id"], unique=False)

    op.create_table(
        "swaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("from_staff_id", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("to_staff_id", sa.String(length=40), nullable=True),
        sa.Column("taker_staff_id", sa.String(length=40), nullable=True),
        sa.Column("back_date", sa.Date(), nullable=True),
        sa.Column("back_session_id", sa.String(length=40), nullable=True),
        sa.Column("back_site_id", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('swap', 'give')", name=op.f("ck_swaps_kind")),
        sa.CheckConstraint(
            "state IN ('offered', 'accepted', 'done', 'declined', 'withdrawn', 'expired')",
            name=op.f("ck_swaps_state"),
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_swaps_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swaps")),
    )
    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_swaps_network_id"), ["network_id"], unique=False)

    op.create_table(
        "timesheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=True),
        sa.Column("end", sa.String(length=5), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("confirmed_by", sa.String(length=200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flag_note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('worked', 'not_worked', 'changed')", name=op.f("ck_timesheets_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_timesheets_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timesheets")),
        sa.UniqueConstraint(
            "network_id",
            "staff_id",
            "date",
            "session_id",
            name=op.f("uq_timesheets_network_id_staff_id_date_session_id"),
        ),
    )
    with op.batch_alter_table("timesheets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timesheets_network_id"), ["network_id"], unique=False)

    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "staff_id IS NOT NULL OR user_id IS NOT NULL", name=op.f("ck_inbox_addressed")
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_inbox_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_network_id"), ["network_id"], unique=False)
        batch_op.create_index(
            "ix_inbox_staff_id_read_at", ["network_id", "staff_id", "read_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inbox_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_user_id"))
        batch_op.drop_index("ix_inbox_staff_id_read_at")
        batch_op.drop_index(batch_op.f("ix_inbox_network_id"))

    op.drop_table("inbox")
    with op.batch_alter_table("timesheets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timesheets_network_id"))

    op.drop_table("timesheets")
    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_swaps_network_id"))

    op.drop_table("swaps")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digests_network_id"))

    op.drop_table("digests")
    with op.batch_alter_table("availability_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_answers_network_id"))

    op.drop_table("availability_answers")
    with op.batch_alter_table("availability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_network_id"))

    op.drop_table("availability")
