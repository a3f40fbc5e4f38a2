"""The command line's error boundary: one-line, redacted messages and distinct exit statuses.

Every error or warning line a subcommand writes to stderr goes through :func:`say`, which
passes it through :func:`cobbdesk.core.redact.redact` (no name, MRN or birth date reaches
stderr).  :func:`fail` prints a :class:`CobbdeskError` and returns its exit status:

====  ===========================================================================
0     success
1     an error in the input or the study (bad file, rejected row, damaged study)
2     a usage error (argparse; options that cannot go together, such as ``-o -`` with a
      binary export format)
3     the study is locked: another program is writing to it (retry later)
4     the study (file or folder) is read-only
5     the disk is full
6     the study's database server cannot be reached or did not answer (retry later)
70    an internal error (a bug; set ``COBBDESK_DEBUG=1`` for the redacted traceback)
130   interrupted
141   stdout was closed by its reader (``cobbdesk film S --list | head -1``): the command
      stops quietly, nothing on stderr, like coreutils and git, which die of SIGPIPE and so
      end with the status a shell reports for that signal (128 + 13); a write to the study
      already committed stays committed
====  ===========================================================================
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from cobbdesk.cli.identifiers import learn_named
from cobbdesk.core import library_warnings
from cobbdesk.core import redact as redaction
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.redact import redact

INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h)
SERVER_UNREACHABLE = 6
CLOSED_STDOUT = 141  # 128 + SIGPIPE (13): what a shell reports for `seq 1 100000 | head -1`


def say(kind: str, text: str) -> None:
    """``cobbdesk: KIND: TEXT`` on stderr, redacted — before any study is open, with the
    identifiers of the study named on the command line too (read without writing to it:
    :func:`cobbdesk.cli.identifiers.learn_named`)."""
    learn_named()
    sys.stderr.write(redact(f"cobbdesk: {kind}: {text}") + "\n")


def out(text: str, stream: TextIO | None = None, end: str = "\n") -> None:
    """One line of a command's output: on stdout unless told (``print`` is kept out of
    library code)."""
    (stream or sys.stdout).write(text + end)


def emit_json(data: Any, *, indent: int | None = 2, allow_nan: bool = True) -> None:
    """A command's JSON report on stdout — every one (``--json``, ``--stats-json -``, ``pacs
    find``) goes through here: redacted whole by :func:`redact_files` (what stays exact:
    :data:`MACHINE_FIELDS`), indented, values JSON cannot hold as text; ``allow_nan=False``
    refuses NaN and infinity (:class:`ValueError`) where a report promises strict JSON."""
    text = json.dumps(
        redact_files(data), indent=indent, ensure_ascii=False, allow_nan=allow_nan, default=str
    )
    out(text)


#: Keys of a command's JSON report whose value is never a patient identifier, yet may look
#: like a date to :func:`redact` (which masks every ISO date and ``YYYYMMDD`` run), kept as
#: they are; every other string is redacted:
#:
#: * ``audit_head`` — the audit head ``SEQ:HASH`` (a hex digest can hold a ``YYYYMMDD`` run);
#: * ``deleted_utc``, ``created_utc`` — when a measurement was deleted, a calibration made:
#:   the study's own clock, not the patient's;
#: * ``new_visits`` (``import``: "P0001 admission 2026-01-05") and ``visit_date``
#:   (``film --list``) — a visit's date.  The decision: dates of visits are identifying in
#:   logs and messages (where they sit beside a file name, a path or a header value that
#:   may name the patient, they are masked), but a visit date the study reports *keyed to
#:   its pseudonymous study code* (``P0001``) and nothing else is the study's own data —
#:   the same pairing ``import`` prints in its text output and every export holds, which a
#:   statistician needs exact (visit intervals).  Both fields carry only that pairing, so
#:   both are kept; a date anywhere else — a PACS result's ``StudyDate`` beside the
#:   hospital's patient ID, a date in a film's path or in a warning — is redacted;
#: * ``sop_instance_uid``, ``study_instance_uid``, ``series_instance_uid`` — DICOM UIDs,
#:   the keys scripts use (``film --list --json`` → a ``measure`` CSV): a component that
#:   happens to spell an MRN's digits or a birth date (``1.2.826…1961.2.3``) must not turn
#:   the UID into another (breaker 9: ``import --json`` masked UID components while
#:   ``film --list`` showed them whole).
MACHINE_FIELDS = frozenset({
    "audit_head", "deleted_utc", "created_utc", "new_visits", "visit_date",
    "sop_instance_uid", "study_instance_uid", "series_instance_uid",
})  # fmt: skip


def redact_files(data: Any) -> Any:
    """``data`` (JSON-able dicts, lists and scalars) with every string in it — at any depth,
    whatever its key — passed through :func:`redact` (a film's path, an error or warning
    quoting one, a header value: whatever its folders and name hold), except the values of
    :data:`MACHINE_FIELDS`; keys, numbers, booleans and None as they are.  Structural, so a
    field added to a report later is redacted too.

    >>> redact_files({"path": "/in/Doe^Jane.dcm", "rows": 2, "errors": ["Doe^Jane.dcm: bad"]})
    {'path': '/in/[redacted]', 'rows': 2, 'errors': ['[redacted]: bad']}
    """
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, list | tuple):
        return [redact_files(item) for item in data]
    if not isinstance(data, dict):
        return data
    return {k: v if _kept(k, v) else redact_files(v) for k, v in data.items()}


_UIDS = frozenset({"sop_instance_uid", "study_instance_uid", "series_instance_uid"})
_UID = re.compile(r"(?=.{3,64}$)[0-9]+(?:\.[0-9]+)+")
"""A DICOM UID: components of digits joined by full stops, at most 64 characters (PS3.5
§9.1); one bare number (an MRN in a UID field) is not kept."""


def _kept(key: str, value: Any) -> bool:
    """A :data:`MACHINE_FIELDS` value kept as it is; a UID field only when it is a UID (a
    file may carry any text there: breaker 10's film had the patient's name as its SOP
    Instance UID)."""
    if key not in MACHINE_FIELDS:
        return False
    return key not in _UIDS or not isinstance(value, str) or bool(_UID.fullmatch(value))


@contextmanager
def shown_warnings() -> Iterator[list[str]]:
    """The library warnings met while the block runs (:func:`route_warnings`), held until it
    ends — a warning met while reading a file may name a patient the block writes later,
    whose identifiers redaction learns in that write — then shown on stderr (redacted) and
    listed as one redacted text each: a command's JSON report counts the warnings it printed."""
    shown: list[str] = []
    held: list[logging.LogRecord] = []
    logger = logging.getLogger(library_warnings.LOGGER_NAME)
    stderr = [h for h in logger.handlers if isinstance(h, _Stderr)]
    hold = _Hold(held)
    for handler in stderr:
        logger.removeHandler(handler)
    logger.addHandler(hold)
    try:
        yield shown
    finally:
        logger.removeHandler(hold)
        for handler in stderr:
            logger.addHandler(handler)
        for record in held:  # redacted now, with the patients the block wrote known
            shown.append(redact(record.getMessage()))
            for handler in stderr:
                handler.handle(record)


