"""``python -m cobbdesk`` is the ``cobbdesk`` command."""

import sys

from cobbdesk.cli import main

sys.exit(main())
