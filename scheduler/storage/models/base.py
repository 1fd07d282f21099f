"""The declarative base, its constraint-naming convention and shared column sizes."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ForeignKey,
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names: Alembic can only alter or drop a constraint
# it can name, and SQLite batch migrations need the same names as PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 40  # length of short identifiers such as site_id or staff_id
MAX_INTEGER = 2**31 - 1  # the largest id or revision an Integer column holds (PostgreSQL)
LABEL = 200  # length of display names


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class NetworkOwned:
    """Columns of every table a network owns: deleting a network deletes its rows."""

    # Negative sort orders put these first, as in the migration.
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True, sort_order=-1
    )