class _Hold(logging.Handler):
    """Keeps each record in a list (nothing is formatted or printed)."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        """The record kept as it is."""
        self.into.append(record)


def fail(error: CobbdeskError) -> int:
    """Print ``error`` (one redacted line) and return its exit status; an error caused by a
    closed stdout (:func:`broken_pipe`) ends quietly instead (:func:`closed_stdout`)."""
    if broken_pipe(error):
        return closed_stdout()
    learn_named(servers=error.exit_status != SERVER_UNREACHABLE)  # not a 2nd wait for it
    say("error", error.message)
    return error.exit_status


def broken_pipe(error: BaseException) -> bool:
    """True when ``error`` is, or was caused by, a ``BrokenPipeError`` (its chain followed)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, BrokenPipeError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def closed_stdout() -> int:
    """The reader of stdout has gone (``| head -1``): point stdout at the null device, so the
    flush at exit cannot fail again, and return :data:`CLOSED_STDOUT`; nothing is printed."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no real stdout (tests): nothing to flush
        pass
    return CLOSED_STDOUT


def internal(error: BaseException) -> int:
    """An unexpected exception: its type on one line; the traceback only when asked for."""
    say("error", f"internal error ({type(error).__name__}); nothing more was written")
    if os.environ.get("COBBDESK_DEBUG"):
        text = "".join(traceback.format_exception(error))
        sys.stderr.write(redact(text))
    return INTERNAL_ERROR


class _Stderr(logging.Handler):
    """Writes each record to the current ``sys.stderr`` (which tests may replace)."""

    def emit(self, record: logging.LogRecord) -> None:
        """One formatted line on stderr."""
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # a closed or broken stderr: logging's own fallback
            self.handleError(record)


def route_warnings() -> None:
    """Library warnings (pydicom's among them) as ``cobbdesk: warning: FILE: TEXT`` — one
    line, in CobbDesk's words where known, through the redacting filter
    (:mod:`cobbdesk.core.library_warnings`); idempotent."""
    logger = logging.getLogger(library_warnings.LOGGER_NAME)
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("cobbdesk: warning: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False  # the command line has no log file: stderr only
    redaction.install(logger)
    library_warnings.route()
