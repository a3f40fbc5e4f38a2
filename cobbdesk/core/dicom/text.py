"""Text attribute values decoded with the Specific Character Set (0008,0005) (PS3.5 §6.1).

pydicom does the decoding (``Dataset`` value conversion, :func:`pydicom.charset.decode_bytes`),
ISO 2022 code extensions included.  One defect of pydicom 3.0 is repaired here: it decodes
ISO 2022 IR 58 (GB 2312, Chinese) with Python's ``gb2312`` codec expecting that codec to
remove the escape sequence ``ESC $ ) A`` that designates GB 2312 to G1 (PS3.5 Table
6.1-2; example in PS3.5 Annex J.3), but that codec keeps it, so the decoded text holds the
four characters ``\\x1b$)A`` before every Chinese run.  Those four characters are never
text — ESC only introduces code extensions — so they are removed from the decoded value.
"""

from __future__ import annotations

from typing import Any

#: ISO 2022 IR 58 designated to G1 (PS3.5 Table 6.1-2): ``ESC 02/04 02/09 04/01``.
IR58_ESCAPE = "\x1b$)A"


def clean_decoded(text: str) -> str:
    """``text`` as decoded by pydicom without the escape sequences pydicom 3.0 leaves in it.

    >>> clean_decoded("Zhang^XiaoDong=\\x1b$)A张^\\x1b$)A小东")
    'Zhang^XiaoDong=张^小东'
    """
    return text.replace(IR58_ESCAPE, "") if "\x1b" in text else text


def element_text(ds: Any, keyword: str) -> str:
    """The value of text attribute ``keyword`` of pydicom dataset ``ds``, decoded; "" when
    absent or empty.  Person names keep their component groups (``Family^Given=…``).

    Raises what pydicom raises for a value it cannot convert (a malformed value).
    """
    value = ds.get(keyword, "")
    return "" if value is None else clean_decoded(str(value)).strip()
