"""One interface for every kind of registration the gateway keeps: hosts, LTI platforms
and OpenID Providers. Each is a table of rows found by id, listed, found by the parameters
a request names (``find``: pylti1.3's ``find_registration_by_params``), removed, and
described for the operator's commands, so a new kind is one ``Registry(...)`` line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import select

from ..errors import N_, NotFound
from .database import Database

Row = TypeVar("Row")


class Registry(Generic[Row]):
    def __init__(
        self,
        model: type[Row],
        noun: str,
        fields: tuple[str, ...],
        *,
        computed: dict[str, Callable[[Row], object]] | None = None,
        removed_at: str | None = None,
    ):
        """``fields``: what ``describe`` shows, in order; ``computed``: shown values made
        from a row; ``removed_at``: the column that marks a removed row (kept, not live)."""
        self.model, self.noun, self.fields = model, noun, fields
        self.computed = computed or {}
        self.removed_at = removed_at

    def _where(self, query, with_removed: bool):
        if self.removed_at is None or with_removed:
            return query
        return query.where(getattr(self.model, self.removed_at).is_(None))

    def get(self, db: Database, row_id, *, with_removed: bool = False) -> Row:
        row = db.get(self.model, row_id) if isinstance(row_id, str) else None
        if row is not None and self.removed_at and not with_removed:
            row = row if getattr(row, self.removed_at) is None else None
        if row is None:
            raise NotFound(N_("no %(noun)s with id %(row_id)r"), noun=self.noun, row_id=row_id)
        return row

    def all(self, db: Database, *, with_removed: bool = False) -> list[Row]:
        query = self._where(select(self.model).order_by(self.model.created_at), with_removed)
        with db.read() as session:
            return list(session.scalars(query))

    def find(self, db: Database, *, limit: int | None = None, **params) -> list[Row]:
        """The live rows whose columns equal ``params`` (a ``None`` value: not asked)."""
        query = self._where(select(self.model), False)
        for name, value in params.items():
            if value is not None:
                query = query.where(getattr(self.model, name) == value)
        if limit is not None:
            query = query.limit(limit)
        with db.read() as session:
            return list(session.scalars(query))

    def remove(self, db: Database, row_id) -> None:
        with db.begin() as session:
            row = session.get(self.model, row_id) if isinstance(row_id, str) else None
            if row is None:
                raise NotFound(N_("no %(noun)s with id %(row_id)r"), noun=self.noun, row_id=row_id)
            session.delete(row)

    def describe(self, row: Row) -> dict:
        described = {}
        for name in self.fields:
            value = getattr(row, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, list):
                value = list(value)
            described[name] = value
        described.update({name: make(row) for name, make in self.computed.items()})
        return described
