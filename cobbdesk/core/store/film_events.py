"""Saves of a study film, told to the other windows of the same app showing that film (#15).

The viewer and the compare view may show the same study film at once, each with its own
measurement session and its own conflict baseline (the rows as *it* showed them).  The
baseline alone guarantees that no window overwrites, unseen, what another window saved (the
stale window gets the conflict question).  This registry lets the other windows catch up
before that happens: a writer :func:`announce`\\ s a write when it submits it (the caller's
thread) and :func:`publish`\\ es a :class:`FilmSaved` when it lands or fails (the thread that
ran it: the write queue's worker, or the caller's without one).  Listeners are plain
callables, called on that thread; a GUI hands them to its UI thread itself.

No Qt here; one registry per :class:`~cobbdesk.core.store.study.Study` object (weakly held).

>>> class S: ...
>>> study, heard = S(), []
>>> stop = watch(study, 7, heard.append)
>>> publish(study, FilmSaved(7, "m1", None, origin="viewer"))
>>> publish(study, FilmSaved(8, "m2", None, origin="viewer"))   # another film: not heard
>>> [(e.film_id, e.measurement_id) for e in heard]
[(7, 'm1')]
>>> stop(); publish(study, FilmSaved(7, "m1", None, origin="viewer")); len(heard)
1
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cobbdesk.core.measure.measurement import CobbMeasurement

logger = logging.getLogger("cobbdesk.store")


@dataclass(frozen=True)
class FilmSaved:
    """A write of film ``film_id`` that landed (``ok``) or was refused (``ok`` False).

    ``measurement_id`` None: the film's facing (``facing``/``facing_source``, values of
    :class:`~cobbdesk.core.measure.facing.Facing` / ``FacingSource``) or its calibration
    (``calibrated``: ``calibration`` is the one in force now, a
    :class:`~cobbdesk.core.store.calibration.Calibration`, and ``respaced`` the film's
    measurements as stored after it, their spacing the new one).  ``measurement`` is the
    measurement as stored now (None: deleted).  ``origin`` identifies the writer (its store)
    so it can ignore its own writes.
    """

    film_id: int
    measurement_id: str | None
    measurement: CobbMeasurement | None
    origin: object = None
    ok: bool = True
    facing: str | None = None
    facing_source: str | None = None
    calibrated: bool = False
    calibration: Any = None
    respaced: tuple[CobbMeasurement, ...] = ()


class Listener:
    """What :func:`watch` registers: ``saved`` gets every :class:`FilmSaved` of the film,
    ``announced`` (optional) each write submitted for it (origin as argument)."""

    def __init__(
        self,
        saved: Callable[[FilmSaved], None],
        announced: Callable[[object], None] | None = None,
    ) -> None:
        self.saved, self.announced = saved, announced


_LOCK = threading.Lock()
_WATCHERS: weakref.WeakKeyDictionary[Any, dict[int, list[Listener]]] = weakref.WeakKeyDictionary()


def watch(
    study: object,
    film_id: int,
    saved: Callable[[FilmSaved], None],
    announced: Callable[[object], None] | None = None,
) -> Callable[[], None]:
    """Call ``saved`` for every write of ``film_id`` through ``study`` (and ``announced``
    when one is submitted); returns the function that stops it (idempotent)."""
    listener = Listener(saved, announced)
    with _LOCK:
        _WATCHERS.setdefault(study, {}).setdefault(film_id, []).append(listener)

    def stop() -> None:
        with _LOCK:
            films = _WATCHERS.get(study, {})
            found = films.get(film_id, [])
            if listener in found:
                found.remove(listener)
            if not found:
                films.pop(film_id, None)

    return stop


def _listeners(study: object, film_id: int) -> list[Listener]:
    with _LOCK:
        return list(_WATCHERS.get(study, {}).get(film_id, ()))


def announce(study: object, film_id: int, origin: object) -> None:
    """A write of ``film_id`` by ``origin`` was submitted (a :func:`publish` follows)."""
    for listener in _listeners(study, film_id):
        if listener.announced is not None:
            listener.announced(origin)


def publish(study: object, event: FilmSaved) -> None:
    """Tell every listener of ``event.film_id``; a listener that raises is logged and
    skipped (a window closing must not fail another window's save).  A write that landed is
    remembered as this process's (:func:`landed`)."""
    if event.ok and event.origin is not None:
        _remember(study, event)
    for listener in _listeners(study, event.film_id):
        try:
            listener.saved(event)
        except Exception:  # logged; the save itself succeeded
            logger.exception("A window following film #%d failed", event.film_id)


_LANDED: weakref.WeakKeyDictionary[Any, dict[str, tuple[Any, CobbMeasurement | None]]] = (
    weakref.WeakKeyDictionary()
)
_NAMES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _remember(study: object, event: FilmSaved) -> None:
    try:
        origin = weakref.ref(event.origin)
    except TypeError:  # an origin that cannot be weakly held is not remembered
        return
    written = [(event.measurement_id, event.measurement)] if event.measurement_id else []
    written += [(m.id, m) for m in event.respaced]
    with _LOCK:
        table = _LANDED.setdefault(study, {})
        for mid, m in written:
            table[str(mid)] = (origin, m)


def landed(study: object, measurement_id: str) -> tuple[object, CobbMeasurement | None] | None:
    """The last write of ``measurement_id`` through ``study`` that landed in this process:
    ``(origin, measurement as written)`` (None: deleted), or None when there was none (or its
    writer is gone).  Compare it with the stored row to tell whether that row is this
    process's write (:func:`cobbdesk.core.store.writers.measurement_writer`)."""
    with _LOCK:
        found = _LANDED.get(study, {}).get(str(measurement_id))
    if found is None:
        return None
    origin = found[0]()
    return None if origin is None else (origin, found[1])


def name_window(origin: object, name: str) -> None:
    """Call the window writing through ``origin`` ``name`` (e.g. "Compare view") in what
    other windows say about its writes (:func:`window_name`)."""
    with _LOCK:
        _NAMES[origin] = name


def window_name(origin: object) -> str:
    """The name given to ``origin``'s window by :func:`name_window` ("" when none)."""
    with _LOCK:
        return _NAMES.get(origin, "")


def watching(study: object, film_id: int) -> int:
    """How many listeners follow ``film_id`` of ``study`` (for tests and logs)."""
    return len(_listeners(study, film_id))


__all__ = [
    "FilmSaved",
    "Listener",
    "announce",
    "landed",
    "name_window",
    "publish",
    "watch",
    "watching",
    "window_name",
]
