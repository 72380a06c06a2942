"""The errors of consentware.receipts, in one place.

``ReceiptError`` is the root, so ``except ReceiptError`` catches every failure this package
names. ``InvalidReceipt`` is also a ``ValueError`` (a receipt or its dictionary breaks the
schema); ``StoreUnavailable`` means a store's database could not be read or written when a
caller asked for an answer (``find``, ``export``, ``prune``). ``submit`` raises neither: it
never raises at all.

Example::

    try:
        receipts.find(consent_id)
    except StoreUnavailable as error:
        print(f"the receipts database did not answer: {error}")
"""

from __future__ import annotations

__all__ = ["InvalidReceipt", "ReceiptError", "StoreUnavailable"]


class ReceiptError(Exception):
    """The root of every error consentware.receipts raises."""


class InvalidReceipt(ReceiptError, ValueError):  # noqa: N818 (reads as "invalid receipt")
    """A receipt, or the dictionary it was read from, breaks the schema; the message names
    the field."""


class StoreUnavailable(ReceiptError):  # noqa: N818 (a state, like ``ConnectionRefused``)
    """The store's database did not answer a read or a delete; the cause is chained."""
