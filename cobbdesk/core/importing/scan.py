"""Header-only scanning of files, folders and DICOMDIRs before a study import.

Rules:

* ``paths`` may mix files and folders; folders are walked recursively (sorted, so results are
  reproducible).  A file named ``DICOMDIR`` (any case) is not an image: the files it references
  (Referenced File ID, relative to the DICOMDIR's folder, matched case-insensitively because CDs
  mounted on POSIX often show lower-case names; see :mod:`~cobbdesk.core.importing.dicomdir`)
  are scanned instead.  A reference that leaves the DICOMDIR's folder is refused and reported
  as an error naming the DICOMDIR and the record.  Every file is scanned once even when
  reached both through a folder and a DICOMDIR.
* Text attributes are decoded with the file's Specific Character Set (0008,0005) by pydicom
  (ISO 2022 escape sequences included); the fields and their decoding are in
  :mod:`~cobbdesk.core.importing.header_fields`.
* Only the header is read, and only up to Pixel Aspect Ratio (0028,0034) — the last attribute
  the import needs — so pixel data, LUTs and trailing private groups are never parsed; large
  values seen on the way are skipped (``defer_size``), not read.  A plain Explicit VR Little
  Endian header is walked by :mod:`~cobbdesk.core.importing.quick_header` (the same raw
  elements pydicom's reader makes, ~7x faster per element); anything else by pydicom.
* A file without the ``DICM`` prefix whose first bytes do not look like DICOM data elements is
  *skipped* ("not DICOM"): folders from CDs and PACS exports hold viewers, HTML and JPEGs.
  DICOM objects that are not images (DICOMDIR, structured reports, presentation states: no
  Rows/Columns) are skipped too.  A file that claims to be DICOM but cannot be read is an
  *error*.  Neither stops the scan.
* Parallelism (:mod:`~cobbdesk.core.importing.read_ahead`): a thread pool reads the first
  :data:`HEAD_BYTES` of the files ahead (file I/O releases the GIL, so reads overlap — what
  matters on disks, network shares and CDs) and the calling thread parses them from memory.
  Parsing in several threads was measured slower (the GIL serialises it and they contend),
  and a process pool slower for fewer than several thousand files because each worker needs
  ~0.4 s to start (``benchmarks/bench_import.py``).
* ``progress(done, total)`` and ``cancel()`` are called in the calling thread, after each file.
  When ``cancel()`` returns True, files not yet started are dropped and the partial result is
  returned with ``cancelled=True``.

Patient names and birth dates are kept only to fill a new patient's optional identifiers;
they are excluded from ``repr`` and never logged.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pydicom
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag, Tag

from cobbdesk.core.dicom.faults import film_error
from cobbdesk.core.held_files import held_identities, is_held
from cobbdesk.core.importing.dicomdir import dicomdir_references
from cobbdesk.core.importing.header_fields import FailError, HeaderInfo, SkipError, header_info
from cobbdesk.core.importing.quick_header import quick_parse
from cobbdesk.core.importing.read_ahead import in_order
from cobbdesk.core.importing.walk import walk_files
from cobbdesk.core.library_warnings import reading

__all__ = [
    "DEFER_SIZE",
    "DICOMDIR_SOP_CLASS",
    "HEAD_BYTES",
    "LAST_NEEDED_TAG",
    "LONG_HEAD_BYTES",
    "Cancel",
    "HeaderInfo",
    "Progress",
    "ScanIssue",
    "ScanResult",
    "collect_files",
    "default_workers",
    "read_head",
    "read_header",
    "scan_headers",
]

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]

#: Values larger than this are skipped over, never read, while parsing a header.
DEFER_SIZE = 4096
#: The last attribute the import needs (Pixel Aspect Ratio, after Rows/Columns and Pixel
#: Spacing); parsing stops after it.
LAST_NEEDED_TAG = Tag(0x0028, 0x0034)
_LAST_NEEDED = int(LAST_NEEDED_TAG)
#: Bytes read per file in one call; a longer header is parsed from the file itself.
HEAD_BYTES = 16 * 1024
#: Bytes read at once for a header longer than :data:`HEAD_BYTES` (the fast path's second try).
LONG_HEAD_BYTES = 512 * 1024
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_FIRST_GROUPS = (0x0000, 0x0002, 0x0008)  # how a DICOM stream without preamble starts


@dataclass(frozen=True)
class ScanIssue:
    """A file that was skipped (not DICOM, not an image) or could not be read (an error)."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ScanResult:
    """What a scan found: the headers of readable films, the errors, the skipped files
    (not DICOM, not an image), the number of files looked at, and whether it was cancelled.
    """

    headers: list[HeaderInfo] = field(default_factory=list)
    errors: list[ScanIssue] = field(default_factory=list)
    skipped: list[ScanIssue] = field(default_factory=list)
    total: int = 0
    cancelled: bool = False


