"""``python -m consentware.receipts``: the ``consentware receipts`` command on its own."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
