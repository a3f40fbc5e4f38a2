"""The one reader of an SR's content tree (cobbdesk.core.sr.content): coded concepts and child
items read without raising on a damaged item, and no other SR module keeps its own copy
(review: sr/pixels.py's ``_code`` was a verbatim copy of sr/reader.py's)."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import cobbdesk.core.sr as sr_package
from cobbdesk.core.sr.content import children, code_of, walk


def _coded(value: str, scheme: str) -> Dataset:
    item = Dataset()
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = value, scheme
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = Sequence([code])
    return item


def test_code_of_reads_the_first_code_and_nothing_from_a_damaged_item() -> None:
    assert code_of(_coded("285285000", "SCT")) == ("285285000", "SCT")
    empty = Dataset()
    empty.ConceptNameCodeSequence = Sequence([])
    assert code_of(empty) == ("", "") == code_of(Dataset())


def test_children_and_walk_skip_what_is_no_item() -> None:
    leaf, root = _coded("1", "DCM"), Dataset()
    middle = _coded("2", "DCM")
    middle.ContentSequence = Sequence([leaf])
    root.ContentSequence = Sequence([middle])
    assert [code_of(i) for i in walk(root)] == [("2", "DCM"), ("1", "DCM")]
    assert children(Dataset()) == [] and children(leaf) == []


def test_no_other_sr_module_reads_coded_concepts_itself() -> None:
    folder = Path(sr_package.__file__).parent
    readers = sorted(p.name for p in folder.glob("*.py")
                     if '"CodingSchemeDesignator"' in p.read_text(encoding="utf-8"))  # fmt: skip
    assert readers == ["content.py"]
    lengths = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert max(lengths.values()) < 400, lengths