# --- collecting files --------------------------------------------------------------------
HELD = "a file CobbDesk has open (a study, its -wal or -shm), not a film; it was not read"


def collect_files(
    paths: Iterable[str | os.PathLike[str]], cancel: Cancel | None = None
) -> tuple[list[Path], list[ScanIssue]]:
    """Every file under ``paths`` (folders walked, DICOMDIRs expanded), once each, in order.

    A file this process has open — a study open here, its ``-wal`` or ``-shm``, often kept
    beside its films — is left out unread (named, it is reported): whoever reads and closes
    it drops SQLite's locks on it (:mod:`~cobbdesk.core.held_files`)."""
    seen: dict[Path, None] = {}
    errors: list[ScanIssue] = []
    held = held_identities()
    for raw in paths:
        path = Path(raw)
        if cancel is not None and cancel():
            break
        if path.is_dir():
            for file, resolved in walk_files(path, cancel):
                if not is_held(resolved, held):
                    _add(file, seen, errors, resolved)
                elif held is None:  # taken as held by its name only: say so
                    errors.append(ScanIssue(file, HELD))
        elif path.is_file():
            if is_held(path, held):
                errors.append(ScanIssue(path, HELD))
            else:
                _add(path, seen, errors)
        else:
            errors.append(ScanIssue(path, "no such file or folder"))
    return list(seen), errors


def _add(
    path: Path, seen: dict[Path, None], errors: list[ScanIssue], resolved: Path | None = None
) -> None:
    if path.name.upper() != "DICOMDIR":
        seen.setdefault(path.resolve() if resolved is None else resolved, None)
        return
    try:
        references = dicomdir_references(path)
    except Exception as exc:  # any parser failure: report it, never stop the scan
        errors.append(ScanIssue(path, f"the DICOMDIR cannot be read: {exc}"))
        return
    for ref in references:
        if ref.path is None:
            errors.append(
                ScanIssue(
                    path,
                    f"{ref.record}: Referenced File ID (0004,1500) {ref.shown_id} "
                    f"{ref.problem}; refused",
                )
            )
        elif ref.path.is_file():
            seen.setdefault(ref.path.resolve(), None)
        else:
            errors.append(ScanIssue(ref.path, f"referenced by {path} ({ref.record}) but missing"))


# --- reading one header -------------------------------------------------------------------
def read_head(path: Path) -> bytes | OSError:
    """The first :data:`HEAD_BYTES` of a file (the I/O part of a scan, run in threads)."""
    try:
        with path.open("rb", buffering=0) as fp:
            return fp.read(HEAD_BYTES)
    except OSError as exc:
        return exc


def read_header(
    path: Path, head: bytes | OSError | None = None
) -> HeaderInfo | tuple[str, ScanIssue]:
    """The header of one file, or ``("skipped" | "error", issue)``; never raises.

    ``head`` is the file's first bytes when already read (:func:`read_head`).
    """
    head = read_head(path) if head is None else head
    try:
        if isinstance(head, OSError):
            raise FailError(f"cannot be read: {head.strerror or head}")
        with reading(path):  # library warnings name this file (core.library_warnings)
            return header_info(path, *_parse(path, head))
    except SkipError as exc:
        return "skipped", ScanIssue(path, str(exc))
    except FailError as exc:
        return "error", ScanIssue(path, str(exc))
    except RecursionError:
        return "error", ScanIssue(path, "data elements are nested too deeply to read safely")
    except Exception as exc:  # parsers raise anything on hostile input; their text can hold
        problem = film_error(path, exc).problem  # values: a fixed description, as inspect's
        return "error", ScanIssue(path, f"the DICOM header cannot be read: {problem}")


