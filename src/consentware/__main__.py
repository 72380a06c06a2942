"""``python -m consentware``: the ``consentware`` command (see :mod:`consentware.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
