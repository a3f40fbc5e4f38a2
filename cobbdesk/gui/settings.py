"""Application settings (QSettings in an INI file under the user config dir, overridable)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

SETTINGS_VERSION = 1
MAX_RECENT = 10


def settings_path() -> Path:
    """``$COBBDESK_CONFIG_DIR/cobbdesk.ini`` or the platform's user config directory."""
    base = os.environ.get("COBBDESK_CONFIG_DIR") or platformdirs.user_config_dir("cobbdesk")
    return Path(base) / "cobbdesk.ini"


def settings() -> QSettings:
    store = QSettings(str(settings_path()), QSettings.Format.IniFormat)
    if int(store.value("settings_version", 0)) < SETTINGS_VERSION:
        store.setValue("settings_version", SETTINGS_VERSION)
    return store


def recent_files() -> list[str]:
    value = settings().value("recent_files", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [str(v) for v in items if v]


def add_recent(paths: list[Path]) -> list[str]:
    recent = [str(p) for p in paths] + [r for r in recent_files() if r not in map(str, paths)]
    settings().setValue("recent_files", recent[:MAX_RECENT])
    return recent[:MAX_RECENT]


def recent_studies() -> list[str]:
    value = settings().value("recent_studies", [])
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if v]


def add_recent_study(path: Path) -> list[str]:
    recent = [str(path), *(r for r in recent_studies() if r != str(path))][:MAX_RECENT]
    settings().setValue("recent_studies", recent)
    return recent
