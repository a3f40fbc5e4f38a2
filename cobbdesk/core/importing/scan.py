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
  (ISO 2022 escape sequences included); see :func:`_text`.
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
from pydicom.dataelem import RawDataElement
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag, Tag

from cobbdesk.core.dicom.faults import film_error
from cobbdesk.core.dicom.orientation import patient_orientation
from cobbdesk.core.dicom.spacing import spacing_of
from cobbdesk.core.dicom.text import element_text
from cobbdesk.core.importing.dicomdir import dicomdir_references
from cobbdesk.core.importing.quick_header import quick_parse
from cobbdesk.core.importing.read_ahead import in_order
from cobbdesk.core.importing.walk import walk_files
from cobbdesk.core.library_warnings import reading

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
ESC = b"\x1b"  # starts an ISO 2022 escape sequence (code extension, PS3.5 §6.1.2.5.3)


@dataclass(frozen=True)
class HeaderInfo:
    """What the import needs from one film's header (empty strings when absent)."""

    path: Path
    sop_instance_uid: str
    patient_id: str
    patient_name: str = field(default="", repr=False)
    birth_date: str = field(default="", repr=False)
    sex: str = ""
    study_date: str = ""
    body_part: str = ""
    series_description: str = ""
    study_description: str = ""
    view_position: str = ""
    rows: int | None = None
    columns: int | None = None
    modality: str = ""
    patient_orientation: tuple[str, str] | None = None
    """Patient Orientation (0020,0020), which gives the film's facing (source ``"dicom"``)."""
    pixel_aspect: tuple[float, float] | None = None
    """Pixel Aspect Ratio (0028,0034) of a film without spacing and with non-square pixels."""
    spacing_mm: tuple[float, float] | None = None
    """The header's pixel spacing ``(row_mm, col_mm)`` and its source below, as the viewer
    reads it (:func:`~cobbdesk.core.dicom.spacing.spacing_of`); None: no usable spacing."""
    spacing_source: str = "none"
    """:class:`~cobbdesk.core.dicom.film.SpacingSource` value of :attr:`spacing_mm`."""


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


class _SkipError(Exception):
    """Internal: the file is not a DICOM image; the message says why."""


class _FailError(Exception):
    """Internal: the file is DICOM but unusable; the message says why."""


