"""CobbDesk: signed lordotic Cobb angles on lateral cervical and lumbar spine radiographs.

Public Python API (stable, documented in README)::

    import cobbdesk
    film = cobbdesk.read_film("lateral.dcm")
    angle = cobbdesk.cobb_angle(upper, lower, spacing=film.spacing_mm)

Importing :mod:`cobbdesk` never imports Qt; heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["CobbdeskError", "__version__", "cobb_angle", "read_film", "render_film"]

_LAZY = {
    "read_film": ("cobbdesk.core.dicom.reader", "read_film"),
    "render_film": ("cobbdesk.core.dicom.display", "render_film"),
    "cobb_angle": ("cobbdesk.core.measure.geometry", "cobb_angle"),
    "CobbdeskError": ("cobbdesk.core.errors", "CobbdeskError"),
}

if TYPE_CHECKING:
    from cobbdesk.core.dicom.display import render_film
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError
    from cobbdesk.core.measure.geometry import cobb_angle


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        module, attr = _LAZY[name]
        value = getattr(import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cobbdesk' has no attribute {name!r}")
