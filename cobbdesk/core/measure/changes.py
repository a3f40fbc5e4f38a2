"""What a measuring session writes and reports: the store protocol, changes, outcomes.

:class:`MeasurementStore` is implemented by a study film (``core.compare.saver``), a sidecar
file (the GUI) and :class:`MemoryStore` (tests, doctests).

>>> store = MemoryStore()
>>> store.set_facing(Facing.LEFT, FacingSource.USER, "")
>>> store.log
[('facing', 'left/user', '')]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from cobbdesk.core.measure.commands import MeasurementSet
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.interaction import PlacementStep
from cobbdesk.core.measure.measurement import CobbMeasurement


class MeasurementStore(Protocol):
    """Where a session writes (a study film, a sidecar, a test).  Errors propagate."""

    def save(self, m: CobbMeasurement, reason: str) -> None:
        """Write ``m`` (insert, or update the saved one with the same id).

        A study store needs a non-blank ``reason`` to change a saved measurement
        (:class:`~cobbdesk.core.errors.ValidationError` otherwise) and may refuse with a conflict.
        """

    def delete(self, measurement_id: str, reason: str) -> None:
        """Delete the measurement ``measurement_id`` (a study soft-deletes it, audited)."""

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        """Bring back the deleted measurement ``m`` with its points (e.g. undo of a delete)."""

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        """Record which way the patient faces on the film and where that came from."""


class RereadingStore(MeasurementStore, Protocol):
    """A store shared with other raters: a write may be refused with an error carrying
    ``conflicts`` (:class:`~cobbdesk.core.store.conflicts.ConflictError`); :meth:`current`
    reads what is stored now (None: deleted) and makes it the baseline of the next write."""

    def current(self, measurement_id: str) -> CobbMeasurement | None:
        """The measurement as stored now (None: deleted), the baseline of the next write."""


@dataclass
class MemoryStore:
    """A :class:`MeasurementStore` keeping everything in memory, with a log of the calls."""

    saved: dict[str, CobbMeasurement] = field(default_factory=dict)
    log: list[tuple[str, str, str]] = field(default_factory=list)

    def save(self, m: CobbMeasurement, reason: str) -> None:
        """Keep ``m`` under its id and log ``("save", id, reason)``."""
        self.saved[m.id] = m
        self.log.append(("save", m.id, reason))

    def delete(self, measurement_id: str, reason: str) -> None:
        """Forget the measurement and log ``("delete", id, reason)``; ``KeyError`` when unknown."""
        del self.saved[measurement_id]
        self.log.append(("delete", measurement_id, reason))

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        """Keep ``m`` under its id again and log ``("restore", id, reason)``."""
        self.saved[m.id] = m
        self.log.append(("restore", m.id, reason))

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        """Log ``("facing", "<facing>/<source>", reason)`` (nothing else is kept)."""
        self.log.append(("facing", f"{facing.value}/{source.value}", reason))


class ChangeKind(StrEnum):
    """How an edit changed one measurement: added, adjusted, deleted or restored."""

    ADD = "add"
    ADJUST = "adjust"
    DELETE = "delete"
    RESTORE = "restore"


@dataclass(frozen=True)
class Change:
    """One measurement's change from an edit: ``before``/``after`` None when absent; ``by``
    is the rater making the edit (the session's), so the text can say whose measurement it is."""

    kind: ChangeKind
    before: CobbMeasurement | None
    after: CobbMeasurement | None
    by: str = ""

    @property
    def measurement_id(self) -> str:
        """Id of the changed measurement (of ``after``, else of ``before``)."""
        m = self.after or self.before
        assert m is not None
        return m.id

    @property
    def owner(self) -> str:
        """The rater the measurement belongs to (its ``rater``; "" when unnamed)."""
        m = self.before or self.after
        assert m is not None
        return m.rater

    @property
    def others(self) -> bool:
        """True when the measurement is not the editing rater's own (``by`` is known)."""
        return bool(self.by) and self.owner != self.by

    @property
    def text(self) -> str:
        """Whose measurement, which one, its saved angle and when it was saved, and what the
        edit makes of it, the angles by :func:`~cobbdesk.core.measure.formatting.angle_text`:
        ``"dr_b's C2-C7 (saved 2026-01-05 10:00 UTC): +28.1° lordosis → +50.9° lordosis"`` /
        ``"your C2-C7, +28.1° lordosis (saved …): deleted"``."""
        m = self.before or self.after
        assert m is not None
        whose = "your" if self.by and m.rater == self.by else f"{m.rater or 'an unnamed rater'}'s"
        name = f"{whose} {m.template.value}"
        when = _saved_when(m)
        if self.before is not None and self.after is not None:
            return f"{name}{when}: {_angle(self.before)} → {_angle(self.after)}"
        what = "deleted" if self.after is None else "restored"
        return f"{name}, {_angle(m)}{when}: {what}"


def measurement_label(m: CobbMeasurement, by: str = "") -> str:
    """``"your C2-C7, +28.1° lordosis (saved 2026-01-05 10:00 UTC)"`` (``by``: the rater
    reading it; another rater's is ``"dr_b's C2-C7, …"``): whose, which, its angle as saved
    (:func:`~cobbdesk.core.measure.formatting.angle_text`) and when it was saved."""
    whose = "your" if by and m.rater == by else f"{m.rater or 'an unnamed rater'}'s"
    return f"{whose} {m.template.value}, {_angle(m)}{_saved_when(m)}"


def _angle(m: CobbMeasurement) -> str:
    return angle_text(m.angle, calibrated=m.spacing is not None)


def _saved_when(m: CobbMeasurement) -> str:
    """``" (saved 2026-01-05 10:00 UTC)"`` from the last save time (ISO 8601, UTC), or ""."""
    stamp = m.updated_utc or m.created_utc
    if len(stamp) < 16 or stamp[10] not in "T ":
        return f" (saved {stamp})" if stamp else ""
    return f" (saved {stamp[:10]} {stamp[11:16]} UTC)"


def changes_between(
    old: MeasurementSet, new: MeasurementSet, deleted: set[str], by: str = ""
) -> list[Change]:
    """What an edit from ``old`` to ``new`` by rater ``by`` changes (``deleted``: ids
    soft-deleted in the store)."""
    found = []
    for mid, m in new.items():
        if mid not in old:
            kind = ChangeKind.RESTORE if mid in deleted else ChangeKind.ADD
            found.append(Change(kind, None, m, by))
        elif old[mid] != m:
            found.append(Change(ChangeKind.ADJUST, old[mid], m, by))
    found += [Change(ChangeKind.DELETE, m, None, by) for mid, m in old.items() if mid not in new]
    return found


@dataclass(frozen=True)
class Outcome:
    """What an action did: ``message`` says why it was refused, or what happened."""

    ok: bool
    message: str = ""
    measurement_id: str | None = None
    needs_facing: bool = False
    needs_snap_confirmation: bool = False
    step: PlacementStep | None = None
    conflicts: tuple[Any, ...] = ()
    """Another rater changed or deleted the measurement since it was loaded: the store's
    ``FieldConflict`` tuples (field, seen, theirs, mine); the edit waits in
    :attr:`MeasurementSession.pending_conflict` for keep theirs / keep mine / cancel."""
    changes: tuple[Change, ...] = ()
    reason: str = ""
    written_by: Any = None
    """Who wrote the stored version a conflict met, when the store can tell (a study's
    :class:`~cobbdesk.core.store.conflicts.Writer`: rater, and whether it was another window
    of this app); None when unknown."""


@dataclass(frozen=True)
class PendingConflict:
    """An edit refused by a conflict: its measurements, the store's conflicts, the reason
    already given, and how to write it again (``retry(reason)``)."""

    measurement_ids: tuple[str, ...]
    conflicts: tuple[Any, ...]
    reason: str
    retry: Callable[[str], Outcome]


@dataclass(frozen=True)
class Discrepancy:
    """A saved angle that differs from its recomputation with the film's current calibration."""

    measurement_id: str
    stored_deg: float
    recomputed_deg: float
    reason: str


def writer_phrase(writer: Any, rater: str) -> str:
    """Who wrote the version a conflict met (a store's ``Writer``, duck-typed: its ``who``),
    as ``rater`` reads it; "another rater" when the store could not tell."""
    who = getattr(writer, "who", None)
    return str(who(rater)) if callable(who) else "another rater"


def one_line(exc: BaseException) -> str:
    """The first line of an error's problem text, for an :class:`Outcome` message."""
    return str(getattr(exc, "problem", None) or exc).splitlines()[0]
