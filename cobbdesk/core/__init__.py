"""Qt-free core: DICOM reading and display, geometry, model, commands, store, export, statistics.

Nothing in this package may import PySide6 (enforced by import-linter and a subprocess test).
"""
