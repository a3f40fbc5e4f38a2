"""A study closed while a worker thread holds one of its connections (the browser's checks,
the Raters panel, the audit-head poll): the worker's connection is closed once it is done,
even when the study was closed twice meanwhile — no driver connection is left to the GC."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from cobbdesk.core.store import Study


def _is_closed(raw: object) -> bool:
    try:
        cursor = raw.cursor()  # type: ignore[attr-defined]
        cursor.execute("SELECT 1")
        cursor.fetchall()
    except Exception:
        return True
    return False


def test_a_connection_held_across_close_is_closed_on_release(
    study_location: Callable[[str], object],
) -> None:
    where = study_location("held.cobbdesk")
    Study.create(where, actor="dr_a").close()  # type: ignore[arg-type]
    study = Study.open(where, actor="dr_a")  # type: ignore[arg-type]
    held = study.engine.connect()  # a worker's read, in progress
    held.execute(text("SELECT 1"))
    raw = held.connection.driver_connection
    study.close()
    study.close()  # the window closes the study twice (close_study, then shutdown)
    held.close()  # the worker finishes: the connection goes back to the first pool
    assert not _is_closed(raw)  # without the release nobody would close it
    study.release_if_closed()
    assert _is_closed(raw)


def test_release_while_open_keeps_the_pool(study_location: Callable[[str], object]) -> None:
    where = study_location("open.cobbdesk")
    with Study.create(where, actor="dr_a") as study:  # type: ignore[arg-type]
        with study.engine.connect() as conn:
            raw = conn.connection.driver_connection
        study.release_if_closed()  # not closed: nothing happens
        assert not _is_closed(raw)
