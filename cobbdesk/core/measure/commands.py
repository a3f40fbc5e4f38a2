"""Undoable edits of a film's measurements, as small immutable command values.

After Orange3's ``owpaintdata``: a command is a frozen value; :func:`apply` returns the new
state **and** the inverse command, so undo is just "apply the inverse".  :class:`History`
keeps the undo/redo stacks and their menu labels; the GUI bridges it to a QUndoStack.

>>> from cobbdesk.core.measure.measurement import EndplateLine
>>> m = CobbMeasurement("1.2", "", "FREE", EndplateLine((0, 0), (10, 0)),
...                     EndplateLine((0, 20), (10, 22)), id="m1")
>>> history = History()
>>> _ = history.push(AddMeasurement(m))
>>> _ = history.push(MovePoint("m1", "upper.posterior", (10, 3)))
>>> history.state["m1"].upper.posterior, history.undo_text
((10.0, 3.0), 'Move upper posterior point')
>>> history.undo().get("m1").upper.posterior
(10.0, 0.0)
>>> history.can_redo, history.redo().get("m1").upper.posterior
(True, (10.0, 3.0))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.measure.measurement import CobbMeasurement, LineName, PointName

__all__ = [
    "AddMeasurement",
    "Command",
    "DeleteMeasurement",
    "History",
    "MeasurementSet",
    "MoveLine",
    "MovePoint",
    "ReplaceMeasurement",
    "apply",
]


class MeasurementSet(Mapping[str, CobbMeasurement]):
    """An immutable, ordered mapping ``id -> CobbMeasurement`` (the measurements of one film)."""

    __slots__ = ("_items",)

    def __init__(self, measurements: Iterable[CobbMeasurement] = ()) -> None:
        items: dict[str, CobbMeasurement] = {}
        for m in measurements:
            if m.id in items:
                raise ValidationError(None, f"duplicate measurement id {m.id}")
            items[m.id] = m
        self._items = MappingProxyType(items)

    def __getitem__(self, key: str) -> CobbMeasurement:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MeasurementSet):
            return NotImplemented
        return list(self._items.items()) == list(other._items.items())

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return f"MeasurementSet({list(self._items)!r})"

    def require(self, measurement_id: str) -> CobbMeasurement:
        """The measurement with this id, or a :class:`ValidationError` naming it."""
        try:
            return self._items[measurement_id]
        except KeyError:
            raise ValidationError(None, f"no measurement with id {measurement_id}") from None

    def index(self, measurement_id: str) -> int:
        """Position (0-based) of the measurement ``measurement_id`` in the set's order.

        Raises :class:`ValidationError` when there is no such measurement.
        """
        self.require(measurement_id)
        return list(self._items).index(measurement_id)

    def inserted(self, measurement: CobbMeasurement, index: int | None = None) -> MeasurementSet:
        """A new set with ``measurement`` inserted at ``index`` (appended when None).

        The set itself is unchanged.  Raises :class:`ValidationError` when the id is already
        present.
        """
        values = list(self._items.values())
        values.insert(len(values) if index is None else index, measurement)
        return MeasurementSet(values)

    def removed(self, measurement_id: str) -> MeasurementSet:
        """A new set without the measurement ``measurement_id`` (order of the rest kept).

        Raises :class:`ValidationError` when there is no such measurement.
        """
        self.require(measurement_id)
        return MeasurementSet(m for m in self._items.values() if m.id != measurement_id)

    def replaced(self, measurement: CobbMeasurement) -> MeasurementSet:
        """A new set with the measurement of the same id swapped for ``measurement``, in place.

        Raises :class:`ValidationError` when the set holds no measurement with that id.
        """
        self.require(measurement.id)
        return MeasurementSet(
            measurement if m.id == measurement.id else m for m in self._items.values()
        )


@dataclass(frozen=True)
class AddMeasurement:
    """Command: insert ``measurement`` at ``index`` (appended when None); undone by a delete.

    :func:`apply` raises :class:`ValidationError` when its id is already in the set.
    """

    measurement: CobbMeasurement
    index: int | None = None

    @property
    def label(self) -> str:
        """Menu text, e.g. ``"Add C2-C7 measurement"``."""
        return f"Add {self.measurement.template.value} measurement"


@dataclass(frozen=True)
class DeleteMeasurement:
    """Command: remove the measurement ``measurement_id``; undone by re-adding it where it was.

    :func:`apply` raises :class:`ValidationError` when there is no such measurement.
    """

    measurement_id: str
    label: str = "Delete measurement"


@dataclass(frozen=True)
class MovePoint:
    """Command: move one handle (``which``) of a measurement to ``new_point``.

    ``new_point`` is an image point (x, y) = (column, row) in px, pixel-centre origin; it is
    coerced to floats and ``which`` to a :class:`PointName` (``ValueError`` for an unknown name).
    Moving a handle by hand clears that line's ``*_snapped`` flag.
    """

    measurement_id: str
    which: PointName
    new_point: Point

    def __post_init__(self) -> None:
        object.__setattr__(self, "which", PointName(self.which))
        object.__setattr__(self, "new_point", (float(self.new_point[0]), float(self.new_point[1])))

    @property
    def label(self) -> str:
        """Menu text, e.g. ``"Move upper posterior point"``."""
        return f"Move {self.which.line.value} {self.which.end} point"


@dataclass(frozen=True)
class MoveLine:
    """Command: shift both ends of one line of a measurement by (``dx``, ``dy``) px.

    ``dx`` is along the columns (x), ``dy`` along the rows (y); ``line`` is coerced to a
    :class:`LineName` (``ValueError`` for an unknown name).  Clears that line's ``*_snapped`` flag.
    """

    measurement_id: str
    line: LineName
    dx: float
    dy: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "line", LineName(self.line))

    @property
    def label(self) -> str:
        """Menu text, e.g. ``"Move lower line"``."""
        return f"Move {self.line.value} line"


@dataclass(frozen=True)
class ReplaceMeasurement:
    """Swap in a new version of a measurement (same id), e.g. after snapping."""

    measurement: CobbMeasurement
    label: str = "Snap endplates"


Command = AddMeasurement | DeleteMeasurement | MovePoint | MoveLine | ReplaceMeasurement


def apply(state: MeasurementSet, command: Command) -> tuple[MeasurementSet, Command]:
    """Apply ``command`` to ``state``: return the new state and the command that undoes it.

    Edits of an existing measurement are undone by a :class:`ReplaceMeasurement` holding the
    exact previous value, so undo restores points and ``updated_utc`` bit for bit.
    """
    match command:
        case AddMeasurement(measurement=m, index=index):
            if m.id in state:
                raise ValidationError(None, f"measurement {m.id} already exists")
            return state.inserted(m, index), DeleteMeasurement(m.id, label=command.label)
        case DeleteMeasurement(measurement_id=mid):
            old = state.require(mid)
            return state.removed(mid), AddMeasurement(old, state.index(mid))
        case MovePoint(measurement_id=mid, which=which, new_point=point):
            old = state.require(mid)
            new_state = state.replaced(old.with_point(which, point))
            return new_state, ReplaceMeasurement(old, command.label)
        case MoveLine(measurement_id=mid, line=line, dx=dx, dy=dy):
            old = state.require(mid)
            new_state = state.replaced(old.with_line_moved(line, dx, dy))
            return new_state, ReplaceMeasurement(old, command.label)
        case ReplaceMeasurement(measurement=new, label=label):
            old = state.require(new.id)
            return state.replaced(new), ReplaceMeasurement(old, label)
    raise TypeError(f"not a command: {command!r}")  # pragma: no cover


def label_of(command: Command) -> str:
    """Menu text for a command (without the "Undo"/"Redo" prefix)."""
    return command.label


def _mergeable(previous: Command, new: Command) -> bool:
    if isinstance(previous, MovePoint) and isinstance(new, MovePoint):
        return (previous.measurement_id, previous.which) == (new.measurement_id, new.which)
    if isinstance(previous, MoveLine) and isinstance(new, MoveLine):
        return (previous.measurement_id, previous.line) == (new.measurement_id, new.line)
    if isinstance(previous, ReplaceMeasurement) and isinstance(new, ReplaceMeasurement):
        return (previous.measurement.id, previous.label) == (new.measurement.id, new.label)
    return False


@dataclass
class _Entry:
    label: str
    command: Command  # what redo applies / what was applied last
    inverse: Command  # what undo applies


@dataclass
class History:
    """Undo/redo stacks over a :class:`MeasurementSet`.

    ``push`` applies a command and clears the redo stack.  With ``merge=True`` a move of the same
    point (or line) as the previous step joins that step, so arrow-key nudges undo together.
    """

    state: MeasurementSet = field(default_factory=MeasurementSet)
    _undo: list[_Entry] = field(default_factory=list, repr=False)
    _redo: list[_Entry] = field(default_factory=list, repr=False)

    @property
    def can_undo(self) -> bool:
        """True when there is a step for :meth:`undo` to revert."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is an undone step for :meth:`redo` to re-apply."""
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        """Label of the step :meth:`undo` would revert ("" when none)."""
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_text(self) -> str:
        """Label of the step :meth:`redo` would re-apply ("" when none)."""
        return self._redo[-1].label if self._redo else ""

    @property
    def steps(self) -> int:
        """How many steps :meth:`undo` can revert."""
        return len(self._undo)

    @property
    def next_undo(self) -> Command | None:
        """The command :meth:`undo` would apply (None when there is none)."""
        return self._undo[-1].inverse if self._undo else None

    @property
    def next_redo(self) -> Command | None:
        """The command :meth:`redo` would apply (None when there is none)."""
        return self._redo[-1].command if self._redo else None

    def push(self, command: Command, *, merge: bool = False) -> MeasurementSet:
        """Apply ``command`` as a new undo step (or merged into the last one); return the state."""
        new_state, inverse = apply(self.state, command)
        if merge and self._undo and _mergeable(self._undo[-1].command, command):
            self._undo[-1].command = command
        else:
            self._undo.append(_Entry(label_of(command), command, inverse))
        self._redo.clear()
        self.state = new_state
        return new_state

    def undo(self) -> MeasurementSet:
        """Revert the last step (no-op when there is none); return the state."""
        if not self._undo:
            return self.state
        entry = self._undo.pop()
        self.state, redo_command = apply(self.state, entry.inverse)
        self._redo.append(_Entry(entry.label, redo_command, entry.inverse))
        return self.state

    def redo(self) -> MeasurementSet:
        """Re-apply the last undone step (no-op when there is none); return the state."""
        if not self._redo:
            return self.state
        entry = self._redo.pop()
        self.state, inverse = apply(self.state, entry.command)
        self._undo.append(_Entry(entry.label, entry.command, inverse))
        return self.state

    def clear(self, state: MeasurementSet | None = None) -> None:
        """Forget both stacks (e.g. when another film is opened), optionally with a new state."""
        self._undo.clear()
        self._redo.clear()
        if state is not None:
            self.state = state
