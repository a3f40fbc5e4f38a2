"""Keep patient identifiers out of logs, error dialogs and stderr: one redaction boundary.

Every text that leaves the program for a log file, a dialog's message or detail, or the
command line's stderr passes :func:`redact`, which replaces with ``[redacted]``:

1. *known identifiers*: each value :func:`remember` was given — the name, MRN, birth date
   and hospital patient ID of every patient of each study opened (:meth:`Study.open`) or
   written (``add_patient``/``update_patient``, before the write, so a failed write is
   covered).  Names are also matched by their parts (``Doe^Jane`` → ``Doe``, ``Jane``,
   ``Jane Doe``) and dates in both DICOM DA (``19700101``) and ISO (``1970-01-01``) form;
   matching ignores case and takes whole words only.  Values shorter than
   :data:`MIN_LENGTH` characters are not matched on their own (a two-letter name part is
   covered only inside a caret name, rule 2).
2. *DICOM PN-looking* text: words joined by ``^`` (PS3.5 section 6.2, Person Name); a
   component with spaces (``van der Berg^Jan``) is masked from its last word on.
3. *date-looking* text: ``YYYYMMDD`` (PS3.5 DA) or ``YYYY-MM-DD`` with a plausible month and
   day, not inside a longer number or a dotted UID.

The boundaries using it: :class:`RedactingFilter` on the log handlers (:func:`install`), the
GUI's error helper (``cobbdesk.gui.errors.report``) and the command line's error printing
(``cobbdesk.cli.output``).  Redaction errs towards hiding: a visit date or an unrelated
eight-digit date in an error message is hidden too.

>>> remember(["Doe^Jane", "MRN-55501", "1970-01-01"])
>>> redact("write failed for Doe^Jane (MRN-55501), born 19700101; JANE asked")
'write failed for [redacted] ([redacted]), born [redacted]; [redacted] asked'
>>> redact("Smith^John at 2026-01-05, UID 1.2.3.20260105.4")
'[redacted] at [redacted], UID 1.2.3.20260105.4'
>>> forget_all()
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
MIN_LENGTH = 3
PATIENT_FIELDS = ("name", "mrn", "birth_date", "dicom_patient_id")

_PN = re.compile(r"[^\W\d_][\w'.-]*(?:\^[\w'.-]*)+")
_DATE = re.compile(
    r"(?<![\d.])(?:19|20)\d\d(-?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?![\d.])"
)
_PARTS = re.compile(r"[\^\s,]+")
#: A password inside a database URL (``scheme://user:PASSWORD@host``).
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@")


class _Registry:
    """The remembered values and their compiled pattern (rebuilt lazily), thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.known: set[str] = set()
        self.pattern: re.Pattern[str] | None = None


_registry = _Registry()


def variants(value: object) -> set[str]:
    """The forms of one identifier to look for (the value, its name parts, its date forms)."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return set()
    out = {text}
    parts = [p for p in _PARTS.split(text) if p]
    if len(parts) > 1:
        out |= set(parts) | {" ".join(parts), " ".join(reversed(parts))}
    compact = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text)
    if compact:
        year, month, day = compact.groups()
        out |= {f"{year}{month}{day}", f"{year}-{month}-{day}"}
    return {v for v in out if len(v) >= MIN_LENGTH}


def remember(values: Iterable[object]) -> None:
    """Add identifier values (None and empty values are ignored) to those redacted."""
    new = set().union(*(variants(v) for v in values)) - _registry.known
    if new:
        with _registry.lock:
            _registry.known.update(new)
            _registry.pattern = None


def remember_study(study: Any) -> None:
    """Remember every patient identifier of an open study (``study.patients()`` records)."""
    remember(getattr(p, f, None) for p in study.patients() for f in PATIENT_FIELDS)


def forget_all() -> None:
    """Forget every remembered value (tests; a new session)."""
    with _registry.lock:
        _registry.known.clear()
        _registry.pattern = None


def _known_pattern() -> re.Pattern[str] | None:
    with _registry.lock:
        known = _registry.known
        if _registry.pattern is None and known:
            alternatives = "|".join(re.escape(v) for v in sorted(known, key=len, reverse=True))
            _registry.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return _registry.pattern


def redact(text: str) -> str:
    """``text`` with remembered identifiers, PN-looking and date-looking values masked."""
    known = _known_pattern()
    if known is not None:
        text = known.sub(MASK, text)
    text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    return _DATE.sub(MASK, _PN.sub(MASK, text))


class RedactingFilter(logging.Filter):
    """Redacts a record's message, traceback and stack text (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message (its arguments merged in), traceback and stack; keep it."""
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(*loggers: logging.Logger) -> None:
    """Put one :class:`RedactingFilter` on every handler of ``loggers`` (default: the root
    and ``cobbdesk`` loggers) and on logging's last-resort stderr handler; idempotent."""
    chosen = loggers or (logging.getLogger(), logging.getLogger("cobbdesk"))
    handlers = [h for lg in chosen for h in lg.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
