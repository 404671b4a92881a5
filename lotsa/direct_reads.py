"""Rows of the inbound path read with a Core SELECT and made persistent ORM objects directly.

Loading a row as ORM entities builds the entities' row processors anew for every statement run,
which cost more than the statement itself on the inbound path (benchmarks/RESULTS.md). Here the
columns are read by Core and the object is made as if loaded: every column set as its committed
value, attached to the session with its identity. An object the session holds already is
returned as it is, as the ORM's loading does.
"""
from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from lotsa.models import Base

Row = TypeVar("Row", bound=Base)


def columns(model: type[Base], prefix: str) -> list[ColumnElement[Any]]:
    """Every column of `model`'s table, labelled `prefix` + its name, for `loaded`."""
    return [c.label(prefix + c.key) for c in cast(Table, model.__table__).columns]


def loaded(session: AsyncSession, model: type[Row], row: Any, prefix: str) -> Row | None:
    """The persistent `model` object of the columns `columns(model, prefix)` selected in `row`;
    None when they are all NULL (the missing side of an outer join)."""
    values = {c.key: row[prefix + c.key] for c in cast(Table, model.__table__).columns}
    mapper = inspect(model)
    primary = tuple(values[str(c.key)] for c in mapper.primary_key)
    if all(v is None for v in primary):
        return None
    held = session.sync_session.identity_map.get(mapper.identity_key_from_primary_key(primary))
    if held is not None:
        return cast(Row, held)
    instance = cast(Row, mapper.class_manager.new_instance())
    # As the ORM's loading does: the values straight into the instance's dict (committed below).
    inspect(instance).dict.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance
