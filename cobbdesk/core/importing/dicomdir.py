"""The files a DICOMDIR references, kept inside its file-set (PS3.10 §8.2–8.4, PS3.3 F.3).

Rules (:func:`dicomdir_references`):

* A record's Referenced File ID (0004,1500) lists the path components of a file relative to
  the file-set's root folder — the folder that holds the DICOMDIR (PS3.10 §8.4, PS3.3
  F.3.2.2).  Components are matched case-insensitively when not found as written (CDs
  mounted on POSIX often show lower-case names), and when the last one is not found, the
  same name with a ``.dcm`` suffix is tried (writers that add the suffix on disk but not in
  the record: ``IMAGES\\IM0001`` → ``images/im0001.DCM``).
* A reference that would leave the file-set's folder is *refused*, never opened: an absolute
  path or drive (``/etc/x``, ``C:\\x``), a ``..`` component, or a path that resolves outside
  the folder once symbolic links are followed.  Components written with ``/`` instead of
  the standard ``\\`` are split as well, so they are checked the same way.
* Records without a Referenced File ID (patient, study, series records) are not files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import pydicom

#: Values larger than this are skipped over, never read, while parsing the DICOMDIR.
DEFER_SIZE = 4096
ALTERNATE_SUFFIX = ".dcm"
_SEPARATORS = re.compile(r"[\\/]")


@dataclass(frozen=True)
class Reference:
    """One record's file: ``path`` when usable, else ``problem`` says why it is refused."""

    record: str  # "record 7 (IMAGE)": 1-based position in the Directory Record Sequence
    file_id: str  # the Referenced File ID as written, components joined with "\"
    path: Path | None
    problem: str = ""

    @property
    def shown_id(self) -> str:
        r"""The file ID for a one-line message: quoted, control characters as ``\xNN``.

        >>> print(Reference("record 1 (IMAGE)", "IMAGES\\IM\n1", None).shown_id)
        'IMAGES\IM\x0a1'
        """
        printable = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in self.file_id)
        return f"'{printable}'"


def dicomdir_references(dicomdir: Path) -> list[Reference]:
    """Every record's file (see the module rules), in record order.

    Raises whatever pydicom raises for a DICOMDIR that cannot be parsed (the caller reports
    it); a bad *record* never raises, it becomes a refused :class:`Reference`.
    """
    ds = pydicom.dcmread(dicomdir, defer_size=DEFER_SIZE, force=True)
    root = dicomdir.parent
    found: list[Reference] = []
    for number, record in enumerate(ds.get("DirectoryRecordSequence", []), start=1):
        ref = record.get("ReferencedFileID")
        if not ref:
            continue
        parts = [ref] if isinstance(ref, str) else [str(p) for p in ref]
        kind = str(record.get("DirectoryRecordType", "")).strip() or "unknown type"
        label, file_id = f"record {number} ({kind})", "\\".join(parts)
        try:
            path = resolve_reference(root, parts)
        except ValueError as exc:
            found.append(Reference(label, file_id, None, str(exc)))
        except OSError as exc:  # permission denied, I/O error while matching names
            found.append(Reference(label, file_id, None, f"cannot be checked: {exc.strerror}"))
        else:
            found.append(Reference(label, file_id, path))
    return found


def resolve_reference(root: Path, parts: list[str]) -> Path:
    """The file a Referenced File ID names under ``root`` (it may not exist).

    Raises ValueError, saying why, when the reference leaves ``root`` or cannot name a file;
    OSError when a folder on the way cannot be listed.
    """
    components: list[str] = []
    if len(parts) > 1 and not parts[0].strip():
        raise ValueError("is an absolute path")  # "\\x\\y" read as the values "", "x", "y"
    for part in parts:
        if PurePosixPath(part).is_absolute() or PureWindowsPath(part).anchor:
            raise ValueError("is an absolute path")
        components += [c for c in _SEPARATORS.split(part.strip()) if c not in ("", ".")]
    if any(ord(c) < 0x20 for part in components for c in part):
        raise ValueError("holds a control character")
    if ".." in components:
        raise ValueError("climbs out of the file-set's folder with '..'")
    if not components:
        raise ValueError("names no file")
    target = _match_case(root, components)
    try:
        inside = target.resolve().is_relative_to(root.resolve())
    except RuntimeError:  # Python 3.11 raises it for a symbolic-link loop
        raise ValueError("is a symbolic-link loop") from None
    if not inside:
        raise ValueError("leads outside the file-set's folder through a symbolic link")
    return target


def _match_case(root: Path, components: list[str]) -> Path:
    """``root/components…``, each matched case-insensitively when not found as written; the
    last one also as ``<name>.dcm`` (any case)."""
    current = root
    for index, part in enumerate(components):
        names = [part]
        if index == len(components) - 1 and not part.lower().endswith(ALTERNATE_SUFFIX):
            names.append(part + ALTERNATE_SUFFIX)
        current = _child(current, names)
    return current


def _child(folder: Path, names: list[str]) -> Path:
    """The first of ``names`` present in ``folder`` (exact, then any case); else the first."""
    for name in names:
        if (folder / name).exists() or (folder / name).is_symlink():
            return folder / name
    if folder.is_dir():  # listed only when needed: a file-set folder may hold thousands
        entries = sorted(folder.iterdir())
        for name in names:
            match = next((e for e in entries if e.name.upper() == name.upper()), None)
            if match is not None:
                return match
    return folder / names[0]
