"""Reading an SR's content tree (PS3.3 C.17.3): the coded concept of an item and the items
under it, without raising on a damaged file — an absent or empty sequence, or one of the
wrong type, reads as none."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pydicom.dataset import Dataset


def code_of(item: Dataset, keyword: str = "ConceptNameCodeSequence") -> tuple[str, str]:
    """(Code Value, Coding Scheme Designator) of the first item of the code sequence
    ``keyword`` (Concept Name (0040,A043) by default, Concept Code (0040,A168)…); ("", "")
    when it is absent, empty or not a sequence of items."""
    seq = item.get(keyword)
    if not isinstance(seq, Sequence) or not seq or not isinstance(seq[0], Dataset):
        return ("", "")
    return (str(seq[0].get("CodeValue", "")), str(seq[0].get("CodingSchemeDesignator", "")))


def children(item: Dataset) -> list[Dataset]:
    """The content items of ``item``'s Content Sequence (0040,A730); [] when it has none."""
    seq = item.get("ContentSequence")
    if not isinstance(seq, Sequence) or isinstance(seq, (str, bytes)):
        return []
    return [child for child in seq if isinstance(child, Dataset)]


def walk(item: Dataset) -> Iterator[Dataset]:
    """Every content item under ``item``, depth first."""
    for child in children(item):
        yield child
        yield from walk(child)


__all__ = ["children", "code_of", "walk"]
