"""Specific Character Set (0008,0005) through the whole import path: scan → store → export.

Fixture values are built byte by byte from Python's own codecs and the escape sequences of
PS3.5 §6.1.2.5 / Annexes H, I, J (never with pydicom's encoder), and the expected text is
the Python string they were made from.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from openpyxl import load_workbook
from pydicom.charset import convert_encodings, decode_bytes, python_encoding
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.uid import generate_uid

from cobbdesk.core.dicom.person_name import name_groups, normalise_person_name
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.dicom.text import clean_decoded
from cobbdesk.core.export.writers import export_study
from cobbdesk.core.importing.importer import guess_region, import_paths
from cobbdesk.core.importing.scan import HeaderInfo, read_header
from cobbdesk.core.store import Region, Study
from tests.conftest import make_dataset

ESC = "\x1b"
JIS_X_0208 = ESC + "$B"  # ISO 2022 IR 87 into G0 (PS3.5 Table 6.1-2)
ASCII_G0 = ESC + "(B"  # back to ISO 646 (ISO 2022 IR 6) in G0
ROMAJI_G0 = ESC + "(J"  # JIS X 0201 Romaji (ISO 2022 IR 13) in G0
KS_X_1001 = ESC + "$)C"  # ISO 2022 IR 149 into G1
GB_2312 = ESC + "$)A"  # ISO 2022 IR 58 into G1
CYRILLIC_G1 = ESC + "-L"  # ISO 2022 IR 144 into G1
LATIN1_G1 = ESC + "-A"  # ISO 2022 IR 100 into G1


def _jis(text: str, back: str = ASCII_G0) -> bytes:
    """JIS X 0208 text as ISO 2022 IR 87 bytes (escape in, 7-bit codes, escape out)."""
    body = text.encode("iso2022_jp")  # Python emits ESC $ B … ESC ( B
    assert body.startswith(JIS_X_0208.encode()) and body.endswith(ASCII_G0.encode())
    return body[: -len(ASCII_G0)] + back.encode()


def _g1(escape: str, text: str, codec: str) -> bytes:
    """Text in a G1 set designated by ``escape``; its bytes have the high bit set."""
    return escape.encode() + text.encode(codec)


# (id, Specific Character Set, PN bytes, PN text, Series Description bytes, its text)
CASES: list[tuple[str, list[str], bytes, str, bytes, str]] = [
    (
        "ir87-three-groups",  # PS3.5 H.3.1
        ["", "ISO 2022 IR 87"],
        b"Yamada^Tarou=" + _jis("山田") + b"^" + _jis("太郎") + b"=" + _jis("やまだ") + b"^"
        + _jis("たろう"),
        "Yamada^Tarou=山田^太郎=やまだ^たろう",
        _jis("腰椎側面"),
        "腰椎側面",
    ),
    (
        "ir13-ir87-multiple-sets",  # PS3.5 H.3.2: half-width katakana in G1, kanji via escapes
        ["ISO 2022 IR 13", "ISO 2022 IR 87"],
        "ﾔﾏﾀﾞ^ﾀﾛｳ".encode("shift_jis") + b"=" + _jis("山田", ROMAJI_G0) + b"^"
        + _jis("太郎", ROMAJI_G0) + b"=" + _jis("やまだ", ROMAJI_G0) + b"^"
        + _jis("たろう", ROMAJI_G0),
        "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
        "ﾖｳﾂｲ".encode("shift_jis"),
        "ﾖｳﾂｲ",
    ),
    (
        "ir149-korean",  # PS3.5 I.2
        ["", "ISO 2022 IR 149"],
        b"Hong^Gildong=" + _g1(KS_X_1001, "洪", "euc_kr") + b"^" + _g1(KS_X_1001, "吉洞", "euc_kr")
        + b"=" + _g1(KS_X_1001, "홍", "euc_kr") + b"^" + _g1(KS_X_1001, "길동", "euc_kr"),
        "Hong^Gildong=洪^吉洞=홍^길동",
        _g1(KS_X_1001, "요추 측면", "euc_kr"),
        "요추 측면",
    ),
    (
        "ir58-chinese",  # PS3.5 J.3
        ["", "ISO 2022 IR 58"],
        b"Zhang^XiaoDong=" + _g1(GB_2312, "张", "gb2312") + b"^" + _g1(GB_2312, "小东", "gb2312")
        + b"=",
        "Zhang^XiaoDong=张^小东",
        _g1(GB_2312, "腰椎侧位", "gb2312"),
        "腰椎侧位",
    ),
    (
        "utf8-two-groups",  # PS3.5 J.1
        ["ISO_IR 192"],
        "Wang^XiaoDong=王^小東".encode(),
        "Wang^XiaoDong=王^小東",
        "Lendenwirbelsäule seitlich".encode(),
        "Lendenwirbelsäule seitlich",
    ),
    (
        "latin1-one-group",
        ["ISO_IR 100"],
        "Buc^Jérôme".encode("latin-1"),
        "Buc^Jérôme",
        "Colonne lombaire, profil à gauche".encode("latin-1"),
        "Colonne lombaire, profil à gauche",
    ),
    (
        "cyrillic-one-group",
        ["ISO_IR 144"],
        "Люкceмбypг^Иван".encode("iso8859_5"),
        "Люкceмбypг^Иван",
        "Поясничный отдел, боковая".encode("iso8859_5"),
        "Поясничный отдел, боковая",
    ),
    (
        "latin1-and-cyrillic-in-one-value",
        ["ISO 2022 IR 100", "ISO 2022 IR 144"],
        "Müller^Jürgen".encode("latin-1") + b"=" + _g1(CYRILLIC_G1, "Мюллер", "iso8859_5")
        + b"^" + _g1(CYRILLIC_G1, "Юрген", "iso8859_5"),
        "Müller^Jürgen=Мюллер^Юрген",
        _g1(LATIN1_G1, "Lendenwirbelsäule ", "latin-1")
        + _g1(CYRILLIC_G1, "поясница", "iso8859_5"),
        "Lendenwirbelsäule поясница",
    ),
]  # fmt: skip


def _raw(tag: int, vr: str, value: bytes) -> RawDataElement:
    value += b" " * (len(value) % 2)  # even length, padded with a space (PS3.5 §6.2)
    return RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)


def write_film(
    folder: Path,
    name: str,
    charset: list[str],
    patient_name: bytes,
    *,
    series: bytes = b"",
    study_description: bytes = b"",
    institution: bytes = b"",
    patient_id: str | None = None,
) -> Path:
    """A small film whose text values are written exactly as given (no re-encoding)."""
    ds = make_dataset(np.zeros((8, 8), np.uint16), SpecificCharacterSet=charset)
    ds.PatientID = patient_id or name
    ds.BodyPartExamined = "SPINE"  # names no region: the descriptions have to decide it
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds[Tag(0x00100010)] = _raw(0x00100010, "PN", patient_name)
    for tag, value in ((0x0008103E, series), (0x00081030, study_description)):
        if value:
            ds[Tag(tag)] = _raw(tag, "LO", value)
    if institution:
        ds[Tag(0x00080080)] = _raw(0x00080080, "LO", institution)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def study(tmp_path: Path) -> Study:
    s = Study.create(tmp_path / "study.cobbdesk", actor="tester")
    yield s  # type: ignore[misc]
    s.close()


# --- the decoding rule ----------------------------------------------------------------------
def test_plain_ascii_decodes_the_same_under_every_character_set() -> None:
    """The scan's fast path (ASCII without ESC read as ASCII) agrees with pydicom for every
    Specific Character Set term pydicom knows."""
    text = bytes(range(0x20, 0x7F)) + b"\t\r\n\x0c"
    terms = [term for term in python_encoding if term]
    assert len(terms) > 30
    for term in terms:
        assert decode_bytes(text, convert_encodings([term]), set()) == text.decode("ascii"), term


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_scan_decodes_names_and_descriptions(
    tmp_path: Path, case: tuple[str, list[str], bytes, str, bytes, str]
) -> None:
    key, charset, pn, pn_text, series, series_text = case
    path = write_film(tmp_path, key, charset, pn, series=series, study_description=series)
    info = read_header(path)
    assert isinstance(info, HeaderInfo)
    assert normalise_person_name(info.patient_name) == pn_text
    assert ESC not in info.patient_name
    assert (info.series_description, info.study_description) == (series_text, series_text)
    whole = pydicom.dcmread(path)  # the same decoding when the whole file is read
    assert info.patient_name == clean_decoded(str(whole.PatientName))


@pytest.mark.parametrize(
    ("pn", "groups"),
    [
        ("Doe^Jane", ("Doe^Jane", "", "")),
        ("Yamada^Tarou=山田^太郎", ("Yamada^Tarou", "山田^太郎", "")),
        ("=山田^太郎", ("", "山田^太郎", "")),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", ("Yamada^Tarou", "山田^太郎", "やまだ^たろう")),
        ("Yamada^Tarou==やまだ^たろう", ("Yamada^Tarou", "", "やまだ^たろう")),
    ],
)
def test_person_names_with_one_two_three_groups_are_stored_whole(
    study: Study, tmp_path: Path, pn: str, groups: tuple[str, str, str]
) -> None:
    write_film(tmp_path / "in", "a", ["", "ISO 2022 IR 87"], _pn_bytes(pn), patient_id="MRN-1")
    report = import_paths(study, [tmp_path / "in"])
    assert report.ok and len(report.imported) == 1
    (patient,) = study.patients()
    assert patient.name == pn
    split = name_groups(patient.name)
    assert (split.alphabetic, split.ideographic, split.phonetic) == groups


def _pn_bytes(pn: str) -> bytes:
    """A PN string as ISO 2022 IR 87 bytes: ASCII stays, each other run gets escapes."""
    out = b""
    for char in pn:
        out += char.encode() if char.isascii() else _jis(char)
    return out


def test_study_description_decides_the_region_when_the_others_do_not(tmp_path: Path) -> None:
    description = "Lendenwirbelsäule".encode("latin-1")
    lumbar = write_film(tmp_path, "a", ["ISO_IR 100"], b"X", study_description=description)
    info = read_header(lumbar)
    assert isinstance(info, HeaderInfo) and info.series_description == ""
    assert info.study_description == "Lendenwirbelsäule"
    region = guess_region(
        info.body_part, info.series_description, info.view_position, info.study_description
    )
    assert region is Region.LUMBAR


# --- the field case, end to end ---------------------------------------------------------------
FIELD_CASE = "charset_iso2022_ir87_name.dcm"
EXPORTS = ("wide", "long", "xlsx", "sav")


def test_field_case_is_imported_stored_and_exported_decoded(
    study: Study, tmp_path: Path, shared_data: Path
) -> None:
    path = shared_data / "field-cases" / FIELD_CASE
    expected = read_film(path).patient_name  # what the film reader shows for this film
    assert expected == "Sato^Hanako=佐藤^花子=さとう^はなこ"  # the README's three groups
    report = import_paths(study, [path])
    assert report.ok and len(report.imported) == 1
    (patient,) = study.patients()
    assert patient.name == expected
    groups = name_groups(patient.name)
    assert (groups.alphabetic, groups.ideographic, groups.phonetic) == (
        "Sato^Hanako", "佐藤^花子", "さとう^はなこ",
    )  # fmt: skip
    assert _exported_names(study, tmp_path) == dict.fromkeys(EXPORTS, expected)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_charset_reaches_the_identified_export(
    study: Study, tmp_path: Path, case: tuple[str, list[str], bytes, str, bytes, str]
) -> None:
    key, charset, pn, pn_text, *_ = case
    write_film(tmp_path / "in", key, charset, pn)
    assert import_paths(study, [tmp_path / "in"]).ok
    assert _exported_names(study, tmp_path) == dict.fromkeys(EXPORTS, pn_text)


def _exported_names(study: Study, folder: Path) -> dict[str, str]:
    """The ``name`` cell of the identified export in each format (one patient)."""
    out: dict[str, str] = {}
    readers: dict[str, Callable[[Path], list[str]]] = {
        "wide": _csv_names, "long": _csv_names, "xlsx": _xlsx_names, "sav": _sav_names,
    }  # fmt: skip
    for fmt, reader in readers.items():
        target = folder / f"export-{fmt}.{'csv' if fmt in ('wide', 'long') else fmt}"
        export_study(study, fmt, target, identified=True)  # type: ignore[arg-type]
        names = set(reader(target))
        assert len(names) == 1, (fmt, names)
        out[fmt] = names.pop()
    return out


def _csv_names(path: Path) -> list[str]:
    raw = path.read_bytes()
    assert ESC.encode() not in raw
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.reader(handle) if r and not r[0].startswith("#")]
    column = rows[0].index("name")
    return [r[column] for r in rows[1:]]


def _xlsx_names(path: Path) -> list[str]:
    sheet = load_workbook(path, read_only=True)["wide"]
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index("name")
    return [str(r[column]) for r in rows[1:]]


def _sav_names(path: Path) -> list[str]:
    import pyreadstat

    frame, _meta = pyreadstat.read_sav(str(path))
    assert isinstance(frame, pd.DataFrame)
    return [str(v) for v in frame["name"]]


@pytest.mark.parametrize(
    ("charset", "raw", "expected"),
    [
        (["ISO_IR 192"], "Müller^Jürgen".encode("latin-1"), "M\ufffdller^J\ufffdrgen"),
        (["ISO_IR 999"], "Müller^Jürgen".encode("latin-1"), "Müller^Jürgen"),  # unknown: default
    ],
)
def test_undecodable_or_unknown_character_sets_never_stop_an_import(
    study: Study, tmp_path: Path, charset: list[str], raw: bytes, expected: str
) -> None:
    """pydicom's fallbacks: replacement characters for bytes the declared set lacks; the
    default repertoire (read as ISO 8859-1 by pydicom) for a term it does not know."""
    write_film(tmp_path / "in", "a", charset, raw, patient_id="MRN-1")
    report = import_paths(study, [tmp_path / "in"])
    assert report.ok and len(report.imported) == 1
    assert study.patients()[0].name == expected
