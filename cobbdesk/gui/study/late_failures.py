"""A kept edit that failed when it finally reached the study (#15 "Faults").

While the server was away an edit was kept and the window went on as if it were stored.
When the retry is refused — another rater changed that measurement meanwhile, or a value is no
longer accepted — the user decides, as for a conflict met at once:

* a measurement changed by someone else: Keep theirs / Keep mine / Cancel (the one question,
  :func:`cobbdesk.gui.conflicts.ask_theirs_or_mine`); "mine" writes it again over theirs
  (knowingly: their version becomes the baseline), theirs or Cancel shows what is stored;
* any other refusal: said in one line, and the film shows what is stored;
* lab values: said in one line, naming the visit; the form can be opened again.

Reads and writes here go through the study's write queue as well (never on the UI thread).
"""

from __future__ import annotations

import logging
from typing import Any

from cobbdesk.core.compare.saver import FilmWrite
from cobbdesk.core.measure.changes import writer_phrase
from cobbdesk.core.store.conflicts import ConflictError
from cobbdesk.core.store.outbox import Ticket, measurement_write
from cobbdesk.gui import errors
from cobbdesk.gui.conflicts import ask_theirs_or_mine
from cobbdesk.gui.study.lab_form import LabWrite
from cobbdesk.gui.study.saving import qt_waiter

StudySession = Any
"""The open study's :class:`~cobbdesk.gui.study.session.StudySession` (not imported: the
session imports this module)."""

logger = logging.getLogger("cobbdesk.gui.study")
ask_conflict = ask_theirs_or_mine  # replaced in tests
RELOAD_WAIT_S = 10.0


def handle_late_failure(session: StudySession, ticket: Ticket[Any], error: BaseException) -> None:
    """Let the user resolve ``error`` of the kept write ``ticket`` (UI thread)."""
    subject = ticket.subject
    logger.info("A kept edit failed later: %s (%s)", ticket.what, type(error).__name__)
    if isinstance(subject, LabWrite):
        message = getattr(error, "message", None) or type(error).__name__
        errors.present(session.window, "Lab values not saved",
                       f"The lab values of {subject.title} entered while the server was "
                       f"away were not saved: {message}. Open the form again to enter "
                       "them.")  # fmt: skip
        return
    if not isinstance(subject, FilmWrite):
        errors.report(session.window, error, f"Saving ({ticket.what})")
        return
    if isinstance(error, ConflictError) and subject.measurement_id is not None:
        names = ", ".join(sorted({c.field for c in error.conflicts})) or "the measurement"
        who = writer_phrase(error.writer, str(getattr(session.window, "rater", "")))
        answer = ask_conflict(
            session.window,
            f"While the server was away you changed a measurement of film #{subject.film_id} "
            f"that {who} changed too ({names}). Keep theirs or keep yours?",
        )
        if answer == "mine":
            _write_again(session, subject, ticket.what)
            return
    else:
        errors.report(session.window, error, f"Saving ({ticket.what})")
    reload_film(session, subject.film_id)


def _write_again(session: StudySession, subject: FilmWrite, what: str) -> None:
    """Write the kept edit over the other rater's version (their version is the baseline)."""
    if session.saver is None or session.study is None or subject.measurement_id is None:
        return
    study, mid = session.study, subject.measurement_id

    def again() -> object:
        study.reread_measurement(mid, seen=subject.seen)  # the window's baseline
        return subject.call()

    session.saver.outbox.submit(measurement_write(study, mid, again, seen=subject.seen), what,
                                subject=subject)  # fmt: skip


def reload_film(session: StudySession, film_id: int) -> None:
    """Show the film's measurements as stored (read after every queued write)."""
    link = next((k for k in session.links.values() if k.record.id == film_id), None)
    if link is None or session.saver is None or session.study is None:
        return
    study = session.study
    ticket = session.saver.outbox.submit(lambda: study.measurements(film_id),
                                         f"reading film #{film_id}")  # fmt: skip
    qt_waiter(ticket.done, RELOAD_WAIT_S)
    if ticket.done.done() and ticket.done.exception() is None and ticket.done.result() is not None:
        link.controller.load(ticket.done.result())
        link.controller.set_clean()
        session.browser.model.set_measured(film_id, len(link.controller.measurements))
