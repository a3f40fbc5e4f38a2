"""The one table naming the element(s) each spacing came from (relink.SPACING_ELEMENTS), used by
relinking's refusals and by verify's file check: every name and tag as in the DICOM data
dictionary (PS3.6, here pydicom's copy of it: an independent reference)."""

from __future__ import annotations

import re
from pathlib import Path

from pydicom.datadict import dictionary_description

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.importing.film_shapes import file_shape
from cobbdesk.core.importing.header_fields import HeaderInfo
from cobbdesk.core.importing.relink import SPACING_ELEMENTS, spacing_element

NAMED = re.compile(r"([A-Za-z ]+?) \(([0-9A-F]{4}),([0-9A-F]{4})\)")


def test_every_spacing_source_is_named_by_its_data_dictionary_elements() -> None:
    from_file = {s.value for s in SpacingSource} - {SpacingSource.NONE.value,
                                                   SpacingSource.USER.value}  # fmt: skip
    assert set(SPACING_ELEMENTS) == from_file
    for text in SPACING_ELEMENTS.values():
        parts = [p.strip() for p in text.split(" / ")]
        for part in parts:
            name, group, element = NAMED.fullmatch(part).groups()  # type: ignore[union-attr]
            assert name == dictionary_description(int(group + element, 16)), part


def test_the_magnification_factor_is_named_in_full() -> None:
    ermf = spacing_element(SpacingSource.IMAGER_ERMF.value)
    assert ermf == ("Imager Pixel Spacing (0018,1164) / Estimated Radiographic Magnification "
                    "Factor (0018,1114)")  # fmt: skip
    assert dictionary_description(0x00181114) == "Estimated Radiographic Magnification Factor"
    assert spacing_element("something else") == "something else"


def test_verify_names_the_elements_of_the_table() -> None:
    header = HeaderInfo(Path("a.dcm"), "1.2.3", "P1", spacing_mm=(0.16, 0.08),
                        spacing_source=SpacingSource.IMAGER_ERMF.value)  # fmt: skip
    ratio, how = file_shape(header)
    assert ratio == 2.0  # 0.16 / 0.08
    assert how == ("Imager Pixel Spacing (0018,1164) / Estimated Radiographic Magnification "
                   "Factor (0018,1114) 0.16 × 0.08 mm")  # fmt: skip
