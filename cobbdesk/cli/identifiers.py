"""Patient identifiers the command line hands to redaction before it prints a line.

A study opened by a command hands its identifiers over itself (:meth:`Study.open`).  This
module covers what is printed *before* that, or without a study at all:

* :func:`learn_named`: the study named on the command line (every STUDY argument passes
  :func:`cobbdesk.cli.locations.study_location`, which notes it here) when no study was
  opened yet — an output refused before the open (``export S -o Doe_Jane/x.csv`` with a
  missing folder), a study refused by its open (locked, read-only, needs upgrading).  It
  is read **without writing a byte to it or to its** ``-wal``/``-shm``
  (:func:`study_identifiers`), and never while this process has it open
  (:func:`held_open`); a "study" that is a DICOM film gives its header's
  identifiers (:func:`film_identifiers`).
* :func:`learn_film`: the identifiers in a film's own header (``inspect``, ``render``: a
  folder named after the patient in the file is masked).

Learning never raises: a study that cannot be read leaves the name and date rules of
:func:`cobbdesk.core.redact.redact`, which need no study.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

SQLITE_HEADER = b"SQLite format 3\x00"
DICOM_PREFIX_AT = 128
#: The header elements naming the patient (PS3.3 C.7.1.1 Patient Module): Patient's Name
#: (0010,0010), Patient ID (0010,0020), Patient's Birth Date (0010,0030), Other Patient IDs
#: (0010,1000).
FILM_TAGS = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs")

_named: list[Path | str] = []
_learned: set[str] = set()


def note_study(location: Path | str) -> None:
    """Remember that ``location`` (a study file or server URL) was named on the command line."""
    _named.append(location)


def reset() -> None:
    """Forget the studies named so far (each ``cobbdesk`` run starts afresh)."""
    _named.clear()
    _learned.clear()


def learn_named(servers: bool = False) -> None:
    """Hand the identifiers of each study named on the command line to redaction, unless
    redaction knows some already (a study was opened or written by this run: its own
    identifiers were handed over then).  ``servers``: server studies too (a connection; not
    when the error being printed is that the server cannot be reached).  Never raises."""
    from cobbdesk.core.redact import keys

    registry = keys.registry
    if registry.pending or registry.single or registry.multi:
        return
    for location in list(_named):
        key = str(location)
        if key in _learned or (isinstance(location, str) and not servers):
            continue
        if isinstance(location, Path) and held_open(location):
            continue  # open in this process: its identifiers came with the open
        _learned.add(key)  # once, even when reading fails (and no recursion through say)
        try:
            _learn(location)
        except Exception:  # a study that cannot be read: the rules needing no study remain
            continue


def held_open(path: Path) -> bool:
    """Whether this process has ``path`` or its ``-wal``/``-shm`` open (a study it opened and
    has not closed, or a connection a thread still holds): such a file is never opened here,
    since closing *any* descriptor of a file drops every POSIX advisory lock the process
    holds on it, SQLite's among them (:mod:`cobbdesk.core.held_files`)."""
    from cobbdesk.core.held_files import held_identities, is_held

    held = held_identities()
    names = (path.name, path.name + "-wal", path.name + "-shm")
    return any(is_held(path.with_name(name), held) for name in names)


def _learn(location: Path | str) -> None:
    from cobbdesk.core import redact

    if isinstance(location, str):  # a server URL: a read-only open hands them over itself
        from cobbdesk.core.store import Study

        Study.open(location, read_only=True).close()
        return
    names, values = study_identifiers(location)
    if not names and not values:
        names, values = film_identifiers(location)
    redact.remember_later(names, values)


def study_identifiers(path: Path) -> tuple[str, str]:
    """(names, other identifiers) one a line (as :func:`remember_later` takes them) of every
    patient of the study file ``path``, read without changing a byte of it, of its ``-wal``
    or of its ``-shm`` (bytes and modification times); ``("", "")`` for a file that is not
    SQLite.  Raises ``OSError`` or ``sqlite3.Error`` when it cannot be read.

    SQLite's read-only modes are not enough (seen with SQLite 3.40; a test keeps the first
    fact): ``mode=ro`` creates a missing ``-shm`` and, beside a study another program has
    open, writes its read marks into the ``-shm`` (https://sqlite.org/walformat.html, 2.2);
    ``immutable=1`` touches nothing but ignores the ``-wal``, so it misses the commits a
    running program has not checkpointed (https://sqlite.org/uri.html).  So: without a
    ``-wal`` — no program has the study open (WAL mode deletes it when the last connection
    closes: https://sqlite.org/wal.html) — ``immutable=1`` reads the file itself; with one,
    the file and its ``-wal`` are copied into a private temporary folder (0700) and the copy
    is read there (SQLite recovers the copied ``-wal``; a frame being written meanwhile
    fails its checksum and is left out), then the folder is removed.  A copy taken while
    another program checkpoints may be torn: the read then fails (the caller's rules
    without a study remain) or misses the newest patients.
    """
    import shutil
    import tempfile
    from urllib.parse import quote

    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return "", ""
    wal = path.with_name(path.name + "-wal")
    if not wal.exists():
        return _read(f"file:{quote(str(path.resolve()))}?immutable=1")
    with tempfile.TemporaryDirectory(prefix="cobbdesk-") as folder:
        copy = Path(folder) / "study"
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, copy.with_name("study-wal"))
        return _read(f"file:{quote(str(copy))}?mode=rw")


def _read(uri: str) -> tuple[str, str]:
    """The identifiers through ``uri`` (:func:`~cobbdesk.core.store.overview.patient_identifiers`:
    the one query, names first)."""
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from cobbdesk.core.store.overview import patient_identifiers

    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True),
                           poolclass=NullPool)  # fmt: skip
    try:
        return patient_identifiers(_Engine(engine))  # type: ignore[arg-type]
    finally:
        engine.dispose()


class _Engine:
    """What :func:`patient_identifiers` uses of a study: its engine."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine


def film_identifiers(path: Path) -> tuple[str, str]:
    """(name, other identifiers one a line) from the header of the DICOM file ``path``
    (:data:`FILM_TAGS`); ``("", "")`` for a file that is not DICOM (no ``DICM`` at byte
    128, PS3.10 7.1)."""
    with path.open("rb") as handle:
        head = handle.read(DICOM_PREFIX_AT + 4)
    if head[DICOM_PREFIX_AT:] != b"DICM":
        return "", ""
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(FILM_TAGS))
    return _joined(*(ds.get(tag) for tag in FILM_TAGS))


def learn_film(film: Any) -> None:
    """Hand the identifiers of a read film's header (``patient_name``, ``patient_id``,
    ``patient_birth_date`` of a :class:`~cobbdesk.core.dicom.film.Film`) to redaction."""
    from cobbdesk.core import redact

    names, values = _joined(film.patient_name, film.patient_id, film.patient_birth_date)
    redact.remember_later(names, values)


def _joined(name: Any, *others: Any) -> tuple[str, str]:
    """A name and other values (each value of a multi-valued element) one a line."""
    values: list[str] = []
    for value in others:
        if value is None:
            continue
        many = isinstance(value, Sequence) and not isinstance(value, str)
        values.extend(str(v) for v in (value if many else [value]))
    clean = (v.replace("\n", " ").strip() for v in values)
    return str(name or "").replace("\n", " ").strip(), "\n".join(v for v in clean if v)
