"""One film's measuring session without Qt: what the viewer and the compare view both drive.

A :class:`MeasurementSession` owns the film's identity (:class:`FilmContext`, facing and its
source), its measurements and their undo history, placing and dragging
(:mod:`~cobbdesk.core.measure.interaction`), snapping with its confirmation threshold, the
geometric guards (:mod:`~cobbdesk.core.measure.guards`) and **one save policy**:

* what is on screen is what is stored: every accepted edit (undo and redo included) is
  written through a :class:`MeasurementStore` before the session's state changes; when the
  store fails or a reason is refused, nothing changes;
* a measurement made in this sitting (:attr:`fresh`) may be adjusted or removed without a
  reason (the automatic reason names the sitting); once :meth:`settle`\\ d (another film shown,
  the study reopened) changing, deleting or restoring it needs a reason from ``ask_reason``
  (:meth:`needs_reason` is the rule, identical in every view);
* each endplate line's anterior end is assigned from the film's facing
  (:func:`~cobbdesk.core.measure.facing.orient_measurement`), never from the click order; a
  measurement finished on a film of unknown facing waits (:attr:`pending`) until
  :meth:`set_facing`;
* ``|angle| >= 90°``, short, coincident and crossing lines are refused with a message
  (:class:`~cobbdesk.core.measure.guards.GuardError`); implausible values are kept but
  flagged (:meth:`flag`);
* snapping reports how far it moved each line (:class:`SnapMove`); a move larger than
  :attr:`snap_threshold_deg` is held in :attr:`pending_snap` until :meth:`confirm_snap`.

The steps live in mixins, one module each: placing and dragging
(:mod:`cobbdesk.core.measure.session_pointer`), facing (``session_facing``), snapping
(``session_snap``), conflicts with other writers (``session_conflicts``) and stale angles
(``session_stale``); this module holds the state and the one write path.

>>> from cobbdesk.core.measure.facing import Facing
>>> film = FilmContext(rows=400, columns=300, sop_instance_uid="1.2")
>>> s = MeasurementSession(film, MemoryStore(), facing=Facing.LEFT)
>>> _ = s.start_placement("C2-C7")
>>> for p in ((140, 110), (100, 100), (140, 290), (100, 300)):   # posterior corners first
...     outcome = s.click(p)
>>> outcome.ok, round(s.measurements[outcome.measurement_id].angle, 2)
(True, 28.07)
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure import guards
from cobbdesk.core.measure.changes import (
    Change,
    ChangeKind,
    Discrepancy,
    MeasurementStore,
    MemoryStore,
    Outcome,
    PendingConflict,
    changes_between,
    one_line,
    writer_phrase,
)
from cobbdesk.core.measure.commands import (
    AddMeasurement,
    Command,
    History,
    MeasurementSet,
    MoveLine,
    MovePoint,
    ReplaceMeasurement,
    apply,
)
from cobbdesk.core.measure.facing import Facing, FacingSource, orient_measurement
from cobbdesk.core.measure.interaction import (
    DragUpdate,
    FilmContext,
    PlacementStep,
    PointerEvent,
    delete_command,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, utc_now
from cobbdesk.core.measure.session_conflicts import ConflictSteps
from cobbdesk.core.measure.session_facing import FacingSteps, suggested_facing
from cobbdesk.core.measure.session_pointer import PointerSteps, cranial_first
from cobbdesk.core.measure.session_snap import SnapMove, SnappingSteps
from cobbdesk.core.measure.session_stale import STALE_TOLERANCE_DEG, StaleAngles

__all__ = [
    "STALE_TOLERANCE_DEG",
    "Change",
    "ChangeKind",
    "Discrepancy",
    "MeasurementSession",
    "MeasurementStore",
    "MemoryStore",
    "Outcome",
    "PendingConflict",
    "SnapMove",
    "cranial_first",
    "suggested_facing",
]

DEFAULT_SNAP_THRESHOLD_DEG = 2.0
"""A snap turning a line by more than this is not applied without confirmation."""


AskReason = Callable[[Sequence[Change]], "str | None"]


class MeasurementSession(PointerSteps, ConflictSteps, FacingSteps, SnappingSteps, StaleAngles):
    """The measurements of one film, edited under one policy (see the module docstring)."""

    def __init__(
        self,
        film: FilmContext,
        store: MeasurementStore,
        measurements: Iterable[CobbMeasurement] = (),
        *,
        facing: Facing | str | None = None,
        facing_source: FacingSource | str | None = None,
        ask_reason: AskReason | None = None,
    ) -> None:
        self.film, self.store = film, store
        self.history = History(MeasurementSet(measurements))
        self.facing = Facing(facing) if facing else None
        self.facing_source = FacingSource(facing_source or "user") if facing else None
        self.ask_reason: AskReason = ask_reason or (lambda changes: None)
        self.started = utc_now()
        self.fresh: set[str] = set()
        self.deleted: set[str] = set()
        self.snapping = False
        """Off by default: on real films with ground-truth endplates (AASCE sample, ±3 px clicks)
        snapping made the median line error worse, 0.84° → 1.26° (benchmarks/
        bench_snapping_real.py); it helps on clean phantoms only.  An aid the rater turns on."""
        self.snap_threshold_deg = DEFAULT_SNAP_THRESHOLD_DEG
        self.snap_radius_px = 10.0
        self.pixels: Any = None
        self.bone_bright = True
        self.pending: CobbMeasurement | None = None
        self.header_facing: Facing | None = None
        """The facing DICOM Patient Orientation gives (used, with source "dicom", when the
        film's facing is unknown at its first measurement)."""
        self.pending_snap: ReplaceMeasurement | None = None
        self.pending_conflict: PendingConflict | None = None
        """An edit refused because another rater changed its measurement (see
        :meth:`keep_theirs`, :meth:`keep_mine`, :meth:`drop_conflict`)."""
        self.snap_report: dict[str, tuple[SnapMove, SnapMove]] = {}
        self._placing: Generator[PlacementStep, Any, None] | None = None
        self._drag: Generator[DragUpdate, PointerEvent, None] | None = None
        self.only_rater = False
        """True when the session shows only its rater's measurements (the compare view)."""
        self._show_saved(self.measurements.values())

    # --- state ------------------------------------------------------------------------------
    @property
    def measurements(self) -> MeasurementSet:
        """The film's measurements as the session holds them now (the history's state)."""
        return self.history.state

    def load(self, measurements: Iterable[CobbMeasurement]) -> None:
        """Start again from what the store holds: no history, nothing fresh."""
        self.history.clear(MeasurementSet(measurements))
        self.fresh.clear()
        self.pending = self.pending_snap = None
        self._show_saved(self.measurements.values())

    def settle(self) -> None:
        """The sitting is over: changing any measurement now needs a reason."""
        self.fresh.clear()

    def needs_reason(self, change: Change) -> bool:
        """The rule of every view: only a measurement of this sitting changes without one."""
        return change.kind is not ChangeKind.ADD and change.measurement_id not in self.fresh

    def flag(self, m: CobbMeasurement) -> str | None:
        """Why the angle of ``m`` is implausible for its template (None when plausible)."""
        return guards.plausibility_flag(m.template, m.angle)

    # --- the one write path ---------------------------------------------------------------------
    def execute(self, command: Command, *, merge: bool = False) -> Outcome:
        """Apply ``command`` as one undo step, under the policy (guards, reasons, store)."""
        return self._execute(command, merge, None)

    def _execute(self, command: Command, merge: bool, reason: str | None) -> Outcome:
        outcome, admitted = self._admit(command, reason=reason)
        if outcome.conflicts:
            self._hold(outcome, lambda why: self._execute(command, merge, why))
        if not outcome.ok:
            return outcome
        self.history.push(admitted, merge=merge)
        return outcome

    def undo(self, reason: str | None = None) -> Outcome:
        """Revert the last step under the same policy as :meth:`execute`.

        ``reason`` is stored with the change (None: asked through ``ask_reason`` when the change
        needs one).  Not ok with ``"nothing to undo"``, when a needed reason is refused, or when the
        store refuses the write; another rater's change holds the step in :attr:`pending_conflict`.
        """
        outcome = self._step(self.history.next_undo, self.history.undo, "undo", reason)
        if outcome.conflicts:
            self._hold(outcome, self.undo)
        return outcome

    def redo(self, reason: str | None = None) -> Outcome:
        """Re-apply the last undone step; reasons, refusals and conflicts as :meth:`undo`."""
        outcome = self._step(self.history.next_redo, self.history.redo, "redo", reason)
        if outcome.conflicts:
            self._hold(outcome, self.redo)
        return outcome

    def _step(
        self, command: Command | None, run: Callable[[], object], what: str, reason: str | None
    ) -> Outcome:
        if command is None:
            return Outcome(False, f"nothing to {what}")
        outcome, _ = self._admit(command, oriented=False, reason=reason)
        if outcome.ok:
            run()
        return outcome

    def _admit(
        self, command: Command, *, oriented: bool = True, reason: str | None = None
    ) -> tuple[Outcome, Command]:
        """Check and store ``command``'s effect; returns the (possibly reoriented) command."""
        try:
            new_state, _ = apply(self.measurements, command)
            if oriented:
                command, new_state = self._oriented(command, new_state)
            if isinstance(command, MovePoint | MoveLine):  # the exact value that is stored
                command = ReplaceMeasurement(new_state[command.measurement_id], command.label)
            changes = changes_between(self.measurements, new_state, self.deleted,
                                      self.film.rater)  # fmt: skip
            for change in changes:
                if change.after is not None:
                    guards.check_measurement(change.after)
        except CobbdeskError as exc:
            return Outcome(False, one_line(exc)), command
        reason = self._reason(changes) if reason is None else reason
        if reason is None:
            return Outcome(False, "Not changed: a saved measurement needs a reason"), command
        try:
            self._write(changes, reason)
        except CobbdeskError as exc:
            conflicts = tuple(getattr(exc, "conflicts", None) or ())  # ConflictError (store)
            if getattr(exc, "conflicts", None) is None:
                return Outcome(False, f"Not saved: {one_line(exc)}"), command
            who = writer_phrase(getattr(exc, "writer", None), self.film.rater)
            message = f"Not saved: {who} changed it since it was loaded ({one_line(exc)})"
            return Outcome(False, message, changes[0].measurement_id, conflicts=conflicts,
                           changes=tuple(changes), reason=reason,
                           written_by=getattr(exc, "writer", None)), command  # fmt: skip
        mid = changes[0].measurement_id if changes else None
        return Outcome(True, "", mid), command

    def _oriented(self, command: Command, state: MeasurementSet) -> tuple[Command, MeasurementSet]:
        """Relabel anterior/posterior ends by the facing after an edit that moved points."""
        if self.facing is None or isinstance(command, ReplaceMeasurement):
            return command, state
        for mid, m in state.items():
            if mid in self.measurements and self.measurements[mid] == m:
                continue
            oriented, notices = orient_measurement(m, self.facing)
            if notices:
                state = state.replaced(oriented)
                if not isinstance(command, AddMeasurement):
                    command = ReplaceMeasurement(oriented, command.label)
                else:
                    command = AddMeasurement(oriented, command.index)
        return command, state

    def _reason(self, changes: Sequence[Change]) -> str | None:
        """The reason to store with: "" / automatic, the user's, or None when refused."""
        asked = [c for c in changes if self.needs_reason(c)]
        if not asked:
            return ""
        reason = (self.ask_reason(asked) or "").strip()
        return reason or None

    def _write(self, changes: Sequence[Change], reason: str) -> None:
        sitting = f"while measuring (session {self.started})"
        for change in changes:
            mid = change.measurement_id
            if change.kind is ChangeKind.ADD:
                self.store.save(_must(change.after), "")
                self.fresh.add(mid)
            elif change.kind is ChangeKind.ADJUST:
                self.store.save(_must(change.after), reason or f"adjusted {sitting}")
            elif change.kind is ChangeKind.RESTORE:
                self.store.restore(_must(change.after), reason or f"deletion undone {sitting}")
                self.deleted.discard(mid)
            else:
                self.store.delete(mid, reason or f"removed {sitting}")
                self.deleted.add(mid)

    def delete(self, measurement_id: str | None) -> Outcome:
        """Delete the measurement ``measurement_id`` through :meth:`execute`.

        Not ok (``"nothing selected"``) when the id is None or not among the measurements.
        """
        command = delete_command(self.measurements, measurement_id)
        return Outcome(False, "nothing selected") if command is None else self.execute(command)


def _must(m: CobbMeasurement | None) -> CobbMeasurement:
    assert m is not None
    return m