# --- collecting files --------------------------------------------------------------------
def collect_files(
    paths: Iterable[str | os.PathLike[str]], cancel: Cancel | None = None
) -> tuple[list[Path], list[ScanIssue]]:
    """Every file under ``paths`` (folders walked, DICOMDIRs expanded), once each, in order."""
    seen: dict[Path, None] = {}
    errors: list[ScanIssue] = []
    for raw in paths:
        path = Path(raw)
        if cancel is not None and cancel():
            break
        if path.is_dir():
            for file, resolved in walk_files(path, cancel):
                _add(file, seen, errors, resolved)
        elif path.is_file():
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
            raise _FailError(f"cannot be read: {head.strerror or head}")
        with reading(path):  # library warnings name this file (core.library_warnings)
            return _header_info(path, *_parse(path, head))
    except _SkipError as exc:
        return "skipped", ScanIssue(path, str(exc))
    except _FailError as exc:
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
    """``ds``, unless its File Meta says it is a DICOMDIR (raises _SkipError)."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and str(meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_SOP_CLASS:
        raise _SkipError("a DICOMDIR (media directory), not an image")
    return ds


def _legacy_or_not_dicom(path: Path, head: bytes) -> NoReturn:
    """Raise _SkipError for non-DICOM files, _FailError for legacy DICOM without File Meta."""
    not_dicom = _SkipError("not DICOM (no 'DICM' prefix and no DICOM data elements)")
    if len(head) < 8 or struct.unpack("<H", head[:2])[0] not in _FIRST_GROUPS:
        raise not_dicom
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True, defer_size=DEFER_SIZE)
        looks_dicom = any(tag.group in (0x0008, 0x0010, 0x0028) for tag in ds.keys())  # noqa: SIM118 (tags)
    except Exception:
        looks_dicom = False
    if not looks_dicom:
        raise not_dicom
    raise _FailError(
        "no DICOM preamble/File Meta header (a legacy ACR-NEMA style file); convert it or "
        "open it with 'cobbdesk inspect --force'"
    )


def _text(ds: Any, keyword: str) -> str:
    """A text attribute decoded with the Specific Character Set (0008,0005); "" when absent.

    Values of ASCII bytes without an ESC (0x1B) skip pydicom's value conversion (a third of
    the scan time): every character set pydicom knows decodes such bytes as ASCII (checked in
    the tests).  Anything else — non-ASCII bytes, ISO 2022 escape sequences (PS3.5 §6.1.2.5),
    which are ASCII-only bytes — goes through pydicom, as do person names, which it splits
    into component groups before decoding (PS3.5 §6.2.1.2); see
    :func:`~cobbdesk.core.dicom.text.element_text`.
    """
    raw = ds.get_item(_tag(keyword))
    value = getattr(raw, "value", None)
    if isinstance(raw, RawDataElement) and isinstance(value, bytes) and _plain_ascii(value):
        return value.decode("ascii").strip(" \x00")
    try:
        return element_text(ds, keyword)
    except Exception:  # undecodable character sets must not stop a scan
        return ""


def _plain_ascii(value: bytes) -> bool:
    """True for bytes that decode to the same text under every character set."""
    return value.isascii() and ESC not in value


def _tag(keyword: str) -> BaseTag:
    """The tag of a dictionary keyword (looked up once per keyword)."""
    found = _TAGS.get(keyword)
    if found is None:
        found = _TAGS[keyword] = Tag(keyword)
    return found


_TAGS: dict[str, BaseTag] = {}


def _dimension(ds: Any, keyword: str, tag: str) -> int | None:
    raw = ds.get_item(_tag(keyword))
    if raw is None:
        return None
    value = getattr(raw, "value", None)
    fast = isinstance(raw, RawDataElement) and raw.is_little_endian and raw.VR == "US"
    if fast and isinstance(value, bytes) and len(value) == 2:
        number: Any = int.from_bytes(value, "little")
    else:
        number = ds[keyword].value
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise _FailError(f"{keyword} ({tag}) is {number!r}; expected one positive integer")
    return number


def _header_info(path: Path, ds: Any, complete: bool) -> HeaderInfo:
    """The fields; a header without Rows/Columns is a non-image object when the data go on
    past them (SR, presentation state, key object), and a truncated file when they end."""
    rows = _dimension(ds, "Rows", "0028,0010")
    columns = _dimension(ds, "Columns", "0028,0011")
    if (rows is None or columns is None) and not complete:
        raise _FailError("the data end before Rows/Columns (0028,0010/0011): truncated?")
    if rows is None or columns is None:
        kind = _text(ds, "SOPClassUID") or "unknown SOP class"
        name = getattr(ds.get("SOPClassUID"), "name", kind)
        raise _SkipError(f"not an image (no Rows/Columns): {name}")
    sop = _text(ds, "SOPInstanceUID")
    if not sop:
        raise _FailError("SOP Instance UID (0008,0018) is missing; the film cannot be identified")
    spacing = spacing_of(ds)
    return HeaderInfo(
        path=path,
        sop_instance_uid=sop,
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"),
        body_part=_text(ds, "BodyPartExamined"),
        series_description=_text(ds, "SeriesDescription"),
        study_description=_text(ds, "StudyDescription"),
        view_position=_text(ds, "ViewPosition"),
        rows=rows,
        columns=columns,
        modality=_text(ds, "Modality"),
        patient_orientation=patient_orientation(ds),
        pixel_aspect=spacing.pixel_aspect,
        spacing_mm=spacing.spacing_mm,
        spacing_source=str(spacing.source),
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
