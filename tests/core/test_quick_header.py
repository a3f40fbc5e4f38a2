"""The header scan's fast path (core/importing/quick_header.py) gives what pydicom's reader gives.

Every comparison reads the same bytes twice: through :func:`scan.read_header` as it runs (fast
path when it applies) and with the fast path switched off (pydicom's ``read_partial`` as before);
the two outcomes — HeaderInfo with every field, or the skip/error and its message — must be equal.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any

import pydicom
import pydicom.data
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from cobbdesk.core.dicom.fuzz import MUTATIONS, mutate
from cobbdesk.core.importing import quick_header, scan
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine
from tests.conftest import SHARED_DATA


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """(outcome as run, outcome through pydicom only, whether the fast path took the file)."""
    real, took = quick_header.quick_parse, []

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        took.append(found is not None)
        return found

    with monkeypatch.context() as patch:
        patch.setattr(scan, "quick_parse", spy)
        fast = scan.read_header(path)
        patch.setattr(scan, "quick_parse", lambda *_a, **_k: None)
        slow = scan.read_header(path)
    return fast, slow, any(took)


def _code(value: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99X", f"m {value}"
    return item


_SPINE = make_lateral_spine("cervical", 20.0, rows=256, columns=200, spacing_mm=(0.6, 0.6))


def _film(folder: Path, name: str = "film.dcm", *, undefined: bool = True) -> Path:
    """A lateral film with sequences (undefined lengths, nested), private groups before and
    after the image module, a Latin-1 name and Patient Orientation."""
    path = write_dicom(_SPINE, folder / name, patient_name="Müller^Zoë", body_part="CSPINE")
    ds = pydicom.dcmread(path)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Müller^Zoë"
    ds.PatientOrientation = ["A", "F"]
    ds.StudyDescription = "XR L-SPINE"
    request = Dataset()
    request.RequestedProcedureID = "RP1"
    request.ScheduledProtocolCodeSequence = Sequence([_code("A"), _code("B")])
    ds.RequestAttributesSequence = Sequence([request])
    ds.AnatomicRegionSequence = Sequence([_code("T-D1600")])
    ds.ProcedureCodeSequence = Sequence([])
    for keyword in ("RequestAttributesSequence", "AnatomicRegionSequence"):
        ds[keyword].is_undefined_length = undefined
        for item in ds[keyword].value:
            item.is_undefined_length_sequence_item = undefined
    request["ScheduledProtocolCodeSequence"].is_undefined_length = undefined
    for group, count in ((0x0009, 6), (0x0019, 10), (0x0029, 3)):
        block = ds.private_block(group, "QUICK TEST", create=True)
        for offset in range(count):
            block.add_new(offset, "LO", f"v{group:04x}-{offset}")
    ds.private_block(0x0019, "QUICK TEST").add_new(0x40, "OB", bytes(9000))  # > DEFER_SIZE
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_plain_film_takes_the_fast_path_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for undefined in (True, False):
        path = _film(tmp_path, f"film{undefined}.dcm", undefined=undefined)
        fast, slow, took = _both(path, monkeypatch)
        assert took
        assert isinstance(fast, scan.HeaderInfo)
        assert fast == slow
        assert fast.patient_name == "Müller^Zoë"  # decoded with ISO_IR 100 by pydicom
        assert fast.patient_orientation == ("A", "F")
        assert fast.spacing_mm == (0.6, 0.6)


def test_sequences_of_undefined_length_decode_to_the_same_items(tmp_path: Path) -> None:
    path = _film(tmp_path)
    head = path.read_bytes()
    ds, reached = quick_header.quick_parse(head, 0x7FE0000F, 4096, whole=True)
    assert reached
    reference = pydicom.dcmread(path, stop_before_pixels=True)
    request = ds.RequestAttributesSequence[0]
    assert [i.CodeValue for i in request.ScheduledProtocolCodeSequence] == ["A", "B"]
    assert ds.RequestAttributesSequence == reference.RequestAttributesSequence
    assert ds.AnatomicRegionSequence[0].CodeMeaning == "m T-D1600"
    assert len(ds.ProcedureCodeSequence) == 0
    assert 0x00190040 not in ds  # private elements are not kept (never read by keyword)


def _resave(path: Path, syntax: object) -> Path:
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = syntax
    out = path.with_name(f"{path.stem}-{str(syntax)[-3:]}.dcm")
    implicit, little = syntax == ImplicitVRLittleEndian, syntax != ExplicitVRBigEndian
    pydicom.dcmwrite(out, ds, implicit_vr=implicit, little_endian=little, force_encoding=True)
    return out


def test_other_encodings_are_left_to_pydicom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    film = _film(tmp_path)
    for syntax in (ImplicitVRLittleEndian, ExplicitVRBigEndian):
        fast, slow, took = _both(_resave(film, syntax), monkeypatch)
        assert not took
        assert isinstance(fast, scan.HeaderInfo)
        assert fast == slow


def _element_offset(data: bytes, tag: int) -> int:
    needle = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    return data.index(needle, 132)


def test_the_unusual_cases_are_declined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _film(tmp_path).read_bytes()
    at = _element_offset(data, 0x00100010)  # Patient Name (PN, 16-bit length)
    cases = {
        "ends inside an element": data[: at + 10],
        "unknown VR": data[: at + 4] + b"zz" + data[at + 6 :],
        "command group": data,  # replaced below
    }
    seq = _element_offset(data, 0x00082218)  # Anatomic Region Sequence, undefined length
    item = data.index(b"\xfe\xff\x00\xe0", seq)
    cases["not an item in a sequence"] = data[:item] + b"\xfe\xff\x01\xe0" + data[item + 4 :]
    meta_end = _element_offset(data, 0x00080005)
    cases["command group"] = (
        data[:meta_end] + struct.pack("<HH2sH", 0, 0x0100, b"US", 2) + b"\x01\x00" + data[meta_end:]
    )
    for name, content in cases.items():
        path = tmp_path / f"{name}.dcm"
        path.write_bytes(content)
        fast, slow, took = _both(path, monkeypatch)
        assert not took, name
        assert fast == slow, name
    head = data[: scan.HEAD_BYTES]
    # a header longer than the bytes read, and the whole file ending before the stop tag
    assert quick_header.quick_parse(head[: at + 40], 0x00280034, 4096, whole=False) is None
    cut = quick_header.quick_parse(data[:at], 0x00280034, 4096, whole=True)
    assert cut is not None and cut[1] is False  # clean end at an element boundary
    # a kept (public) element longer than the deferral size
    assert quick_header.quick_parse(head, 0x00280034, 8, whole=False) is None


def test_a_header_longer_than_the_first_read_is_walked_on_a_longer_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _film(tmp_path)
    ds = pydicom.dcmread(path)
    block = ds.private_block(0x0011, "LONG VENDOR", create=True)
    for offset in range(200):  # 200 x 200 bytes of private values before the image module
        block.add_new(offset, "LT", f"{offset:03d}" * 66)
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size > scan.HEAD_BYTES * 2
    fast, slow, took = _both(path, monkeypatch)
    assert took and isinstance(fast, scan.HeaderInfo) and fast == slow
    head = path.read_bytes()[: scan.HEAD_BYTES]
    last = int(scan.LAST_NEEDED_TAG)
    assert quick_header.quick_parse(head, last, 4096, whole=False) is None  # nothing more
    assert quick_header.quick_parse(head, last, 4096, False, more=lambda: None) is None
    truncated = (path.read_bytes()[: scan.HEAD_BYTES * 2], True)  # the file ends too early
    assert quick_header.quick_parse(head, last, 4096, False, more=lambda: truncated) is None


def test_deep_nesting_is_declined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_dicom(_SPINE, tmp_path / "deep.dcm")
    ds = pydicom.dcmread(path)
    inner = Dataset()
    inner.CodeValue = "X"
    for _ in range(quick_header.MAX_DEPTH + 2):
        outer = Dataset()
        outer.ConceptNameCodeSequence = Sequence([inner])
        outer["ConceptNameCodeSequence"].is_undefined_length = True
        inner.is_undefined_length_sequence_item = True
        inner = outer
    ds.ContentSequence = inner.ConceptNameCodeSequence
    ds["ContentSequence"].is_undefined_length = True
    ds.ContentSequence[0].is_undefined_length_sequence_item = True
    del ds.ContentSequence  # (0040,A730) lies past the stop tag: put one before it
    ds.ReferencedStudySequence = inner.ConceptNameCodeSequence
    ds["ReferencedStudySequence"].is_undefined_length = True
    ds.save_as(path, enforce_file_format=True)
    fast, slow, took = _both(path, monkeypatch)
    assert not took
    assert fast == slow


def test_mutated_films_give_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 seeded mutations (fuzz module: flipped bytes, truncations, edge values and lengths
    at tags): whatever each gives — a film, a skip or an error, and its words — is the same."""
    data = _film(tmp_path).read_bytes()
    rng = random.Random(17)
    took = 0
    for case in range(400):
        path = tmp_path / f"m{case}.dcm"
        path.write_bytes(mutate(data, rng, MUTATIONS[case % len(MUTATIONS)]))
        fast, slow, quick = _both(path, monkeypatch)
        assert fast == slow, (case, fast, slow)
        took += quick
    assert took > 100  # the fast path was exercised, not only declined


def test_real_and_malformed_files_give_the_same_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [Path(p) for p in pydicom.data.get_testdata_files()]
    if SHARED_DATA.is_dir():
        files += sorted(p for p in SHARED_DATA.rglob("*") if p.is_file())
    took = 0
    for path in files:
        fast, slow, quick = _both(path, monkeypatch)
        assert fast == slow, path
        took += quick
    assert took > 50
