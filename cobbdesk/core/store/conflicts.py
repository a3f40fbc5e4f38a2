"""Optimistic concurrency: two raters editing the same study never silently overwrite each other.

Every editable row (patients, visits, films, measurements, labs) carries ``version`` (schema
v4), starting at 1.  Every update is ``UPDATE … WHERE id = ? AND version = ?`` and sets
``version = version + 1`` (:func:`versioned_update`); a row that changed in between matches
nothing and the write is refused with :class:`ConflictError`.

A caller that shows values to a user and saves later says what it showed (``expected``): a
field whose stored value differs from what the caller saw, and from what the caller now wants,
is a conflict (:func:`field_conflicts`) the user resolves — keep theirs, keep mine, or cancel.

>>> c = FieldConflict("crp", 5.0, 12.0, 7.0)
>>> err = ConflictError(None, "labs of visit 3: crp changed since it was read", [c])
>>> (err.field, err.seen, err.theirs, err.mine)
('crp', 5.0, 12.0, 7.0)
>>> import pickle; pickle.loads(pickle.dumps(err)).conflicts == err.conflicts
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table

from cobbdesk.core.errors import CobbdeskError


class FieldConflict(NamedTuple):
    """One field changed by someone else: what the caller saw, what is stored, what it wants."""

    field: str
    seen: Any
    theirs: Any
    mine: Any


@dataclass(frozen=True)
class Writer:
    """Who wrote the stored version a write conflicted with: the rater and OS user of the
    row's last audit entry, its time, and — when the version is one another window of this
    app wrote (:func:`cobbdesk.core.store.film_events.landed`) — ``here`` and that window's
    name (``window``, "" when it has none).

    >>> Writer("dr_b", "b").who("dr_a"), Writer("dr_a", "a").who("dr_a")
    ('another rater (dr_b)', 'you (dr_a), in another window or program')
    >>> Writer("dr_a", "a", here=True, window="Compare view").who("dr_a")
    'your other window (Compare view)'
    >>> Writer("dr_a", "a", here=True).who("dr_a"), Writer("", "b").who("dr_a")
    ('you, in another window', 'another rater (user b)')
    """

    rater: str
    user: str
    utc: str = ""
    here: bool = False
    window: str = ""

    def who(self, own_rater: str) -> str:
        """Who it was, as the rater ``own_rater`` reads it (see the examples)."""
        if self.here:
            return f"your other window ({self.window})" if self.window else "you, in another window"
        if self.rater and self.rater == own_rater:
            return f"you ({self.rater}), in another window or program"
        if self.rater or self.user:
            return f"another rater ({self.rater or 'user ' + self.user})"
        return "another rater"

    def yours(self, own_rater: str) -> bool:
        """True when it was ``own_rater`` (another window of this app, or the same rater
        elsewhere)."""
        return self.here or (bool(self.rater) and self.rater == own_rater)


class ConflictError(CobbdeskError):
    """A row changed since the caller read it (``conflicts``: one :class:`FieldConflict` each).

    The message names the entity, its id and the fields only — never a value, since a patient's
    fields are identifiers; the values are in :attr:`conflicts` for the dialog that resolves them.
    """

    def __init__(
        self,
        path: str | PathLike[str] | None,
        problem: str,
        conflicts: Sequence[FieldConflict] = (),
        writer: Writer | None = None,
    ) -> None:
        self.conflicts = [FieldConflict(*c) for c in conflicts]
        self.writer = writer
        """Who wrote the stored version, when known (set by the film store, see
        :func:`cobbdesk.core.store.writers.measurement_writer`)."""
        super().__init__(path, problem)

    def __reduce__(self) -> tuple[Any, ...]:
        """Crosses process boundaries with its conflicts and writer (the base keeps path and
        problem)."""
        return (type(self), (self.path, self.problem, self.conflicts, self.writer))

    @property
    def field(self) -> str:
        """Name of the first conflicting field ("" when there is none)."""
        return self.conflicts[0].field if self.conflicts else ""

    @property
    def seen(self) -> Any:
        """The first conflict's value as the caller saw it (None when there is none)."""
        return self.conflicts[0].seen if self.conflicts else None

    @property
    def theirs(self) -> Any:
        """The first conflict's value as stored now by someone else (None when there is none)."""
        return self.conflicts[0].theirs if self.conflicts else None

    @property
    def mine(self) -> Any:
        """The first conflict's value the caller wanted to write (None when there is none)."""
        return self.conflicts[0].mine if self.conflicts else None


def field_conflicts(
    seen: Mapping[str, Any], stored: Mapping[str, Any], wanted: Mapping[str, Any]
) -> list[FieldConflict]:
    """Fields of ``wanted`` the caller saw as ``seen[f]`` but are now ``stored[f]`` (≠ wanted).

    A field absent from ``seen`` is not checked.  Someone else having made the same change is
    no conflict.

    >>> field_conflicts({"a": 1, "b": 2}, {"a": 1, "b": 3}, {"a": 5, "b": 4})
    [FieldConflict(field='b', seen=2, theirs=3, mine=4)]
    >>> field_conflicts({"b": 2}, {"b": 4}, {"b": 4})
    []
    """
    return [
        FieldConflict(name, seen[name], stored.get(name), value)
        for name, value in wanted.items()
        if name in seen and stored.get(name) != seen[name] and stored.get(name) != value
    ]


def conflict(entity: str, entity_id: object, conflicts: Sequence[FieldConflict]) -> ConflictError:
    """The error for ``conflicts`` on one row (fields named, values kept out of the message)."""
    names = ", ".join(c.field for c in conflicts) or "the row"
    return ConflictError(
        None,
        f"{entity} {entity_id}: {names} changed by someone else since you read it; "
        "reload, or choose whose value to keep",
        conflicts,
    )


def versioned_update(
    conn: Connection,
    table: Table,
    where: Any,
    version: int,
    values: Mapping[str, Any],
    *,
    entity: str,
    entity_id: object,
) -> int:
    """``UPDATE table SET values, version = version + 1 WHERE where AND version = :version``.

    Returns the new version; raises :class:`ConflictError` when no row matched (another writer
    changed it in between — with SQLite's ``BEGIN IMMEDIATE`` only a writer outside this
    transaction discipline can, but the check is what makes the rule hold on any database).
    """
    result = conn.execute(
        table.update()
        .where(where, table.c.version == version)
        .values(**values, version=version + 1)
    )
    if result.rowcount != 1:
        raise conflict(entity, entity_id, [])
    return version + 1


__all__ = [
    "ConflictError",
    "FieldConflict",
    "Writer",
    "conflict",
    "field_conflicts",
    "versioned_update",
]