def _parse(path: Path, head: bytes) -> tuple[Any, bool]:
    """Parse from ``head`` in memory (from the file when the header is longer than that);
    also says whether the parse got past :data:`LAST_NEEDED_TAG` (False: the data ended)."""
    if head[128:132] != b"DICM":
        _legacy_or_not_dicom(path, head)
    whole = len(head) < HEAD_BYTES
    quick = quick_parse(head, _LAST_NEEDED, DEFER_SIZE, whole, more=lambda: _longer_head(path))
    if quick is not None:  # the plain case, walked fast (core.importing.quick_header)
        return _not_dicomdir(quick[0]), quick[1]
    reached: list[bool] = []

    def stop(tag: BaseTag, _vr: str | None, _length: int) -> bool:
        """Stop the parse past the last tag needed (and note that it got there)."""
        if int(tag) > _LAST_NEEDED:
            reached.append(True)
            return True
        return False

    ds: Any = None
    try:
        ds = read_partial(io.BytesIO(head), stop_when=stop, defer_size=DEFER_SIZE)
    except Exception:
        if len(head) < HEAD_BYTES:  # the whole file was in memory: the error is real
            raise
    if ds is None or (not reached and len(head) == HEAD_BYTES):
        with path.open("rb") as fp:
            ds = read_partial(fp, stop_when=stop, defer_size=DEFER_SIZE)
    return _not_dicomdir(ds), bool(reached)


def _longer_head(path: Path) -> tuple[bytes, bool] | None:
    """The first :data:`LONG_HEAD_BYTES` of a file whose header is longer than
    :data:`HEAD_BYTES`, and whether that is the whole file; None when it cannot be read."""
    try:
        with path.open("rb", buffering=0) as fp:
            data = fp.read(LONG_HEAD_BYTES)
    except OSError:
        return None
    return data, len(data) < LONG_HEAD_BYTES


def _not_dicomdir(ds: Any) -> Any:
    """``ds``, unless its File Meta says it is a DICOMDIR (raises SkipError)."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and str(meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_SOP_CLASS:
        raise SkipError("a DICOMDIR (media directory), not an image")
    return ds


def _legacy_or_not_dicom(path: Path, head: bytes) -> NoReturn:
    """Raise SkipError for non-DICOM files, FailError for legacy DICOM without File Meta."""
    not_dicom = SkipError("not DICOM (no 'DICM' prefix and no DICOM data elements)")
    if len(head) < 8 or struct.unpack("<H", head[:2])[0] not in _FIRST_GROUPS:
        raise not_dicom
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True, defer_size=DEFER_SIZE)
        looks_dicom = any(tag.group in (0x0008, 0x0010, 0x0028) for tag in ds.keys())  # noqa: SIM118 (tags)
    except Exception:
        looks_dicom = False
    if not looks_dicom:
        raise not_dicom
    raise FailError(
        "no DICOM preamble/File Meta header (a legacy ACR-NEMA style file); convert it or "
        "open it with 'cobbdesk inspect --force'"
    )


# --- the parallel scan ---------------------------------------------------------------------
def default_workers() -> int:
    """Threads for the scan: enough to overlap I/O, few enough to limit GIL contention."""
    return min(8, (os.cpu_count() or 1) + 2)


def scan_headers(
    paths: Iterable[str | os.PathLike[str]],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ScanResult:
    """Read the header of every file under ``paths`` (see the module rules); never raises
    for a bad file.  Results keep the order of the files found."""
    files, issues = collect_files(paths, cancel)
    result = ScanResult(errors=list(issues), total=len(files))
    outcomes: dict[int, HeaderInfo | tuple[str, ScanIssue]] = {}
    if files and not (cancel is not None and cancel()):
        result.cancelled = in_order(
            files, workers or default_workers(), read_head, read_header, outcomes,
            progress=progress, cancel=cancel,
        )  # fmt: skip
    else:
        result.cancelled = bool(cancel is not None and cancel())
    for index in sorted(outcomes):
        outcome = outcomes[index]
        if isinstance(outcome, HeaderInfo):
            result.headers.append(outcome)
        elif outcome[0] == "skipped":
            result.skipped.append(outcome[1])
        else:
            result.errors.append(outcome[1])
    return result
