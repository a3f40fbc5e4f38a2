"""The bridge from the core's command values to Qt's undo framework (Orange3 owpaintdata style).

A :class:`CoreCommand` holds one :mod:`cobbdesk.core.measure.commands` value and the
:class:`StateHolder` it edits.  ``redo`` applies it with :func:`commands.apply` and keeps the
inverse the core returns; ``undo`` applies that inverse (and keeps *its* inverse for the next
redo), so undo/redo restore measurements bit for bit without the GUI knowing any semantics.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from cobbdesk.core.measure import commands
from cobbdesk.core.measure.commands import Command, MeasurementSet

_NUDGE_ID = 0x43_4F_42_42  # "COBB": QUndoStack only merges commands with equal id() >= 0


class StateHolder(QObject):
    """The current :class:`MeasurementSet` of one film; ``changed`` fires after every edit."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = MeasurementSet()

    @property
    def state(self) -> MeasurementSet:
        return self._state

    def set_state(self, state: MeasurementSet) -> None:
        self._state = state
        self.changed.emit()


class CoreCommand(QUndoCommand):
    """One core command as a QUndoCommand; ``mergeable=True`` joins consecutive nudges."""

    def __init__(self, holder: StateHolder, command: Command, *, mergeable: bool = False) -> None:
        super().__init__(command.label)
        self.holder = holder
        self.command = command
        self._forward: Command = command
        self._inverse: Command | None = None
        self._mergeable = mergeable

    def redo(self) -> None:
        state, self._inverse = commands.apply(self.holder.state, self._forward)
        self.holder.set_state(state)

    def undo(self) -> None:
        if self._inverse is None:  # pragma: no cover - QUndoStack always redoes first
            return
        state, self._forward = commands.apply(self.holder.state, self._inverse)
        self.holder.set_state(state)

    def id(self) -> int:
        return _NUDGE_ID if self._mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Join a nudge of the same point or line (``other`` is already applied)."""
        if not (isinstance(other, CoreCommand) and other._mergeable):
            return False
        if not commands._mergeable(self.command, other.command):  # the core's merge rule
            return False
        self.command = other.command
        return True
