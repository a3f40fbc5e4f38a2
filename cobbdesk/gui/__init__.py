"""Thin PySide6 views over :mod:`cobbdesk.core`."""
