"""The core never imports Qt: import every core module in a fresh interpreter and check."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import cobbdesk.core


def _core_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(cobbdesk.core.__path__, "cobbdesk.core.")]


def test_core_modules_are_discovered() -> None:
    names = _core_modules()
    assert "cobbdesk.core.dicom.reader" in names
    assert "cobbdesk.core.dicom.display" in names


def test_no_core_module_imports_pyside6() -> None:
    modules = ["cobbdesk", *_core_modules()]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = ('PySide6', 'shiboken6', 'cobbdesk.gui')\n"
        "bad = sorted(m for m in sys.modules if m.startswith(qt))\n"
        "print(' '.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"core pulled in: {result.stdout}"


def test_importing_cobbdesk_is_light() -> None:
    heavy = ("numpy", "pydicom", "PySide6")
    code = f"import sys, cobbdesk; print(sorted(m for m in sys.modules if m in {heavy!r}))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
