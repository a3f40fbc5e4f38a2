"""Person names (VR PN) as text: component groups and components (DICOM PS3.5 §6.2.1).

A decoded PN value such as ``Yamada^Tarou=山田^太郎=やまだ^たろう`` holds up to three
*component groups* separated by ``=`` — alphabetic, ideographic and phonetic, in that order
(PS3.5 §6.2.1.2) — and each group up to five *components* separated by ``^``: family name,
given name, middle name, prefix, suffix (PS3.5 §6.2.1.1).  Empty trailing components and
groups may be left out; empty leading ones may not (``=山田^太郎`` has an empty alphabetic
group).  Decoding bytes to text (Specific Character Set (0008,0005), ISO 2022 escape
sequences) is pydicom's job; this module works on the decoded text only.

The study keeps an imported patient's name as the normalised decoded PN string
(:func:`normalise_person_name`); :func:`name_groups` splits it again.  Names typed by a user
that contain no ``=`` are simply an alphabetic group.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_SEPARATOR = "="
COMPONENT_SEPARATOR = "^"
#: Component group names, in the order of PS3.5 §6.2.1.2.
GROUPS = ("alphabetic", "ideographic", "phonetic")
#: Component names, in the order of PS3.5 §6.2.1.1.
COMPONENTS = ("family", "given", "middle", "prefix", "suffix")


@dataclass(frozen=True)
class NameGroups:
    """The three component groups of a person name ("" for a group that is absent)."""

    alphabetic: str = ""
    ideographic: str = ""
    phonetic: str = ""

    def components(self, group: str = "alphabetic") -> tuple[str, str, str, str, str]:
        """(family, given, middle, prefix, suffix) of one group (PS3.5 §6.2.1.1).

        Raises ValueError for a group name not in :data:`GROUPS`.

        >>> NameGroups("Yamada^Tarou", "山田^太郎").components("ideographic")
        ('山田', '太郎', '', '', '')
        """
        if group not in GROUPS:
            raise ValueError(f"unknown component group {group!r}; use one of {GROUPS}")
        parts = [p.strip() for p in str(getattr(self, group)).split(COMPONENT_SEPARATOR)]
        parts = (parts + [""] * len(COMPONENTS))[: len(COMPONENTS)]
        return parts[0], parts[1], parts[2], parts[3], parts[4]


def name_groups(text: str | None) -> NameGroups:
    """Split a decoded PN value (or a name typed by a user) into its component groups.

    Groups beyond the third are not defined by PS3.5 and are joined to the phonetic group
    unchanged, so no character is lost.

    >>> name_groups("Yamada^Tarou=山田^太郎=やまだ^たろう")
    NameGroups(alphabetic='Yamada^Tarou', ideographic='山田^太郎', phonetic='やまだ^たろう')
    >>> name_groups("=김^희중")
    NameGroups(alphabetic='', ideographic='김^희중', phonetic='')
    >>> name_groups(None)
    NameGroups(alphabetic='', ideographic='', phonetic='')
    """
    parts = (text or "").split(GROUP_SEPARATOR, 2)
    parts += [""] * (3 - len(parts))
    return NameGroups(parts[0].strip(), parts[1].strip(), parts[2].strip())


def normalise_person_name(text: str | None) -> str:
    """The PN value with padding, empty trailing components and empty trailing groups removed.

    Leading empty groups stay (their position says which group follows).  Returns "" for an
    empty name.

    >>> normalise_person_name("Doe^Jane^^^ ")
    'Doe^Jane'
    >>> normalise_person_name("=山田^太郎^^=")
    '=山田^太郎'
    >>> normalise_person_name(" ^ = ")
    ''
    """
    groups = [
        COMPONENT_SEPARATOR.join(p.strip() for p in group.split(COMPONENT_SEPARATOR)).rstrip(
            COMPONENT_SEPARATOR
        )
        for group in (text or "").strip(" \x00").split(GROUP_SEPARATOR)
    ]
    while groups and not groups[-1]:
        groups.pop()
    return GROUP_SEPARATOR.join(groups)
