"""The Open Cookie Database, read at run time: what a cookie's name says about its purpose.

The audit classifies the cookies a site did not declare with the Open Cookie Database
(Apache-2.0, https://github.com/jkwakman/Open-Cookie-Database): platform, category
(Functional, Marketing, Analytics, Security, Necessary, Personalization), retention. Its
*Wildcard match* flag makes a row's name a prefix (``_ga_`` covers ``_ga_DEMO42``). The file
is the user's (``--cookie-database``); consentware never ships a copy.

The database knows names, not sites: ``sessionid`` is there as an Instagram marketing cookie.
A site's own declared rule always wins over it (see :mod:`._findings`); the database only
informs the cookies nobody declared.

Example::

    database = CookieDatabase.from_csv("open-cookie-database.csv")
    database.lookup("_ga_DEMO42").platform     # "Google Analytics"
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["CookieDatabase", "KnownCookie"]

_COLUMNS: Final = {
    "name": "Cookie / Data Key name",
    "platform": "Platform",
    "category": "Category",
    "domain": "Domain",
    "description": "Description",
    "retention": "Retention period",
    "controller": "Data Controller",
    "privacy_url": "User Privacy & GDPR Rights Portals",
    "wildcard": "Wildcard match",
}


@dataclass(frozen=True, slots=True)
class KnownCookie:
    """One row of the database: a cookie name (or prefix, when ``wildcard``) and its facts."""

    name: str
    platform: str
    category: str
    domain: str = ""
    description: str = ""
    retention: str = ""
    controller: str = ""
    privacy_url: str = ""
    wildcard: bool = False

    @property
    def third_party_marked(self) -> bool:
        """Whether the row says its cookie is set for another site ("(3rd party)")."""
        return "3rd party" in self.domain.lower()

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's ``classification`` object."""
        return {
            "platform": self.platform,
            "category": self.category,
            "retention": self.retention,
            "description": self.description,
            "controller": self.controller,
            "domain": self.domain,
            "matched": self.name + ("*" if self.wildcard else ""),
            "source": "Open Cookie Database",
        }


class CookieDatabase:
    """Names to facts: an exact name first, then the longest wildcard prefix."""

    __slots__ = ("_exact", "_prefixes", "source")

    def __init__(self, rows: Iterable[KnownCookie], source: str = "") -> None:
        self._exact: dict[str, KnownCookie] = {}
        self._prefixes: dict[str, KnownCookie] = {}
        for row in rows:
            table = self._prefixes if row.wildcard else self._exact
            # The first row of a name wins: later ones are other platforms' homonyms.
            table.setdefault(row.name, row)
        self.source = source

    def __len__(self) -> int:
        return len(self._exact) + len(self._prefixes)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> CookieDatabase:
        """Read the database's CSV file; :class:`ValueError` names a missing column."""
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return cls.parse(handle.read(), source=os.fspath(path))

    @classmethod
    def parse(cls, text: str, source: str = "<text>") -> CookieDatabase:
        """Read the database from the CSV's text."""
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in _COLUMNS.values() if c not in (reader.fieldnames or ())]
        required_missing = [c for c in missing if c in (_COLUMNS["name"], _COLUMNS["category"])]
        if required_missing or reader.fieldnames is None:
            raise ValueError(
                f"{source}: not an Open Cookie Database CSV "
                f"(missing column {', '.join(repr(c) for c in required_missing or missing)})"
            )
        return cls((row for row in map(_row, reader) if row is not None), source=source)

    def lookup(self, name: str) -> KnownCookie | None:
        """The row for cookie ``name``: exact (case-sensitive), else the longest prefix."""
        found = self._exact.get(name)
        if found is not None:
            return found
        best: KnownCookie | None = None
        for prefix, row in self._prefixes.items():
            if name.startswith(prefix) and (best is None or len(prefix) > len(best.name)):
                best = row
        return best


def _row(raw: Mapping[str, str | None]) -> KnownCookie | None:
    def cell(key: str) -> str:
        return (raw.get(_COLUMNS[key]) or "").strip()

    name = cell("name")
    if not name:
        return None
    return KnownCookie(
        name=name,
        platform=cell("platform"),
        category=cell("category"),
        domain=cell("domain"),
        description=cell("description"),
        retention=cell("retention"),
        controller=cell("controller"),
        privacy_url=cell("privacy_url"),
        wildcard=cell("wildcard") == "1",
    )
