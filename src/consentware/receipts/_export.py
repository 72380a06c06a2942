"""Receipts written out for a data-subject request or an audit: JSON lines or CSV.

JSON lines are exact (each line is :meth:`Receipt.to_json` and reads back with
:meth:`Receipt.from_json`); CSV is for spreadsheets: one column per field in
:data:`FIELD_NAMES` order, categories separated by spaces, booleans ``true``/``false``, an
empty cell for None.

Example::

    with open("receipts.csv", "w", newline="") as out:
        count = write_csv(store.export(since=start), out)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from ._receipt import FIELD_NAMES, Receipt

__all__ = ["FORMATS", "write_csv", "write_jsonl", "write_receipts"]

FORMATS = ("csv", "jsonl")


def write_jsonl(receipts: Iterable[Receipt], out: TextIO) -> int:
    """One JSON object per line; returns how many receipts were written."""
    count = 0
    for receipt in receipts:
        out.write(receipt.to_json() + "\n")
        count += 1
    return count


def write_csv(receipts: Iterable[Receipt], out: TextIO) -> int:
    """A header row, then one row per receipt; returns how many receipts were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELD_NAMES)
    count = 0
    for receipt in receipts:
        writer.writerow([_cell(value) for value in receipt.to_dict().values()])
        count += 1
    return count


def write_receipts(receipts: Iterable[Receipt], out: TextIO, format: str) -> int:
    """``write_csv`` or ``write_jsonl`` by name."""
    if format == "csv":
        return write_csv(receipts, out)
    if format == "jsonl":
        return write_jsonl(receipts, out)
    raise ValueError(f"format: one of {', '.join(FORMATS)}, not {format!r}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return str(value)
