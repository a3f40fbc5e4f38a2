"""Library warnings (pydicom, NumPy, Pillow…) as one redacted log line naming the file.

Python prints a warning straight to stderr as two lines — ``path:line: UserWarning: message``
and the source line — in the library's own words, past the redaction boundary, and some
carry a header value (pydicom: ``Invalid value for VR DA: '1961-02-03 Zorkwell'``).
:func:`route` replaces :func:`warnings.showwarning` so that each warning becomes ONE record of
the ``cobbdesk.warnings`` logger, which the front end's handlers print or file through
:class:`~cobbdesk.core.redact.RedactingFilter` like every other log line:

* ``<file>: <text>`` — the file being read when the warning was raised (:func:`reading`
  marks it: the import's header scan, the film reader, the command line's inspect/render,
  the points import); without one, the library's name;
* pydicom's known warnings in CobbDesk's words (:data:`_OWN_WORDS`), values never shown; the
  follow-up "failed to encode" of a failed decode is dropped (the decode was reported);
* any other warning: its first line, quoted values hidden (``'…'``);
* each ``(file, text)`` once per process.

pydicom also *logs* each warning it raises, in its raw words: :func:`route` stops those
records at the ``pydicom`` logger (they never reach a CobbDesk handler).

A warning raised by CobbDesk's own code (category :class:`CobbdeskWarning`) keeps its text.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

__all__ = ["LOGGER_NAME", "CobbdeskWarning", "one_line", "reading", "route"]

LOGGER_NAME = "cobbdesk.warnings"
_MAX_SEEN = 10_000

_current: ContextVar[str | None] = ContextVar("cobbdesk_reading", default=None)
_seen: set[tuple[str, str]] = set()

#: (pattern of a pydicom warning, CobbDesk's words or None to drop it); ``{vr}``/``{n}`` are
#: filled from the named groups.  Values of data elements are never repeated.
_OWN_WORDS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"Failed to decode byte string with encoding"),
     "text that cannot be decoded with the file's Specific Character Set (0008,0005) was "
     "read with replacement characters (�)"),
    (re.compile(r"Failed to encode value with encodings"), None),
    (re.compile(r"Unknown encoding '(?P<cs>[^']{0,40})'"),
     "unknown Specific Character Set (0008,0005) '{cs}'; text read with the default "
     "character repertoire"),
    (re.compile(r"Invalid value for VR (?P<vr>[A-Z]{2})"),
     "a {vr} value does not follow DICOM's format for that VR (PS3.5 §6.2); read as it is "
     "(value not shown)"),
    (re.compile(r"The (?:PN component|value) length \((?P<n>\d+)\) exceeds"),
     "a value is longer than DICOM allows ({n} characters; PS3.5 §6.2); read as it is"),
)  # fmt: skip
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


class CobbdeskWarning(UserWarning):
    """A warning CobbDesk raises itself (its text is already in CobbDesk's words)."""


@contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Within the block, warnings name ``path`` (the file being read); nests."""
    token = _current.set(str(path))
    try:
        yield
    finally:
        _current.reset(token)


def one_line(message: Warning | str, category: type[Warning], filename: str) -> str | None:
    """The one line logged for a warning (see the module rules), or None to drop it.

    >>> one_line(UserWarning("Invalid value for VR DA: '1961-02-03 Doe'."), UserWarning,
    ...          "/venv/site-packages/pydicom/valuerep.py")[:41]
    'pydicom: a DA value does not follow DICOM'
    >>> one_line(UserWarning("bad tag 'Doe'"), UserWarning, "/venv/site-packages/numpy/a.py")
    "numpy: bad tag '…'"
    """
    text = next((line.strip() for line in str(message).splitlines() if line.strip()), "")
    if not issubclass(category, CobbdeskWarning):
        for pattern, words in _OWN_WORDS:
            found = pattern.search(text)
            if found:
                if words is None:
                    return None
                text = words.format(**found.groupdict())
                break
        else:
            text = _QUOTED.sub("'…'", text)
    where = _current.get() or _library(filename)
    return f"{where}: {text}" if where else text


def _library(filename: str) -> str:
    """``pydicom`` for ``…/site-packages/pydicom/x.py``; "" when not from an installed package."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return Path(parts[parts.index(marker) + 1]).stem
    return ""


def _show(  # noqa: PLR0917 (the signature of warnings.showwarning)
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """:func:`warnings.showwarning` replacement: one record of the ``cobbdesk.warnings`` log."""
    text = one_line(message, category, filename)
    if text is None:
        return
    key = (_current.get() or "", text)
    if key in _seen:
        return
    if len(_seen) < _MAX_SEEN:
        _seen.add(key)
    logging.getLogger(LOGGER_NAME).warning(text)


def route() -> None:
    """Send every warning shown from now on through :func:`_show` (idempotent).  Library
    ``UserWarning``s are shown for every file (the once-per-line default would name only the
    first file with a problem); the ``(file, text)`` pairs are deduplicated instead."""
    if warnings.showwarning is not _show:
        warnings.showwarning = _show
    warnings.filterwarnings("always", category=UserWarning, module=r"pydicom(\.|$)")
    # pydicom also logs each warning it raises (warn_and_log), raw: keep that twin out of logs
    logging.getLogger("pydicom").propagate = False
