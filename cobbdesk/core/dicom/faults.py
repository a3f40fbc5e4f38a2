"""Turning any exception raised while reading or rendering a film into one line a user can read.

Parsers and decoders raise whatever they like (``NotImplementedError`` for an unknown VR,
``BytesLengthException`` for an odd value length, ``zlib.error`` for a corrupt deflated data
set, ``OverflowError``, ``IndexError``, ``cv2.error`` …).  :func:`film_error` maps each to a
:class:`~cobbdesk.core.errors.FilmError` subclass whose message names the file and, when the
exception names one, the element ``(gggg,eeee)``.  The exception's own text is **not** copied:
it can hold element values (a patient's name, an ID) and runs over several lines; only the tag
and a fixed description of the exception class are used.

>>> from pathlib import Path
>>> err = film_error(Path("/x/a.dcm"), NotImplementedError(
...     "Unknown Value Representation '0x4f 0xd7' in tag (7FE0,0010)"))
>>> str(err)
'a.dcm: element (7FE0,0010) has an unknown value representation (VR) and cannot be read'
"""

from __future__ import annotations

import re
from pathlib import Path

from cobbdesk.core.errors import DicomHeaderError, FilmError, NotDicomError, PixelDataError

_TAG = re.compile(r"\(\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)")
_PIXEL_TAGS = ("7FE0,0010", "7FE0,0008", "7FE0,0009")

#: (exception class name, words in its text) → what is wrong, in a user's terms.
_KINDS: tuple[tuple[str, str, str], ...] = (
    ("NotImplementedError", "Value Representation", "has an unknown value representation (VR)"),
    ("BytesLengthException", "", "has a value length that is not a multiple of its value size"),
    ("error", "decompress", "is deflated and its zlib stream is corrupt"),
    ("error", "OpenCV", "could not be processed by the image library (OpenCV)"),
    ("OverflowError", "", "holds a number too large to represent"),
    ("UnicodeDecodeError", "", "holds text that cannot be decoded"),
    ("EOFError", "", "ends in the middle of a data element (the file is truncated)"),
    ("error", "unpack", "ends in the middle of a data element (the file is truncated)"),
    ("IndexError", "", "is truncated or inconsistent with its declared length"),
    ("KeyError", "", "lacks a value it declares"),
    ("ValueError", "", "holds a value that cannot be interpreted"),
    ("TypeError", "", "holds a value of an unexpected type"),
)


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one printable line (control characters shown as ``?``), at most ``limit``."""
    flat = "".join(c if c.isprintable() else "?" for c in text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tag_of(exc: BaseException) -> str | None:
    """The first ``gggg,eeee`` tag named in the exception's text, upper case, or None."""
    match = _TAG.search(str(exc))
    return f"{match.group(1)},{match.group(2)}".upper() if match else None


def describe(exc: BaseException) -> str:
    """A fixed, value-free description of what ``exc`` says is wrong."""
    name, text = type(exc).__name__, str(exc)
    for kind, words, description in _KINDS:
        if name == kind and words in text:
            return description
    return f"cannot be read ({name})"


def film_error(path: Path, exc: BaseException, where: str | None = None) -> FilmError:
    """A one-line :class:`FilmError` for ``exc`` raised while reading ``path``.

    ``where`` names the element when the caller knows it (e.g. ``"Pixel Data (7FE0,0010)"``);
    otherwise the tag in the exception's text is used, else "the data set".
    """
    tag = tag_of(exc)
    subject = where or (f"element ({tag})" if tag else "the data set")
    description = describe(exc)
    problem = f"{subject} {description}"
    if "cannot" not in description and "corrupt" not in description:
        problem += " and cannot be read"
    if type(exc).__name__ == "error" and "decompress" in str(exc):
        return NotDicomError(path, problem)
    if (tag in _PIXEL_TAGS) or (where is not None and "7FE0" in where):
        return PixelDataError(path, problem)
    if tag is not None:
        return DicomHeaderError(path, problem)
    return NotDicomError(path, problem)
