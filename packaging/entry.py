"""Entry point of the frozen application (PyInstaller)."""

import multiprocessing
import sys

from cobbdesk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the crash-isolated film reader spawns workers
    sys.exit(main())
